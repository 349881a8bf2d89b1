//! E-Rechnung (XRechnung) reception at `/api/v1/einvoices` (public, like a Peppol or ZRE entry
//! point), the four-eyes approval by the tenant's staff and the export to the cash system (HKR).

use super::tenants::tenant_or_404;
use crate::auth::Staff;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rathaus_core::staff::Role;
use rathaus_einvoice::model::{Invoice, SourceSyntax};
use rathaus_einvoice::{Layer, Limits, Report};
use rathaus_storage::einvoices::{EinvoiceError, HistoryEntry, NewInvoice, StoredInvoice};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::SocketAddr;

/// Default of `einvoice.max_bytes`: the largest accepted invoice (with embedded attachments),
/// for the API and the HTML upload alike; larger bodies get 413.
pub const DEFAULT_MAX_BYTES: usize = 20 * 1024 * 1024;

/// `max` bytes in German for messages ("20 MB", "512 KB", "900 Bytes"; 1 MB = 1024 KB).
pub(crate) fn size_text(max: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if max >= MIB && max.is_multiple_of(MIB) {
        format!("{} MB", max / MIB)
    } else if max >= MIB {
        format!("{:.1} MB", max as f64 / MIB as f64).replace('.', ",")
    } else if max >= 1024 {
        format!("{} KB", max / 1024)
    } else {
        format!("{max} Bytes")
    }
}

/// The rate limit of reception (`einvoice.receptions_per_minute`) for one sending client
/// (`staff:…`, `konto:…`, `ip:…`): how long it has to wait, if it has to.
pub(crate) fn reception_refused(state: &AppState, client: &str) -> Option<std::time::Duration> {
    state.einvoice_limiter.as_ref()?.check(client).err()
}

/// German text of the 429 answers of reception.
pub(crate) fn too_many_text(state: &AppState) -> String {
    let n = state
        .einvoice_limiter
        .as_ref()
        .map(|l| l.per_minute())
        .unwrap_or_default();
    format!(
        "Von Ihnen kamen in der letzten Minute mehr als {n} E-Rechnungen. Bitte warten Sie einen Moment und senden Sie dann erneut."
    )
}

/// Roles that may read invoices of their tenant.
pub(crate) const READ_ROLES: &[Role] = &[Role::Sachbearbeitung, Role::Kasse];
/// Role that confirms "sachlich richtig".
pub(crate) const FACTUAL_ROLES: &[Role] = &[Role::Sachbearbeitung];
/// Role that confirms "rechnerisch richtig" and exports.
pub(crate) const ARITHMETIC_ROLES: &[Role] = &[Role::Kasse];

impl From<EinvoiceError> for Problem {
    fn from(e: EinvoiceError) -> Self {
        match e {
            EinvoiceError::Storage(s) => s.into(),
            EinvoiceError::NotFound(id) => Problem::not_found(format!("Rechnung {id}")),
            EinvoiceError::Duplicate { id, number } => Problem::new(
                StatusCode::CONFLICT,
                "einvoice-duplicate",
                "Rechnung bereits empfangen",
            )
            .detail(format!(
                "Die Rechnung {number} dieses Rechnungsstellers wurde bereits empfangen (Id {id})."
            ))
            .field(id),
            EinvoiceError::WrongStatus { status } => {
                Problem::new(StatusCode::CONFLICT, "einvoice-status", "Schritt nicht möglich")
                    .detail(format!(
                        "Im Status „{status}“ ist dieser Schritt nicht möglich."
                    ))
            }
            EinvoiceError::FourEyes => Problem::new(
                StatusCode::FORBIDDEN,
                "four-eyes",
                "Vier-Augen-Prinzip",
            )
            .detail("Dieselbe Person darf eine Rechnung nicht zugleich sachlich und rechnerisch richtig zeichnen."),
            EinvoiceError::InvalidRoute { field, message } => Problem::invalid(message).field(field),
        }
    }
}

