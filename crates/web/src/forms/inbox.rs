//! The staff inbox of submissions (`/{slug}/verwaltung/antraege`), until the E-Akte takes them
//! over, and the public list of a tenant's forms (`/{slug}/formulare`).

use super::fields::{self, Upload};
use crate::csrf;
use crate::html::backoffice::scope;
use crate::html::layout::{Chrome, error_page, page};
use crate::identity::SignedIn;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use rathaus_core::staff::Role;
use rathaus_storage::forms::SUBMISSION_STATUSES;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Roles that work on submissions.
pub(crate) const INBOX_ROLES: &[Role] = &[Role::Sachbearbeitung];

/// German label of a status.
pub(crate) fn status_label(status: &str) -> &str {
    match status {
        "eingegangen" => "Eingegangen",
        "in_bearbeitung" => "In Bearbeitung",
        "erledigt" => "Erledigt",
        other => other,
    }
}

use crate::html::internal_error as internal;

/// Filter of the list.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
}

/// The list of submissions, newest first.
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, INBOX_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let status = q
        .status
        .filter(|s| SUBMISSION_STATUSES.contains(&s.as_str()));
    let items = match state
        .submissions
        .list(tenant.id, status.as_deref(), 200)
        .await
    {
        Ok(i) => i,
        Err(e) => return internal(e),
    };
    let titles: BTreeMap<String, String> = match state.forms.list_for(tenant.id).await {
        Ok(forms) => forms
            .into_iter()
            .map(|f| (f.form.id, f.form.title))
            .collect(),
        Err(e) => return internal(e),
    };
    let base = format!("/{}/verwaltung/antraege", tenant.slug);
    let chrome = Chrome::tenant(&tenant)
        .crumb("Verwaltung", format!("/{}/verwaltung", tenant.slug))
        .crumb("Anträge", base.clone());
    let body = page(
        &chrome,
        "Eingegangene Anträge",
        html! {
            h1 { "Eingegangene Anträge" }
            p { "Angemeldet als " strong { (who.login) } " (" (who.office) ")." }
            nav aria-label="Nach Status filtern" {
                ul class="filter" {
                    li { a href=(base) aria-current=[status.is_none().then_some("page")] { "Alle" } }
                    @for s in SUBMISSION_STATUSES {
                        li { a href={ (base) "?status=" (s) } aria-current=[(status.as_deref() == Some(*s)).then_some("page")] { (status_label(s)) } }
                    }
                }
            }
            @if items.is_empty() {
                p { "Keine Anträge." }
            } @else {
                table class="data" {
                    caption { "Anträge, neueste zuerst" }
                    thead { tr {
                        th scope="col" { "Eingang" } th scope="col" { "Aktenzeichen" } th scope="col" { "Formular" }
                        th scope="col" { "Absender" } th scope="col" { "Status" }
                    } }
                    tbody {
                        @for s in &items {
                            tr {
                                td { (rathaus_core::time::display_de(&s.created_at)) }
                                td { a href={ (base) "/" (s.id) } { (s.reference) } }
                                td { (titles.get(&s.form_id).map_or(s.form_id.as_str(), String::as_str)) }
                                td { @if s.account_id.is_some() { "Servicekonto" } @else { "ohne Anmeldung" } }
                                td { (status_label(&s.status)) }
                            }
                        }
                    }
                }
            }
        },
    );
    Html(body.into_string()).into_response()
}

