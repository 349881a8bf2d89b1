//! The OpenID Connect endpoints at their standard places.

use super::{current, login, safe_return};
use crate::csrf;
use crate::html::layout::{error_page, plain_page};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use maud::html;
use rathaus_identity::provider::{
    AuthorizeError, AuthorizeParams, AuthorizeRequest, ClientCredentials, OAuthError, TokenRequest,
};
use rathaus_identity::{redirect, scope};
use serde::Deserialize;
use serde_json::json;

/// An OAuth error as JSON with `Cache-Control: no-store` (and `WWW-Authenticate` on 401).
fn oauth_error(e: OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (status, Json(&e)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        let value = if e.error == "invalid_client" {
            "Basic realm=\"rathaus\"".to_owned()
        } else {
            format!("Bearer error=\"{}\"", e.error)
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
    }
    res
}

fn no_store(value: serde_json::Value) -> Response {
    let mut res = Json(value).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /.well-known/openid-configuration`
pub async fn discovery(State(state): State<AppState>) -> Response {
    Json(state.identity.discovery()).into_response()
}

/// `GET /oidc/jwks`
pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut res = Json(state.identity.jwks()).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

/// Reads a form body (`application/x-www-form-urlencoded`, no duplicate parameters).
fn form<T: for<'de> Deserialize<'de>>(headers: &HeaderMap, body: &Bytes) -> Result<T, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(OAuthError::invalid_request(
            "Erwartet wird application/x-www-form-urlencoded.",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (k, _) in url::form_urlencoded::parse(body) {
        if !seen.insert(k.into_owned()) {
            return Err(OAuthError::invalid_request(
                "Ein Parameter ist mehrfach angegeben.",
            ));
        }
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::invalid_request("Die Anfrage ist fehlerhaft."))
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: form-encoded parts) or the form.
fn credentials(
    headers: &HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<ClientCredentials, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    match basic {
        Some(b64) => {
            if form_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "Nur eine Art der Client-Authentifizierung ist erlaubt.",
                ));
            }
            let raw = STANDARD
                .decode(b64.trim())
                .map_err(|_| OAuthError::invalid_client())?;
            let text = String::from_utf8(raw).map_err(|_| OAuthError::invalid_client())?;
            let (id, secret) = text
                .split_once(':')
                .ok_or_else(OAuthError::invalid_client)?;
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            let id = decode(id).ok_or_else(OAuthError::invalid_client)?;
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_client());
            }
            Ok(ClientCredentials {
                client_id: Some(id),
                secret: decode(secret),
                basic: true,
            })
        }
        None => Ok(ClientCredentials {
            client_id: form_id.map(str::to_owned),
            secret: form_secret.map(str::to_owned),
            basic: false,
        }),
    }
}

/// `POST /oidc/token`
pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let req: TokenRequest = match form(&headers, &body) {
        Ok(r) => r,
        Err(e) => return oauth_error(e),
    };
    let creds = match credentials(
        &headers,
        req.client_id.as_deref(),
        req.client_secret.as_deref(),
    ) {
        Ok(c) => c,
        Err(e) => return oauth_error(e),
    };
    match state.identity.token(&creds, &req).await {
        Ok(t) => {
            metrics::counter!("rathaus_oidc_tokens_total", "grant" => req.grant_type.unwrap_or_default()).increment(1);
            no_store(serde_json::to_value(t).unwrap_or_default())
        }
        Err(e) => oauth_error(e),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /oidc/revoke` (RFC 7009)
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let f: TokenForm = match form(&headers, &body) {
        Ok(f) => f,
        Err(e) => return oauth_error(e),
    };
    let creds = match credentials(&headers, f.client_id.as_deref(), f.client_secret.as_deref()) {
        Ok(c) => c,
        Err(e) => return oauth_error(e),
    };
    let Some(token) = f.token else {
        return oauth_error(OAuthError::invalid_request("token fehlt."));
    };
    match state.identity.revoke(&creds, &token).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => oauth_error(e),
    }
}

/// `POST /oidc/introspect` (RFC 7662)
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f: TokenForm = match form(&headers, &body) {
        Ok(f) => f,
        Err(e) => return oauth_error(e),
    };
    let creds = match credentials(&headers, f.client_id.as_deref(), f.client_secret.as_deref()) {
        Ok(c) => c,
        Err(e) => return oauth_error(e),
    };
    let Some(token) = f.token else {
        return oauth_error(OAuthError::invalid_request("token fehlt."));
    };
    match state.identity.introspect(&creds, &token).await {
        Ok(v) => no_store(v),
        Err(e) => oauth_error(e),
    }
}

/// `GET|POST /oidc/userinfo`
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let Some(bearer) = bearer else {
        let mut res = StatusCode::UNAUTHORIZED.into_response();
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"rathaus\""),
        );
        return res;
    };
    match state.identity.userinfo(bearer.trim()).await {
        Ok(v) => no_store(v),
        Err(e) => oauth_error(e),
    }
}

