//! `/api/v1/tenants/{slug}/forms…` and `…/submissions…`: forms as JSON Schema, submissions by
//! machines (idempotent), and the staff's access to what came in (JSON, XML, attachments).

use super::ApiJson;
use super::tenants::tenant_or_404;
use crate::auth::Staff;
use crate::problem::{FieldProblem, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rathaus_core::TenantId;
use rathaus_core::staff::Role;
use rathaus_storage::forms::{NewSubmission, Submission};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::SocketAddr;

const INBOX_ROLES: &[Role] = &[Role::Sachbearbeitung];
const FORM_ROLES: &[Role] = &[Role::Redaktion];

/// A form as machines see it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FormInfo {
    /// Form id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Newest published version.
    pub version: i64,
    /// Where citizens fill it in.
    pub url: String,
    /// Required trust level (`low`, `substantial`, `high`), if any.
    pub trust_level: Option<String>,
    /// JSON Schema (2020-12) of its submissions.
    #[schema(value_type = Object)]
    pub json_schema: Value,
    /// The tenant's parameters (office, fees, destination).
    #[schema(value_type = Object)]
    pub params: Value,
}

async fn published(
    state: &AppState,
    slug: &str,
    form_id: &str,
) -> Result<(rathaus_core::Tenant, crate::forms::Loaded), Problem> {
    let tenant = tenant_or_404(state, slug).await?;
    let loaded = crate::forms::Loaded::find(state, tenant.clone(), form_id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("Formular {form_id}")))?;
    Ok((tenant, loaded))
}

/// A published form of the tenant with the JSON Schema of its submissions.
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/forms/{form_id}", operation_id = "getForm",
    tag = "Formulare", params(("slug" = String, Path), ("form_id" = String, Path)),
    responses((status = 200, body = FormInfo), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_form(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
) -> Result<Json<FormInfo>, Problem> {
    let (tenant, loaded) = published(&state, &slug, &form_id).await?;
    let json_schema: Value = serde_json::from_str(&loaded.version.json_schema)
        .map_err(|e| rathaus_storage::StorageError::Corrupt(e.to_string()))?;
    Ok(Json(FormInfo {
        url: format!("/{}/formulare/{}", tenant.slug, loaded.record.id),
        id: loaded.record.id,
        title: loaded.form.title.clone(),
        version: loaded.version.version,
        trust_level: loaded.form.trust_level.map(|l| {
            match l {
                rathaus_forms::TrustLevel::Low => "low",
                rathaus_forms::TrustLevel::Substantial => "substantial",
                rathaus_forms::TrustLevel::High => "high",
            }
            .to_owned()
        }),
        json_schema,
        params: loaded.params,
    }))
}

/// What a submission answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmissionReceipt {
    /// Submission id.
    pub id: String,
    /// Reference number (Aktenzeichen) for the sender.
    pub reference: String,
    /// Status.
    pub status: String,
    /// Form.
    pub form_id: String,
    /// Form version.
    pub form_version: i64,
    /// Received (RFC 3339).
    pub created_at: String,
}

impl From<&Submission> for SubmissionReceipt {
    fn from(s: &Submission) -> Self {
        Self {
            id: s.id.clone(),
            reference: s.reference.clone(),
            status: s.status.clone(),
            form_id: s.form_id.clone(),
            form_version: s.form_version,
            created_at: s.created_at.clone(),
        }
    }
}

/// The account behind a citizen's bearer token, if it has at least the form's trust level.
async fn sender(
    state: &AppState,
    headers: &HeaderMap,
    required: Option<rathaus_forms::TrustLevel>,
) -> Result<Option<String>, Problem> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(required) = required else {
        return Ok(None);
    };
    let Some(token) = token else {
        return Err(Problem::unauthenticated().detail(
            "Dieses Formular verlangt eine Anmeldung mit dem Servicekonto (Bearer-Token).",
        ));
    };
    let claims = state.identity.verify_access(token).await.map_err(|_| {
        Problem::unauthenticated().detail("Das Token ist ungültig oder abgelaufen.")
    })?;
    if claims.sub == claims.client_id {
        return Err(Problem::forbidden()
            .detail("Anträge stellen nur Personen oder Unternehmen mit Servicekonto."));
    }
    let rank = |acr: &str| {
        if acr.ends_with("high") {
            2
        } else if acr.ends_with("substantial") {
            1
        } else {
            0
        }
    };
    let have = claims.acr.as_deref().map_or(0, rank);
    if have < required as u8 {
        return Err(Problem::forbidden()
            .detail("Das Vertrauensniveau der Anmeldung reicht für dieses Formular nicht aus."));
    }
    Ok(Some(claims.sub))
}

