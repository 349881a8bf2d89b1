//! The back office of a tenant for its staff, behind the Servicekonto login: `/{slug}/verwaltung`.
//! Staff are Servicekonto accounts linked to a staff member of the tenant (`rathaus staff link`);
//! their role decides what they may do, as on the API.

use super::layout::{Chrome, page};
use crate::csrf;
use crate::identity::SignedIn;
use crate::state::AppState;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use rathaus_catalog::inventory::InventoryInput;
use rathaus_core::staff::{Role, StaffPrincipal};
use rathaus_core::{Tenant, TenantKind};
use rathaus_storage::StorageError;
use rathaus_storage::inventory::InventoryEntry;
use serde::Deserialize;

/// Roles that keep the Prozessinventur (as on the API).
const INVENTORY_ROLES: &[Role] = &[Role::Sachbearbeitung, Role::Redaktion];

/// The tenant, its Land and the signed-in account's staff membership allowed for `roles`.
pub(crate) async fn scope(
    state: &AppState,
    slug: &str,
    account_id: &str,
    roles: &[Role],
) -> Result<(Tenant, Tenant, StaffPrincipal), Response> {
    let tenant = super::tenant_page(state, slug).await?;
    let all = state.tenants.list().await.map_err(super::internal_error)?;
    let land = all
        .into_iter()
        .find(|t| t.kind == TenantKind::Land)
        .ok_or_else(|| super::internal_error(StorageError::NotFound("Land".into())))?;
    let memberships = state
        .staff
        .for_account(account_id)
        .await
        .map_err(super::internal_error)?;
    let principal = memberships.into_iter().find(|p| p.may(tenant.id, roles)).ok_or_else(|| {
        super::layout::error_page(
            StatusCode::FORBIDDEN,
            "Kein Zugang zur Verwaltung",
            "Ihr Servicekonto ist für diese Kommune nicht als Beschäftigte oder Beschäftigter mit passender Rolle eingetragen.",
        )
    })?;
    Ok((tenant, land, principal))
}

#[derive(Deserialize, Default)]
pub struct Show {
    leistung: Option<i64>,
    gespeichert: Option<i64>,
}

/// The entry form's fields as entered (kept on errors).
#[derive(Deserialize, Default, Clone)]
pub struct EntryForm {
    csrf: String,
    leistung_id: String,
    cases_per_year: String,
    minutes_per_case: String,
    office: String,
    involved_offices: String,
    legal_notes: String,
}

impl EntryForm {
    fn from_entry(e: &InventoryEntry) -> Self {
        Self {
            csrf: String::new(),
            leistung_id: e.leistung_id.to_string(),
            cases_per_year: e.cases_per_year.to_string(),
            minutes_per_case: e.minutes_per_case.to_string(),
            office: e.office.clone(),
            involved_offices: e.involved_offices.join(", "),
            legal_notes: e.legal_notes.clone(),
        }
    }

    fn parse(&self) -> Result<(i64, InventoryInput), String> {
        let number = |v: &str, label: &str| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| format!("{label}: bitte eine ganze Zahl eingeben."))
        };
        let id = number(&self.leistung_id, "Leistungs-Nr.")?;
        let input = InventoryInput {
            cases_per_year: number(&self.cases_per_year, "Fälle pro Jahr")?,
            minutes_per_case: number(&self.minutes_per_case, "Minuten pro Fall")?,
            office: self.office.clone(),
            involved_offices: self
                .involved_offices
                .split([',', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            legal_notes: self.legal_notes.clone(),
        };
        input.validate().map(|i| (id, i)).map_err(|e| e.to_string())
    }
}

fn input_field(id: &str, label: &str, value: &str, kind: &str) -> Markup {
    html! {
        div class="field" {
            label for=(id) { (label) }
            input id=(id) name=(id) type=(kind) value=(value);
        }
    }
}

