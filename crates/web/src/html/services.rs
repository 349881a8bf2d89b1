//! Service search and service pages, for the portal and for each tenant.

use super::layout::{Chrome, page};
use super::{internal_error, land, tenant_page};
use crate::api::services::Availability;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use rathaus_core::{Tenant, TenantKind};
use serde::Deserialize;

/// `?q=`
#[derive(Deserialize, Default)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    /// Only this Themenfeld.
    #[serde(default)]
    themenfeld: Option<String>,
    /// Only this Lebenslage.
    #[serde(default)]
    lebenslage: Option<String>,
    /// `1`: only services offered online.
    #[serde(default)]
    online: Option<String>,
}

/// Percent-encodes a query-string value.
fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The search form (GET: works without JavaScript).
pub fn search_form(action: &str, q: &str) -> Markup {
    html! {
        form method="get" action=(action) class="search" role="search" {
            label for="q" { "Welche Leistung suchen Sie?" }
            div class="search-row" {
                input id="q" name="q" type="search" value=(q) maxlength="200" autocomplete="off" list="q-vorschlaege"
                    placeholder="z. B. Hund anmelden, Personalausweis, Wohngeld";
                button type="submit" class="button" { "Suchen" }
            }
            datalist id="q-vorschlaege" {}
        }
        script src="/assets/suggest.js" defer {}
    }
}

/// Keyword search or the situation assistant.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Search,
    Assistant,
}

/// The assistant's form: a situation in one sentence.
pub fn assistant_form(action: &str, q: &str) -> Markup {
    html! {
        form method="get" action=(action) class="search" {
            label for="situation" { "Was brauche ich? Beschreiben Sie Ihr Anliegen in einem Satz." }
            div class="search-row" {
                input id="situation" name="q" type="text" value=(q) maxlength="300" autocomplete="off"
                    placeholder="z. B. Ich möchte ein Café eröffnen";
                button type="submit" class="button" { "Leistungen finden" }
            }
        }
    }
}

async fn results(
    state: &AppState,
    slug: Option<&str>,
    params: &SearchParams,
    mode: Mode,
) -> Result<Markup, Response> {
    let q = params.q.as_str();
    let avail = Availability::load(state, slug)
        .await
        .map_err(|_| internal_page())?;
    let Some(index) = state.search.get() else {
        return Ok(
            html! { p role="status" { "Die Suche wird gerade vorbereitet. Bitte versuchen Sie es in einer Minute erneut." } },
        );
    };
    if q.trim().is_empty() {
        return Ok(html! {});
    }
    let boost = |d: &rathaus_catalog::ServiceDoc| if avail.is_online(d.id) { 1.3 } else { 1.0 };
    let only_online = params.online.as_deref() == Some("1");
    let filtered = params.themenfeld.is_some() || params.lebenslage.is_some() || only_online;
    let (total, head) = match mode {
        Mode::Search => index.search(q, 0, if filtered { 500 } else { 200 }, boost),
        Mode::Assistant => rathaus_catalog::assistant::assist(&index, q, 10, boost),
    }
    .map_err(|_| internal_page())?;
    let facets = (mode == Mode::Search).then(|| crate::api::services::facets(&head, &avail));
    let kept: Vec<_> = head
        .iter()
        .filter(|h| {
            crate::api::services::in_facets(
                h.doc,
                params.themenfeld.as_deref(),
                params.lebenslage.as_deref(),
            )
        })
        .filter(|h| !only_online || avail.is_online(h.doc.id))
        .collect();
    let total = if filtered { kept.len() } else { total };
    let hits: Vec<_> = kept.into_iter().take(20).collect();
    let base = format!("?q={}", enc(q));
    Ok(html! {
        h2 id="treffer" { @if total == 1 { "1 Treffer" } @else { (total) " Treffer" } }
        @if let Some(f) = &facets && !head.is_empty() {
            nav class="facets" aria-label="Treffer eingrenzen" {
                p { strong { "Eingrenzen:" } }
                ul {
                    @if filtered { li { a href=(base) { "Alle Treffer" } } }
                    @if !only_online && f.online > 0 {
                        li { a href={ (base) "&online=1" } { "Nur online verfügbar (" (f.online) ")" } }
                    }
                    @for t in f.themenfeld.iter().take(8) {
                        @if params.themenfeld.as_deref() == Some(t.name.as_str()) {
                            li { a href={ (base) "&themenfeld=" (enc(&t.name)) } aria-current="true" { (t.name) " (" (t.count) ")" } }
                        } @else {
                            li { a href={ (base) "&themenfeld=" (enc(&t.name)) } { (t.name) " (" (t.count) ")" } }
                        }
                    }
                }
                @if !f.lebenslage.is_empty() {
                    p { strong { "Nach Lebenslage:" } }
                    ul {
                        @for l in f.lebenslage.iter().take(8) {
                            li {
                                a href={ (base) "&lebenslage=" (enc(&l.name)) }
                                    aria-current=[(params.lebenslage.as_deref() == Some(l.name.as_str())).then_some("true")] {
                                    (l.name) " (" (l.count) ")"
                                }
                            }
                        }
                    }
                }
            }
        }
        @if hits.is_empty() {
            p { "Zu Ihrer Suche wurde keine Leistung gefunden. Versuchen Sie ein anderes Wort, z. B. den Namen eines Dokuments." }
        } @else {
            ol class="results" aria-labelledby="treffer" {
                @for h in &hits {
                    li {
                        a href=(avail.url(h.doc.id)) { (h.doc.name) }
                        @if avail.is_online(h.doc.id) { " " span class="badge" { "online" } }
                        @if let Some(t) = &h.doc.themenfeld { br; span class="hint" { (t) } }
                    }
                }
            }
            @if total > hits.len() { p class="hint" { "Die 20 besten Treffer werden angezeigt. Verfeinern Sie Ihre Suche für weitere." } }
        }
    })
}

