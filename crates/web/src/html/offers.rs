//! The tenant's offers in the back office (`/{slug}/verwaltung/leistungen`), for staff with
//! role Redaktion (or admin): the list with status and a name filter, and per service the
//! editor of the local variant (office, fees, note, online link) with a preview of what
//! citizens will see, publishing, Einer-für-Alle re-use and withdrawal.
//!
//! Works without JavaScript: plain form POSTs with CSRF token and the version the page was
//! loaded with; a stale version (someone saved meanwhile) saves nothing and says so (409).
//! Errors are shown next to their fields with the entered data kept.

use super::backoffice::scope;
use super::layout::{Chrome, error_page, page};
use super::services::offer_section;
use crate::api::offers::{Names, OFFER_ROLES, Provider};
use crate::csrf;
use crate::identity::SignedIn;
use crate::state::AppState;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use rathaus_catalog::ServiceDoc;
use rathaus_catalog::offer::{Fees, FieldError, OfferVariant, Office};
use rathaus_core::Tenant;
use rathaus_core::staff::StaffPrincipal;
use rathaus_storage::StorageError;
use rathaus_storage::offers::OfferState;
use serde::Deserialize;

/// Most catalogue services suggested below the list for a filter.
const SUGGESTIONS: usize = 20;

fn base(tenant: &Tenant) -> String {
    format!("/{}/verwaltung/leistungen", tenant.slug)
}

fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Leistung nicht gefunden",
        "Diese Leistung gibt es im Leistungskatalog nicht.",
    )
}

fn message(code: &str) -> Option<&'static str> {
    Some(match code {
        "gespeichert" => {
            "Der Entwurf wurde gespeichert. Bürgerinnen und Bürger sehen ihn erst nach dem Veröffentlichen."
        }
        "veroeffentlicht" => {
            "Das Angebot wurde veröffentlicht und ist ab sofort öffentlich sichtbar."
        }
        "nachgenutzt" => {
            "Der Online-Dienst der anderen Kommune wird jetzt nachgenutzt (Einer für Alle)."
        }
        "beendet" => "Das Angebot wurde beendet; die Leistung wird nicht mehr angeboten.",
        _ => return None,
    })
}

/// `?q=` of the list, `?meldung=` after a redirect.
#[derive(Deserialize, Default)]
pub struct Show {
    #[serde(default)]
    q: String,
    meldung: Option<String>,
}

/// The editor's fields as entered (kept on errors).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct OfferForm {
    csrf: String,
    version: String,
    online: Option<String>,
    url: String,
    maturity: String,
    office_name: String,
    office_street: String,
    office_postal_code: String,
    office_city: String,
    office_opening_hours: String,
    office_phone: String,
    office_email: String,
    fees_text: String,
    fees_amount: String,
    note: String,
}

/// Publish, re-use and withdraw: token, version and (re-use) the providing tenant.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    version: String,
    from: String,
}

/// A euro amount as typed (`15`, `15,50`, `1.234,56 €`) in cent.
fn cents(text: &str) -> Option<i64> {
    let t: String = text
        .trim()
        .trim_end_matches('€')
        .trim()
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    let t = if t.contains(',') {
        t.replace('.', "").replace(',', ".")
    } else {
        t
    };
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || whole.len() > 12
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let euros: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    euros.checked_mul(100)?.checked_add(frac)
}

impl OfferForm {
    fn of(v: &OfferVariant, version: i64) -> Self {
        Self {
            csrf: String::new(),
            version: version.to_string(),
            online: v.online.then(|| "1".to_owned()),
            url: v.url.clone().unwrap_or_default(),
            maturity: v.maturity.to_string(),
            office_name: v.office.name.clone(),
            office_street: v.office.street.clone(),
            office_postal_code: v.office.postal_code.clone(),
            office_city: v.office.city.clone(),
            office_opening_hours: v.office.opening_hours.clone(),
            office_phone: v.office.phone.clone(),
            office_email: v.office.email.clone(),
            fees_text: v.fees.text.clone(),
            fees_amount: v
                .fees
                .amount_cent
                .map(|c| format!("{},{:02}", c / 100, c % 100))
                .unwrap_or_default(),
            note: v.note.clone(),
        }
    }

