//! The tenant's invoice desk `/{slug}/verwaltung/rechnungen`: received E-Rechnungen, a readable
//! view of each, the four-eyes approval and an upload for invoices that came by other ways.

use super::backoffice::scope;
use super::layout::{Chrome, error_page, page};
use crate::api::einvoices::{
    ARITHMETIC_ROLES, FACTUAL_ROLES, READ_ROLES, load_model, receive_bytes, reception_refused,
    size_text, too_many_text,
};
use crate::csrf;
use crate::identity::SignedIn;
use crate::state::AppState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use rathaus_core::Tenant;
use rathaus_core::staff::StaffPrincipal;
use rathaus_storage::einvoices::{EinvoiceError, STATUSES, StoredInvoice};
use serde::Deserialize;

/// German label of a status.
fn status_label(status: &str) -> &str {
    match status {
        "eingegangen" => "Eingegangen",
        "sachlich_richtig" => "Sachlich richtig",
        "freigegeben" => "Freigegeben (rechnerisch richtig)",
        "exportiert" => "An die Kasse übergeben",
        "abgelehnt" => "Abgelehnt",
        other => other,
    }
}

use crate::html::internal_error as internal;

fn base(tenant: &Tenant) -> String {
    format!("/{}/verwaltung/rechnungen", tenant.slug)
}

fn chrome(tenant: &Tenant) -> Chrome<'_> {
    Chrome::tenant(tenant)
        .crumb("Verwaltung", format!("/{}/verwaltung", tenant.slug))
        .crumb("Rechnungen", base(tenant))
}

fn with_cookie(body: Markup, set_cookie: Option<HeaderValue>) -> Response {
    let mut res = Html(body.into_string()).into_response();
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn amount(inv: &StoredInvoice) -> String {
    match (&inv.amount_payable, &inv.currency) {
        (Some(a), Some(c)) => format!("{a} {c}"),
        (Some(a), None) => a.clone(),
        _ => "–".into(),
    }
}

/// Filter of the list.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
}

/// The list of received invoices.
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, READ_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let status = q.status.filter(|s| STATUSES.contains(&s.as_str()));
    let items = match state
        .einvoices
        .list(tenant.id, status.as_deref(), 200)
        .await
    {
        Ok(i) => i,
        Err(e) => return internal(e),
    };
    let base = base(&tenant);
    let body = page(
        &chrome(&tenant),
        "Eingegangene E-Rechnungen",
        html! {
            h1 { "Eingegangene E-Rechnungen" }
            p { "Angemeldet als " strong { (who.login) } " (" (who.office) ")." }
            p {
                a href={ (base) "/hochladen" } { "E-Rechnung hochladen" }
                " · "
                a href={ (base) "/leitweg-ids" } { "Leitweg-IDs dieser Verwaltung" }
            }
            nav aria-label="Nach Status filtern" {
                ul class="filter" {
                    li { a href=(base) aria-current=[status.is_none().then_some("page")] { "Alle" } }
                    @for s in STATUSES {
                        li { a href={ (base) "?status=" (s) } aria-current=[(status.as_deref() == Some(*s)).then_some("page")] { (status_label(s)) } }
                    }
                }
            }
            @if items.is_empty() {
                p { "Keine Rechnungen." }
            } @else {
                table class="data" {
                    caption { "E-Rechnungen, neueste zuerst" }
                    thead { tr {
                        th scope="col" { "Eingang" } th scope="col" { "Rechnungsnummer" } th scope="col" { "Rechnungssteller" }
                        th scope="col" { "Dienststelle" } th scope="col" { "Betrag" } th scope="col" { "Status" }
                    } }
                    tbody {
                        @for i in &items {
                            tr {
                                td { (rathaus_core::time::display_de(&i.received_at)) }
                                td { a href={ (base) "/" (i.id) } { (if i.invoice_number.is_empty() { "(ohne Nummer)" } else { &i.invoice_number }) } }
                                td { (i.seller_name) }
                                td { (i.office) }
                                td { (amount(i)) }
                                td { (status_label(&i.status)) }
                            }
                        }
                    }
                }
            }
        },
    );
    Html(body.into_string()).into_response()
}