/// Submit an application: the data as JSON keyed by FIM ids. With an `Idempotency-Key` the same
/// key answers the stored submission again and stores nothing new.
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/forms/{form_id}/submissions", operation_id = "submitForm",
    tag = "Formulare", params(("slug" = String, Path), ("form_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Key of the client (at most 200 characters); a repeated key answers the first submission")),
    request_body(content = Object, description = "Data keyed by FIM ids without version"),
    responses((status = 201, body = SubmissionReceipt),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "invalid data: `errors` names every offending field"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "too many submissions without an account from this address (`Retry-After`)")))]
pub async fn submit(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(data): ApiJson<Value>,
) -> Result<Response, Problem> {
    let (tenant, loaded) = published(&state, &slug, &form_id).await?;
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::trim))
        .transpose()
        .map_err(|_| {
            Problem::invalid("Idempotency-Key muss aus sichtbaren ASCII-Zeichen bestehen.")
        })?;
    if key.is_some_and(|k| k.is_empty() || k.len() > 200) {
        return Err(Problem::invalid(
            "Idempotency-Key muss 1 bis 200 Zeichen lang sein.",
        ));
    }
    let account = sender(&state, &headers, loaded.form.trust_level).await?;
    if account.is_none()
        && let Some(wait) =
            crate::ratelimit::refused(state.submission_limiter.as_ref(), &headers, peer)
    {
        let problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-submissions",
            "Zu viele Anträge",
        )
        .detail("Von dieser Adresse kamen gerade sehr viele Anträge ohne Servicekonto. Bitte warten Sie eine Minute.");
        return Ok(crate::ratelimit::with_retry_after(
            problem.into_response(),
            wait,
        ));
    }
    if let Err(errors) = rathaus_forms::validate(&loaded.form, &data) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-submission",
            "Ungültige Angaben",
        )
        .detail(format!("{} Angabe(n) sind ungültig.", errors.len()))
        .errors(
            errors
                .into_iter()
                .map(|e| FieldProblem {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        ));
    }
    let actor = account
        .as_ref()
        .map_or_else(|| "anonymous".to_owned(), |a| format!("account:{a}"));
    let (submission, created) = state
        .submissions
        .create(&NewSubmission {
            tenant: tenant.id,
            form_id: &loaded.record.id,
            form_version: loaded.version.version,
            account_id: account.as_deref(),
            idempotency_key: key,
            data: &data,
            draft_id: None,
            actor: &actor,
        })
        .await?;
    if !created && submission.data != data {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "idempotency-key-reused",
            "Schlüssel schon verwendet",
        )
        .detail("Dieser Idempotency-Key wurde bereits für andere Angaben verwendet."));
    }
    let mut res = (
        StatusCode::CREATED,
        Json(SubmissionReceipt::from(&submission)),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!(
        "/api/v1/tenants/{}/submissions/{}",
        tenant.slug, submission.id
    )) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    if !created {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// Filter of the list.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Only this status (`eingegangen`, `in_bearbeitung`, `erledigt`).
    status: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<i64>,
}

/// Submissions to the tenant, newest first (staff).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/submissions", operation_id = "listSubmissions",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path), ListParams),
    responses((status = 200, body = [SubmissionReceipt]), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(p): Query<ListParams>,
    staff: Staff,
) -> Result<Json<Vec<SubmissionReceipt>>, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, INBOX_ROLES)?;
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let items = state
        .submissions
        .list(tenant.id, p.status.as_deref(), limit)
        .await?;
    Ok(Json(items.iter().map(SubmissionReceipt::from).collect()))
}

/// A submission with its data and attachments (staff).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmissionDetail {
    /// Receipt fields.
    #[serde(flatten)]
    pub receipt: SubmissionReceipt,
    /// The data.
    #[schema(value_type = Object)]
    pub data: Value,
    /// Whether it came from a Servicekonto.
    pub signed_in: bool,
    /// Attachments.
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<rathaus_storage::forms::Attachment>,
}

async fn staff_submission(
    state: &AppState,
    slug: &str,
    id: &str,
    staff: &Staff,
) -> Result<(rathaus_core::Tenant, Submission), Problem> {
    let tenant = tenant_or_404(state, slug).await?;
    staff.require(&tenant, INBOX_ROLES)?;
    let s = state
        .submissions
        .get(tenant.id, id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("Antrag {id}")))?;
    Ok((tenant, s))
}

/// One submission (staff).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/submissions/{id}", operation_id = "getSubmission",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = SubmissionDetail), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_submission(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    staff: Staff,
) -> Result<Json<SubmissionDetail>, Problem> {
    let (tenant, s) = staff_submission(&state, &slug, &id, &staff).await?;
    let attachments = state.submissions.attachments(tenant.id, &s.id).await?;
    Ok(Json(SubmissionDetail {
        receipt: SubmissionReceipt::from(&s),
        signed_in: s.account_id.is_some(),
        data: s.data,
        attachments,
    }))
}

