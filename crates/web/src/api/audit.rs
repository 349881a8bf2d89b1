//! `/api/v1/tenants/{slug}/audit`: the tenant's part of the audit trail, for its administrators.

use super::tenants::tenant_or_404;
use crate::auth::Staff;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use rathaus_core::audit::AuditEntry;
use rathaus_core::staff::Role;
use serde::Deserialize;

/// Paging.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct Limit {
    /// Number of entries (1–1000, default 100).
    pub limit: Option<i64>,
}

/// Newest audit entries of the tenant (its admins).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/audit", operation_id = "listAuditEntries", tag = "Protokoll", security(("bearer" = [])),
    params(("slug" = String, Path), Limit),
    responses((status = 200, body = [AuditEntry]), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<Limit>,
    staff: Staff,
) -> Result<Json<Vec<AuditEntry>>, Problem> {
    let t = tenant_or_404(&state, &slug).await?;
    staff.require(&t, &[Role::Admin])?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state
            .audit
            .list_for_tenant(&t.id.to_string(), limit)
            .await?,
    ))
}
