//! `/api/v1/tenants/{slug}/process-inventory`: the Prozessinventur of a tenant, for its staff.

use super::ApiJson;
use super::tenants::tenant_or_404;
use crate::auth::Staff;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rathaus_catalog::inventory::InventoryInput;
use rathaus_core::staff::Role;
use rathaus_core::{Tenant, TenantKind};
use rathaus_storage::inventory::InventoryEntry;

const ROLES: &[Role] = &[Role::Sachbearbeitung, Role::Redaktion];

async fn scope(state: &AppState, slug: &str, staff: &Staff) -> Result<(Tenant, Tenant), Problem> {
    let t = tenant_or_404(state, slug).await?;
    staff.require(&t, ROLES)?;
    let land = state
        .tenants
        .list()
        .await?
        .into_iter()
        .find(|t| t.kind == TenantKind::Land)
        .ok_or_else(|| Problem::not_found("Es ist noch kein Land eingerichtet."))?;
    Ok((t, land))
}

/// The tenant's process inventory, highest priority (working hours per year) first.
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/process-inventory", operation_id = "listProcessInventory",
    tag = "Leistungen", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = [InventoryEntry])))]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
) -> Result<Json<Vec<InventoryEntry>>, Problem> {
    let (t, land) = scope(&state, &slug, &staff).await?;
    Ok(Json(state.inventory.ranked(t.id, land.id).await?))
}

/// Enter or change the figures for one service.
#[utoipa::path(put, path = "/api/v1/tenants/{slug}/process-inventory/{leistung_id}", operation_id = "putProcessInventory",
    tag = "Leistungen", security(("bearer" = [])), params(("slug" = String, Path), ("leistung_id" = i64, Path)),
    request_body = InventoryInput, responses((status = 204)))]
pub async fn put(
    State(state): State<AppState>,
    Path((slug, leistung_id)): Path<(String, i64)>,
    staff: Staff,
    ApiJson(input): ApiJson<InventoryInput>,
) -> Result<StatusCode, Problem> {
    let (t, land) = scope(&state, &slug, &staff).await?;
    let input = input
        .validate()
        .map_err(|e| Problem::invalid(e.to_string()))?;
    state
        .inventory
        .put(t.id, land.id, leistung_id, &input, &staff.0.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The ranked inventory as CSV (for the council's decision paper).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/process-inventory.csv", operation_id = "processInventoryCsv",
    tag = "Leistungen", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn csv(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
) -> Result<Response, Problem> {
    let (t, land) = scope(&state, &slug, &staff).await?;
    let entries = state.inventory.ranked(t.id, land.id).await?;
    let mut out = String::from(
        "rang,leika,leistung,faelle_pro_jahr,minuten_pro_fall,stunden_pro_jahr,stelle,beteiligte_stellen,rechtliche_besonderheiten\r\n",
    );
    for (i, e) in entries.iter().enumerate() {
        out.push_str(&format!(
            "{},{},{},{},{},{:.1},{},{},{}\r\n",
            i + 1,
            e.leika.as_deref().unwrap_or(""),
            super::dashboard::csv_field(&e.name),
            e.cases_per_year,
            e.minutes_per_case,
            e.score,
            super::dashboard::csv_field(&e.office),
            super::dashboard::csv_field(&e.involved_offices.join("; ")),
            super::dashboard::csv_field(&e.legal_notes),
        ));
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}
