//! `/api/v1/tenants/{slug}/leitweg-routes`: which Leitweg-IDs deliver E-Rechnungen to which
//! office of a tenant (tenant admins only; admins of the Land for every tenant).
//!
//! A route's prefix is a Leitweg-ID cut after one of its parts (`rathaus_core::leitweg`); a
//! received invoice goes to the route with the longest prefix of its Leitweg-ID (BT-10). A prefix
//! belongs to one tenant on the whole platform: another tenant's prefix is a 409.

use super::ApiJson;
use super::tenants::tenant_or_404;
use crate::auth::Staff;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rathaus_storage::einvoices::{EinvoiceError, Route};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A Leitweg-ID route of the tenant.
#[derive(Serialize, ToSchema)]
pub struct LeitwegRoute {
    /// The Leitweg-ID prefix: Grobadressierung (2–12 digits), optionally `-` Feinadressierung
    /// (1–30 letters or digits), optionally `-` check digits (2 digits); letters upper case.
    #[schema(example = "04011000-12350")]
    pub prefix: String,
    /// The receiving office.
    #[schema(example = "Kämmerei")]
    pub office: String,
    /// When the route was created (RFC 3339, UTC).
    pub created_at: String,
}

impl From<Route> for LeitwegRoute {
    fn from(r: Route) -> Self {
        Self {
            prefix: r.leitweg_prefix,
            office: r.office,
            created_at: r.created_at,
        }
    }
}

/// A route to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLeitwegRoute {
    /// The Leitweg-ID prefix (see [`LeitwegRoute::prefix`]).
    #[schema(example = "04011000-12350")]
    pub prefix: String,
    /// The receiving office (1–200 characters).
    #[schema(example = "Amt für Schulentwicklung")]
    pub office: String,
}

/// The new office of a route.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeitwegRouteChange {
    /// The receiving office (1–200 characters).
    pub office: String,
}

/// The tenant's Leitweg-ID routes, by prefix.
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/leitweg-routes", operation_id = "listLeitwegRoutes",
    tag = "E-Rechnung", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = [LeitwegRoute])))]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
) -> Result<Json<Vec<LeitwegRoute>>, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, &[])?;
    let routes = state.einvoices.routes(tenant.id).await?;
    Ok(Json(routes.into_iter().map(Into::into).collect()))
}

/// Create a route: invoices whose Leitweg-ID starts with `prefix` go to `office` of this tenant
/// (unless a longer prefix matches). Audited as `einvoice.route`.
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/leitweg-routes", operation_id = "createLeitwegRoute",
    tag = "E-Rechnung", security(("bearer" = [])), params(("slug" = String, Path)),
    request_body = NewLeitwegRoute,
    responses((status = 201, body = LeitwegRoute, headers(("Location" = String, description = "the new route"))),
        (status = 400, body = Problem, description = "invalid prefix or office (`field`)"),
        (status = 409, body = Problem, description = "the prefix already has a route (of this or another tenant)")))]
pub async fn create(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
    ApiJson(req): ApiJson<NewLeitwegRoute>,
) -> Result<Response, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, &[])?;
    let route = state
        .einvoices
        .create_route(tenant.id, &req.prefix, &req.office, &staff.0.actor())
        .await?;
    let location = format!(
        "/api/v1/tenants/{}/leitweg-routes/{}",
        tenant.slug, route.leitweg_prefix
    );
    let mut res = (StatusCode::CREATED, Json(LeitwegRoute::from(route))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Change the office of a route. Audited as `einvoice.route_change`.
#[utoipa::path(put, path = "/api/v1/tenants/{slug}/leitweg-routes/{prefix}", operation_id = "updateLeitwegRoute",
    tag = "E-Rechnung", security(("bearer" = [])), params(("slug" = String, Path), ("prefix" = String, Path)),
    request_body = LeitwegRouteChange,
    responses((status = 200, body = LeitwegRoute),
        (status = 400, body = Problem, description = "invalid office")))]
pub async fn update(
    State(state): State<AppState>,
    Path((slug, prefix)): Path<(String, String)>,
    staff: Staff,
    ApiJson(req): ApiJson<LeitwegRouteChange>,
) -> Result<Json<LeitwegRoute>, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, &[])?;
    let route = state
        .einvoices
        .update_route(tenant.id, &prefix, &req.office, &staff.0.actor())
        .await
        .map_err(|e| match e {
            // A malformed prefix in the path is a route that does not exist.
            EinvoiceError::InvalidRoute {
                field: "prefix", ..
            } => Problem::not_found(format!("Leitweg-Route {}", prefix.trim())),
            e => e.into(),
        })?;
    Ok(Json(route.into()))
}

/// Remove a route; invoices for it are then refused as unknown recipient (unless a shorter
/// prefix matches). Audited as `einvoice.route_remove`.
#[utoipa::path(delete, path = "/api/v1/tenants/{slug}/leitweg-routes/{prefix}", operation_id = "removeLeitwegRoute",
    tag = "E-Rechnung", security(("bearer" = [])), params(("slug" = String, Path), ("prefix" = String, Path)),
    responses((status = 204)))]
pub async fn remove(
    State(state): State<AppState>,
    Path((slug, prefix)): Path<(String, String)>,
    staff: Staff,
) -> Result<StatusCode, Problem> {
    let tenant = tenant_or_404(&state, &slug).await?;
    staff.require(&tenant, &[])?;
    state
        .einvoices
        .remove_route(tenant.id, &prefix, &staff.0.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