    /// The variant, checked by the domain's rules; errors name the form's field ids.
    fn variant(&self) -> Result<OfferVariant, Vec<FieldError>> {
        let mut errors = Vec::new();
        let maturity = self.maturity.trim().parse::<i64>().unwrap_or_else(|_| {
            errors.push(FieldError {
                field: "maturity".into(),
                message: "Bitte wählen Sie einen Reifegrad von 0 bis 4.".into(),
            });
            0
        });
        let amount = self.fees_amount.trim();
        let amount_cent = if amount.is_empty() {
            None
        } else {
            let c = cents(amount);
            if c.is_none() {
                errors.push(FieldError {
                    field: "fees_amount".into(),
                    message: "Bitte geben Sie den Betrag in Euro an, z. B. 15,00.".into(),
                });
            }
            c
        };
        let v = OfferVariant {
            online: self.online.is_some(),
            url: Some(self.url.clone()),
            maturity,
            office: Office {
                name: self.office_name.clone(),
                street: self.office_street.clone(),
                postal_code: self.office_postal_code.clone(),
                city: self.office_city.clone(),
                opening_hours: self.office_opening_hours.clone(),
                phone: self.office_phone.clone(),
                email: self.office_email.clone(),
            },
            fees: Fees {
                text: self.fees_text.clone(),
                amount_cent,
            },
            note: self.note.clone(),
        }
        .normalized();
        if let Err(more) = v.validate() {
            // A maturity that is no number was already reported in the form's own terms.
            let maturity_reported = errors.iter().any(|x| x.field == "maturity");
            errors.extend(
                more.into_iter()
                    .filter(|e| !(maturity_reported && e.field == "maturity")),
            );
        }
        if errors.is_empty() {
            Ok(v)
        } else {
            for e in &mut errors {
                e.field = match e.field.as_str() {
                    "fees.amount_cent" => "fees_amount".into(),
                    f => f.replace('.', "_"),
                };
            }
            Err(errors)
        }
    }
}

/// Everything the editor shows.
struct Editor<'a> {
    tenant: &'a Tenant,
    who: &'a StaffPrincipal,
    doc: &'a ServiceDoc,
    offer: &'a OfferState,
    form: &'a OfferForm,
    errors: &'a [FieldError],
    message: Option<&'a str>,
    providers: &'a [Provider],
    names: &'a Names,
}

fn error_of<'a>(errors: &'a [FieldError], id: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == id)
        .map(|e| e.message.as_str())
}

/// A labelled text input (or textarea) with hint and error message.
fn field(
    id: &str,
    label: &str,
    value: &str,
    errors: &[FieldError],
    hint: Option<&str>,
    multiline: bool,
    attrs: (&str, &str, &str),
) -> Markup {
    let (kind, autocomplete, inputmode) = attrs;
    let error = error_of(errors, id);
    let hint_id = format!("{id}-hinweis");
    let error_id = format!("{id}-fehler");
    let described: Vec<&str> = [
        hint.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    html! {
        div class=(if error.is_some() { "field field-error" } else { "field" }) {
            label for=(id) { (label) }
            @if let Some(h) = hint { p class="hint" id=(hint_id) { (h) } }
            @if let Some(e) = error { p class="fehler-text" id=(error_id) { (e) } }
            @if multiline {
                textarea id=(id) name=(id) rows="4" aria-describedby=[described.as_deref()]
                    aria-invalid=[error.map(|_| "true")] { (value) }
            } @else {
                input id=(id) type=(kind) name=(id) value=(value) aria-describedby=[described.as_deref()]
                    aria-invalid=[error.map(|_| "true")]
                    autocomplete=[(!autocomplete.is_empty()).then_some(autocomplete)]
                    inputmode=[(!inputmode.is_empty()).then_some(inputmode)];
            }
        }
    }
}

fn status_text(s: &OfferState) -> &'static str {
    match (&s.published, &s.draft) {
        (Some(_), Some(_)) => "Veröffentlicht, Entwurf mit Änderungen",
        (Some(_), None) => "Veröffentlicht",
        (None, Some(_)) => "Entwurf, noch nicht veröffentlicht",
        (None, None) => "Nicht angeboten",
    }
}