fn internal_page() -> Response {
    super::layout::error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Technischer Fehler",
        "Die Suche ist gerade nicht möglich.",
    )
}

fn search_page(
    chrome: &Chrome<'_>,
    action: &str,
    q: &str,
    results: Markup,
    mode: Mode,
) -> Response {
    let heading = if mode == Mode::Search {
        "Leistungen suchen"
    } else {
        "Was brauche ich?"
    };
    let title = if q.trim().is_empty() {
        heading.to_owned()
    } else {
        format!("{heading}: {}", q.chars().take(60).collect::<String>())
    };
    let content = html! {
        h1 { (heading) }
        @if mode == Mode::Search { (search_form(action, q)) } @else { (assistant_form(action, q)) }
        (results)
    };
    Html(page(chrome, &title, content).into_string()).into_response()
}

async fn portal_page(state: &AppState, params: &SearchParams, mode: Mode) -> Response {
    let q = params.q.as_str();
    let (land, _) = match land(state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let results = match results(state, None, params, mode).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let (label, path) = if mode == Mode::Search {
        ("Suche", "/suche")
    } else {
        ("Was brauche ich?", "/assistent")
    };
    let chrome = Chrome::portal(land.as_ref())
        .crumb("Startseite", "/")
        .crumb(label, path);
    search_page(&chrome, path, q, results, mode)
}

async fn tenant_page_of(
    state: &AppState,
    slug: &str,
    params: &SearchParams,
    mode: Mode,
) -> Response {
    let q = params.q.as_str();
    let t = match tenant_page(state, slug).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let results = match results(state, Some(slug), params, mode).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let (label, path) = if mode == Mode::Search {
        ("Suche", format!("/{slug}/suche"))
    } else {
        ("Was brauche ich?", format!("/{slug}/assistent"))
    };
    let chrome = Chrome::tenant(&t)
        .crumb(t.name.clone(), format!("/{slug}/"))
        .crumb(label, path.clone());
    search_page(&chrome, &path, q, results, mode)
}

/// `GET /suche`
pub async fn portal_search(
    State(state): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Response {
    portal_page(&state, &p, Mode::Search).await
}

/// `GET /assistent`
pub async fn portal_assistant(
    State(state): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Response {
    portal_page(&state, &p, Mode::Assistant).await
}

/// `GET /{slug}/suche`
pub async fn tenant_search(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(p): Query<SearchParams>,
) -> Response {
    tenant_page_of(&state, &slug, &p, Mode::Search).await
}

/// `GET /{slug}/assistent`
pub async fn tenant_assistant(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(p): Query<SearchParams>,
) -> Response {
    tenant_page_of(&state, &slug, &p, Mode::Assistant).await
}

async fn service_page(state: &AppState, tenant: Option<&Tenant>, id: &str) -> Response {
    let not_found = || {
        super::layout::error_page(
            StatusCode::NOT_FOUND,
            "Leistung nicht gefunden",
            "Diese Leistung gibt es im Leistungskatalog nicht.",
        )
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let (land, _) = match land(state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(land) = land else { return not_found() };
    let doc = match state.catalog.service(land.id, id).await {
        Ok(d) => d,
        Err(rathaus_storage::StorageError::NotFound(_)) => return not_found(),
        Err(e) => return internal_error(e),
    };
    // Only the published variant: drafts are seen in the back office only.
    let offer = match tenant {
        Some(t) => match state.offers.get(t.id, id).await {
            Ok(s) => s.published,
            Err(e) => return internal_error(e),
        },
        None => None,
    };
    let provider = match offer.as_ref().and_then(|o| o.provided_by.as_ref()) {
        Some(slug) => match crate::api::offers::Names::load(state).await {
            Ok(names) => names.provider(Some(slug)),
            Err(e) => return internal_error(e),
        },
        None => None,
    };
    let content = html! {
        h1 { (doc.name) }
        dl class="facts" {
            @if let Some(k) = &doc.leika { dt { "LeiKa-Schlüssel" } dd { (k) } }
            @if let (Some(id), Some(n)) = (&doc.ozg_id, &doc.ozg_name) { dt { "OZG-Leistung" } dd { (n) " (OZG-ID " (id) ")" } }
            @if let Some(l) = &doc.lebenslage { dt { "Lebenslage" } dd { (l) } }
            @if let Some(t) = &doc.themenfeld { dt { "Themenfeld" } dd { (t) } }
            @if !doc.legal_basis.is_empty() { dt { "Rechtsgrundlage" } dd { (doc.legal_basis) } }
        }
        @if let Some(t) = tenant {
            (offer_section(&t.name, offer.as_ref().map(|o| &o.variant), provider.as_ref()))
        }
    };
    let chrome = match tenant {
        Some(t) => Chrome::tenant(t)
            .crumb(t.name.clone(), format!("/{}/", t.slug))
            .crumb(doc.name.clone(), format!("/{}/leistungen/{id}", t.slug)),
        None => Chrome::portal(Some(&land))
            .crumb("Startseite", "/")
            .crumb(doc.name.clone(), format!("/leistungen/{id}")),
    };
    Html(page(&chrome, &doc.name, content).into_string()).into_response()
}

/// `GET /leistungen/{id}`
pub async fn portal_service(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    service_page(&state, None, &id).await
}

/// `GET /{slug}/leistungen/{id}`
pub async fn tenant_service(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    match tenant_page(&state, &slug).await {
        Ok(t) if t.kind == TenantKind::Land => service_page(&state, None, &id).await,
        Ok(t) => service_page(&state, Some(&t), &id).await,
        Err(r) => r,
    }
}

/// What a tenant says about a service, as citizens see it: online link (with the providing
/// tenant for Einer für Alle), office with address, opening hours and contact, fees, note.
/// Also the preview in the back office.
pub(crate) fn offer_section(
    tenant_name: &str,
    offer: Option<&rathaus_catalog::offer::OfferVariant>,
    provider: Option<&crate::api::offers::Provider>,
) -> Markup {
    let Some(o) = offer else {
        return html! {
            h2 { "Bei " (tenant_name) }
            p { "Für diese Leistung liegen von " (tenant_name) " noch keine Angaben vor. Bitte wenden Sie sich an die Verwaltung." }
        };
    };
    let office = &o.office;
    html! {
        h2 { "Bei " (tenant_name) }
        @if o.online {
            p { "Diese Leistung können Sie bei " (tenant_name) " online beantragen." }
            @if let Some(by) = provider {
                p class="efa" { "Einer für Alle: bereitgestellt von " strong { (by.name) } "." }
            }
            @if let Some(u) = &o.url { p { a class="button" href=(u) { "Zum Online-Dienst" } } }
        } @else {
            p { "Diese Leistung bietet " (tenant_name) " vor Ort an." }
        }
        @if !o.note.is_empty() {
            div class="notice" { p { strong { "Hinweis: " } (o.note) } }
        }
        @if !office.is_empty() {
            h3 { "Zuständige Stelle" }
            address class="office" {
                @if !office.name.is_empty() { strong { (office.name) } br; }
                @if !office.street.is_empty() { (office.street) br; }
                @if !(office.postal_code.is_empty() && office.city.is_empty()) {
                    (office.postal_code) " " (office.city) br;
                }
            }
            dl class="facts" {
                @if !office.opening_hours.is_empty() { dt { "Öffnungszeiten" } dd class="pre" { (office.opening_hours) } }
                @if !office.phone.is_empty() { dt { "Telefon" } dd { a href={ "tel:" (office.phone.replace(' ', "")) } { (office.phone) } } }
                @if !office.email.is_empty() { dt { "E-Mail" } dd { a href={ "mailto:" (office.email) } { (office.email) } } }
            }
        }
        @if !o.fees.is_empty() {
            h3 { "Gebühren" }
            @if !o.fees.text.is_empty() { p { (o.fees.text) } }
            @if let Some(c) = o.fees.amount_cent { p { "Betrag: " (rathaus_catalog::offer::euro(c)) } }
        }
    }
}
