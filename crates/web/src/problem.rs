//! RFC 9457 problem details: the one place where errors become HTTP responses of the API.
//!
//! Each problem has a stable `type` URI (`/api/probleme/<code>`) that clients may match on.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rathaus_storage::StorageError;
use serde::Serialize;

/// Media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An API error as RFC 9457 problem details.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable URI reference identifying the problem type, e.g. `/api/probleme/not-found`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Explanation of this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// For invalid input: the JSON path of the offending field (e.g. `branding.primary_color`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Request id (also in the `x-request-id` header), for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For invalid form data: every offending field with a German message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
    /// For a refused E-Rechnung: the validation findings `{rule, severity, location, text}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub findings: Option<Vec<serde_json::Value>>,
}

/// One offending field of invalid form data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// Path of the field: FIM ids joined by `/`, array entries with `[i]` (`G60000001[0]/F60000227`).
    pub field: String,
    /// What is wrong (German).
    pub message: String,
}

impl Problem {
    /// A problem with a code (last segment of the type URI), status and title.
    pub fn new(status: StatusCode, code: &str, title: &str) -> Self {
        Self {
            kind: format!("/api/probleme/{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            instance: None,
            field: None,
            request_id: None,
            errors: None,
            findings: None,
        }
    }

    /// Lists offending fields (invalid form data).
    pub fn errors(mut self, errors: Vec<FieldProblem>) -> Self {
        self.errors = Some(errors);
        self
    }

    /// Lists validation findings (refused E-Rechnung).
    pub fn findings(mut self, findings: Vec<serde_json::Value>) -> Self {
        self.findings = Some(findings);
        self
    }

    /// Adds a detail text.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Names the offending field.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 404.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Nicht gefunden").detail(what)
    }

    /// 400 for invalid input.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-input",
            "Ungültige Eingabe",
        )
        .detail(detail)
    }

    /// 401.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Anmeldung erforderlich",
        )
        .detail("Dieser Aufruf braucht ein gültiges Bearer-Token (Authorization: Bearer …).")
    }

    /// 403.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Keine Berechtigung")
            .detail("Ihr Zugang erlaubt diese Aktion für diesen Mandanten nicht.")
    }

    /// 500 without internals.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Interner Fehler")
            .detail("Ein unerwarteter Fehler ist aufgetreten. Bitte nennen Sie bei Rückfragen die Request-ID.")
    }

    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rathaus\""),
            );
        }
        res.extensions_mut().insert(self);
        res
    }
}

impl From<StorageError> for Problem {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound(what) => Self::not_found(what),
            StorageError::Conflict(what) => Self::new(StatusCode::CONFLICT, "conflict", "Konflikt").detail(what),
            StorageError::VersionMismatch { expected, actual } => {
                Self::new(StatusCode::PRECONDITION_FAILED, "version-mismatch", "Zwischenzeitlich geändert").detail(
                    format!("Sie haben Version {expected} bearbeitet, aktuell ist Version {actual}. Bitte neu laden."),
                )
            }
            StorageError::Stale { expected, actual } => {
                Self::new(StatusCode::PRECONDITION_FAILED, "version-mismatch", "Zwischenzeitlich geändert").detail(
                    format!("Sie haben Stand {expected} bearbeitet, inzwischen wurde gespeichert (Stand {actual}). Bitte neu laden."),
                )
            }
            StorageError::Invalid(detail) => Self::invalid(detail),
            other => {
                tracing::error!(error = %other, "storage error");
                Self::internal()
            }
        }
    }
}

/// Turns every error response under `/api` that is not yet problem+json (framework rejections,
/// 404 for unknown routes, 405, 413 from the body limit) into one, and adds the request id.
pub async fn api_errors_as_problems(req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    // Headers the handler set (`Retry-After`, `WWW-Authenticate`, `Location`…) stay on the answer.
    let kept: Vec<(axum::http::HeaderName, axum::http::HeaderValue)> = res
        .headers()
        .iter()
        .filter(|(k, _)| {
            *k != axum::http::header::CONTENT_TYPE && *k != axum::http::header::CONTENT_LENGTH
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut problem = match res.extensions().get::<Problem>() {
        Some(p) => p.clone(),
        None => {
            let (code, title, detail) = match status {
                StatusCode::NOT_FOUND => (
                    "not-found",
                    "Nicht gefunden",
                    "Diesen API-Pfad gibt es nicht.",
                ),
                StatusCode::METHOD_NOT_ALLOWED => (
                    "method-not-allowed",
                    "Methode nicht erlaubt",
                    "Dieser Pfad unterstützt diese HTTP-Methode nicht.",
                ),
                StatusCode::PAYLOAD_TOO_LARGE => (
                    "payload-too-large",
                    "Anfrage zu groß",
                    "Der Inhalt der Anfrage überschreitet die zulässige Größe.",
                ),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                    "unsupported-media-type",
                    "Nicht unterstützter Inhaltstyp",
                    "Erwartet wird application/json.",
                ),
                s if s.is_server_error() => (
                    "internal",
                    "Interner Fehler",
                    "Ein unerwarteter Fehler ist aufgetreten.",
                ),
                _ => (
                    "invalid-input",
                    "Ungültige Anfrage",
                    "Die Anfrage konnte nicht verarbeitet werden.",
                ),
            };
            let mut p = Problem::new(status, code, title).detail(detail);
            // Keep the framework's own explanation of a rejected path or query parameter.
            if status == StatusCode::BAD_REQUEST {
                let body = axum::body::to_bytes(res.into_body(), 4096)
                    .await
                    .unwrap_or_default();
                if let Ok(text) = std::str::from_utf8(&body)
                    && !text.is_empty()
                {
                    p = p.detail(text.to_owned());
                }
            }
            p
        }
    };
    problem.instance = Some(path);
    problem.request_id = request_id;
    let mut out = problem.clone().into_response();
    for (k, v) in kept {
        if !out.headers().contains_key(&k) {
            out.headers_mut().append(k, v);
        }
    }
    out.extensions_mut().insert(problem);
    out
}
