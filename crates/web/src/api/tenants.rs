//! `/api/v1/tenants`: the public list of tenants and their administration.

use super::ApiJson;
use crate::auth::Staff;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rathaus_core::staff::Role;
use rathaus_core::tenant::NewTenant;
use rathaus_core::{Ags, Ars, Branding, Module, Tenant, TenantKind, TenantSlug};
use rathaus_storage::tenants::TenantPatch;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A tenant in the public list.
#[derive(Serialize, ToSchema)]
pub struct TenantSummary {
    /// URL name, e.g. `koeln`.
    pub slug: String,
    /// Official name.
    pub name: String,
    /// `land`, `kreis` or `gemeinde`.
    pub kind: TenantKind,
    /// Amtlicher Gemeindeschlüssel (8 digits).
    #[schema(example = "05315000")]
    pub ags: String,
    /// Amtlicher Regionalschlüssel (12 digits).
    #[schema(example = "053150000000")]
    pub ars: String,
    /// Slug of the enclosing tenant; `null` for a Land.
    pub parent: Option<String>,
}

impl From<&Tenant> for TenantSummary {
    fn from(t: &Tenant) -> Self {
        Self {
            slug: t.slug.to_string(),
            name: t.name.clone(),
            kind: t.kind,
            ags: t.ags.to_string(),
            ars: t.ars.to_string(),
            parent: t.parent.as_ref().map(ToString::to_string),
        }
    }
}

/// A tenant with its settings.
#[derive(Serialize, ToSchema)]
pub struct TenantDetail {
    #[serde(flatten)]
    summary: TenantSummary,
    /// Presentation.
    pub branding: Branding,
    /// Enabled modules.
    pub modules: Vec<Module>,
    /// Version for optimistic locking (also the `ETag`).
    pub version: i64,
    /// URL of the tenant's start page.
    pub url: String,
}

impl From<&Tenant> for TenantDetail {
    fn from(t: &Tenant) -> Self {
        Self {
            summary: t.into(),
            branding: t.branding.clone(),
            modules: t.modules.clone(),
            version: t.version,
            url: format!("/{}/", t.slug),
        }
    }
}

