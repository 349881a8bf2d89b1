//! Static assets compiled into the binary (no files to deploy, works offline).

use crate::state::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "rathaus.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/rathaus.css"),
    ),
    (
        "api-docs.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/api-docs.css"),
    ),
    (
        "api-docs.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/api-docs.js"),
    ),
    (
        "suggest.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/suggest.js"),
    ),
    (
        "bedingungen.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/bedingungen.js"),
    ),
    (
        "passkey.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/passkey.js"),
    ),
    (
        "vendor/swagger-ui/swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/vendor/swagger-ui/swagger-ui.css"),
    ),
    (
        "vendor/swagger-ui/swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/swagger-ui/swagger-ui-bundle.js"),
    ),
];

/// Route `/assets/{*path}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{*path}", get(asset))
}

async fn asset(Path(path): Path<String>) -> Response {
    match FILES.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "Nicht gefunden").into_response(),
    }
}