fn report_view(report: &rathaus_einvoice::Report) -> Markup {
    html! {
        @if report.valid {
            p { "Die Prüfung nach EN 16931 und XRechnung hat die Rechnung angenommen." }
        } @else {
            p { strong { "Die Prüfung nach EN 16931 und XRechnung hat die Rechnung abgewiesen." } }
        }
        @if !report.findings.is_empty() {
            table class="data" {
                caption { "Befunde der Prüfung" }
                thead { tr { th scope="col" { "Regel" } th scope="col" { "Schwere" } th scope="col" { "Meldung" } th scope="col" { "Ort" } } }
                tbody {
                    @for f in &report.findings {
                        tr {
                            th scope="row" { (f.rule) }
                            td { (f.severity.german()) }
                            td { (f.text) }
                            td { code { (f.location) } }
                        }
                    }
                }
            }
        }
    }
}

/// An invoice of the tenant that the signed-in staff member may read, or the 403/404/500 page.
async fn readable(
    state: &AppState,
    slug: &str,
    account_id: &str,
    id: &str,
) -> Result<(Tenant, StaffPrincipal, StoredInvoice), Response> {
    let (tenant, _, who) = scope(state, slug, account_id, READ_ROLES).await?;
    match state.einvoices.get(tenant.id, id).await {
        Ok(inv) => Ok((tenant, who, inv)),
        Err(EinvoiceError::NotFound(_)) => Err(error_page(
            StatusCode::NOT_FOUND,
            "Nicht gefunden",
            "Diese Rechnung gibt es hier nicht.",
        )),
        Err(e) => Err(internal(e)),
    }
}

/// The tenant's Leitweg-ID routes (read-only; admins change them through the API or the CLI).
pub async fn routes(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, _, _) = match scope(&state, &slug, &account.id, READ_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let routes = match state.einvoices.routes(tenant.id).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let title = "Leitweg-IDs";
    let body = page(
        &chrome(&tenant).crumb(title, format!("{}/leitweg-ids", base(&tenant))),
        title,
        html! {
            h1 { (title) }
            p { "E-Rechnungen, deren Leitweg-ID (BT-10) mit einem dieser Präfixe beginnt, gehen an die genannte Dienststelle; passen mehrere, gilt das längste Präfix." }
            @if routes.is_empty() {
                p { "Dieser Verwaltung ist keine Leitweg-ID zugeordnet." }
            } @else {
                table class="data" {
                    caption { "Zugeordnete Leitweg-IDs" }
                    thead { tr { th scope="col" { "Leitweg-ID (Präfix)" } th scope="col" { "Dienststelle" } th scope="col" { "Eingerichtet" } } }
                    tbody {
                        @for r in &routes {
                            tr {
                                th scope="row" { code { (r.leitweg_prefix) } }
                                td { (r.office) }
                                td { (rathaus_core::time::display_de(&r.created_at)) }
                            }
                        }
                    }
                }
            }
            p { "Änderungen nehmen Administratorinnen und Administratoren über die API (" code { "/api/v1/tenants/" (tenant.slug) "/leitweg-routes" } ") oder den Betrieb mit " code { "rathaus einvoice routes" } " vor." }
        },
    );
    Html(body.into_string()).into_response()
}

