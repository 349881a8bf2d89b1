//! `/api/v1/tenants/{slug}/forms…` for the form builder's machines (staff with role Redaktion or
//! admin): list, create from a full form model, save a draft with `If-Match`, publish, and the
//! portable package (export and import). The same rules as the HTML builder
//! (`crate::forms::builder`): every write is validated first and audited by the store.

use super::ApiJson;
use super::tenants::tenant_or_404;
use crate::auth::Staff;
use crate::forms::builder::package::{self, BuilderError, Package};
use crate::problem::{FieldProblem, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rathaus_core::Tenant;
use rathaus_core::staff::Role;
use rathaus_forms::Form;
use rathaus_storage::forms::{Base, TenantForm};
use serde::Serialize;

const BUILDER_ROLES: &[Role] = &[Role::Redaktion];

/// A form of the tenant as the builder lists it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BuilderForm {
    /// Form id.
    pub id: String,
    /// Title of the newest version.
    pub title: String,
    /// True if the tenant owns it (false: another tenant's activated template).
    pub owned: bool,
    /// Offered to all tenants as a template.
    pub template: bool,
    /// Newest published version, if any.
    pub published_version: Option<i64>,
    /// Newest version (the draft being edited if above `published_version`).
    pub latest_version: i64,
    /// The tenant's parameters if it activated the form.
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
    /// Where citizens fill it in (once published).
    pub url: String,
}

impl BuilderForm {
    fn new(slug: &str, f: TenantForm) -> Self {
        Self {
            url: format!("/{slug}/formulare/{}", f.form.id),
            id: f.form.id,
            title: f.form.title,
            owned: f.owned,
            template: f.form.template,
            published_version: f.published_version,
            latest_version: f.latest_version,
            params: f.params,
        }
    }
}

/// A stored version of a form, as the builder API answers it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BuilderVersion {
    /// Form id.
    pub form_id: String,
    /// Version number.
    pub version: i64,
    /// Saves of this version; the `ETag` is `"version.revision"` (e.g. `"3.2"`).
    pub revision: i64,
    /// Whether this version is published (immutable).
    pub published: bool,
    /// The form model.
    #[schema(value_type = Object)]
    pub form: Form,
}

async fn scoped(state: &AppState, slug: &str, staff: &Staff) -> Result<Tenant, Problem> {
    let tenant = tenant_or_404(state, slug).await?;
    staff.require(&tenant, BUILDER_ROLES)?;
    Ok(tenant)
}

fn invalid(errors: Vec<String>) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-form",
        "Ungültiges Formular",
    )
    .detail(format!("{} Regel(n) verletzt.", errors.len()))
    .errors(
        errors
            .into_iter()
            .map(|message| FieldProblem {
                field: path_of(&message),
                message,
            })
            .collect(),
    )
}

/// The element path a message of the check starts with (`G1/F2: …`), or `""`.
fn path_of(message: &str) -> String {
    message
        .split_once(": ")
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty() && p.split('/').all(rathaus_forms::model::is_ncname))
        .unwrap_or_default()
        .to_owned()
}

impl From<BuilderError> for Problem {
    fn from(e: BuilderError) -> Self {
        match e {
            BuilderError::Invalid(errors) => invalid(errors),
            BuilderError::Storage(e) => e.into(),
        }
    }
}

fn version_response(status: StatusCode, v: BuilderVersion, location: Option<String>) -> Response {
    let etag = format!("\"{}.{}\"", v.version, v.revision);
    let mut res = (status, Json(v)).into_response();
    if let Ok(e) = HeaderValue::from_str(&etag) {
        res.headers_mut().insert(header::ETAG, e);
    }
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LOCATION, l);
    }
    res
}

/// The tenant's forms (own and activated templates), newest first.
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/forms", operation_id = "listBuilderForms",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = [BuilderForm])))]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
) -> Result<Json<Vec<BuilderForm>>, Problem> {
    let tenant = scoped(&state, &slug, &staff).await?;
    let forms = state.forms.list_for(tenant.id).await?;
    Ok(Json(
        forms
            .into_iter()
            .map(|f| BuilderForm::new(tenant.slug.as_str(), f))
            .collect(),
    ))
}

/// Create a form from a full form model (as draft version 1). It is checked like builder input:
/// 422 with every broken rule in German.
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/forms", operation_id = "createForm",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path)),
    request_body(content = Object, description = "The form model (JSON of rathaus_forms::Form)"),
    responses((status = 201, body = BuilderVersion),
        (status = 422, body = Problem, description = "the form breaks a rule: `errors` lists every message")))]
pub async fn create(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
    ApiJson(form): ApiJson<Form>,
) -> Result<Response, Problem> {
    let tenant = scoped(&state, &slug, &staff).await?;
    let saved = package::create(&state, &tenant, &form, &staff.0.actor()).await?;
    Ok(version_response(
        StatusCode::CREATED,
        BuilderVersion {
            form_id: saved.form_id.clone(),
            version: saved.version,
            revision: saved.revision,
            published: false,
            form,
        },
        Some(format!(
            "/api/v1/tenants/{}/forms/{}/draft",
            tenant.slug, saved.form_id
        )),
    ))
}

/// The newest version of a form the tenant owns (the draft being edited, or the newest
/// published one); `ETag` is its version.
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/forms/{form_id}/draft", operation_id = "getFormDraft",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path), ("form_id" = String, Path)),
    responses((status = 200, body = BuilderVersion)))]