/// One submission as XML, valid against the form's generated XML Schema (staff).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/submissions/{id}/xml", operation_id = "getSubmissionXml",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn submission_xml(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    staff: Staff,
) -> Result<Response, Problem> {
    let (tenant, s) = staff_submission(&state, &slug, &id, &staff).await?;
    let form = definition(&state, tenant.id, &s.form_id, s.form_version).await?;
    let xml = rathaus_forms::xml_export::to_xml(&form, &s.data).map_err(|e| {
        tracing::error!(error = %e, "stored submission does not convert to XML");
        Problem::internal()
    })?;
    Ok((
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

/// The XML Schema of a form version's submissions.
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/forms/{form_id}/versions/{version}/xsd", operation_id = "getFormXsd",
    tag = "Formulare", params(("slug" = String, Path), ("form_id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn form_xsd(
    State(state): State<AppState>,
    Path((slug, form_id, version)): Path<(String, String, i64)>,
) -> Result<Response, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    let form = definition(&state, tenant.id, &form_id, version).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        rathaus_forms::xml_export::xsd(&form),
    )
        .into_response())
}

async fn definition(
    state: &AppState,
    tenant: TenantId,
    form_id: &str,
    version: i64,
) -> Result<std::sync::Arc<rathaus_forms::Form>, Problem> {
    let v = state
        .forms
        .version_for(tenant, form_id, version)
        .await?
        .filter(|v| v.published)
        .ok_or_else(|| Problem::not_found(format!("Formular {form_id} Version {version}")))?;
    Ok(state.form_cache.parse(&v)?)
}

/// An attachment of a submission (staff).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/submissions/{id}/attachments/{attachment}", operation_id = "getSubmissionAttachment",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path), ("id" = String, Path), ("attachment" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn attachment(
    State(state): State<AppState>,
    Path((slug, id, attachment)): Path<(String, String, String)>,
    staff: Staff,
) -> Result<Response, Problem> {
    let (tenant, s) = staff_submission(&state, &slug, &id, &staff).await?;
    Ok(attachment_response(&state, tenant.id, &s.id, &attachment).await)
}

/// The bytes of an attachment as a download (never rendered inline).
pub(crate) async fn attachment_response(
    state: &AppState,
    tenant: TenantId,
    submission: &str,
    attachment: &str,
) -> Response {
    let found = match state.submissions.attachments(tenant, submission).await {
        Ok(list) => list.into_iter().find(|a| a.id == attachment),
        Err(e) => return Problem::from(e).into_response(),
    };
    let Some(a) = found else {
        return Problem::not_found("Anlage").into_response();
    };
    match state.blobs.get(&a.blob_key).await {
        Ok(bytes) => {
            let ascii: String = a
                .file_name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let disposition = format!("attachment; filename=\"{ascii}\"");
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&a.content_type) {
                h.insert(header::CONTENT_TYPE, v);
            }
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            res
        }
        Err(e) => Problem::from(e).into_response(),
    }
}

/// Result of a FIM import.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    /// Form id.
    pub form_id: String,
    /// Where citizens fill it in.
    pub url: String,
    /// Distinct Datenfeldgruppen.
    pub groups: usize,
    /// Distinct Datenfelder (label fields included).
    pub fields: usize,
    /// What was changed on the way in (German).
    pub warnings: Vec<String>,
    /// Version stored (or found unchanged).
    pub version: i64,
}

/// Import a FIM XDatenfelder schema (XDF 2 or 3, the XML as body) as a published form of the
/// tenant (staff with role Redaktion or admin). Code lists referenced but not sent become free text
/// (see `warnings`).
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/forms/import-fim", operation_id = "importFimSchema",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path)),
    request_body(content = String, content_type = "application/xml"),
    responses((status = 201, body = ImportResult), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "not a supported FIM schema")))]
pub async fn import_fim(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, FORM_ROLES)?;
    let imported = rathaus_forms::import(&body, &rathaus_forms::NoCodeLists).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-fim-schema",
            "Kein verwendbares FIM-Schema",
        )
        .detail(e.to_string())
    })?;
    let saved =
        crate::forms::store_import(&state.forms, tenant.id, &imported, &staff.0.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(ImportResult {
            url: format!("/{}/formulare/{}", tenant.slug, saved.form_id),
            form_id: saved.form_id,
            groups: imported.groups,
            fields: imported.fields,
            warnings: imported.warnings,
            version: saved.version,
        }),
    )
        .into_response())
}