/// One invoice with its readable view, report, history and the workflow buttons.
pub async fn detail(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, who, inv) = match readable(&state, &slug, &account.id, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let model = load_model(&state, &inv).await.ok().flatten();
    let report: Option<rathaus_einvoice::Report> =
        match state.einvoices.report(tenant.id, &id).await {
            Ok(r) => serde_json::from_value(r).ok(),
            Err(e) => return internal(e),
        };
    let history = match state.einvoices.history(tenant.id, &id).await {
        Ok(h) => h,
        Err(e) => return internal(e),
    };
    let (token, set_cookie) = csrf::token(
        &headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let base = base(&tenant);
    let action = format!("{base}/{}", inv.id);
    let title = format!("Rechnung {}", inv.invoice_number);
    let may_factual = who.may(tenant.id, FACTUAL_ROLES) && inv.status == "eingegangen";
    let may_arith = who.may(tenant.id, ARITHMETIC_ROLES) && inv.status == "sachlich_richtig";
    let may_reject = matches!(inv.status.as_str(), "eingegangen" | "sachlich_richtig");
    let body = page(
        &chrome(&tenant).crumb(title.clone(), action.clone()),
        &title,
        html! {
            h1 { (title) }
            dl class="kopfdaten" {
                dt { "Status" } dd { (status_label(&inv.status)) }
                dt { "Eingang" } dd { (rathaus_core::time::display_de(&inv.received_at)) }
                dt { "Dienststelle" } dd { (inv.office) }
                dt { "Syntax" } dd { (inv.syntax.to_uppercase()) }
                dt { "SHA-256 des Originals" } dd { code { (inv.sha256) } }
                @if let Some(by) = &inv.sachlich_by { dt { "Sachlich richtig" } dd { (by) ", " (rathaus_core::time::display_de(inv.sachlich_at.as_deref().unwrap_or(""))) } }
                @if let Some(by) = &inv.rechnerisch_by { dt { "Rechnerisch richtig" } dd { (by) ", " (rathaus_core::time::display_de(inv.rechnerisch_at.as_deref().unwrap_or(""))) } }
                @if let Some(r) = &inv.reject_reason { dt { "Ablehnungsgrund" } dd { (r) } }
            }
            @if may_factual || may_arith || may_reject {
                h2 { "Bearbeiten" }
                @if may_factual {
                    form method="post" action=(action) {
                        input type="hidden" name=(csrf::FIELD) value=(token);
                        input type="hidden" name="aktion" value="sachlich-richtig";
                        button type="submit" class="button" { "Sachlich richtig zeichnen" }
                    }
                }
                @if may_arith {
                    form method="post" action=(action) {
                        input type="hidden" name=(csrf::FIELD) value=(token);
                        input type="hidden" name="aktion" value="rechnerisch-richtig";
                        button type="submit" class="button" { "Rechnerisch richtig zeichnen und freigeben" }
                    }
                }
                @if may_reject {
                    form method="post" action=(action) class="form" {
                        input type="hidden" name=(csrf::FIELD) value=(token);
                        input type="hidden" name="aktion" value="ablehnen";
                        div class="field" {
                            label for="grund" { "Grund der Ablehnung" }
                            textarea id="grund" name="grund" required rows="3" {}
                        }
                        button type="submit" class="button" { "Rechnung ablehnen" }
                    }
                }
            }
            @match &model {
                Some(m) => {
                    p { a href={ (action) "/pdf" } download { "Rechnung als PDF herunterladen" } }
                    (super::einvoice_view::html(&m.view()))
                }
                None => p { "Die Rechnung ist nicht als EN-16931-Modell lesbar." },
            }
            h2 { "Prüfbericht" }
            @if let Some(r) = &report { (report_view(r)) }
            h2 { "Verlauf" }
            ol {
                @for h in &history {
                    li { (rathaus_core::time::display_de(&h.at)) ": " (h.action) " – " (h.actor) }
                }
            }
        },
    );
    with_cookie(body, set_cookie)
}

/// A workflow step from the detail page.
#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    aktion: String,
    #[serde(default)]
    grund: String,
}

/// Performs a workflow step (role checked per step; four-eyes in the store).
pub async fn step(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    axum::Form(input): axum::Form<StepForm>,
) -> Response {
    let roles = match input.aktion.as_str() {
        "sachlich-richtig" => FACTUAL_ROLES,
        "rechnerisch-richtig" => ARITHMETIC_ROLES,
        _ => READ_ROLES,
    };
    let (tenant, _, who) = match scope(&state, &slug, &account.id, roles).await {
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
    let actor = who.actor();
    let store = &state.einvoices;
    let done = match input.aktion.as_str() {
        "sachlich-richtig" => store.confirm_factual(tenant.id, &id, &actor).await,
        "rechnerisch-richtig" => store.confirm_arithmetic(tenant.id, &id, &actor).await,
        "ablehnen" => store.reject(tenant.id, &id, &actor, &input.grund).await,
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Unbekannte Aktion",
                "Bitte laden Sie die Seite neu.",
            );
        }
    };
    match done {
        Ok(_) => Redirect::to(&format!("{}/{id}", base(&tenant))).into_response(),
        Err(EinvoiceError::NotFound(_)) => error_page(
            StatusCode::NOT_FOUND,
            "Nicht gefunden",
            "Diese Rechnung gibt es hier nicht.",
        ),
        Err(e @ (EinvoiceError::FourEyes | EinvoiceError::WrongStatus { .. })) => error_page(
            StatusCode::CONFLICT,
            "Schritt nicht möglich",
            &e.to_string(),
        ),
        Err(EinvoiceError::Storage(rathaus_storage::StorageError::Invalid(m))) => {
            error_page(StatusCode::BAD_REQUEST, "Angabe fehlt", &m)
        }
        Err(e) => internal(e),
    }
}

