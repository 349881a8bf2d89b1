//! The login pages: password, second factor, upstream identity provider, logout.

use super::{clear_session_cookie, current, expired_form, safe_return, session_cookie};
use crate::csrf;
use crate::html::layout::{error_page, plain_page};
use crate::state::AppState;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use maud::{Markup, html};
use rathaus_identity::TrustLevel;
use rathaus_identity::accounts::Account;
use rathaus_identity::totp::TotpSecret;
use serde::Deserialize;
use std::net::SocketAddr;

/// Issuer name shown in authenticator apps.
pub(super) const TOTP_ISSUER: &str = "Servicekonto Rathaus";

fn with_cookie(mut res: Response, cookie: Option<axum::http::HeaderValue>) -> Response {
    if let Some(c) = cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn error_box(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error {
            div class="error-summary" role="alert" id="fehler" tabindex="-1" {
                p { (e) }
            }
        }
    }
}

/// The login form; `return_to` is where to go after a successful login.
pub(super) fn page(
    state: &AppState,
    headers: &HeaderMap,
    return_to: &str,
    email: &str,
    error: Option<&str>,
    client: Option<&str>,
) -> Response {
    let (csrf_token, set_cookie) = csrf::token(
        headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let upstream = state.upstream_name.as_deref();
    let content = html! {
        h1 { "Anmelden im Servicekonto" }
        @if let Some(c) = client {
            p { "Melden Sie sich an, um " strong { (c) } " zu nutzen." }
        }
        (error_box(error))
        form method="post" action="/anmelden" class="stack" novalidate {
            input type="hidden" name=(csrf::FIELD) value=(csrf_token);
            input type="hidden" name="weiter" value=(return_to);
            div class="field" {
                label for="email" { "E-Mail" }
                input id="email" name="email" type="email" autocomplete="username" required value=(email)
                    aria-describedby=[error.map(|_| "fehler")];
            }
            div class="field" {
                label for="passwort" { "Passwort" }
                input id="passwort" name="passwort" type="password" autocomplete="current-password" required;
            }
            div class="actions" {
                button type="submit" { "Anmelden" }
            }
        }
        @if let Some(name) = upstream {
            form method="post" action="/anmelden/extern" class="stack" {
                input type="hidden" name=(csrf::FIELD) value=(csrf_token);
                input type="hidden" name="weiter" value=(return_to);
                button type="submit" class="secondary" { "Mit " (name) " anmelden" }
            }
        }
        ul {
            li { a href="/konto/passwort-vergessen" { "Passwort vergessen?" } }
            li { a href="/konto/registrieren" { "Neues Servicekonto anlegen" } }
        }
    };
    let mut res = plain_page("Anmelden", content).into_response();
    super::allow_form_targets(state, &mut res, return_to);
    with_cookie(res, set_cookie)
}

/// The second-factor form (after the password, or to raise the level of a session): the
/// passkey button if the account has a passkey, the TOTP code field if it has TOTP.
pub(super) async fn second_factor_page(
    state: &AppState,
    headers: &HeaderMap,
    account: &Account,
    return_to: &str,
    error: Option<&str>,
) -> Response {
    let passkey = super::passkey::uses_passkeys(state, account)
        .await
        .unwrap_or(false);
    let (csrf_token, set_cookie) = csrf::token(
        headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let pending = state.identity.seal(
        "login-2fa",
        &format!("{}|{}", account.id, return_to),
        Duration::minutes(5),
    );
    let totp = account.has_totp();
    let content = html! {
        h1 { "Zweiter Faktor" }
        (error_box(error))
        @if passkey {
            (super::passkey::login_section(&csrf_token, &pending, totp))
        }
        @if totp {
            @if passkey { h2 { "Oder mit Code aus der Authenticator-App" } }
            p { "Bitte geben Sie den sechsstelligen Code aus Ihrer Authenticator-App ein." }
            form method="post" action="/anmelden/code" class="stack" {
                input type="hidden" name=(csrf::FIELD) value=(csrf_token);
                input type="hidden" name="vorgang" value=(pending);
                div class="field" {
                    label for="code" { "Code" }
                    input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required;
                }
                div class="actions" { button type="submit" { "Bestätigen" } }
            }
        }
    };
    let mut res = plain_page("Zweiter Faktor", content).into_response();
    super::allow_form_targets(state, &mut res, return_to);
    with_cookie(res, set_cookie)
}

#[derive(Deserialize, Default)]
pub(super) struct LoginQuery {
    weiter: Option<String>,
}

/// `GET /anmelden`
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let target = safe_return(q.weiter.as_deref().unwrap_or("/konto"));
    page(&state, &headers, &target, "", None, None)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    csrf: String,
    weiter: String,
    email: String,
    passwort: String,
}

/// Starts a session at `level` and redirects to `target` with the session cookie.
pub(super) async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    account: &Account,
    level: TrustLevel,
    amr: &[&str],
    target: &str,
) -> Response {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ttl = state.identity.config().session_ttl;
    match state
        .identity
        .accounts
        .start_session(&account.id, level, amr, agent, ttl)
        .await
    {
        Ok((token, _)) => with_cookie(
            Redirect::to(target).into_response(),
            session_cookie(state, &token, ttl.num_seconds()),
        ),
        Err(e) => {
            tracing::error!(error = %e, "session start failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Technischer Fehler",
                "Die Anmeldung ist gerade nicht möglich.",
            )
        }
    }
}