pub async fn get_draft(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    staff: Staff,
) -> Result<Response, Problem> {
    let tenant = scoped(&state, &slug, &staff).await?;
    let (_, v) = package::owned(&state, &tenant, &form_id).await?;
    Ok(version_response(
        StatusCode::OK,
        BuilderVersion {
            form: package::parse(&v)?,
            revision: v.revision,
            form_id: v.form_id,
            version: v.version,
            published: v.published,
        },
        None,
    ))
}

/// The `If-Match` of an edit: the `ETag` it was based on (`"version.revision"`).
fn if_match(headers: &HeaderMap) -> Result<Option<Base>, Problem> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    v.to_str()
        .unwrap_or("")
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|()| {
            Problem::invalid(
                "If-Match muss das ETag der bearbeiteten Fassung enthalten, z. B. \"3.2\".",
            )
            .field("If-Match")
        })
}

fn required_if_match(headers: &HeaderMap) -> Result<Base, Problem> {
    if_match(headers)?.ok_or_else(|| {
        Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "If-Match fehlt",
        )
        .detail("Bitte senden Sie If-Match mit dem ETag der Fassung, die Sie bearbeitet haben, z. B. \"3.2\".")
    })
}

/// Save an edited form model. `If-Match` names the `ETag` it was based on: the open draft
/// (saved in place, its revision counts up) or the newest published version (a new draft version
/// is created; published versions never change). Anything else (another version, or the same
/// draft saved by someone else meanwhile) gives 412 and saves nothing.
#[utoipa::path(put, path = "/api/v1/tenants/{slug}/forms/{form_id}/draft", operation_id = "saveFormDraft",
    tag = "Formulare", security(("bearer" = [])),
    params(("slug" = String, Path), ("form_id" = String, Path),
        ("If-Match" = String, Header, description = "ETag of the version the edit is based on, e.g. \"2.1\"")),
    request_body(content = Object, description = "The form model"),
    responses((status = 200, body = BuilderVersion),
        (status = 412, body = Problem, description = "someone saved another version meanwhile"),
        (status = 422, body = Problem, description = "the form breaks a rule"),
        (status = 428, body = Problem, description = "If-Match missing")))]
pub async fn save_draft(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    staff: Staff,
    headers: HeaderMap,
    ApiJson(form): ApiJson<Form>,
) -> Result<Response, Problem> {
    let tenant = scoped(&state, &slug, &staff).await?;
    let base = required_if_match(&headers)?;
    let saved = package::save(&state, &tenant, &form_id, base, &form, &staff.0.actor()).await?;
    Ok(version_response(
        StatusCode::OK,
        BuilderVersion {
            form_id: saved.form_id,
            version: saved.version,
            revision: saved.revision,
            published: false,
            form,
        },
        None,
    ))
}

/// What publishing answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Published {
    /// Form id.
    pub form_id: String,
    /// The version now published.
    pub version: i64,
    /// Where citizens fill it in.
    pub url: String,
}

/// Publish the open draft; from then on it is immutable and citizens get it. 409 if the newest
/// version is already published; with `If-Match`, 412 if the draft is no longer that `ETag`.
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/forms/{form_id}/publish", operation_id = "publishForm",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path), ("form_id" = String, Path),
        ("If-Match" = Option<String>, Header, description = "ETag of the draft that was checked, e.g. \"2.3\"")),
    responses((status = 200, body = Published), (status = 409, body = Problem, description = "nothing to publish"),
        (status = 412, body = Problem, description = "the draft was saved since"),
        (status = 422, body = Problem, description = "the draft breaks a rule")))]
pub async fn publish(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<Json<Published>, Problem> {
    let tenant = scoped(&state, &slug, &staff).await?;
    let base = if_match(&headers)?;
    let version = package::publish(&state, &tenant, &form_id, base, &staff.0.actor()).await?;
    Ok(Json(Published {
        url: format!("/{}/formulare/{form_id}", tenant.slug),
        form_id,
        version,
    }))
}

/// The portable package (`rathaus-formular/1`) of the newest published version, as a download.
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/forms/{form_id}/package", operation_id = "exportFormPackage",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path), ("form_id" = String, Path)),
    responses((status = 200, body = Package)))]
pub async fn export_package(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    staff: Staff,
) -> Result<Response, Problem> {
    let tenant = scoped(&state, &slug, &staff).await?;
    let pkg = package::export(&state, &tenant, &form_id).await?;
    let mut res = Json(pkg).into_response();
    if let Ok(v) =
        HeaderValue::from_str(&package::file_name(&format!("formular-{form_id}"), "json"))
    {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Import a package (`rathaus-formular/1`) as a new draft form of the tenant. A wrong format
/// or a form that breaks a rule gives 422.
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/forms/packages", operation_id = "importFormPackage",
    tag = "Formulare", security(("bearer" = [])), params(("slug" = String, Path)),
    request_body(content = Package),
    responses((status = 201, body = BuilderVersion), (status = 422, body = Problem, description = "not a usable package")))]
pub async fn import_package(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, Problem> {
    let tenant = scoped(&state, &slug, &staff).await?;
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let form = package::read(&bytes).map_err(|errors| {
        invalid(errors).detail("Das Paket ist kein gültiges Formularpaket (rathaus-formular/1).")
    })?;
    let saved = package::create(&state, &tenant, &form, &staff.0.actor()).await?;
    Ok(version_response(
        StatusCode::CREATED,
        BuilderVersion {
            form_id: saved.form_id.clone(),
            version: saved.version,
            revision: saved.revision,
            published: false,
            form,
        },
        Some(format!(
            "/api/v1/tenants/{}/forms/{}/draft",
            tenant.slug, saved.form_id
        )),
    ))
}