/// The answer to a received invoice.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Receipt {
    /// Id of the stored invoice (random; it also opens its validation report).
    pub id: String,
    /// Receiving tenant (slug).
    pub tenant: String,
    /// Receiving office.
    pub office: String,
    /// Status (`eingegangen`).
    pub status: String,
    /// Whether the validation accepted the invoice.
    pub valid: bool,
    /// Validation findings (warnings and notes of an accepted invoice).
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<rathaus_einvoice::Finding>,
    /// Where the sender fetches the validation report.
    pub report_url: String,
}

/// Outcome of [`receive_bytes`].
pub(crate) struct Received {
    pub invoice: StoredInvoice,
    pub tenant_slug: String,
    pub report: Report,
}

fn syntax_name(s: SourceSyntax) -> &'static str {
    match s {
        SourceSyntax::Cii => "cii",
        SourceSyntax::UblInvoice | SourceSyntax::UblCreditNote => "ubl",
    }
}

fn findings_json(report: &Report) -> Vec<Value> {
    report
        .findings
        .iter()
        .filter_map(|f| serde_json::to_value(f).ok())
        .collect()
}

fn refused(report: &Report, detail: String) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "einvoice-invalid",
        "E-Rechnung abgewiesen",
    )
    .detail(detail)
    .findings(findings_json(report))
}

/// Validates, routes and stores an invoice; an invalid but routable one is stored as
/// `abgelehnt` (its report stays available) and answered with a 422 problem.
pub(crate) async fn receive_bytes(
    state: &AppState,
    body: Bytes,
    actor: &str,
) -> Result<Received, Problem> {
    let validator = state.einvoice_validator.clone().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "einvoice-unavailable",
            "E-Rechnungsempfang nicht verfügbar",
        )
        .detail("Die Prüfkonfiguration für XRechnung ist auf diesem Server nicht eingerichtet.")
    })?;
    let xml = body.clone();
    let limits = Limits {
        max_bytes: state
            .config
            .einvoice_max_bytes
            .max(Limits::default().max_bytes),
        ..Limits::default()
    };
    let (report, model) = tokio::task::spawn_blocking(move || {
        let report = validator.validate(&xml, Layer::All);
        let model = rathaus_einvoice::model::parse(&xml, limits);
        (report, model)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "einvoice validation task failed");
        Problem::internal()
    })?;
    let model: Invoice = match model {
        Ok(m) => m,
        Err(e) => {
            return Err(refused(
                &report,
                format!("Das Dokument ist keine lesbare E-Rechnung (UBL oder CII): {e}"),
            ));
        }
    };
    let leitweg = model
        .buyer_reference
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    let route = if leitweg.is_empty() {
        None
    } else {
        state.einvoices.route_for(&leitweg).await?
    };
    let Some(route) = route else {
        let detail = if leitweg.is_empty() {
            "Die Rechnung nennt keine Leitweg-ID (BT-10, Käuferreferenz).".to_owned()
        } else {
            format!("Leitweg-ID {leitweg} ist keinem Empfänger zugeordnet.")
        };
        if !report.valid {
            return Err(refused(&report, detail));
        }
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "einvoice-unknown-recipient",
            "Empfänger unbekannt",
        )
        .detail(detail)
        .field("BT-10"));
    };
    let tenant_id = route.tenant_id.parse().map_err(|_| Problem::internal())?;
    let tenant = state.tenants.get_by_id(tenant_id).await?;
    let seller_name = model.seller.name.clone().unwrap_or_default();
    let seller_key = model
        .seller
        .vat_id
        .clone()
        .or_else(|| model.seller.endpoint.clone())
        .unwrap_or_else(|| seller_name.clone());
    let report_json = serde_json::to_value(&report).map_err(|_| Problem::internal())?;
    let payable = model.totals.payable.map(|d| d.to_string());
    let stored = state
        .einvoices
        .receive(&NewInvoice {
            tenant: tenant_id,
            office: &route.office,
            leitweg_id: &leitweg,
            syntax: syntax_name(model.syntax),
            seller_name: &seller_name,
            seller_key: &seller_key,
            invoice_number: model.number.as_deref().unwrap_or_default(),
            issue_date: model.issue_date.as_deref(),
            due_date: model.due_date.as_deref(),
            currency: model.currency.as_deref(),
            amount_payable: payable.as_deref(),
            iban: model.payment_account.as_deref(),
            valid: report.valid,
            report: &report_json,
            xml: body,
            actor,
        })
        .await?;
    if !report.valid {
        return Err(refused(
            &report,
            format!(
                "Die Rechnung verletzt {} Regel(n) von EN 16931/XRechnung und wurde abgewiesen. Prüfbericht: /api/v1/einvoices/{}/report",
                report.error_rules().len(),
                stored.id
            ),
        ));
    }
    Ok(Received {
        invoice: stored,
        tenant_slug: tenant.slug.to_string(),
        report,
    })
}