fn detail_response(status: StatusCode, t: &Tenant) -> Response {
    let mut res = (status, Json(TenantDetail::from(t))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", t.version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

pub(crate) async fn tenant_or_404(state: &AppState, slug: &str) -> Result<Tenant, Problem> {
    state.tenants.get(slug).await.map_err(|e| match e {
        rathaus_storage::StorageError::NotFound(_) => {
            Problem::not_found(format!("Es gibt keinen Mandanten {slug:?}."))
        }
        other => other.into(),
    })
}

/// List all tenants (public).
#[utoipa::path(get, path = "/api/v1/tenants", operation_id = "listTenants", tag = "Mandanten",
    responses((status = 200, description = "Alle Mandanten, nach ARS geordnet", body = [TenantSummary])))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<TenantSummary>>, Problem> {
    let tenants = state.tenants.list().await?;
    Ok(Json(tenants.iter().map(TenantSummary::from).collect()))
}

/// One tenant with its settings (public).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}", operation_id = "getTenant", tag = "Mandanten",
    params(("slug" = String, Path, description = "Kurzname des Mandanten")),
    responses((status = 200, body = TenantDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_one(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, Problem> {
    let t = tenant_or_404(&state, &slug).await?;
    Ok(detail_response(StatusCode::OK, &t))
}

/// Input for a new tenant.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// URL name: lowercase letters, digits and single hyphens.
    #[schema(value_type = String, example = "euskirchen", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 63)]
    pub slug: TenantSlug,
    /// Official name.
    pub name: String,
    /// Kind.
    pub kind: TenantKind,
    /// AGS (8 digits); must be the AGS contained in the ARS.
    #[schema(value_type = String, example = "05366016", pattern = "^(0[1-9]|1[0-6])[0-9]{6}$")]
    pub ags: Ags,
    /// ARS (12 digits).
    #[schema(value_type = String, example = "053660016016", pattern = "^(0[1-9]|1[0-6])[0-9]{10}$")]
    pub ars: Ars,
    /// Slug of the enclosing tenant.
    #[schema(value_type = Option<String>)]
    pub parent: Option<TenantSlug>,
    /// Presentation; defaults from the name.
    pub branding: Option<Branding>,
    /// Enabled modules.
    #[serde(default)]
    pub modules: Vec<Module>,
}

/// Create a tenant (administrators of the Land only).
#[utoipa::path(post, path = "/api/v1/tenants", operation_id = "createTenant", tag = "Mandanten", request_body = CreateTenant,
    security(("bearer" = [])),
    responses((status = 201, body = TenantDetail), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(input): ApiJson<CreateTenant>,
) -> Result<Response, Problem> {
    staff.require_state_admin()?;
    let branding = input
        .branding
        .unwrap_or_else(|| Branding::for_name(&input.name));
    let new = NewTenant {
        slug: input.slug,
        name: input.name,
        kind: input.kind,
        ags: input.ags,
        ars: input.ars,
        parent: input.parent,
        branding,
        modules: input.modules,
    };
    let t = state.tenants.create(&new, &staff.0.actor()).await?;
    Ok(detail_response(StatusCode::CREATED, &t))
}

/// A change of a tenant's settings; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// Official name.
    pub name: Option<String>,
    /// Presentation (`has_logo` is ignored).
    pub branding: Option<Branding>,
    /// Enabled modules.
    pub modules: Option<Vec<Module>>,
}

fn if_match(headers: &HeaderMap) -> Result<Option<i64>, Problem> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v
        .to_str()
        .unwrap_or("")
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"');
    text.parse().map(Some).map_err(|_| {
        Problem::invalid("If-Match muss die Version als ETag enthalten, z. B. \"3\".")
            .field("If-Match")
    })
}

/// Change a tenant's name, branding or modules (its admins, or admins of the Land).
/// With `If-Match: "<version>"` the change is refused with 412 if someone changed the tenant meanwhile.
#[utoipa::path(patch, path = "/api/v1/tenants/{slug}", operation_id = "updateTenant", tag = "Mandanten", request_body = UpdateTenant,
    security(("bearer" = [])),
    params(("slug" = String, Path), ("If-Match" = Option<String>, Header, description = "ETag der gelesenen Version")),
    responses((status = 200, body = TenantDetail), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
    headers: HeaderMap,
    ApiJson(input): ApiJson<UpdateTenant>,
) -> Result<Response, Problem> {
    let t = tenant_or_404(&state, &slug).await?;
    staff.require(&t, &[Role::Admin])?;
    let expected = if_match(&headers)?;
    let patch = TenantPatch {
        name: input.name,
        branding: input.branding,
        modules: input.modules,
    };
    let t = state
        .tenants
        .update(t.id, &patch, expected, &staff.0.actor())
        .await?;
    Ok(detail_response(StatusCode::OK, &t))
}

/// Recognises PNG, JPEG and WebP by their magic bytes.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Upload the tenant's logo (PNG, JPEG or WebP; its admins or Redaktion).
#[utoipa::path(put, path = "/api/v1/tenants/{slug}/logo", operation_id = "putTenantLogo", tag = "Mandanten", security(("bearer" = [])),
    params(("slug" = String, Path)),
    request_body(content = Vec<u8>, content_type = "image/png", description = "PNG, JPEG oder WebP"),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 413, body = Problem)))]
pub async fn put_logo(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
    body: Bytes,
) -> Result<StatusCode, Problem> {
    let t = tenant_or_404(&state, &slug).await?;
    staff.require(&t, &[Role::Admin, Role::Redaktion])?;
    if body.len() > state.config.max_logo_bytes {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Anfrage zu groß",
        )
        .detail(format!(
            "Ein Logo darf höchstens {} KiB groß sein.",
            state.config.max_logo_bytes / 1024
        )));
    }
    let content_type = image_type(&body).ok_or_else(|| {
        Problem::invalid("Das Logo muss ein PNG-, JPEG- oder WebP-Bild sein.").field("body")
    })?;
    let key = format!("tenants/{}/logo", t.id);
    state.blobs.put(&key, body).await?;
    state
        .tenants
        .set_logo(t.id, &key, content_type, &staff.0.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The authenticated staff member.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// Tenant slug.
    pub tenant: String,
    /// Login.
    pub login: String,
    /// Organisationseinheit.
    pub office: String,
    /// Role.
    pub role: Role,
}

/// Who am I? (checks a token)
#[utoipa::path(get, path = "/api/v1/me", operation_id = "getMe", tag = "Mandanten", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(staff: Staff) -> Json<Me> {
    let p = staff.0;
    Json(Me {
        tenant: p.tenant_slug,
        login: p.login,
        office: p.office,
        role: p.role,
    })
}
