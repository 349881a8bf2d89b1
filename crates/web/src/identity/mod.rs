//! The Servicekonto on the web: the OpenID Connect endpoints (`oidc`), the login pages
//! (`login`) and the account pages (`account`). Browser sessions live in the cookie
//! `rathaus_sitzung` (HttpOnly, SameSite=Lax, `Secure` behind TLS); only its hash is stored.

mod account;
mod login;
mod oidc;
mod organisation;
mod passkey;

use crate::html::layout::error_page;
use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rathaus_identity::accounts::{Account, Session};

/// Name of the session cookie.
const SESSION_COOKIE: &str = "rathaus_sitzung";

/// Routes of the Servicekonto.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/oidc/jwks", get(oidc::jwks))
        .route("/oidc/authorize", get(oidc::authorize))
        .route("/oidc/consent", post(oidc::consent))
        .route("/oidc/token", post(oidc::token))
        .route("/oidc/userinfo", get(oidc::userinfo).post(oidc::userinfo))
        .route("/oidc/revoke", post(oidc::revoke))
        .route("/oidc/introspect", post(oidc::introspect))
        .route("/oidc/logout", get(oidc::logout).post(oidc::logout))
        .route("/anmelden", get(login::form).post(login::submit))
        .route("/anmelden/code", post(login::second_factor))
        .route("/anmelden/passkey", post(passkey::login))
        .route("/anmelden/passkey/optionen", post(passkey::login_options))
        .route("/anmelden/extern", post(login::upstream_start))
        .route("/anmelden/extern/rueckkehr", get(login::upstream_return))
        .route("/abmelden", post(login::logout))
        .route("/konto", get(account::overview))
        .route("/konto/profil", post(account::save_profile))
        .route(
            "/konto/registrieren",
            get(account::register_form).post(account::register),
        )
        .route("/konto/bestaetigen", get(account::confirm))
        .route(
            "/konto/passwort-vergessen",
            get(account::forgot_form).post(account::forgot),
        )
        .route(
            "/konto/passwort-neu",
            get(account::reset_form).post(account::reset),
        )
        .route(
            "/konto/zwei-faktor",
            get(account::totp_form).post(account::totp_enable),
        )
        .route("/konto/zwei-faktor/entfernen", post(account::totp_disable))
        .route("/konto/passkeys", post(passkey::register))
        .route("/konto/passkeys/optionen", post(passkey::register_options))
        .route("/konto/passkeys/entfernen", post(passkey::remove))
        .route("/konto/sitzungen/beenden", post(account::end_session))
        .route(
            "/konto/freigaben/widerrufen",
            post(account::withdraw_consent),
        )
        .route("/konto/organisation/{id}", get(organisation::page))
        .route(
            "/konto/organisation/{id}/mitglieder",
            post(organisation::add),
        )
        .route(
            "/konto/organisation/{id}/entfernen",
            post(organisation::remove),
        )
        .route("/konto/export", get(account::export))
        .route(
            "/konto/loeschen",
            get(account::delete_form).post(account::delete),
        )
}

use crate::csrf::cookie;

/// The live session and account of the request, if logged in.
pub(crate) async fn current(state: &AppState, headers: &HeaderMap) -> Option<(Session, Account)> {
    let token = cookie(headers, SESSION_COOKIE)?;
    let session = state.identity.accounts.session(&token).await.ok()??;
    let account = state
        .identity
        .accounts
        .get(&session.account_id)
        .await
        .ok()??;
    Some((session, account))
}

/// A logged-in account holder. Pages that need one send everyone else to the login, and back
/// to the page afterwards (to the account overview after a form post).
pub(crate) struct SignedIn(pub Session, pub Account);

impl axum::extract::FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        match current(state, &parts.headers).await {
            Some((session, account)) => Ok(Self(session, account)),
            None => {
                let back = if parts.method == axum::http::Method::GET {
                    parts.uri.path()
                } else {
                    "/konto"
                };
                let target: String =
                    url::form_urlencoded::byte_serialize(safe_return(back).as_bytes()).collect();
                Err(Redirect::to(&format!("/anmelden?weiter={target}")).into_response())
            }
        }
    }
}

/// The answer to a form whose CSRF token does not fit.
fn expired_form() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Formular abgelaufen",
        "Bitte versuchen Sie es erneut.",
    )
}

/// The answer when storage fails under a page.
fn technical_error() -> Response {
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Technischer Fehler",
        "Bitte versuchen Sie es später erneut.",
    )
}

fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    ))
    .ok()
}

fn clear_session_cookie(state: &AppState) -> Option<HeaderValue> {
    session_cookie(state, "", 0)
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    match u.origin() {
        url::Origin::Tuple(..) => Some(u.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// Lets the forms of a login or consent page lead (through redirects) to the client's redirect
/// URI and the upstream provider: browsers apply `form-action` to the whole redirect chain.
fn allow_form_targets(state: &AppState, res: &mut axum::response::Response, return_to: &str) {
    let mut targets: Vec<String> = Vec::new();
    if let Some(query) = return_to.strip_prefix("/oidc/authorize?") {
        targets.extend(
            url::form_urlencoded::parse(query.as_bytes())
                .filter(|(k, _)| k == "redirect_uri")
                .filter_map(|(_, v)| origin(&v)),
        );
    }
    if let Some(u) = &state.upstream {
        targets.extend(origin(u.provider_id()));
    }
    if targets.is_empty() {
        return;
    }
    let csp = crate::layers::CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {}", targets.join(" ")),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// Where a login may send the browser afterwards: only our own authorize endpoint or
/// account pages (no open redirect).
fn safe_return(target: &str) -> String {
    // A tenant's back office: `/{slug}/verwaltung…` with a plain slug.
    let back_office = target
        .strip_prefix('/')
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(slug, rest)| {
            !slug.is_empty()
                && slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && (rest == "verwaltung"
                    || rest.starts_with("verwaltung/")
                    || rest.starts_with("verwaltung?"))
        });
    let ok = (target.starts_with("/oidc/authorize?")
        || target == "/konto"
        || target.starts_with("/konto/")
        || back_office)
        && !target.contains('\\')
        && !target.chars().any(char::is_control);
    if ok {
        target.to_owned()
    } else {
        "/konto".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return;

    #[test]
    fn only_local_targets_are_followed() {
        assert_eq!(
            safe_return("/oidc/authorize?client_id=x"),
            "/oidc/authorize?client_id=x"
        );
        assert_eq!(safe_return("/konto/sitzungen"), "/konto/sitzungen");
        assert_eq!(safe_return("/koeln/verwaltung"), "/koeln/verwaltung");
        assert_eq!(
            safe_return("/koeln/verwaltung?leistung=1"),
            "/koeln/verwaltung?leistung=1"
        );
        assert_eq!(safe_return("//evil/verwaltung"), "/konto");
        assert_eq!(safe_return("/Evil.example/verwaltung"), "/konto");
        assert_eq!(
            safe_return("/oidc/authorize?r=http://x/"),
            "/oidc/authorize?r=http://x/"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil",
            "/kontoevil",
        ] {
            assert_eq!(safe_return(bad), "/konto", "{bad}");
        }
    }
}
