//! Passkeys (WebAuthn) on the web: adding and removing them on the account page, and
//! confirming a login with one (second factor, also for a step-up from `/oidc/authorize`).
//!
//! Each ceremony is two requests. The script `/assets/passkey.js` asks a JSON endpoint for the
//! options (`POST …/optionen`, form-encoded with the CSRF token), calls
//! `navigator.credentials.create/get`, writes the answer into hidden fields of the page's form
//! and submits it as an ordinary form post, which redirects like every other form. Without
//! JavaScript the passkey forms stay hidden and the TOTP code still works.

use super::login::{second_factor_page, start_session};
use super::{SignedIn, current, expired_form, safe_return, technical_error};
use crate::csrf;
use crate::html::layout::error_page;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use maud::{Markup, html};
use rathaus_identity::TrustLevel;
use rathaus_identity::accounts::Account;
use rathaus_identity::passkeys::{Challenge, PasskeyError, PasskeyInfo};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;

/// Methods (`amr`, RFC 8176) of a login confirmed with a passkey: password and a
/// hardware-secured key.
pub(super) const PASSKEY_AMR: &[&str] = &["pwd", "hwk"];

/// Whether `account` must present a second factor after the password (TOTP, or a passkey
/// while passkeys can be used at all on this installation).
pub(super) async fn has_second_factor(
    state: &AppState,
    account: &Account,
) -> Result<bool, rathaus_identity::IdentityError> {
    Ok(account.has_totp() || uses_passkeys(state, account).await?)
}

/// Whether a passkey of `account` can be asked for.
pub(super) async fn uses_passkeys(
    state: &AppState,
    account: &Account,
) -> Result<bool, rathaus_identity::IdentityError> {
    let passkeys = &state.identity.passkeys;
    Ok(passkeys.available() && passkeys.has_any(&account.id).await?)
}

/// A JSON error `{"fehler": "…"}` for the script.
fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "fehler": message }))).into_response()
}

/// The options for the script: `{"vorgang": …, "optionen": {"publicKey": …}}`.
fn challenge_json(c: Challenge) -> Response {
    let mut res = Json(json!({ "vorgang": c.ceremony, "optionen": c.options })).into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

fn passkey_json_error(e: &PasskeyError) -> Response {
    if e.is_user_error() {
        json_error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
    } else {
        tracing::error!(error = %e, "passkey options failed");
        json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Technischer Fehler. Bitte versuchen Sie es später erneut.",
        )
    }
}

