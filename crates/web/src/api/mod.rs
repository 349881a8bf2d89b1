//! The JSON API under `/api/v1` and its OpenAPI description.

mod audit;
mod clients;
pub(crate) mod dashboard;
pub(crate) mod einvoices;
mod feedback;
mod form_builder;
pub(crate) mod forms;
mod inventory;
mod json;
mod leitweg_routes;
pub(crate) mod offers;
mod openapi;
pub(crate) mod services;
mod tenants;

pub use json::ApiJson;

/// The OpenAPI description as pretty-printed JSON (for `rathaus openapi`).
pub fn openapi_json() -> String {
    openapi::document().to_pretty_json().unwrap_or_default()
}

use crate::problem::Problem;
use crate::state::AppState;
use axum::Router;
use axum::routing::{get, patch};

/// Largest FIM schema accepted by the import (real schemas are far below).
pub const FIM_IMPORT_LIMIT: usize = 20 * 1024 * 1024;

/// Routes below `/api`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::spec))
        .route("/docs", get(openapi::docs_page))
        .route("/probleme/{code}", get(openapi::problem_type))
        .route("/v1/tenants", get(tenants::list).post(tenants::create))
        .route(
            "/v1/tenants/{slug}",
            get(tenants::get_one).patch(tenants::update),
        )
        .route(
            "/v1/tenants/{slug}/logo",
            axum::routing::put(tenants::put_logo),
        )
        .route("/v1/tenants/{slug}/feedback", get(feedback::list))
        .route("/v1/tenants/{slug}/feedback/{id}", patch(feedback::update))
        .route("/v1/tenants/{slug}/audit", get(audit::list))
        .route("/v1/tenants/{slug}/process-inventory", get(inventory::list))
        .route(
            "/v1/tenants/{slug}/process-inventory.csv",
            get(inventory::csv),
        )
        .route(
            "/v1/tenants/{slug}/process-inventory/{leistung_id}",
            axum::routing::put(inventory::put),
        )
        .route(
            "/v1/tenants/{slug}/oidc-clients",
            get(clients::list).post(clients::register),
        )
        .route(
            "/v1/tenants/{slug}/oidc-clients/{client_id}",
            axum::routing::delete(clients::remove),
        )
        .route(
            "/v1/tenants/{slug}/forms",
            get(form_builder::list).post(form_builder::create),
        )
        .route(
            "/v1/tenants/{slug}/forms/packages",
            axum::routing::post(form_builder::import_package),
        )
        .route(
            "/v1/tenants/{slug}/forms/{form_id}/draft",
            get(form_builder::get_draft).put(form_builder::save_draft),
        )
        .route(
            "/v1/tenants/{slug}/forms/{form_id}/publish",
            axum::routing::post(form_builder::publish),
        )
        .route(
            "/v1/tenants/{slug}/forms/{form_id}/package",
            get(form_builder::export_package),
        )
        .route("/v1/tenants/{slug}/forms/{form_id}", get(forms::get_form))
        .route(
            "/v1/tenants/{slug}/forms/{form_id}/submissions",
            axum::routing::post(forms::submit),
        )
        .route(
            "/v1/tenants/{slug}/forms/{form_id}/versions/{version}/xsd",
            get(forms::form_xsd),
        )
        .route(
            "/v1/tenants/{slug}/forms/import-fim",
            axum::routing::post(forms::import_fim)
                .layer(axum::extract::DefaultBodyLimit::max(FIM_IMPORT_LIMIT)),
        )
        .route("/v1/tenants/{slug}/submissions", get(forms::list))
        .route(
            "/v1/tenants/{slug}/submissions/{id}",
            get(forms::get_submission),
        )
        .route(
            "/v1/tenants/{slug}/submissions/{id}/xml",
            get(forms::submission_xml),
        )
        .route(
            "/v1/tenants/{slug}/submissions/{id}/attachments/{attachment}",
            get(forms::attachment),
        )
        .route("/v1/einvoices/{id}/report", get(einvoices::report))
        .route("/v1/tenants/{slug}/einvoices", get(einvoices::list))
        .route(
            "/v1/tenants/{slug}/einvoices/hkr-export",
            get(einvoices::hkr_export),
        )
        .route("/v1/tenants/{slug}/einvoices/{id}", get(einvoices::get_one))
        .route(
            "/v1/tenants/{slug}/einvoices/{id}/sachlich-richtig",
            axum::routing::post(einvoices::factual),
        )
        .route(
            "/v1/tenants/{slug}/einvoices/{id}/rechnerisch-richtig",
            axum::routing::post(einvoices::arithmetic),
        )
        .route(
            "/v1/tenants/{slug}/einvoices/{id}/ablehnen",
            axum::routing::post(einvoices::reject),
        )
        .route(
            "/v1/tenants/{slug}/leitweg-routes",
            get(leitweg_routes::list).post(leitweg_routes::create),
        )
        .route(
            "/v1/tenants/{slug}/leitweg-routes/{prefix}",
            axum::routing::put(leitweg_routes::update).delete(leitweg_routes::remove),
        )
        .route("/v1/me", get(tenants::me))
        .route("/v1/services", get(services::search))
        .route("/v1/suggest", get(services::suggest))
        .route("/v1/tenants/{slug}/services-export", get(services::export))
        .route("/v1/tenants/{slug}/offers", get(offers::list))
        .route(
            "/v1/tenants/{slug}/offers/{leistung_id}",
            get(offers::get_one).delete(offers::withdraw),
        )
        .route(
            "/v1/tenants/{slug}/offers/{leistung_id}/draft",
            axum::routing::put(offers::save_draft),
        )
        .route(
            "/v1/tenants/{slug}/offers/{leistung_id}/publish",
            axum::routing::post(offers::publish),
        )
        .route(
            "/v1/tenants/{slug}/offers/{leistung_id}/reuse",
            axum::routing::post(offers::reuse),
        )
        .route("/v1/assistant", get(services::assistant))
        .route("/v1/ozg-dashboard", get(dashboard::json))
        .route("/v1/ozg-dashboard.csv", get(dashboard::csv))
        .fallback(|| async { Problem::not_found("Diesen API-Pfad gibt es nicht.") })
}
