//! The HTTP frontend of Rathaus: the only crate that knows axum.
//!
//! It maps the domain and storage crates to three surfaces:
//! * server-rendered, accessible HTML pages in German (`html`), per tenant under `/{slug}/…`
//!   and the state portal at `/`;
//! * the JSON API under `/api/v1` (`api`), described by OpenAPI at `/api/openapi.json`,
//!   with RFC 9457 problem+json errors (`problem`);
//! * operations endpoints: `/healthz`, `/readyz`, `/metrics` (`ops`).
#![forbid(unsafe_code)]

mod api;
mod assets;
mod auth;
mod csrf;
mod html;
mod layers;
mod ops;
mod problem;
mod state;

pub use problem::Problem;
pub use state::{AppState, WebConfig};

use axum::Router;

/// Builds the complete router with all layers.
pub fn router(state: AppState) -> Router {
    let api = api::router().layer(axum::middleware::from_fn(problem::api_errors_as_problems));
    let app = Router::new()
        .merge(ops::router())
        .merge(assets::router())
        .nest("/api", api)
        .merge(html::router())
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_body_bytes))
        .with_state(state.clone());
    layers::apply(app, &state)
}