fn authorize_error(e: AuthorizeError) -> Response {
    match e.redirect_url() {
        Some(url) => Redirect::to(&url).into_response(),
        None => {
            let AuthorizeError::Page(msg) = e else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            error_page(StatusCode::BAD_REQUEST, "Anmeldung nicht möglich", &msg)
        }
    }
}

/// The request fails with `error` at the client (only for a validated request).
fn fail(req: &AuthorizeRequest, error: &'static str, description: &str) -> Response {
    authorize_error(AuthorizeError::Redirect {
        redirect_uri: req.redirect_uri.clone(),
        error,
        description: description.to_owned(),
        state: req.state.clone(),
    })
}

/// The query without `prompt=login` (after a login, returning there must not ask again).
fn without_login_prompt(raw: &str) -> String {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .filter_map(|(k, v)| {
            if k == "prompt" {
                let rest: Vec<&str> = v
                    .split_ascii_whitespace()
                    .filter(|p| *p != "login")
                    .collect();
                (!rest.is_empty()).then(|| (k.into_owned(), rest.join(" ")))
            } else if k == "max_age" {
                None
            } else {
                Some((k.into_owned(), v.into_owned()))
            }
        })
        .collect();
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `GET /oidc/authorize`
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    params: Result<Query<AuthorizeParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let raw = raw.unwrap_or_default();
    let Ok(Query(params)) = params else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Anmeldung nicht möglich",
            "Die Anfrage ist fehlerhaft.",
        );
    };
    let req = match state.identity.check_authorize(&params).await {
        Ok(r) => r,
        Err(e) => return authorize_error(e),
    };
    let session = current(&state, &headers).await;
    let wants_login = req.prompt.iter().any(|p| p == "login");
    let return_to = format!("/oidc/authorize?{}", without_login_prompt(&raw));
    let usable = session
        .as_ref()
        .filter(|(s, _)| !wants_login && state.identity.session_suffices(&req, s));
    let Some((session, account)) = usable else {
        if req.prompt.iter().any(|p| p == "none") {
            return fail(&req, "login_required", "Eine Anmeldung ist erforderlich.");
        }
        // A logged-in account that only lacks the level: step up with its second factor.
        if let Some((s, a)) = &session
            && !wants_login
            && s.level < req.min_level
        {
            let second = super::passkey::has_second_factor(&state, a)
                .await
                .unwrap_or(false);
            if second && req.min_level <= rathaus_identity::TrustLevel::Substantial {
                return login::second_factor_page(&state, &headers, a, &return_to, None).await;
            }
            return fail(
                &req,
                "unmet_authentication_requirements",
                "Das verlangte Vertrauensniveau kann mit diesem Konto nicht erreicht werden.",
            );
        }
        return login::page(
            &state,
            &headers,
            &return_to,
            req.login_hint.as_deref().unwrap_or(""),
            None,
            Some(&req.client.name),
        );
    };
    let granted = match state
        .identity
        .grants
        .consent(&account.id, &req.client.client_id)
        .await
    {
        Ok(g) => g,
        Err(_) => return fail(&req, "server_error", "Interner Fehler."),
    };
    let ask = req.prompt.iter().any(|p| p == "consent") || !req.scopes.is_subset(&granted);
    if ask {
        if req.prompt.iter().any(|p| p == "none") {
            return fail(
                &req,
                "consent_required",
                "Eine Zustimmung ist erforderlich.",
            );
        }
        return consent_page(&state, &headers, &req, &return_to);
    }
    match state.identity.issue_code(&req, session).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(_) => fail(&req, "server_error", "Interner Fehler."),
    }
}

