//! Server-rendered HTML pages in German: the state portal at `/` and each tenant under `/{slug}/`.

mod accessibility;
pub(crate) mod backoffice;
mod dashboard;
mod einvoice_view;
pub(crate) mod einvoices;
pub mod layout;
mod offers;
mod services;
mod start;

use crate::state::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use rathaus_core::{Tenant, TenantKind};
use rathaus_storage::StorageError;

/// Routes of the HTML frontend (with the HTML 404 as fallback).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(start::portal))
        .route(
            "/barrierefreiheit",
            get(accessibility::portal_page).post(accessibility::portal_submit),
        )
        .route("/suche", get(services::portal_search))
        .route("/assistent", get(services::portal_assistant))
        .route("/{slug}/assistent", get(services::tenant_assistant))
        .route("/ozg-dashboard", get(dashboard::portal))
        .route("/{slug}/ozg-dashboard", get(dashboard::tenant))
        .route("/leistungen/{id}", get(services::portal_service))
        .route("/{slug}/suche", get(services::tenant_search))
        .route("/{slug}/leistungen/{id}", get(services::tenant_service))
        .route("/{slug}", get(start::add_slash))
        .route("/{slug}/", get(start::tenant_start))
        .route("/{slug}/theme.css", get(start::theme_css))
        .route("/{slug}/verwaltung", get(backoffice::start))
        .route(
            "/{slug}/verwaltung/prozessinventur",
            axum::routing::post(backoffice::save),
        )
        .route("/{slug}/verwaltung/leistungen", get(offers::list))
        .route(
            "/{slug}/verwaltung/leistungen/{id}",
            get(offers::editor).post(offers::save),
        )
        .route(
            "/{slug}/verwaltung/leistungen/{id}/veroeffentlichen",
            axum::routing::post(offers::publish),
        )
        .route(
            "/{slug}/verwaltung/leistungen/{id}/nachnutzen",
            axum::routing::post(offers::reuse),
        )
        .route(
            "/{slug}/verwaltung/leistungen/{id}/beenden",
            axum::routing::post(offers::withdraw),
        )
        .route("/{slug}/verwaltung/rechnungen", get(einvoices::list))
        .route(
            "/{slug}/verwaltung/rechnungen/leitweg-ids",
            get(einvoices::routes),
        )
        .route(
            "/{slug}/verwaltung/rechnungen/{id}",
            get(einvoices::detail).post(einvoices::step),
        )
        .route(
            "/{slug}/verwaltung/rechnungen/{id}/pdf",
            get(einvoices::pdf),
        )
        .route("/{slug}/logo", get(start::logo))
        .route(
            "/{slug}/barrierefreiheit",
            get(accessibility::tenant_form).post(accessibility::tenant_submit),
        )
        .fallback(not_found)
}

async fn not_found() -> Response {
    layout::error_page(
        StatusCode::NOT_FOUND,
        "Seite nicht gefunden",
        "Die aufgerufene Seite gibt es nicht. Vielleicht ist der Link veraltet oder die Adresse falsch geschrieben.",
    )
}

/// The 500 page; the cause goes to the log only.
pub(crate) fn internal_error(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "page failed");
    layout::error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Technischer Fehler",
        "Die Seite kann gerade nicht angezeigt werden. Bitte versuchen Sie es später erneut.",
    )
}

/// A PDF download (`attachment` with `file_name`, never cached).
pub(crate) fn pdf_response(bytes: Vec<u8>, file_name: &str) -> Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// Loads a tenant for a page, or renders the 404 / 500 page.
async fn tenant_page(state: &AppState, slug: &str) -> Result<Tenant, Response> {
    match state.tenants.get(slug).await {
        Ok(t) => Ok(t),
        Err(StorageError::NotFound(_)) => Err(layout::error_page(
            StatusCode::NOT_FOUND,
            "Kommune nicht gefunden",
            "Zu dieser Adresse gibt es keine Kommune auf diesem Portal. Die Übersicht aller Kommunen finden Sie auf der Startseite.",
        )),
        Err(e) => Err(internal_error(e)),
    }
}

/// The Land tenant whose portal is served at `/` (the first Land by ARS).
async fn land(state: &AppState) -> Result<(Option<Tenant>, Vec<Tenant>), Response> {
    let all = state.tenants.list().await.map_err(internal_error)?;
    let land = all.iter().find(|t| t.kind == TenantKind::Land).cloned();
    Ok((land, all))
}