/// Receive an E-Rechnung (XRechnung 3, UBL 2.1 Invoice/CreditNote or UN/CEFACT CII, the XML as
/// body). It is validated exactly like the KoSIT validator does and routed by its Leitweg-ID
/// (BT-10) to the receiving tenant and office. An invalid invoice is refused with 422 and every
/// finding (official rule ids); its report stays available under the id named in `detail`.
///
/// No token is needed. Each sending client may send `einvoice.receptions_per_minute` invoices per
/// minute (default 60): counted per staff principal or machine client when a bearer token is sent,
/// else per client address; more get 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/einvoices", operation_id = "receiveEinvoice", tag = "E-Rechnung",
    request_body(content = String, content_type = "application/xml", description = "XRechnung (UBL or CII), at most `einvoice.max_bytes` (default 20 MB)"),
    responses((status = 201, body = Receipt),
        (status = 401, body = Problem, description = "a bearer token was sent but is unknown or expired (no token is needed)"),
        (status = 404, body = Problem, description = "Leitweg-ID not assigned to any recipient"),
        (status = 409, body = Problem, description = "same seller and invoice number already received; `field` is the id of the first"),
        (status = 413, body = Problem),
        (status = 415, body = Problem),
        (status = 422, body = Problem, description = "refused by the validation: `findings` lists `{rule, severity, location, text}`"),
        (status = 429, body = Problem, description = "too many invoices from this client in the last minute (`Retry-After` in seconds)"),
        (status = 503, body = Problem, description = "no XRechnung configuration on this server")))]
pub async fn receive(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let principal = crate::auth::optional_principal(&state, &headers).await?;
    let client = match &principal {
        Some(p) => p.actor(),
        None => format!(
            "ip:{}",
            crate::ratelimit::client_address(&headers, peer, state.config.trust_forwarded_for)
        ),
    };
    if let Some(wait) = reception_refused(&state, &client) {
        let problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-einvoices",
            "Zu viele E-Rechnungen",
        )
        .detail(too_many_text(&state));
        return Ok(crate::ratelimit::with_retry_after(
            problem.into_response(),
            wait,
        ));
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let media = ct.split(';').next().unwrap_or_default().trim();
    if !matches!(media, "application/xml" | "text/xml") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Nicht unterstützter Inhaltstyp",
        )
        .detail("Erwartet wird die Rechnung als application/xml."));
    }
    let actor = principal.map_or_else(|| "einvoice:reception".to_owned(), |p| p.actor());
    let r = receive_bytes(&state, body, &actor).await?;
    let receipt = Receipt {
        report_url: format!("/api/v1/einvoices/{}/report", r.invoice.id),
        id: r.invoice.id,
        tenant: r.tenant_slug,
        office: r.invoice.office,
        status: r.invoice.status,
        valid: r.report.valid,
        findings: r.report.findings,
    };
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

/// The validation report of a received invoice, for its sender (the id is unguessable).
#[utoipa::path(get, path = "/api/v1/einvoices/{id}/report", operation_id = "getEinvoiceReport", tag = "E-Rechnung",
    params(("id" = String, Path, description = "id from the reception answer")),
    responses((status = 200, body = Object, description = "`{scenario, valid, findings: [{rule, severity, location, text}]}`"),
        (status = 404, body = Problem)))]
pub async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(Problem::not_found(format!("Rechnung {id}")));
    }
    let (_, report) = state.einvoices.report_by_id(&id).await?;
    Ok(Json(report))
}

/// Filter of the list.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Only this status (`eingegangen`, `sachlich_richtig`, `freigegeben`, `exportiert`, `abgelehnt`).
    status: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<i64>,
}