#[allow(clippy::too_many_arguments, reason = "one page, its parts")]
fn render(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &Tenant,
    who: &StaffPrincipal,
    entries: &[InventoryEntry],
    form: &EntryForm,
    message: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (token, set_cookie) = csrf::token(
        headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let base = format!("/{}/verwaltung", tenant.slug);
    let chrome = Chrome::tenant(tenant)
        .crumb("Start", format!("/{}/", tenant.slug))
        .crumb("Verwaltung", base.clone());
    let content = html! {
        h1 { "Verwaltung" }
        p { "Angemeldet als " strong { (who.login) } " (" (who.role.as_str()) ", " (who.office) ")." }
        nav aria-label="Bereiche der Verwaltung" {
            ul class="liste" {
                li { a href={ (base) "/antraege" } { "Eingegangene Anträge" } " (Sachbearbeitung)" }
                li { a href={ (base) "/formulare" } { "Formulare erstellen und bearbeiten" } " (Redaktion)" }
                li { a href={ (base) "/leistungen" } { "Leistungen der Kommune pflegen (Zuständigkeit, Gebühren, Online-Dienst)" } " (Redaktion)" }
                li { a href={ (base) "/rechnungen" } { "E-Rechnungen prüfen und freigeben" } " (Sachbearbeitung, Kasse)" }
            }
        }
        @if let Some(m) = message {
            div class="notice" role="status" { p { (m) } }
        }
        h2 { "Prozessinventur" }
        p class="hint" { "Rangfolge nach Arbeitsstunden pro Jahr (Fälle × Minuten ÷ 60): was zuerst digitalisiert werden sollte." }
        @if entries.is_empty() {
            p { "Noch keine Einträge." }
        } @else {
            table class="data" {
                caption { "Prozessinventur, nach Priorität" }
                thead { tr {
                    th scope="col" { "Rang" } th scope="col" { "Leistung" } th scope="col" { "Fälle pro Jahr" }
                    th scope="col" { "Minuten pro Fall" } th scope="col" { "Stunden pro Jahr" } th scope="col" { "Stelle" }
                    th scope="col" { span class="visually-hidden" { "Aktion" } }
                } }
                tbody {
                    @for (i, e) in entries.iter().enumerate() {
                        tr {
                            td { (i + 1) }
                            td { (e.name) }
                            td { (e.cases_per_year) }
                            td { (e.minutes_per_case) }
                            td { (format!("{:.1}", e.score)) }
                            td { (e.office) }
                            td { a href={ (base) "?leistung=" (e.leistung_id) "#erfassen" } aria-label={ (e.name) " bearbeiten" } { "Bearbeiten" } }
                        }
                    }
                }
            }
        }
        h2 id="erfassen" { "Eintrag erfassen oder ändern" }
        @if let Some(e) = error {
            div class="fehler" role="alert" id="fehler" { p { (e) } }
        }
        form method="post" action={ (base) "/prozessinventur" } class="form" novalidate {
            input type="hidden" name=(csrf::FIELD) value=(token);
            div class="field" {
                label for="leistung_id" { "Leistungs-Nr." }
                p class="hint" id="leistung-hinweis" { "Die Nummer steht in der Adresse der Leistungsseite (…/leistungen/NUMMER); finden Sie sie über die " a href={ "/" (tenant.slug) "/suche" } { "Leistungssuche" } "." }
                input id="leistung_id" name="leistung_id" type="text" inputmode="numeric" value=(form.leistung_id) aria-describedby="leistung-hinweis";
            }
            (input_field("cases_per_year", "Fälle pro Jahr", &form.cases_per_year, "text"))
            (input_field("minutes_per_case", "Minuten pro Fall", &form.minutes_per_case, "text"))
            (input_field("office", "Bearbeitende Stelle", &form.office, "text"))
            (input_field("involved_offices", "Beteiligte Stellen (durch Komma getrennt)", &form.involved_offices, "text"))
            div class="field" {
                label for="legal_notes" { "Rechtliche Besonderheiten" }
                textarea id="legal_notes" name="legal_notes" rows="3" { (form.legal_notes) }
            }
            button type="submit" class="button" { "Speichern" }
        }
    };
    let mut res = (
        status,
        Html(page(&chrome, "Verwaltung", content).into_string()),
    )
        .into_response();
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// `GET /{slug}/verwaltung`
pub async fn start(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Query(q): Query<Show>,
) -> Response {
    let (tenant, land, who) = match scope(&state, &slug, &account.id, INVENTORY_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let entries = match state.inventory.ranked(tenant.id, land.id).await {
        Ok(e) => e,
        Err(e) => return super::internal_error(e),
    };
    let form = q
        .leistung
        .and_then(|id| entries.iter().find(|e| e.leistung_id == id))
        .map(EntryForm::from_entry)
        .unwrap_or_else(|| EntryForm {
            leistung_id: q.leistung.map(|l| l.to_string()).unwrap_or_default(),
            ..EntryForm::default()
        });
    let saved = q.gespeichert.map(|_| "Der Eintrag wurde gespeichert.");
    render(
        &state,
        &headers,
        &tenant,
        &who,
        &entries,
        &form,
        saved,
        None,
        StatusCode::OK,
    )
}

/// `POST /{slug}/verwaltung/prozessinventur`
pub async fn save(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Form(form): Form<EntryForm>,
) -> Response {
    let (tenant, land, who) = match scope(&state, &slug, &account.id, INVENTORY_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let store = &state.inventory;
    let again = |error: &str, status| {
        let (state, headers, tenant, who, form, store) = (
            state.clone(),
            headers.clone(),
            tenant.clone(),
            who.clone(),
            form.clone(),
            store.clone(),
        );
        let error = error.to_owned();
        async move {
            let entries = store.ranked(tenant.id, land.id).await.unwrap_or_default();
            render(
                &state,
                &headers,
                &tenant,
                &who,
                &entries,
                &form,
                None,
                Some(&error),
                status,
            )
        }
    };
    if !csrf::verify(&headers, &form.csrf, &state.config.csrf_secret) {
        return again(
            "Das Formular ist abgelaufen. Bitte speichern Sie erneut.",
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let (id, input) = match form.parse() {
        Ok(p) => p,
        Err(e) => return again(&e, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    match store
        .put(tenant.id, land.id, id, &input, &who.actor())
        .await
    {
        Ok(()) => {
            Redirect::to(&format!("/{}/verwaltung?gespeichert={id}", tenant.slug)).into_response()
        }
        Err(StorageError::NotFound(_)) => {
            again(
                &format!("Eine Leistung mit der Nr. {id} gibt es im Katalog nicht."),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(StorageError::Invalid(m)) => again(&m, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(e) => super::internal_error(e),
    }
}