fn upload_page(tenant: &Tenant, token: &str, max: usize, result: Option<Markup>) -> Markup {
    let base = base(tenant);
    page(
        &chrome(tenant).crumb("Hochladen", format!("{base}/hochladen")),
        "E-Rechnung hochladen",
        html! {
            h1 { "E-Rechnung hochladen" }
            @if let Some(r) = result { (r) }
            p { "Laden Sie eine XRechnung (UBL oder CII) hoch, die nicht über das Rechnungseingangsportal kam. Sie wird geprüft wie jede eingehende Rechnung und über ihre Leitweg-ID zugeordnet." }
            form method="post" action={ (base) "/hochladen" } enctype="multipart/form-data" class="form" {
                input type="hidden" name=(csrf::FIELD) value=(token);
                div class="field" {
                    label for="datei" { "XML-Datei der Rechnung" }
                    p class="hint" id="datei-hinweis" { "Höchstens " (size_text(max)) "." }
                    input type="file" id="datei" name="datei" accept=".xml,application/xml,text/xml" required aria-describedby="datei-hinweis";
                }
                button type="submit" class="button" { "Prüfen und empfangen" }
            }
        },
    )
}

/// The upload form.
pub async fn upload_form(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, _, _) = match scope(&state, &slug, &account.id, READ_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (token, set_cookie) = csrf::token(
        &headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    with_cookie(
        upload_page(&tenant, &token, state.config.einvoice_max_bytes, None),
        set_cookie,
    )
}

/// Receives an uploaded invoice and shows the result with the report in German.
pub async fn upload(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    mut multipart: Multipart,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, READ_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let max = state.config.einvoice_max_bytes;
    let mut token = String::new();
    let mut file = None;
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(max)
        } else {
            error_page(
                StatusCode::BAD_REQUEST,
                "Hochladen fehlgeschlagen",
                "Die Datei kam nicht vollständig an. Bitte versuchen Sie es erneut.",
            )
        }
    };
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(b) if name == csrf::FIELD => {
                        token = String::from_utf8_lossy(&b).into_owned()
                    }
                    Ok(b) if name == "datei" => file = Some(b),
                    Ok(_) => {}
                    Err(e) => return broken(e),
                }
            }
            Ok(None) => break,
            Err(e) => return broken(e),
        }
    }
    if !csrf::verify(&headers, &token, &state.config.csrf_secret) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Sitzung abgelaufen",
            "Bitte laden Sie die Seite neu.",
        );
    }
    if file.as_ref().is_some_and(|b| b.len() > max) {
        return too_large(max);
    }
    let (token, set_cookie) = csrf::token(
        &headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let msg = html! { div class="fehler" role="alert" { p { "Bitte wählen Sie eine XML-Datei aus." } } };
        return with_cookie(upload_page(&tenant, &token, max, Some(msg)), set_cookie);
    };
    // Per signed-in account: the page has no anonymous senders.
    if let Some(wait) = reception_refused(&state, &format!("konto:{}", account.id)) {
        let res = error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Zu viele E-Rechnungen",
            &too_many_text(&state),
        );
        return crate::ratelimit::with_retry_after(res, wait);
    }
    let result = match receive_bytes(&state, bytes, &who.actor()).await {
        Ok(r) => {
            let own = r.invoice.tenant_id == tenant.id.to_string();
            html! {
                div class="notice" role="status" {
                    p { "Die Rechnung " (r.invoice.invoice_number) " wurde angenommen und " (r.tenant_slug) " / " (r.invoice.office) " zugeordnet." }
                    @if own { p { a href={ (base(&tenant)) "/" (r.invoice.id) } { "Zur Rechnung" } } }
                }
                (report_view(&r.report))
            }
        }
        Err(p) => {
            let findings: Vec<rathaus_einvoice::Finding> = p
                .findings
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| serde_json::from_value(f).ok())
                .collect();
            html! {
                div class="fehler" role="alert" {
                    p { strong { (p.title) } ": " (p.detail.clone().unwrap_or_default()) }
                }
                @if !findings.is_empty() {
                    (report_view(&rathaus_einvoice::Report { scenario: None, valid: false, findings }))
                }
            }
        }
    };
    with_cookie(upload_page(&tenant, &token, max, Some(result)), set_cookie)
}