/// Received invoices of the tenant, newest first (roles Sachbearbeitung, Kasse).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/einvoices", operation_id = "listEinvoices",
    tag = "E-Rechnung", security(("bearer" = [])), params(("slug" = String, Path), ListParams),
    responses((status = 200, body = [StoredInvoice])))]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(p): Query<ListParams>,
    staff: Staff,
) -> Result<Json<Vec<StoredInvoice>>, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, READ_ROLES)?;
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state
            .einvoices
            .list(
                tenant.id,
                p.status.as_deref().filter(|s| !s.is_empty()),
                limit,
            )
            .await?,
    ))
}

/// An invoice with its semantic model, validation report and status history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InvoiceDetail {
    /// The stored invoice.
    #[serde(flatten)]
    pub invoice: StoredInvoice,
    /// The EN 16931 semantic model read from the XML.
    #[schema(value_type = Object)]
    pub model: Value,
    /// The validation report.
    #[schema(value_type = Object)]
    pub report: Value,
    /// Status history from the audit trail.
    pub history: Vec<HistoryEntry>,
}

/// The invoice's stored record and model, for API and HTML.
pub(crate) async fn load_model(
    state: &AppState,
    invoice: &StoredInvoice,
) -> Result<Option<Invoice>, Problem> {
    let xml = state.einvoices.xml(invoice).await?;
    Ok(rathaus_einvoice::model::parse(&xml, Limits::default()).ok())
}

/// One invoice (roles Sachbearbeitung, Kasse).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/einvoices/{id}", operation_id = "getEinvoice",
    tag = "E-Rechnung", security(("bearer" = [])), params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = InvoiceDetail)))]
pub async fn get_one(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    staff: Staff,
) -> Result<Json<InvoiceDetail>, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, READ_ROLES)?;
    let invoice = state.einvoices.get(tenant.id, &id).await?;
    let model = load_model(&state, &invoice).await?;
    Ok(Json(InvoiceDetail {
        model: serde_json::to_value(&model).unwrap_or(Value::Null),
        report: state.einvoices.report(tenant.id, &id).await?,
        history: state.einvoices.history(tenant.id, &id).await?,
        invoice,
    }))
}

/// Confirm "sachlich richtig" (role Sachbearbeitung): `eingegangen` → `sachlich_richtig`.
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/einvoices/{id}/sachlich-richtig", operation_id = "confirmEinvoiceFactual",
    tag = "E-Rechnung", security(("bearer" = [])), params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = StoredInvoice), (status = 409, body = Problem, description = "wrong status")))]
pub async fn factual(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    staff: Staff,
) -> Result<Json<StoredInvoice>, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, FACTUAL_ROLES)?;
    Ok(Json(
        state
            .einvoices
            .confirm_factual(tenant.id, &id, &staff.0.actor())
            .await?,
    ))
}

/// Confirm "rechnerisch richtig" (role Kasse) by another person than the one who confirmed
/// "sachlich richtig" (four-eyes): `sachlich_richtig` → `freigegeben`.
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/einvoices/{id}/rechnerisch-richtig", operation_id = "confirmEinvoiceArithmetic",
    tag = "E-Rechnung", security(("bearer" = [])), params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = StoredInvoice), (status = 403, body = Problem, description = "no permission, or four-eyes: same person as for sachlich richtig"),
        (status = 409, body = Problem, description = "wrong status")))]
pub async fn arithmetic(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    staff: Staff,
) -> Result<Json<StoredInvoice>, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, ARITHMETIC_ROLES)?;
    Ok(Json(
        state
            .einvoices
            .confirm_arithmetic(tenant.id, &id, &staff.0.actor())
            .await?,
    ))
}

/// Why an invoice is rejected.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RejectInput {
    /// Reason (German, for the file and the seller).
    pub reason: String,
}

/// Reject an invoice that is not approved yet (roles Sachbearbeitung, Kasse).
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/einvoices/{id}/ablehnen", operation_id = "rejectEinvoice",
    tag = "E-Rechnung", security(("bearer" = [])), params(("slug" = String, Path), ("id" = String, Path)),
    request_body = RejectInput,
    responses((status = 200, body = StoredInvoice), (status = 409, body = Problem, description = "wrong status")))]
