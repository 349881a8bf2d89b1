//! `/api/v1/tenants/{slug}/feedback`: accessibility feedback for the tenant's editors.

use super::ApiJson;
use super::tenants::tenant_or_404;
use crate::auth::Staff;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use rathaus_core::FeedbackId;
use rathaus_core::feedback::{Feedback, FeedbackStatus};
use rathaus_core::staff::Role;
use serde::Deserialize;
use utoipa::ToSchema;

/// Reports of the tenant, newest first (admins and Redaktion of the tenant).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/feedback", operation_id = "listFeedback", tag = "Barrierefreiheit", security(("bearer" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, body = [Feedback]), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
) -> Result<Json<Vec<Feedback>>, Problem> {
    let t = tenant_or_404(&state, &slug).await?;
    staff.require(&t, &[Role::Redaktion])?;
    Ok(Json(state.feedback.list(t.id, 500).await?))
}

/// New status of a report.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFeedback {
    /// `neu`, `in_bearbeitung` or `erledigt`.
    pub status: FeedbackStatus,
}

/// Change the status of a report.
#[utoipa::path(patch, path = "/api/v1/tenants/{slug}/feedback/{id}", operation_id = "updateFeedback", tag = "Barrierefreiheit", security(("bearer" = [])),
    params(("slug" = String, Path), ("id" = String, Path)), request_body = UpdateFeedback,
    responses((status = 200, body = Feedback), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    staff: Staff,
    ApiJson(input): ApiJson<UpdateFeedback>,
) -> Result<Json<Feedback>, Problem> {
    let t = tenant_or_404(&state, &slug).await?;
    staff.require(&t, &[Role::Redaktion])?;
    let id: FeedbackId = id
        .parse()
        .map_err(|_| Problem::not_found(format!("Meldung {id}")))?;
    Ok(Json(
        state
            .feedback
            .set_status(t.id, id, input.status, &staff.0.actor())
            .await?,
    ))
}
