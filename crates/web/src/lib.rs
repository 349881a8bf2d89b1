//! The HTTP frontend of Rathaus: the only crate that knows axum.
//!
//! It maps the domain and storage crates to three surfaces:
//! * server-rendered, accessible HTML pages in German (`html`), per tenant under `/{slug}/…`
//!   and the state portal at `/`;
//! * the JSON API under `/api/v1` (`api`), described by OpenAPI at `/api/openapi.json`,
//!   with RFC 9457 problem+json errors (`problem`);
//! * operations endpoints: `/healthz`, `/readyz`, `/metrics` (`ops`).
#![forbid(unsafe_code)]
#![allow(
    clippy::result_large_err,
    reason = "Problem is the error of every handler; it is built only on the error path, boxing buys nothing"
)]

mod api;
mod assets;
mod auth;
mod csrf;
pub mod forms;
mod html;
mod identity;
mod layers;
mod ops;
mod problem;
mod ratelimit;
pub mod search_index;
mod state;

pub use api::openapi_json;
pub use problem::Problem;
pub use state::{AppState, IdentityParts, Services, WebConfig};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::limit::RequestBodyLimitLayer;

/// Builds the complete router with all layers.
pub fn router(state: AppState) -> Router {
    // Refuse bodies by their declared length before reading them (and cap streamed ones);
    // inside the API the refusal becomes problem+json.
    let max = state.config.max_body_bytes;
    let limit = || (DefaultBodyLimit::max(max), RequestBodyLimitLayer::new(max));
    // Form pages carry one upload plus the page's text.
    let upload = state.config.max_upload_bytes + 1024 * 1024;
    let api = api::router()
        .layer(limit())
        .layer(axum::middleware::from_fn(problem::api_errors_as_problems));
    let app = Router::new()
        .merge(ops::router())
        .merge(assets::router())
        .merge(identity::router().layer(limit()))
        .merge(html::router().layer(limit()))
        .merge(forms::router().layer((
            DefaultBodyLimit::max(upload),
            RequestBodyLimitLayer::new(upload),
        )))
        .merge(html::einvoices::upload_router(
            state.config.einvoice_max_bytes,
        ))
        .merge(api::einvoices::reception_router(
            state.config.einvoice_max_bytes,
        ))
        .nest("/api", api)
        .with_state(state.clone());
    layers::apply(app, &state)
}
