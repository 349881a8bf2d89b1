//! `/api/v1/tenants/{slug}/offers…`: a tenant's own variant of each service it offers (office,
//! fees, note, online link). Citizens and other portals see only the published variant; the
//! tenant's staff also see the draft. Writes need role Redaktion (or admin), drafts need
//! `If-Match` with the offer's `ETag`; every change is audited by the store.

use super::ApiJson;
use super::tenants::tenant_or_404;
use crate::auth::Staff;
use crate::problem::{FieldProblem, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rathaus_catalog::ServiceDoc;
use rathaus_catalog::offer::OfferVariant;
use rathaus_core::staff::Role;
use rathaus_core::{Tenant, TenantKind};
use rathaus_storage::StorageError;
use rathaus_storage::offers::OfferState;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Roles that edit offers (admins are admitted too).
pub(crate) const OFFER_ROLES: &[Role] = &[Role::Redaktion];

/// The tenant whose online service is re-used (Einer für Alle).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Provider {
    /// Its slug.
    pub slug: String,
    /// Its name (the slug if the tenant is not known on this portal).
    pub name: String,
}

/// A published variant.
#[derive(Serialize, ToSchema)]
pub struct PublishedView {
    /// The variant.
    #[serde(flatten)]
    pub variant: OfferVariant,
    /// Set if the online service is another tenant's (Einer für Alle).
    pub provided_by: Option<Provider>,
    /// When it was published (RFC 3339).
    pub updated_at: String,
}

/// An open draft (only for the tenant's staff).
#[derive(Serialize, ToSchema)]
pub struct DraftView {
    /// The edited variant.
    #[serde(flatten)]
    pub variant: OfferVariant,
    /// Kept Einer-für-Alle provider.
    pub provided_by: Option<Provider>,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// Who changed it.
    pub updated_by: String,
}

/// A tenant's offer of a service.
#[derive(Serialize, ToSchema)]
pub struct OfferView {
    /// Source id of the service.
    pub leistung_id: i64,
    /// LeiKa key.
    pub leika: Option<String>,
    /// Name of the service.
    pub name: String,
    /// The service page of the tenant.
    pub page: String,
    /// What citizens see; `null` if not (yet) offered.
    pub published: Option<PublishedView>,
    /// The open draft (only with a staff token of the tenant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<DraftView>,
    /// Version for `If-Match` (only with a staff token of the tenant; also the `ETag`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// Body of a re-use.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReuseRequest {
    /// Slug of the tenant whose online service is re-used.
    pub from: String,
}

/// Names of tenants by slug.
pub(crate) struct Names(HashMap<String, String>);

impl Names {
    pub(crate) async fn load(state: &AppState) -> Result<Self, StorageError> {
        Ok(Self(
            state
                .tenants
                .list()
                .await?
                .into_iter()
                .map(|t| (t.slug.to_string(), t.name))
                .collect(),
        ))
    }

    pub(crate) fn provider(&self, slug: Option<&String>) -> Option<Provider> {
        slug.map(|s| Provider {
            slug: s.clone(),
            name: self.0.get(s).cloned().unwrap_or_else(|| s.clone()),
        })
    }
}

/// The Land whose catalogue the tenants offer from.
pub(crate) async fn land(state: &AppState) -> Result<Tenant, Problem> {
    state
        .tenants
        .list()
        .await?
        .into_iter()
        .find(|t| t.kind == TenantKind::Land)
        .ok_or_else(|| Problem::not_found("Es ist noch kein Land eingerichtet."))
}

fn view(slug: &str, doc: &ServiceDoc, s: OfferState, names: &Names, staff_view: bool) -> OfferView {
    OfferView {
        leistung_id: doc.id,
        leika: doc.leika.as_ref().map(ToString::to_string),
        name: doc.name.clone(),
        page: format!("/{slug}/leistungen/{}", doc.id),
        published: s.published.map(|p| PublishedView {
            provided_by: names.provider(p.provided_by.as_ref()),
            variant: p.variant,
            updated_at: p.updated_at,
        }),
        draft: s.draft.filter(|_| staff_view).map(|d| DraftView {
            provided_by: names.provider(d.provided_by.as_ref()),
            variant: d.variant,
            updated_at: d.updated_at,
            updated_by: d.updated_by,
        }),
        version: staff_view.then_some(s.version),
    }
}

fn with_etag(status: StatusCode, v: OfferView) -> Response {
    let etag = v.version.map(|n| format!("\"{n}\""));
    let mut res = (status, Json(v)).into_response();
    if let Some(e) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        res.headers_mut().insert(header::ETAG, e);
    }
    res
}

/// `If-Match: "3"` as a version.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, Problem> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    v.to_str()
        .unwrap_or("")
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| {
            Problem::invalid("If-Match muss das ETag des Angebots enthalten, z. B. \"3\".")
                .field("If-Match")
        })
}