/// `POST /anmelden`
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let target = safe_return(&f.weiter);
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return page(
            &state,
            &headers,
            &target,
            &f.email,
            Some("Das Formular ist abgelaufen. Bitte versuchen Sie es erneut."),
            None,
        );
    }
    if let Some(limiter) = &state.login_limiter
        && limiter.check(limiter.client(&headers, peer)).is_err()
    {
        let mut res = page(
            &state,
            &headers,
            &target,
            &f.email,
            Some("Zu viele Anmeldeversuche von Ihrem Anschluss. Bitte warten Sie eine Minute."),
            None,
        );
        *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        res.headers_mut().insert(
            header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("60"),
        );
        return res;
    }
    let wrong = "E-Mail-Adresse oder Passwort ist falsch.";
    let account = state
        .identity
        .accounts
        .by_email(&f.email)
        .await
        .ok()
        .flatten();
    let hasher = state.identity.hasher();
    let Some(account) = account else {
        // Same work as for a real account, so timing does not reveal which addresses exist.
        let _ = hasher.verify(&f.passwort, &state.dummy_hash);
        return page(&state, &headers, &target, &f.email, Some(wrong), None);
    };
    if let Some(until) = account
        .locked_until
        .as_deref()
        .filter(|u| *u > rathaus_core::time::now_text().as_str())
    {
        let until = rathaus_core::time::parse_ts(until)
            .map(|t| t.format("%H:%M:%S UTC").to_string())
            .unwrap_or_default();
        return page(
            &state,
            &headers,
            &target,
            &f.email,
            Some(&format!(
                "Nach mehreren falschen Passwörtern ist das Konto vorübergehend gesperrt (bis {until}). Sie können Ihr Passwort zurücksetzen."
            )),
            None,
        );
    }
    let ok = account
        .password_hash
        .as_deref()
        .is_some_and(|h| hasher.verify(&f.passwort, h));
    if !ok {
        let _ = state.identity.accounts.login_failed(&account.id).await;
        return page(&state, &headers, &target, &f.email, Some(wrong), None);
    }
    let _ = state.identity.accounts.login_succeeded(&account.id).await;
    if let Some(h) = account.password_hash.as_deref()
        && hasher.needs_rehash(h)
        && let Ok(new) = hasher.hash(&f.passwort)
    {
        let _ = state
            .identity
            .accounts
            .set_password(&account.id, &new, &format!("account:{}", account.id))
            .await;
    }
    if !account.email_verified {
        return page(
            &state,
            &headers,
            &target,
            &f.email,
            Some(
                "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse über den Link, den wir Ihnen geschickt haben.",
            ),
            None,
        );
    }
    match super::passkey::has_second_factor(&state, &account).await {
        Ok(true) => return second_factor_page(&state, &headers, &account, &target, None).await,
        Ok(false) => {}
        Err(e) => {
            tracing::error!(error = %e, "second factor lookup failed");
            return super::technical_error();
        }
    }
    start_session(
        &state,
        &headers,
        &account,
        TrustLevel::Low,
        &["pwd"],
        &target,
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    csrf: String,
    vorgang: String,
    code: String,
}