/// One submission with its data, attachments and status.
pub async fn detail(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, _, _) = match scope(&state, &slug, &account.id, INBOX_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let submission = match state.submissions.get(tenant.id, &id).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return error_page(
                StatusCode::NOT_FOUND,
                "Nicht gefunden",
                "Diesen Antrag gibt es hier nicht.",
            );
        }
        Err(e) => return internal(e),
    };
    let form = match state
        .form_definition(tenant.id, &submission.form_id, submission.form_version)
        .await
    {
        Ok(f) => f,
        Err(r) => return r,
    };
    let attachments = match state
        .submissions
        .attachments(tenant.id, &submission.id)
        .await
    {
        Ok(a) => a,
        Err(e) => return internal(e),
    };
    let uploads: BTreeMap<String, Upload> = attachments
        .iter()
        .map(|a| {
            (
                a.id.clone(),
                Upload {
                    id: a.id.clone(),
                    name: a.file_name.clone(),
                    size: a.size,
                },
            )
        })
        .collect();
    let (token, set_cookie) = csrf::token(
        &headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let base = format!("/{}/verwaltung/antraege", tenant.slug);
    let chrome = Chrome::tenant(&tenant)
        .crumb("Verwaltung", format!("/{}/verwaltung", tenant.slug))
        .crumb("Anträge", base.clone())
        .crumb(
            submission.reference.clone(),
            format!("{base}/{}", submission.id),
        );
    let body = page(
        &chrome,
        &format!("Antrag {}", submission.reference),
        html! {
            h1 { (form.title) ": " (submission.reference) }
            dl class="kopfdaten" {
                dt { "Eingang" } dd { (rathaus_core::time::display_de(&submission.created_at)) }
                dt { "Formularversion" } dd { (submission.form_version) }
                dt { "Status" } dd { (status_label(&submission.status)) }
                dt { "Maschinenlesbar" } dd {
                    a href={ "/api/v1/tenants/" (tenant.slug) "/submissions/" (submission.id) } { "JSON" } ", "
                    a href={ "/api/v1/tenants/" (tenant.slug) "/submissions/" (submission.id) "/xml" } { "XML" }
                }
            }
            h2 { "Angaben" }
            @for s in form.effective_steps() {
                section class="schritt" {
                    h3 { (s.title) }
                    @let list: Vec<&rathaus_forms::Element> = s.elements.iter().filter_map(|id| form.elements.iter().find(|e| e.id() == id)).collect();
                    (fields::summary(&list, Some(&submission.data), &uploads))
                }
            }
            h2 { "Anlagen" }
            @if attachments.is_empty() {
                p { "Keine Anlagen." }
            } @else {
                ul {
                    @for a in &attachments {
                        li {
                            a href={ (base) "/" (submission.id) "/anlagen/" (a.id) } { (a.file_name) }
                            " (" (a.content_type) ", " (fields::kib(a.size)) ", SHA-256 " code { (a.sha256[..16]) "…" } ")"
                        }
                    }
                }
            }
            h2 { "Status ändern" }
            form method="post" action={ (base) "/" (submission.id) } {
                input type="hidden" name=(csrf::FIELD) value=(token);
                fieldset {
                    legend { "Neuer Status" }
                    @for s in SUBMISSION_STATUSES {
                        div class="option" {
                            input type="radio" name="status" id={ "status-" (s) } value=(s) checked[*s == submission.status];
                            label for={ "status-" (s) } { (status_label(s)) }
                        }
                    }
                }
                button type="submit" class="button" { "Status speichern" }
            }
        },
    );
    let mut res = Html(body.into_string()).into_response();
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The status form.
#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
}

/// Sets the status of a submission.
pub async fn set_status(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    axum::Form(input): axum::Form<StatusForm>,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, INBOX_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !csrf::verify(&headers, &input.csrf, &state.config.csrf_secret) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Sitzung abgelaufen",
            "Bitte laden Sie die Seite neu.",
        );
    }
    let actor = format!("staff:{}/{}", tenant.slug, who.login);
    match state
        .submissions
        .set_status(tenant.id, &id, &input.status, &actor)
        .await
    {
        Ok(()) => {
            Redirect::to(&format!("/{}/verwaltung/antraege/{id}", tenant.slug)).into_response()
        }
        Err(rathaus_storage::StorageError::NotFound(_)) => error_page(
            StatusCode::NOT_FOUND,
            "Nicht gefunden",
            "Diesen Antrag gibt es hier nicht.",
        ),
        Err(rathaus_storage::StorageError::Invalid(m)) => {
            error_page(StatusCode::BAD_REQUEST, "Ungültiger Status", &m)
        }
        Err(e) => internal(e),
    }
}

/// Download of an attachment (as a download, never rendered inline).
pub async fn attachment(
    State(state): State<AppState>,
    Path((slug, id, attachment)): Path<(String, String, String)>,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, _, _) = match scope(&state, &slug, &account.id, INBOX_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    super::super::api::forms::attachment_response(&state, tenant.id, &id, &attachment).await
}

/// The forms a tenant offers (public).
pub async fn public_list(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let tenant = match state.tenants.get(&slug).await {
        Ok(t) => t,
        Err(rathaus_storage::StorageError::NotFound(_)) => {
            return error_page(
                StatusCode::NOT_FOUND,
                "Kommune nicht gefunden",
                "Zu dieser Adresse gibt es keine Kommune auf diesem Portal.",
            );
        }
        Err(e) => return internal(e),
    };
    let forms = match state.forms.list_for(tenant.id).await {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let chrome = Chrome::tenant(&tenant).crumb("Formulare", format!("/{}/formulare", tenant.slug));
    let body = page(
        &chrome,
        "Online-Anträge",
        html! {
            h1 { "Online-Anträge" }
            @let offered: Vec<_> = forms.iter().filter(|f| f.published_version.is_some()).collect();
            @if offered.is_empty() {
                p { "Diese Kommune bietet noch keine Online-Anträge an." }
            } @else {
                ul class="liste" {
                    @for f in offered {
                        li { a href={ "/" (tenant.slug) "/formulare/" (f.form.id) } { (f.form.title) } }
                    }
                }
            }
        },
    );
    Html(body.into_string()).into_response()
}