/// 422 with every offending field.
pub(crate) fn invalid(errors: Vec<FieldProblem>) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-offer",
        "Ungültige Angaben zum Angebot",
    )
    .detail(format!("{} Angabe(n) fehlerhaft.", errors.len()))
    .errors(errors)
}

/// The tenant, the service and the writer's permission.
async fn scoped(
    state: &AppState,
    slug: &str,
    staff: &Staff,
    leistung_id: i64,
) -> Result<(Tenant, ServiceDoc), Problem> {
    let tenant = tenant_or_404(state, slug).await?;
    staff.require(&tenant, OFFER_ROLES)?;
    let doc = service(state, leistung_id).await?;
    Ok((tenant, doc))
}

async fn service(state: &AppState, leistung_id: i64) -> Result<ServiceDoc, Problem> {
    let land = land(state).await?;
    state
        .catalog
        .service(land.id, leistung_id)
        .await
        .map_err(|e| match e {
            StorageError::NotFound(_) => Problem::not_found(format!(
                "Eine Leistung mit der Nr. {leistung_id} gibt es im Katalog nicht."
            )),
            other => other.into(),
        })
}

/// The answer after a change: the offer as its staff see it.
async fn answer(
    state: &AppState,
    tenant: &Tenant,
    doc: &ServiceDoc,
    status: StatusCode,
) -> Result<Response, Problem> {
    state.online_cache.clear();
    let s = state.offers.get(tenant.id, doc.id).await?;
    let names = Names::load(state).await?;
    Ok(with_etag(
        status,
        view(tenant.slug.as_str(), doc, s, &names, true),
    ))
}

/// The published offers of a tenant (public), by service id.
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/offers", operation_id = "listOffers", tag = "Leistungen",
    params(("slug" = String, Path)), responses((status = 200, body = [OfferView])))]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<OfferView>>, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    let land = land(&state).await?;
    let docs: HashMap<i64, ServiceDoc> = state
        .catalog
        .services(land.id)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let names = Names::load(&state).await?;
    let offers = state.offers.published(tenant.id).await?;
    Ok(Json(
        offers
            .into_iter()
            .filter_map(|(id, p)| {
                let doc = docs.get(&id)?;
                let s = OfferState {
                    leistung_id: id,
                    published: Some(p),
                    ..OfferState::default()
                };
                Some(view(tenant.slug.as_str(), doc, s, &names, false))
            })
            .collect(),
    ))
}

/// One offer: the published variant; with a staff token of the tenant also the draft and the
/// version (`ETag`). A token of another tenant gives 403.
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/offers/{leistung_id}", operation_id = "getOffer", tag = "Leistungen",
    security((), ("bearer" = [])), params(("slug" = String, Path), ("leistung_id" = i64, Path)),
    responses((status = 200, body = OfferView, headers(("ETag" = String, description = "version, only for staff")))))]
pub async fn get_one(
    State(state): State<AppState>,
    Path((slug, leistung_id)): Path<(String, i64)>,
    request: axum::extract::Request,
) -> Result<Response, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    let (mut parts, _) = request.into_parts();
    let staff_view = if parts.headers.contains_key(header::AUTHORIZATION) {
        let staff = Staff::from_request_parts(&mut parts, &state).await?;
        staff.require(&tenant, &Role::ALL)?;
        true
    } else {
        false
    };
    let doc = service(&state, leistung_id).await?;
    let s = state.offers.get(tenant.id, leistung_id).await?;
    if !staff_view && s.published.is_none() {
        return Err(Problem::not_found(format!(
            "{} bietet die Leistung {leistung_id} nicht an.",
            tenant.name
        )));
    }
    let names = Names::load(&state).await?;
    Ok(with_etag(
        StatusCode::OK,
        view(&slug, &doc, s, &names, staff_view),
    ))
}

/// Save the draft of an offer. Citizens keep seeing the published variant until it is
/// published. `If-Match` names the version read (`"0"` for a service not yet offered).
#[utoipa::path(put, path = "/api/v1/tenants/{slug}/offers/{leistung_id}/draft", operation_id = "saveOfferDraft",
    tag = "Leistungen", security(("bearer" = [])),
    params(("slug" = String, Path), ("leistung_id" = i64, Path),
        ("If-Match" = Option<String>, Header, description = "Required: the ETag of the offer as read, e.g. \"3\" (\"0\" for a new offer); without it 428")),
    request_body(content = OfferVariant),
    responses((status = 200, body = OfferView, headers(("ETag" = String))),
        (status = 412, body = Problem, description = "the offer was changed meanwhile; nothing saved"),
        (status = 422, body = Problem, description = "invalid input: `errors` lists every field"),
        (status = 428, body = Problem, description = "If-Match missing")))]