/// `POST /anmelden/code`
pub async fn second_factor(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let expired = || {
        error_page(
            StatusCode::BAD_REQUEST,
            "Anmeldung abgelaufen",
            "Der Anmeldevorgang ist abgelaufen. Bitte melden Sie sich erneut an.",
        )
    };
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired();
    }
    let Some(pending) = state.identity.unseal("login-2fa", &f.vorgang) else {
        return expired();
    };
    let Some((account_id, target)) = pending.split_once('|') else {
        return expired();
    };
    let target = safe_return(target);
    let Ok(Some(account)) = state.identity.accounts.get(account_id).await else {
        return expired();
    };
    if let Some(limiter) = &state.login_limiter
        && limiter.check(limiter.client(&headers, peer)).is_err()
    {
        return second_factor_page(
            &state,
            &headers,
            &account,
            &target,
            Some("Zu viele Versuche. Bitte warten Sie eine Minute."),
        )
        .await;
    }
    let Some(secret) = account
        .totp_secret
        .as_deref()
        .and_then(|s| TotpSecret::from_base32(s, TOTP_ISSUER, &account.email).ok())
    else {
        return expired();
    };
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let step = secret.verify(&f.code, now, account.totp_last_step);
    let accepted = match step {
        Some(step) => state
            .identity
            .accounts
            .use_totp_step(&account.id, step)
            .await
            .unwrap_or(false),
        None => false,
    };
    if !accepted {
        let _ = state.identity.accounts.login_failed(&account.id).await;
        return second_factor_page(
            &state,
            &headers,
            &account,
            &target,
            Some("Der Code ist falsch oder wurde bereits verwendet."),
        )
        .await;
    }
    // A step-up ends the weaker session and starts a stronger one.
    if let Some((old, _)) = current(&state, &headers).await {
        let _ = state
            .identity
            .accounts
            .end_session(&old.account_id, &old.sid)
            .await;
    }
    start_session(
        &state,
        &headers,
        &account,
        TrustLevel::Substantial,
        &["pwd", "otp"],
        &target,
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct ReturnForm {
    csrf: String,
    weiter: String,
}

/// `POST /anmelden/extern`: starts the login at the upstream identity provider.
pub async fn upstream_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<ReturnForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired_form();
    }
    let Some(upstream) = &state.upstream else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Nicht verfügbar",
            "Es ist kein externer Identitätsanbieter eingerichtet.",
        );
    };
    let target = safe_return(&f.weiter);
    match upstream.start(&target).await {
        Ok((url, cookie_value)) => {
            let cookie = axum::http::HeaderValue::from_str(&format!(
                "rathaus_extern={cookie_value}; Path=/anmelden/extern; HttpOnly; SameSite=Lax; Max-Age=600{}",
                if state.config.secure_cookies { "; Secure" } else { "" }
            ))
            .ok();
            with_cookie(Redirect::to(&url).into_response(), cookie)
        }
        Err(e) => {
            tracing::warn!(error = %e, "upstream login could not start");
            error_page(
                StatusCode::BAD_GATEWAY,
                "Anmeldung nicht möglich",
                "Der externe Identitätsanbieter ist gerade nicht erreichbar.",
            )
        }
    }
}

#[derive(Deserialize)]
pub(super) struct UpstreamReturn {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /anmelden/extern/rueckkehr`: the upstream provider's answer.
pub async fn upstream_return(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<UpstreamReturn>,
) -> Response {
    let fail = |msg: &str| {
        with_cookie(
            error_page(StatusCode::BAD_REQUEST, "Anmeldung nicht möglich", msg),
            axum::http::HeaderValue::from_str(
                "rathaus_extern=; Path=/anmelden/extern; HttpOnly; SameSite=Lax; Max-Age=0",
            )
            .ok(),
        )
    };
    let Some(upstream) = &state.upstream else {
        return fail("Es ist kein externer Identitätsanbieter eingerichtet.");
    };
    if q.error.is_some() {
        return fail("Die Anmeldung beim externen Identitätsanbieter wurde abgebrochen.");
    }
    let (Some(code), Some(st), Some(cookie)) =
        (q.code, q.state, super::cookie(&headers, "rathaus_extern"))
    else {
        return fail("Die Rückkehr vom Identitätsanbieter ist unvollständig oder abgelaufen.");
    };
    let identity = match upstream.finish(&cookie, &st, &code).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "upstream login failed");
            return fail(
                "Die Anmeldung beim externen Identitätsanbieter konnte nicht geprüft werden.",
            );
        }
    };
    let account = match state
        .identity
        .upstream_account(upstream.provider_id(), &identity)
        .await
    {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "upstream account failed");
            return fail(&e.to_string());
        }
    };
    let target = safe_return(&identity.return_to);
    let level = identity.level;
    let res = start_session(&state, &headers, &account, level, &["fed"], &target).await;
    with_cookie(
        res,
        axum::http::HeaderValue::from_str(
            "rathaus_extern=; Path=/anmelden/extern; HttpOnly; SameSite=Lax; Max-Age=0",
        )
        .ok(),
    )
}

/// `POST /abmelden`
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<ReturnForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired_form();
    }
    if let Some((session, account)) = current(&state, &headers).await {
        let _ = state
            .identity
            .accounts
            .end_session(&account.id, &session.sid)
            .await;
    }
    let res = plain_page(
        "Abgemeldet",
        html! {
            h1 { "Sie sind abgemeldet" }
            p { a href="/anmelden" { "Erneut anmelden" } }
        },
    )
    .into_response();
    with_cookie(res, clear_session_cookie(&state))
}