/// The passkey part of the account overview: the list with remove buttons and the form that
/// `passkey.js` turns into a registration.
pub(super) fn account_section(
    state: &AppState,
    csrf_token: &str,
    passkeys: &[PasskeyInfo],
) -> Markup {
    html! {
        h2 id="passkeys" { "Passkeys" }
        p { "Mit einem Passkey bestätigen Sie Ihre Anmeldung nach dem Passwort per Fingerabdruck, Gesichtserkennung, PIN oder Sicherheitsschlüssel. Anmeldungen erreichen damit das Vertrauensniveau substanziell." }
        @if passkeys.is_empty() {
            p { "Sie haben noch keinen Passkey eingerichtet." }
        } @else {
            table {
                caption class="visually-hidden" { "Ihre Passkeys" }
                thead { tr { th scope="col" { "Bezeichnung" } th scope="col" { "Eingerichtet" } th scope="col" { "Zuletzt verwendet" } th scope="col" { span class="visually-hidden" { "Aktion" } } } }
                tbody {
                    @for p in passkeys {
                        tr {
                            td { (p.name) }
                            td { (p.created_at) }
                            td { (p.last_used_at.as_deref().unwrap_or("noch nie")) }
                            td {
                                form method="post" action="/konto/passkeys/entfernen" {
                                    input type="hidden" name=(csrf::FIELD) value=(csrf_token);
                                    input type="hidden" name="id" value=(p.id);
                                    button type="submit" class="secondary" aria-label={ "Passkey „" (p.name) "“ entfernen" } { "Entfernen" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if state.identity.passkeys.available() {
            form method="post" action="/konto/passkeys" class="stack" id="passkey-hinzufuegen"
                data-passkey="create" data-optionen="/konto/passkeys/optionen" hidden {
                input type="hidden" name=(csrf::FIELD) value=(csrf_token);
                input type="hidden" name="passkey_vorgang" value="";
                input type="hidden" name="antwort" value="";
                div class="error-summary" role="alert" data-passkey-fehler hidden {}
                div class="field" {
                    label for="passkey-bezeichnung" { "Bezeichnung des neuen Passkeys (z. B. „Laptop“)" }
                    input id="passkey-bezeichnung" name="bezeichnung" type="text" maxlength="60" autocomplete="off";
                }
                div class="actions" { button type="submit" { "Passkey hinzufügen" } }
            }
            p data-passkey-nicht-unterstuetzt hidden { "Ihr Browser unterstützt keine Passkeys." }
            noscript { p { "Zum Hinzufügen eines Passkeys wird JavaScript benötigt." } }
            script src="/assets/passkey.js" defer {}
        } @else {
            p { "Passkeys sind auf dieser Installation nicht verfügbar (sie braucht einen Domainnamen)." }
        }
    }
}

/// The passkey part of the second-factor page: the button "Mit Passkey bestätigen".
pub(super) fn login_section(csrf_token: &str, pending: &str, with_totp: bool) -> Markup {
    html! {
        form method="post" action="/anmelden/passkey" class="stack" id="passkey-anmelden"
            data-passkey="get" data-optionen="/anmelden/passkey/optionen" hidden {
            input type="hidden" name=(csrf::FIELD) value=(csrf_token);
            input type="hidden" name="vorgang" value=(pending);
            input type="hidden" name="passkey_vorgang" value="";
            input type="hidden" name="antwort" value="";
            p { "Bestätigen Sie die Anmeldung mit Ihrem Passkey." }
            div class="error-summary" role="alert" data-passkey-fehler hidden {}
            div class="actions" { button type="submit" { "Mit Passkey bestätigen" } }
        }
        p data-passkey-nicht-unterstuetzt hidden {
            "Ihr Browser unterstützt keine Passkeys."
            @if with_totp { " Bitte verwenden Sie den Code aus Ihrer Authenticator-App." }
        }
        noscript {
            p {
                "Für die Bestätigung mit Passkey wird JavaScript benötigt."
                @if with_totp { " Sie können stattdessen den Code aus Ihrer Authenticator-App verwenden." }
            }
        }
        script src="/assets/passkey.js" defer {}
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

/// `POST /konto/passkeys/optionen`: options for registering a passkey (JSON).
pub async fn register_options(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let Some((_, account)) = current(&state, &headers).await else {
        return json_error(StatusCode::UNAUTHORIZED, "Bitte melden Sie sich an.");
    };
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return json_error(
            StatusCode::FORBIDDEN,
            "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu.",
        );
    }
    match state.identity.passkeys.start_registration(&account).await {
        Ok(c) => challenge_json(c),
        Err(e) => passkey_json_error(&e),
    }
}

#[derive(Deserialize)]
pub(super) struct RegisterForm {
    csrf: String,
    passkey_vorgang: String,
    antwort: String,
    #[serde(default)]
    bezeichnung: String,
}

/// `POST /konto/passkeys`: stores the new passkey from the browser's answer.
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(session, account): SignedIn,
    Form(f): Form<RegisterForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired_form();
    }
    match state
        .identity
        .passkeys
        .finish_registration(&account.id, &f.passkey_vorgang, &f.bezeichnung, &f.antwort)
        .await
    {
        Ok(_) => Redirect::to("/konto?hinweis=passkey").into_response(),
        Err(e) if e.is_user_error() => {
            if let PasskeyError::Refused { detail, .. } = &e {
                tracing::info!(account = %account.id, %detail, "passkey registration refused");
            }
            let message = format!("Der Passkey wurde nicht gespeichert: {e}");
            super::account::overview_with_error(
                &state,
                &headers,
                &session,
                &account,
                &message,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %e, "passkey registration failed");
            technical_error()
        }
    }
}

#[derive(Deserialize)]
pub(super) struct RemoveForm {
    csrf: String,
    id: String,
}

/// `POST /konto/passkeys/entfernen`
pub async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(session, account): SignedIn,
    Form(f): Form<RemoveForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired_form();
    }
    let Ok(own) = state.identity.passkeys.list(&account.id).await else {
        return technical_error();
    };
    if !own.iter().any(|p| p.id == f.id) {
        return error_page(
            StatusCode::NOT_FOUND,
            "Passkey nicht gefunden",
            "Diesen Passkey gibt es in Ihrem Konto nicht (mehr).",
        );
    }
    // Removing a factor needs a session that used a second factor (as for TOTP).
    if !session.amr.iter().any(|m| m == "otp" || m == "hwk") {
        return super::account::overview_with_error(
            &state,
            &headers,
            &session,
            &account,
            "Bitte melden Sie sich zuerst mit dem zweiten Faktor an, um einen Passkey zu entfernen.",
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    match state.identity.passkeys.remove(&account.id, &f.id).await {
        Ok(()) => Redirect::to("/konto?hinweis=passkey-entfernt").into_response(),
        Err(PasskeyError::NotFound) => error_page(
            StatusCode::NOT_FOUND,
            "Passkey nicht gefunden",
            "Diesen Passkey gibt es in Ihrem Konto nicht (mehr).",
        ),
        Err(e) => {
            tracing::error!(error = %e, "passkey removal failed");
            technical_error()
        }
    }
}

/// The account and return target of a sealed login step (`vorgang`), if valid.
async fn pending_login(state: &AppState, sealed: &str) -> Option<(Account, String)> {
    let pending = state.identity.unseal("login-2fa", sealed)?;
    let (account_id, target) = pending.split_once('|')?;
    let account = state.identity.accounts.get(account_id).await.ok()??;
    Some((account, safe_return(target)))
}

#[derive(Deserialize)]
pub(super) struct LoginOptionsForm {
    csrf: String,
    vorgang: String,
}

/// `POST /anmelden/passkey/optionen`: options for confirming a login (JSON). Needs the sealed
/// login step of the second-factor page, i.e. a correct password (or a session to raise).
pub async fn login_options(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginOptionsForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return json_error(
            StatusCode::FORBIDDEN,
            "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu.",
        );
    }
    let Some((account, _)) = pending_login(&state, &f.vorgang).await else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "Der Anmeldevorgang ist abgelaufen. Bitte melden Sie sich erneut an.",
        );
    };
    match state
        .identity
        .passkeys
        .start_authentication(&account.id)
        .await
    {
        Ok(c) => challenge_json(c),
        Err(e) => passkey_json_error(&e),
    }
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    csrf: String,
    vorgang: String,
    passkey_vorgang: String,
    antwort: String,
}

/// `POST /anmelden/passkey`: checks the passkey's answer and starts a session at level
/// substantial (`amr` `pwd hwk`); a step-up ends the weaker session.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
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
    let Some((account, target)) = pending_login(&state, &f.vorgang).await else {
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
    match state
        .identity
        .passkeys
        .finish_authentication(&account.id, &f.passkey_vorgang, &f.antwort)
        .await
    {
        Ok(_) => {}
        Err(e) if e.is_user_error() => {
            if let PasskeyError::Refused { detail, .. } = &e {
                tracing::info!(account = %account.id, %detail, "passkey login refused");
            }
            let _ = state.identity.accounts.login_failed(&account.id).await;
            let message = format!("Die Bestätigung mit Passkey ist fehlgeschlagen: {e}");
            return second_factor_page(&state, &headers, &account, &target, Some(&message)).await;
        }
        Err(e) => {
            tracing::error!(error = %e, "passkey login failed");
            return technical_error();
        }
    }
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
        PASSKEY_AMR,
        &target,
    )
    .await
}