pub async fn save_draft(
    State(state): State<AppState>,
    Path((slug, leistung_id)): Path<(String, i64)>,
    staff: Staff,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OfferVariant>,
) -> Result<Response, Problem> {
    let (tenant, doc) = scoped(&state, &slug, &staff, leistung_id).await?;
    let expected = if_match(&headers)?.ok_or_else(|| {
        Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "If-Match fehlt",
        )
        .detail("Bitte senden Sie If-Match mit dem ETag des Angebots, das Sie bearbeitet haben, z. B. \"3\" (\"0\" für ein neues Angebot).")
    })?;
    let variant = body.normalized();
    variant.validate().map_err(|errors| {
        invalid(
            errors
                .into_iter()
                .map(|e| FieldProblem {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        )
    })?;
    state
        .offers
        .save_draft(tenant.id, leistung_id, expected, &variant, &staff.0.actor())
        .await?;
    answer(&state, &tenant, &doc, StatusCode::OK).await
}

/// Publish the draft: citizens, the search, the dashboard and the federation export show it
/// from now on. 409 if there is no draft; with `If-Match`, 412 if the offer changed since.
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/offers/{leistung_id}/publish", operation_id = "publishOffer",
    tag = "Leistungen", security(("bearer" = [])),
    params(("slug" = String, Path), ("leistung_id" = i64, Path),
        ("If-Match" = Option<String>, Header, description = "ETag of the offer as checked")),
    responses((status = 200, body = OfferView, headers(("ETag" = String))),
        (status = 409, body = Problem, description = "no draft to publish"),
        (status = 412, body = Problem, description = "the offer was changed meanwhile")))]
pub async fn publish(
    State(state): State<AppState>,
    Path((slug, leistung_id)): Path<(String, i64)>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (tenant, doc) = scoped(&state, &slug, &staff, leistung_id).await?;
    let expected = if_match(&headers)?;
    state
        .offers
        .publish(tenant.id, leistung_id, expected, &staff.0.actor())
        .await?;
    answer(&state, &tenant, &doc, StatusCode::OK).await
}

/// Stop offering the service (published variant and draft are removed; audited).
#[utoipa::path(delete, path = "/api/v1/tenants/{slug}/offers/{leistung_id}", operation_id = "withdrawOffer",
    tag = "Leistungen", security(("bearer" = [])),
    params(("slug" = String, Path), ("leistung_id" = i64, Path),
        ("If-Match" = Option<String>, Header, description = "ETag of the offer as read")),
    responses((status = 204, description = "no longer offered"),
        (status = 412, body = Problem, description = "the offer was changed meanwhile")))]
pub async fn withdraw(
    State(state): State<AppState>,
    Path((slug, leistung_id)): Path<(String, i64)>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    let (tenant, _) = scoped(&state, &slug, &staff, leistung_id).await?;
    let expected = if_match(&headers)?;
    state
        .offers
        .withdraw(tenant.id, leistung_id, expected, &staff.0.actor())
        .await?;
    state.online_cache.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// Einer für Alle: re-use another tenant's online service for this service. Published at
/// once: online with the other tenant's link and maturity, marked as provided by it. 422 if
/// the other tenant does not offer the service online.
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/offers/{leistung_id}/reuse", operation_id = "reuseOffer",
    tag = "Leistungen", security(("bearer" = [])),
    params(("slug" = String, Path), ("leistung_id" = i64, Path),
        ("If-Match" = Option<String>, Header, description = "ETag of the offer as read")),
    request_body(content = ReuseRequest),
    responses((status = 200, body = OfferView, headers(("ETag" = String))),
        (status = 412, body = Problem, description = "the offer was changed meanwhile"),
        (status = 422, body = Problem, description = "the other tenant does not offer it online")))]
pub async fn reuse(
    State(state): State<AppState>,
    Path((slug, leistung_id)): Path<(String, i64)>,
    staff: Staff,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ReuseRequest>,
) -> Result<Response, Problem> {
    let (tenant, doc) = scoped(&state, &slug, &staff, leistung_id).await?;
    let expected = if_match(&headers)?;
    let refuse = |message: String| {
        invalid(vec![FieldProblem {
            field: "from".into(),
            message,
        }])
    };
    let provider = match state.tenants.get(body.from.trim()).await {
        Ok(p) => p,
        Err(StorageError::NotFound(_)) => {
            return Err(refuse(format!(
                "Einen Mandanten {:?} gibt es auf diesem Portal nicht.",
                body.from
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if provider.id == tenant.id {
        return Err(refuse(
            "Eine Kommune kann nicht ihren eigenen Online-Dienst nachnutzen.".into(),
        ));
    }
    match state
        .offers
        .reuse(
            tenant.id,
            leistung_id,
            provider.id,
            provider.slug.as_str(),
            &provider.name,
            expected,
            &staff.0.actor(),
        )
        .await
    {
        Ok(_) => answer(&state, &tenant, &doc, StatusCode::OK).await,
        Err(StorageError::Invalid(m)) => Err(refuse(m)),
        Err(e) => Err(e.into()),
    }
}