fn respond(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &Tenant,
    crumbs: &[(&str, String)],
    title: &str,
    status: StatusCode,
    content: impl FnOnce(&str) -> Markup,
) -> Response {
    let (token, set_cookie) = csrf::token(
        headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let mut chrome = Chrome::tenant(tenant)
        .crumb("Start", format!("/{}/", tenant.slug))
        .crumb("Verwaltung", format!("/{}/verwaltung", tenant.slug));
    for (label, href) in crumbs {
        chrome = chrome.crumb(*label, href.clone());
    }
    let mut res = (
        status,
        Html(page(&chrome, title, content(&token)).into_string()),
    )
        .into_response();
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn render_editor(
    state: &AppState,
    headers: &HeaderMap,
    e: &Editor<'_>,
    status: StatusCode,
) -> Response {
    let list = base(e.tenant);
    let here = format!("{list}/{}", e.doc.id);
    let f = e.form;
    let errors = e.errors;
    let preview = e
        .offer
        .draft
        .as_ref()
        .map(|d| (&d.variant, &d.provided_by))
        .or(e
            .offer
            .published
            .as_ref()
            .map(|p| (&p.variant, &p.provided_by)));
    let preview_provider = preview.and_then(|(_, p)| e.names.provider(p.as_ref()));
    let title = format!("Angebot: {}", e.doc.name);
    respond(
        state,
        headers,
        e.tenant,
        &[
            ("Leistungen", list.clone()),
            (e.doc.name.as_str(), here.clone()),
        ],
        &title,
        status,
        |token| {
            html! {
                h1 { (title) }
                p { "Angemeldet als " strong { (e.who.login) } " (" (e.who.role.as_str()) "). "
                    a href={ "/" (e.tenant.slug) "/leistungen/" (e.doc.id) } { "Öffentliche Leistungsseite" } }
                @if let Some(m) = e.message { div class="notice" role="status" { p { (m) } } }
                @if !errors.is_empty() {
                    div class="error-summary" role="alert" id="fehler" tabindex="-1" {
                        h2 { "Bitte prüfen Sie Ihre Angaben" }
                        ul {
                            @for err in errors {
                                li { a href={ "#" (err.field) } { (err.message) } }
                            }
                        }
                    }
                }
                dl class="facts" {
                    dt { "Status" } dd { (status_text(e.offer)) }
                    @if let Some(k) = &e.doc.leika { dt { "LeiKa-Schlüssel" } dd { (k) } }
                    @if let Some(d) = &e.offer.draft { dt { "Zuletzt geändert" } dd { (d.updated_at) " von " (d.updated_by) } }
                }
                h2 { "Angaben der Kommune (Entwurf)" }
                form method="post" action=(here) class="form" novalidate {
                    input type="hidden" name=(csrf::FIELD) value=(token);
                    input type="hidden" name="version" value=(f.version);
                    fieldset {
                        legend { "Online-Dienst" }
                        div class="field checkbox" {
                            input id="online" name="online" type="checkbox" value="1" checked[f.online.is_some()];
                            label for="online" { "Diese Leistung wird online angeboten" }
                        }
                        (field("url", "Link zum Online-Dienst", &f.url, errors,
                            Some("Mit https:// beginnend oder ein Pfad dieses Portals, z. B. /koeln/formulare/…"), false, ("url", "url", "")))
                        div class=(if error_of(errors, "maturity").is_some() { "field field-error" } else { "field" }) {
                            label for="maturity" { "OZG-Reifegrad" }
                            @if let Some(m) = error_of(errors, "maturity") { p class="fehler-text" id="maturity-fehler" { (m) } }
                            select id="maturity" name="maturity" aria-describedby=[error_of(errors, "maturity").map(|_| "maturity-fehler")] {
                                @for (n, label) in [(0, "0 – offline"), (1, "1 – Informationen online"), (2, "2 – Formular online"),
                                    (3, "3 – Antrag online inklusive Nachweise"), (4, "4 – vollständig digital")] {
                                    option value=(n) selected[f.maturity.trim() == n.to_string()] { (label) }
                                }
                            }
                        }
                    }
                    fieldset {
                        legend { "Zuständige Stelle" }
                        (field("office_name", "Name der Organisationseinheit", &f.office_name, errors, None, false, ("text", "organization", "")))
                        (field("office_street", "Straße und Hausnummer", &f.office_street, errors, None, false, ("text", "street-address", "")))
                        (field("office_postal_code", "Postleitzahl", &f.office_postal_code, errors, Some("5 Ziffern"), false, ("text", "postal-code", "numeric")))
                        (field("office_city", "Ort", &f.office_city, errors, None, false, ("text", "address-level2", "")))
                        (field("office_opening_hours", "Öffnungszeiten", &f.office_opening_hours, errors, None, true, ("", "", "")))
                        (field("office_phone", "Telefon", &f.office_phone, errors, None, false, ("tel", "tel", "")))
                        (field("office_email", "E-Mail-Adresse", &f.office_email, errors, None, false, ("email", "email", "")))
                    }
                    fieldset {
                        legend { "Gebühren und Hinweis" }
                        (field("fees_text", "Gebühren (Text)", &f.fees_text, errors, None, true, ("", "", "")))
                        (field("fees_amount", "Betrag in Euro (optional)", &f.fees_amount, errors, Some("z. B. 15,00"), false, ("text", "off", "decimal")))
                        (field("note", "Hinweis für Bürgerinnen und Bürger", &f.note, errors, None, true, ("", "", "")))
                    }
                    button type="submit" class="button" { "Entwurf speichern" }
                }
                h2 { "Vorschau: so sehen Bürgerinnen und Bürger das Angebot" }
                @if preview.is_some() {
                    @if e.offer.draft.is_some() { p class="hint" { "Vorschau des Entwurfs. Öffentlich sichtbar ist weiterhin der veröffentlichte Stand." } }
                    div class="preview" { (offer_section(&e.tenant.name, preview.map(|(v, _)| v), preview_provider.as_ref())) }
                } @else {
                    p { "Noch keine Angaben gespeichert." }
                }
                @if e.offer.draft.is_some() {
                    form method="post" action={ (here) "/veroeffentlichen" } class="form" {
                        input type="hidden" name=(csrf::FIELD) value=(token);
                        input type="hidden" name="version" value=(e.offer.version);
                        button type="submit" class="button" { "Entwurf veröffentlichen" }
                    }
                }
                h2 { "Einer für Alle: Online-Dienst einer anderen Kommune nachnutzen" }
                @if e.providers.is_empty() {
                    p { "Keine andere Kommune bietet diese Leistung online an." }
                } @else {
                    form method="post" action={ (here) "/nachnutzen" } class="form" {
                        input type="hidden" name=(csrf::FIELD) value=(token);
                        input type="hidden" name="version" value=(e.offer.version);
                        div class="field" {
                            label for="from" { "Kommune, deren Online-Dienst nachgenutzt wird" }
                            select id="from" name="from" {
                                @for p in e.providers { option value=(p.slug) { (p.name) } }
                            }
                        }
                        button type="submit" class="button secondary" { "Online-Dienst nachnutzen" }
                    }
                }
                @if e.offer.published.is_some() || e.offer.draft.is_some() {
                    h2 { "Angebot beenden" }
                    form method="post" action={ (here) "/beenden" } class="form" {
                        input type="hidden" name=(csrf::FIELD) value=(token);
                        input type="hidden" name="version" value=(e.offer.version);
                        button type="submit" class="button secondary" { "Angebot beenden" }
                    }
                }
            }
        },
    )
}

/// Loads what the editor needs and renders it.
#[allow(clippy::too_many_arguments, reason = "one page, its parts")]
async fn editor_page(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &Tenant,
    who: &StaffPrincipal,
    doc: &ServiceDoc,
    form: Option<&OfferForm>,
    errors: &[FieldError],
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let offer = match state.offers.get(tenant.id, doc.id).await {
        Ok(o) => o,
        Err(e) => return super::internal_error(e),
    };
    let names = match Names::load(state).await {
        Ok(n) => n,
        Err(e) => return super::internal_error(e),
    };
    let providers = match providers(state, tenant, doc.id).await {
        Ok(p) => p,
        Err(e) => return super::internal_error(e),
    };
    let stored = offer
        .draft
        .as_ref()
        .map(|d| &d.variant)
        .or(offer.published.as_ref().map(|p| &p.variant))
        .map(|v| OfferForm::of(v, offer.version))
        .unwrap_or_else(|| OfferForm {
            version: offer.version.to_string(),
            maturity: "0".into(),
            ..OfferForm::default()
        });
    render_editor(
        state,
        headers,
        &Editor {
            tenant,
            who,
            doc,
            offer: &offer,
            form: form.unwrap_or(&stored),
            errors,
            message,
            providers: &providers,
            names: &names,
        },
        status,
    )
}

/// Other tenants that offer the service online (candidates for re-use).
async fn providers(
    state: &AppState,
    tenant: &Tenant,
    id: i64,
) -> Result<Vec<Provider>, StorageError> {
    let store = &state.offers;
    let mut out = Vec::new();
    for t in state.tenants.list().await? {
        if t.id == tenant.id {
            continue;
        }
        let s = store.get(t.id, id).await?;
        if s.published
            .is_some_and(|p| p.variant.online && p.variant.url.is_some() && p.provided_by.is_none())
        {
            out.push(Provider {
                slug: t.slug.to_string(),
                name: t.name,
            });
        }
    }
    Ok(out)
}

/// The service `id` of the Land's catalogue, or the 404 page.
async fn service(state: &AppState, land: &Tenant, id: &str) -> Result<ServiceDoc, Response> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    match state.catalog.service(land.id, id).await {
        Ok(d) => Ok(d),
        Err(StorageError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(super::internal_error(e)),
    }
}

/// `GET /{slug}/verwaltung/leistungen`
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Query(q): Query<Show>,
) -> Response {
    let (tenant, land, who) = match scope(&state, &slug, &account.id, OFFER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (docs, offers) = match (
        state.catalog.services(land.id).await,
        state.offers.list(tenant.id).await,
    ) {
        (Ok(d), Ok(o)) => (d, o),
        (Err(e), _) | (_, Err(e)) => return super::internal_error(e),
    };
    let filter = q.q.trim().to_lowercase();
    let matches = |d: &ServiceDoc| {
        filter.is_empty()
            || d.name.to_lowercase().contains(&filter)
            || d.leika.as_ref().is_some_and(|k| k.as_str() == filter)
            || d.id.to_string() == filter
    };
    let by_id: std::collections::HashMap<i64, &ServiceDoc> =
        docs.iter().map(|d| (d.id, d)).collect();
    let rows: Vec<(&ServiceDoc, &OfferState)> = offers
        .iter()
        .filter_map(|o| by_id.get(&o.leistung_id).map(|d| (*d, o)))
        .filter(|(d, _)| matches(d))
        .collect();
    let offered: std::collections::HashSet<i64> = offers.iter().map(|o| o.leistung_id).collect();
    let more: Vec<&ServiceDoc> = if filter.is_empty() {
        Vec::new()
    } else {
        docs.iter()
            .filter(|d| !offered.contains(&d.id) && matches(d))
            .take(SUGGESTIONS)
            .collect()
    };
    let list = base(&tenant);
    let notice = q.meldung.as_deref().and_then(message);
    respond(
        &state,
        &headers,
        &tenant,
        &[("Leistungen", list.clone())],
        "Leistungen der Kommune",
        StatusCode::OK,
        |_| {
            html! {
                h1 { "Leistungen der Kommune" }
                p { "Angemeldet als " strong { (who.login) } " (" (who.role.as_str()) "). Änderungen sind Entwürfe, bis sie veröffentlicht werden." }
                @if let Some(m) = notice { div class="notice" role="status" { p { (m) } } }
                form method="get" action=(list) class="search" role="search" {
                    label for="q" { "Nach Name, LeiKa-Schlüssel oder Nummer filtern" }
                    div class="search-row" {
                        input id="q" name="q" type="search" value=(q.q) maxlength="200";
                        button type="submit" class="button" { "Filtern" }
                    }
                }
                @if rows.is_empty() {
                    p { @if filter.is_empty() { "Ihre Kommune hat noch keine Angebote erfasst." } @else { "Kein Angebot passt zum Filter." } }
                } @else {
                    table class="data" {
                        caption { "Angebote der Kommune (" (rows.len()) ")" }
                        thead { tr {
                            th scope="col" { "Leistung" } th scope="col" { "Status" }
                            th scope="col" { "Online" } th scope="col" { "Reifegrad" }
                        } }
                        tbody {
                            @for (d, o) in &rows {
                                @let shown = o.published.as_ref().map(|p| &p.variant);
                                tr {
                                    td { a href={ (list) "/" (d.id) } { (d.name) } }
                                    td { (status_text(o)) }
                                    td { @if shown.is_some_and(|v| v.online) { "ja" } @else { "nein" }
                                        @if o.published.as_ref().is_some_and(|p| p.provided_by.is_some()) { " (Einer für Alle)" } }
                                    td { (shown.map(|v| v.maturity).unwrap_or(0)) }
                                }
                            }
                        }
                    }
                }
                @if !more.is_empty() {
                    h2 { "Weitere Leistungen aus dem Katalog" }
                    ul class="liste" {
                        @for d in &more {
                            li { a href={ (list) "/" (d.id) } aria-label={ (d.name) ": Angebot anlegen" } { (d.name) } " – noch nicht angeboten" }
                        }
                    }
                }
            }
        },
    )
}

/// `GET /{slug}/verwaltung/leistungen/{id}`
pub async fn editor(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Query(q): Query<Show>,
) -> Response {
    let (tenant, land, who) = match scope(&state, &slug, &account.id, OFFER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let doc = match service(&state, &land, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let notice = q.meldung.as_deref().and_then(message);
    editor_page(
        &state,
        &headers,
        &tenant,
        &who,
        &doc,
        None,
        &[],
        notice,
        StatusCode::OK,
    )
    .await
}

fn conflict() -> FieldError {
    FieldError {
        field: "version".into(),
        message: "Das Angebot wurde inzwischen von jemand anderem geändert. Ihre Eingaben sind unten erhalten; bitte laden Sie die Seite neu und übertragen Sie Ihre Änderungen.".into(),
    }
}

fn done(tenant: &Tenant, id: i64, code: &str) -> Response {
    Redirect::to(&format!("{}/{id}?meldung={code}", base(tenant))).into_response()
}

/// `POST /{slug}/verwaltung/leistungen/{id}`: save the draft.
pub async fn save(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Form(form): Form<OfferForm>,
) -> Response {
    let (tenant, land, who) = match scope(&state, &slug, &account.id, OFFER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let doc = match service(&state, &land, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let again = |errors: Vec<FieldError>, status| {
        let (state, headers, tenant, who, doc, form) =
            (&state, &headers, &tenant, &who, &doc, &form);
        async move {
            editor_page(
                state,
                headers,
                tenant,
                who,
                doc,
                Some(form),
                &errors,
                None,
                status,
            )
            .await
        }
    };
    if !csrf::verify(&headers, &form.csrf, &state.config.csrf_secret) {
        let e = FieldError {
            field: "csrf".into(),
            message: "Das Formular ist abgelaufen. Bitte speichern Sie erneut.".into(),
        };
        return again(vec![e], StatusCode::FORBIDDEN).await;
    }
    let variant = match form.variant() {
        Ok(v) => v,
        Err(errors) => return again(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let expected = form.version.trim().parse::<i64>().unwrap_or(-1);
    match state
        .offers
        .save_draft(tenant.id, doc.id, expected, &variant, &who.actor())
        .await
    {
        Ok(_) => done(&tenant, doc.id, "gespeichert"),
        Err(StorageError::VersionMismatch { .. }) => {
            again(vec![conflict()], StatusCode::CONFLICT).await
        }
        Err(e) => super::internal_error(e),
    }
}

/// Shared start of the action handlers: scope, service, CSRF.
async fn action_scope(
    state: &AppState,
    slug: &str,
    id: &str,
    headers: &HeaderMap,
    account_id: &str,
    form: &ActionForm,
) -> Result<(Tenant, StaffPrincipal, ServiceDoc), Response> {
    let (tenant, land, who) = scope(state, slug, account_id, OFFER_ROLES).await?;
    let doc = service(state, &land, id).await?;
    if !csrf::verify(headers, &form.csrf, &state.config.csrf_secret) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "Formular abgelaufen",
            "Die Seite war zu lange geöffnet. Bitte laden Sie sie neu und wiederholen Sie die Aktion.",
        ));
    }
    Ok((tenant, who, doc))
}

/// The editor again with one error.
async fn refused(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &Tenant,
    who: &StaffPrincipal,
    doc: &ServiceDoc,
    error: FieldError,
    status: StatusCode,
) -> Response {
    editor_page(
        state,
        headers,
        tenant,
        who,
        doc,
        None,
        &[error],
        None,
        status,
    )
    .await
}

/// `POST /{slug}/verwaltung/leistungen/{id}/veroeffentlichen`
pub async fn publish(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Form(form): Form<ActionForm>,
) -> Response {
    let (tenant, who, doc) =
        match action_scope(&state, &slug, &id, &headers, &account.id, &form).await {
            Ok(s) => s,
            Err(r) => return r,
        };
    let answer = |e, status| refused(&state, &headers, &tenant, &who, &doc, e, status);
    let expected = form.version.trim().parse::<i64>().unwrap_or(-1);
    match state
        .offers
        .publish(tenant.id, doc.id, Some(expected), &who.actor())
        .await
    {
        Ok(_) => {
            state.online_cache.clear();
            done(&tenant, doc.id, "veroeffentlicht")
        }
        Err(StorageError::VersionMismatch { .. }) => answer(conflict(), StatusCode::CONFLICT).await,
        Err(StorageError::Conflict(m)) => {
            let e = FieldError {
                field: "version".into(),
                message: m,
            };
            answer(e, StatusCode::CONFLICT).await
        }
        Err(e) => super::internal_error(e),
    }
}

/// `POST /{slug}/verwaltung/leistungen/{id}/nachnutzen`
pub async fn reuse(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Form(form): Form<ActionForm>,
) -> Response {
    let (tenant, who, doc) =
        match action_scope(&state, &slug, &id, &headers, &account.id, &form).await {
            Ok(s) => s,
            Err(r) => return r,
        };
    let answer = |e, status| refused(&state, &headers, &tenant, &who, &doc, e, status);
    let expected = form.version.trim().parse::<i64>().unwrap_or(-1);
    let refuse = |message: String| FieldError {
        field: "from".into(),
        message,
    };
    let provider = match state.tenants.get(form.from.trim()).await {
        Ok(p) if p.id != tenant.id => p,
        Ok(_) | Err(StorageError::NotFound(_)) => {
            let e = refuse("Bitte wählen Sie eine andere Kommune aus der Liste.".into());
            return answer(e, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return super::internal_error(e),
    };
    match state
        .offers
        .reuse(
            tenant.id,
            doc.id,
            provider.id,
            provider.slug.as_str(),
            &provider.name,
            Some(expected),
            &who.actor(),
        )
        .await
    {
        Ok(_) => {
            state.online_cache.clear();
            done(&tenant, doc.id, "nachgenutzt")
        }
        Err(StorageError::Invalid(m)) => answer(refuse(m), StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(StorageError::VersionMismatch { .. }) => answer(conflict(), StatusCode::CONFLICT).await,
        Err(e) => super::internal_error(e),
    }
}

/// `POST /{slug}/verwaltung/leistungen/{id}/beenden`
pub async fn withdraw(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Form(form): Form<ActionForm>,
) -> Response {
    let (tenant, who, doc) =
        match action_scope(&state, &slug, &id, &headers, &account.id, &form).await {
            Ok(s) => s,
            Err(r) => return r,
        };
    let answer = |e, status| refused(&state, &headers, &tenant, &who, &doc, e, status);
    let expected = form.version.trim().parse::<i64>().unwrap_or(-1);
    match state
        .offers
        .withdraw(tenant.id, doc.id, Some(expected), &who.actor())
        .await
    {
        Ok(_) => {
            state.online_cache.clear();
            Redirect::to(&format!("{}?meldung=beendet", base(&tenant))).into_response()
        }
        Err(StorageError::VersionMismatch { .. }) => answer(conflict(), StatusCode::CONFLICT).await,
        Err(StorageError::NotFound(_)) => not_found(),
        Err(e) => super::internal_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::cents;

    #[test]
    fn euro_amounts() {
        assert_eq!(cents("15"), Some(1500));
        assert_eq!(cents("15,5"), Some(1550));
        assert_eq!(cents("1.234,56 €"), Some(123_456));
        assert_eq!(cents("15.50"), Some(1550));
        for bad in ["", "abc", "1,234", "-5", ",5"] {
            assert_eq!(cents(bad), None, "{bad}");
        }
    }
}