fn consent_page(
    state: &AppState,
    headers: &HeaderMap,
    req: &AuthorizeRequest,
    return_to: &str,
) -> Response {
    let (csrf_token, set_cookie) = csrf::token(
        headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let query = return_to.trim_start_matches("/oidc/authorize?");
    let content = html! {
        h1 { "Zustimmung zur Weitergabe" }
        p { "Die Anwendung " strong { (req.client.name) } " möchte auf folgende Angaben aus Ihrem Servicekonto zugreifen:" }
        ul {
            @for s in req.scopes.iter() {
                li { (scope::describe(s)) }
            }
        }
        p { "Sie können Ihre Zustimmung jederzeit in Ihrem Konto widerrufen." }
        form method="post" action="/oidc/consent" class="stack" {
            input type="hidden" name=(csrf::FIELD) value=(csrf_token);
            input type="hidden" name="anfrage" value=(query);
            div class="actions" {
                button type="submit" name="entscheidung" value="zustimmen" { "Zustimmen" }
                button type="submit" name="entscheidung" value="ablehnen" class="secondary" { "Ablehnen" }
            }
        }
    };
    let mut res = plain_page("Zustimmung", content).into_response();
    super::allow_form_targets(state, &mut res, return_to);
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

#[derive(Deserialize)]
pub(super) struct ConsentForm {
    csrf: String,
    anfrage: String,
    entscheidung: String,
}

/// `POST /oidc/consent`
pub async fn consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(f): axum::Form<ConsentForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Formular abgelaufen",
            "Das Formular ist abgelaufen. Bitte melden Sie sich erneut an.",
        );
    }
    let Ok(params) = serde_urlencoded::from_str::<AuthorizeParams>(&f.anfrage) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Anmeldung nicht möglich",
            "Die Anfrage ist fehlerhaft.",
        );
    };
    let req = match state.identity.check_authorize(&params).await {
        Ok(r) => r,
        Err(e) => return authorize_error(e),
    };
    let Some((session, account)) = current(&state, &headers).await else {
        return Redirect::to(&safe_return(&format!("/oidc/authorize?{}", f.anfrage)))
            .into_response();
    };
    if f.entscheidung != "zustimmen" {
        let _ = state
            .audit
            .record(&rathaus_core::audit::NewAuditEntry {
                actor: format!("account:{}", account.id),
                action: "oidc.consent_denied".into(),
                tenant: None,
                object_type: "account".into(),
                object_id: account.id.clone(),
                details: json!({"client_id": req.client.client_id}),
            })
            .await;
        return fail(&req, "access_denied", "Die Zustimmung wurde verweigert.");
    }
    if state
        .identity
        .grants
        .give_consent(&account.id, &req.client.client_id, &req.scopes)
        .await
        .is_err()
    {
        return fail(&req, "server_error", "Interner Fehler.");
    }
    match state.identity.issue_code(&req, &session).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(_) => fail(&req, "server_error", "Interner Fehler."),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
}

/// `GET|POST /oidc/logout` (RP-initiated logout)
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<LogoutParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let p = params.map(|Query(p)| p).unwrap_or_default();
    let hint = p
        .id_token_hint
        .as_deref()
        .and_then(|t| state.identity.verify_id_token_hint(t));
    if p.id_token_hint.is_some() && hint.is_none() {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Abmeldung nicht möglich",
            "Der Hinweis (id_token_hint) ist ungültig.",
        );
    }
    let client_id = hint.as_ref().map(|c| c.aud.clone()).or(p.client_id.clone());
    if let (Some(hint_aud), Some(given)) = (hint.as_ref().map(|c| &c.aud), p.client_id.as_ref())
        && hint_aud != given
    {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Abmeldung nicht möglich",
            "client_id passt nicht zum id_token_hint.",
        );
    }
    // Validate the target before doing anything.
    let target = match (&p.post_logout_redirect_uri, &client_id) {
        (None, _) => None,
        (Some(_), None) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Abmeldung nicht möglich",
                "Für die Rücksprungadresse fehlt id_token_hint oder client_id.",
            );
        }
        (Some(uri), Some(cid)) => {
            let client = state.identity.clients.get(cid).await.ok().flatten();
            match client {
                Some(c)
                    if c.post_logout_redirect_uris
                        .iter()
                        .any(|r| redirect::matches(r, uri)) =>
                {
                    Some(uri.clone())
                }
                _ => {
                    return error_page(
                        StatusCode::BAD_REQUEST,
                        "Abmeldung nicht möglich",
                        "Die Rücksprungadresse ist für diese Anwendung nicht registriert.",
                    );
                }
            }
        }
    };
    if let Some((session, account)) = current(&state, &headers).await {
        // With a hint, only the session it names (or any session of that account) is ended.
        let matches = hint.as_ref().is_none_or(|h| h.sub == account.id);
        if matches {
            let _ = state
                .identity
                .accounts
                .end_session(&account.id, &session.sid)
                .await;
        }
    }
    let mut res = match target {
        Some(uri) => {
            let mut url = match url::Url::parse(&uri) {
                Ok(u) => u,
                Err(_) => {
                    return error_page(
                        StatusCode::BAD_REQUEST,
                        "Abmeldung nicht möglich",
                        "Ungültige Rücksprungadresse.",
                    );
                }
            };
            if let Some(s) = &p.state {
                url.query_pairs_mut().append_pair("state", s);
            }
            Redirect::to(url.as_str()).into_response()
        }
        None => plain_page(
            "Abgemeldet",
            html! {
                h1 { "Sie sind abgemeldet" }
                p { "Ihre Sitzung im Servicekonto ist beendet." }
                p { a href="/anmelden" { "Erneut anmelden" } }
            },
        )
        .into_response(),
    };
    if let Some(c) = super::clear_session_cookie(&state) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}