/// Multipart framing and the CSRF field around the uploaded file.
const FORM_OVERHEAD: usize = 64 * 1024;

/// The 413 page of the upload, naming the limit.
fn too_large(max: usize) -> Response {
    let mut res = error_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Rechnung zu groß",
        &format!(
            "Die Datei ist größer als die erlaubten {}. Rechnungen mit größeren Anlagen senden Sie bitte über das Rechnungseingangsportal oder mit kleineren Anlagen.",
            size_text(max)
        ),
    );
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Refuses an upload whose declared length exceeds the limit with the 413 page. The body is
/// read and dropped first (up to four times the limit) so that a browser, which sends the whole
/// file before it reads the answer, gets the page instead of a reset connection; a client that
/// asked `Expect: 100-continue` gets the page at once and sends nothing.
async fn refuse_oversized(
    max: usize,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let allowed = (max + FORM_OVERHEAD) as u64;
    if req.method() != axum::http::Method::POST || declared.is_none_or(|n| n <= allowed) {
        return next.run(req).await;
    }
    let expects_continue = req
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if !expects_continue {
        drain(req.into_body(), max.saturating_mul(4)).await;
    }
    too_large(max)
}

/// Reads and drops up to `cap` bytes of `body`.
async fn drain(mut body: axum::body::Body, cap: usize) {
    use axum::body::HttpBody;
    let mut seen = 0usize;
    while seen <= cap {
        match std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => break,
        }
    }
}

/// The upload page with its own body limit (`einvoice.max_bytes` plus the form around the file)
/// instead of the pages' general one.
pub(crate) fn upload_router(max: usize) -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/{slug}/verwaltung/rechnungen/hochladen",
            axum::routing::get(upload_form).post(upload),
        )
        .layer(axum::extract::DefaultBodyLimit::max(max + FORM_OVERHEAD))
        .layer(axum::middleware::from_fn(move |req, next| {
            refuse_oversized(max, req, next)
        }))
}

/// The readable view of an invoice as a tagged PDF (staff with read access).
pub async fn pdf(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, _, inv) = match readable(&state, &slug, &account.id, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(model) = load_model(&state, &inv).await.ok().flatten() else {
        return error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nicht lesbar",
            "Die Rechnung ist nicht als EN-16931-Modell lesbar; das Original bleibt abrufbar.",
        );
    };
    let title = format!("Rechnung {}", inv.invoice_number);
    let heading = vec![
        ("Status".to_owned(), status_label(&inv.status).to_owned()),
        (
            "Eingang".to_owned(),
            rathaus_core::time::display_de(&inv.received_at),
        ),
        (
            "Empfänger".to_owned(),
            format!("{}, {}", tenant.branding.display_name, inv.office),
        ),
        ("SHA-256 des Originals".to_owned(), inv.sha256.clone()),
    ];
    let doc = super::einvoice_view::document(
        &model.view(),
        &title,
        &tenant.branding.display_name,
        heading,
    );
    let file = format!("Rechnung-{}.pdf", sanitize_file_name(&inv.invoice_number));
    match tokio::task::spawn_blocking(move || rathaus_pdf::render(&doc)).await {
        Ok(Ok(bytes)) => crate::html::pdf_response(bytes, &file),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

/// A file name from an invoice number: letters, digits, `-` and `_`, at most 60 characters.
fn sanitize_file_name(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    if cleaned.is_empty() {
        "ohne-Nummer".into()
    } else {
        cleaned
    }
}