pub async fn reject(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    staff: Staff,
    super::ApiJson(input): super::ApiJson<RejectInput>,
) -> Result<Json<StoredInvoice>, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, READ_ROLES)?;
    Ok(Json(
        state
            .einvoices
            .reject(tenant.id, &id, &staff.0.actor(), &input.reason)
            .await?,
    ))
}

/// Header of the HKR export.
pub const HKR_COLUMNS: [&str; 11] = [
    "leitweg_id",
    "dienststelle",
    "rechnungssteller",
    "ust_id",
    "rechnungsnummer",
    "rechnungsdatum",
    "faellig_am",
    "waehrung",
    "zahlbetrag",
    "iban",
    "interne_id",
];

fn csv_field(s: &str) -> String {
    // Quote always; neutralise spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The CSV of exported invoices (one line per invoice, `;`-separated, UTF-8, CRLF).
pub(crate) fn hkr_csv(items: &[StoredInvoice]) -> String {
    let mut out = HKR_COLUMNS.join(";");
    out.push_str("\r\n");
    for i in items {
        let row = [
            i.leitweg_id.as_str(),
            &i.office,
            &i.seller_name,
            &i.seller_key,
            &i.invoice_number,
            i.issue_date.as_deref().unwrap_or_default(),
            i.due_date.as_deref().unwrap_or_default(),
            i.currency.as_deref().unwrap_or_default(),
            i.amount_payable.as_deref().unwrap_or_default(),
            i.iban.as_deref().unwrap_or_default(),
            &i.id,
        ];
        out.push_str(&row.map(csv_field).join(";"));
        out.push_str("\r\n");
    }
    out
}

/// Export the approved (`freigegeben`), not yet exported invoices for the cash system (Haushalts-,
/// Kassen- und Rechnungswesen, role Kasse) and mark them `exportiert` in the same transaction: a
/// second export returns only new ones.
///
/// CSV, UTF-8, `;`-separated, every field quoted, CRLF, one header line, then one line per
/// invoice with the columns `leitweg_id` (BT-10), `dienststelle` (receiving office),
/// `rechnungssteller` (BT-27), `ust_id` (BT-31, else the seller's electronic address or name),
/// `rechnungsnummer` (BT-1), `rechnungsdatum` (BT-2, `YYYY-MM-DD`), `faellig_am` (BT-9),
/// `waehrung` (BT-5), `zahlbetrag` (BT-115, decimal with a point, e.g. `1234.50`), `iban` (BT-84),
/// `interne_id` (the invoice's id in Rathaus).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/einvoices/hkr-export", operation_id = "exportEinvoicesHkr",
    tag = "E-Rechnung", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String, description = "header line and one line per invoice (see above)")))]
pub async fn hkr_export(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
) -> Result<Response, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, ARITHMETIC_ROLES)?;
    let items = state
        .einvoices
        .export_approved(tenant.id, &staff.0.actor())
        .await?;
    let mut res = hkr_csv(&items).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"hkr-export.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `POST /api/v1/einvoices` with its own body limit (`max`: `einvoice.max_bytes`, above the
/// API's general one) and problem+json errors; merged beside the `/api` router.
pub(crate) fn reception_router(max: usize) -> axum::Router<AppState> {
    use axum::extract::DefaultBodyLimit;
    use tower_http::limit::RequestBodyLimitLayer;
    axum::Router::new()
        .route("/api/v1/einvoices", axum::routing::post(receive))
        .layer((DefaultBodyLimit::max(max), RequestBodyLimitLayer::new(max)))
        .layer(axum::middleware::from_fn(
            crate::problem::api_errors_as_problems,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=HYPERLINK()"), "\"'=HYPERLINK()\"");
        assert_eq!(csv_field("-12.50"), "\"-12.50\"");
    }

    #[test]
    fn sizes_in_german() {
        assert_eq!(size_text(20 * 1024 * 1024), "20 MB");
        assert_eq!(size_text(1536 * 1024), "1,5 MB");
        assert_eq!(size_text(512 * 1024), "512 KB");
        assert_eq!(size_text(900), "900 Bytes");
    }
}
