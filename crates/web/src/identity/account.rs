//! The account pages: overview and profile, registration with e-mail confirmation, password
//! reset, second factor, sessions, data export and deletion.

use super::login::TOTP_ISSUER;
use super::{SignedIn, clear_session_cookie, expired_form, technical_error};
use crate::csrf;
use crate::html::layout::{error_page, plain_page};
use crate::state::AppState;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use maud::{Markup, html};
use rathaus_identity::IdentityError;
use rathaus_identity::accounts::{
    Account, AccountKind, Address, MailPurpose, NewAccount, Profile, Session,
};
use rathaus_identity::grants::ConsentInfo;
use rathaus_identity::passkeys::PasskeyInfo;
use rathaus_identity::password::check_policy;
use rathaus_identity::totp::TotpSecret;
use rathaus_storage::StorageError;
use serde::Deserialize;
use std::net::SocketAddr;

fn respond(
    state: &AppState,
    headers: &HeaderMap,
    title: &str,
    status: StatusCode,
    body: impl FnOnce(&str) -> Markup,
) -> Response {
    let (token, set_cookie) = csrf::token(
        headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let mut res = (status, plain_page(title, body(&token))).into_response();
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn alert(msg: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = msg {
            div class="error-summary" role="alert" { p { (m) } }
        }
    }
}

fn notice(msg: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = msg {
            div class="notice" role="status" { p { (m) } }
        }
    }
}

fn field(id: &str, label: &str, kind: &str, value: &str, autocomplete: &str) -> Markup {
    html! {
        div class="field" {
            label for=(id) { (label) }
            input id=(id) name=(id) type=(kind) value=(value) autocomplete=(autocomplete);
        }
    }
}

async fn mail_link(
    state: &AppState,
    account: &Account,
    purpose: MailPurpose,
) -> Result<(), IdentityError> {
    let (valid, path, subject, text) = match purpose {
        MailPurpose::VerifyEmail => (
            Duration::hours(48),
            "/konto/bestaetigen",
            "Bitte bestätigen Sie Ihre E-Mail-Adresse",
            "Bitte bestätigen Sie Ihre E-Mail-Adresse für das Servicekonto",
        ),
        MailPurpose::ResetPassword => (
            Duration::hours(1),
            "/konto/passwort-neu",
            "Neues Passwort für Ihr Servicekonto",
            "Sie können ein neues Passwort für Ihr Servicekonto festlegen",
        ),
    };
    let token = state
        .identity
        .accounts
        .mail_token(&account.id, purpose, valid)
        .await?;
    let link = format!("{}{path}?token={token}", state.identity.issuer());
    let body = format!(
        "Guten Tag,\n\n{text}:\n\n{link}\n\nDer Link gilt {} Stunde(n) und nur einmal. Wenn Sie das nicht veranlasst haben, ignorieren Sie diese Nachricht.\n",
        valid.num_hours()
    );
    state.outbox.send(&account.email, subject, &body).await?;
    Ok(())
}

#[derive(Deserialize, Default)]
pub(super) struct Flash {
    hinweis: Option<String>,
}

fn flash_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "profil" => "Ihre Angaben wurden gespeichert.",
        "zwei-faktor" => {
            "Der zweite Faktor ist eingerichtet. Künftige Anmeldungen erreichen das Vertrauensniveau substanziell."
        }
        "zwei-faktor-entfernt" => "Der zweite Faktor wurde entfernt.",
        "sitzung" => "Die Sitzung wurde beendet.",
        "freigabe" => {
            "Die Freigabe wurde widerrufen; die Anwendung muss Sie erneut um Zustimmung bitten."
        }
        "passkey" => {
            "Der Passkey ist eingerichtet. Künftige Anmeldungen fragen nach dem Passwort nach ihm und erreichen das Vertrauensniveau substanziell."
        }
        "passkey-entfernt" => "Der Passkey wurde entfernt.",
        _ => return None,
    })
}

/// What the overview page reports besides the account.
struct Messages<'a> {
    notice: Option<&'a str>,
    error: Option<&'a str>,
    status: StatusCode,
}

fn overview_page(
    state: &AppState,
    headers: &HeaderMap,
    session: &Session,
    account: &Account,
    x: &Extras,
    m: Messages<'_>,
) -> Response {
    let (sessions, passkeys) = (&x.sessions, &x.passkeys);
    let p = &account.profile;
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    respond(
        state,
        headers,
        "Mein Servicekonto",
        m.status,
        |csrf_token| {
            html! {
                h1 { "Mein Servicekonto" }
                (notice(m.notice))
                (alert(m.error))
                dl class="facts" {
                    dt { "E-Mail" } dd { (account.email) }
                    dt { "Kontoart" } dd { (match account.kind { AccountKind::Person => "Bürgerkonto", AccountKind::Organisation => "Unternehmenskonto" }) }
                    dt { "Vertrauensniveau dieser Anmeldung" } dd { (session.level.label()) }
                    dt { "Zweiter Faktor" } dd { (match (account.has_totp(), passkeys.len()) { (false, 0) => "nicht eingerichtet".to_owned(), (true, 0) => "eingerichtet (Authenticator-App)".to_owned(), (false, 1) => "eingerichtet (Passkey)".to_owned(), (false, n) => format!("eingerichtet ({n} Passkeys)"), (true, 1) => "eingerichtet (Authenticator-App und Passkey)".to_owned(), (true, n) => format!("eingerichtet (Authenticator-App und {n} Passkeys)") }) }
                }
                (x.applications)
                h2 { "Persönliche Angaben" }
                p { "Online-Formulare können diese Angaben mit Ihrer Zustimmung vorausfüllen." }
                form method="post" action="/konto/profil" class="stack" {
                    input type="hidden" name=(csrf::FIELD) value=(csrf_token);
                    input type="hidden" name="version" value=(account.version);
                    (field("given_name", "Vorname", "text", &v(&p.given_name), "given-name"))
                    (field("family_name", "Nachname", "text", &v(&p.family_name), "family-name"))
                    (field("birthdate", "Geburtsdatum (JJJJ-MM-TT)", "date", &v(&p.birthdate), "bday"))
                    (field("street", "Straße und Hausnummer", "text", &v(&p.address.street), "street-address"))
                    (field("postal_code", "Postleitzahl", "text", &v(&p.address.postal_code), "postal-code"))
                    (field("locality", "Ort", "text", &v(&p.address.locality), "address-level2"))
                    div class="actions" { button type="submit" { "Angaben speichern" } }
                }
                h2 { "Sicherheit" }
                ul {
                    li { a href="/konto/zwei-faktor" { (if account.has_totp() { "Zweiten Faktor verwalten" } else { "Zweiten Faktor einrichten" }) } }
                    li { a href="/konto/passwort-vergessen" { "Passwort ändern" } }
                }
                (super::passkey::account_section(state, csrf_token, passkeys))
                h2 { "Angemeldete Geräte" }
                table {
                    caption class="visually-hidden" { "Ihre aktiven Sitzungen" }
                    thead { tr { th scope="col" { "Seit" } th scope="col" { "Browser" } th scope="col" { "Niveau" } th scope="col" { span class="visually-hidden" { "Aktion" } } } }
                    tbody {
                        @for s in sessions {
                            tr {
                                td { (s.created_at) }
                                td { (s.user_agent) }
                                td { (s.level.as_str()) }
                                td {
                                    @if s.sid == session.sid {
                                        "diese Sitzung"
                                    } @else {
                                        form method="post" action="/konto/sitzungen/beenden" {
                                            input type="hidden" name=(csrf::FIELD) value=(csrf_token);
                                            input type="hidden" name="sid" value=(s.sid);
                                            button type="submit" class="secondary" aria-label={ "Sitzung seit " (s.created_at) " beenden" } { "Beenden" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !x.organisations.is_empty() {
                    h2 { "Unternehmenskonten" }
                    ul {
                        @for (org, role) in &x.organisations {
                            li {
                                a href={ "/konto/organisation/" (org.id) } { (org.profile.organisation_name.as_deref().unwrap_or(&org.email)) }
                                " (" (if role == "admin" { "Administration" } else { "Mitglied" }) ")"
                            }
                        }
                    }
                }
                h2 { "Freigaben für Anwendungen" }
                @if x.consents.is_empty() {
                    p { "Sie haben noch keiner Anwendung Zugriff gegeben." }
                } @else {
                    table {
                        caption class="visually-hidden" { "Anwendungen mit Ihrer Zustimmung" }
                        thead { tr { th scope="col" { "Anwendung" } th scope="col" { "Angaben" } th scope="col" { "Seit" } th scope="col" { span class="visually-hidden" { "Aktion" } } } }
                        tbody {
                            @for c in &x.consents {
                                tr {
                                    td { (c.client_name) }
                                    td { (c.scopes.split_ascii_whitespace().map(rathaus_identity::scope::describe).collect::<Vec<_>>().join(", ")) }
                                    td { (c.granted_at) }
                                    td {
                                        form method="post" action="/konto/freigaben/widerrufen" {
                                            input type="hidden" name=(csrf::FIELD) value=(csrf_token);
                                            input type="hidden" name="client_id" value=(c.client_id);
                                            button type="submit" class="secondary" aria-label={ "Freigabe für " (c.client_name) " widerrufen" } { "Widerrufen" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                h2 { "Ihre Daten" }
                ul {
                    li { a href="/konto/export" download="servicekonto.json" { "Alle gespeicherten Daten herunterladen (JSON)" } }
                    li { a href="/konto/loeschen" { "Konto löschen" } }
                }
                form method="post" action="/abmelden" {
                    input type="hidden" name=(csrf::FIELD) value=(csrf_token);
                    input type="hidden" name="weiter" value="/konto";
                    button type="submit" class="secondary" { "Abmelden" }
                }
            }
        },
    )
}

/// What the overview shows besides the account itself.
struct Extras {
    sessions: Vec<Session>,
    passkeys: Vec<PasskeyInfo>,
    organisations: Vec<(Account, String)>,
    consents: Vec<ConsentInfo>,
    applications: maud::Markup,
}

async fn render_overview(
    state: &AppState,
    headers: &HeaderMap,
    session: &Session,
    account: &Account,
    m: Messages<'_>,
) -> Response {
    let id = &account.id;
    let x = Extras {
        sessions: state
            .identity
            .accounts
            .sessions(id)
            .await
            .unwrap_or_default(),
        passkeys: state.identity.passkeys.list(id).await.unwrap_or_default(),
        organisations: state
            .identity
            .accounts
            .memberships(id)
            .await
            .unwrap_or_default(),
        consents: state.identity.grants.consents(id).await.unwrap_or_default(),
        applications: crate::forms::account::section(state, id).await,
    };
    overview_page(state, headers, session, account, &x, m)
}

/// `GET /konto`
pub async fn overview(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(session, account): SignedIn,
    Query(f): Query<Flash>,
) -> Response {
    let m = Messages {
        notice: flash_text(f.hinweis.as_deref()),
        error: None,
        status: StatusCode::OK,
    };
    render_overview(&state, &headers, &session, &account, m).await
}

/// The overview with an error message (for forms posted from it).
pub(super) async fn overview_with_error(
    state: &AppState,
    headers: &HeaderMap,
    session: &Session,
    account: &Account,
    message: &str,
    status: StatusCode,
) -> Response {
    render_overview(
        state,
        headers,
        session,
        account,
        Messages {
            notice: None,
            error: Some(message),
            status,
        },
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct ProfileForm {
    csrf: String,
    version: i64,
    given_name: String,
    family_name: String,
    birthdate: String,
    street: String,
    postal_code: String,
    locality: String,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.chars().take(200).collect())
}

/// `POST /konto/profil`
pub async fn save_profile(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(session, account): SignedIn,
    Form(f): Form<ProfileForm>,
) -> Response {
    let fail = |msg: &str, status| {
        let state = state.clone();
        let headers = headers.clone();
        let (session, account) = (session.clone(), account.clone());
        let msg = msg.to_owned();
        async move { overview_with_error(&state, &headers, &session, &account, &msg, status).await }
    };
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return fail(
            "Das Formular ist abgelaufen. Bitte versuchen Sie es erneut.",
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let birthdate = opt(&f.birthdate);
    if birthdate
        .as_deref()
        .is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err())
    {
        return fail(
            "Bitte geben Sie das Geburtsdatum als JJJJ-MM-TT an.",
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let profile = Profile {
        given_name: opt(&f.given_name),
        family_name: opt(&f.family_name),
        birthdate,
        address: Address {
            street: opt(&f.street),
            postal_code: opt(&f.postal_code),
            locality: opt(&f.locality),
            country: Some("DE".into()),
        },
        organisation_name: account.profile.organisation_name.clone(),
    };
    match state.identity.accounts.update_profile(&account.id, f.version, &profile).await {
        Ok(()) => Redirect::to("/konto?hinweis=profil").into_response(),
        Err(IdentityError::Storage(StorageError::VersionMismatch { .. })) => {
            fail("Ihre Angaben wurden inzwischen an anderer Stelle geändert. Bitte prüfen Sie die aktuellen Angaben und speichern Sie erneut.", StatusCode::CONFLICT).await
        }
        Err(_) => fail("Die Angaben konnten nicht gespeichert werden.", StatusCode::INTERNAL_SERVER_ERROR).await,
    }
}

fn register_page(
    state: &AppState,
    headers: &HeaderMap,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    respond(state, headers, "Servicekonto anlegen", status, |t| {
        html! {
            h1 { "Servicekonto anlegen" }
            (alert(error))
            form method="post" action="/konto/registrieren" class="stack" novalidate {
                input type="hidden" name=(csrf::FIELD) value=(t);
                fieldset {
                    legend { "Kontoart" }
                    div class="choice" { input type="radio" id="art-person" name="art" value="person" checked; label for="art-person" { "Bürgerkonto (für Privatpersonen)" } }
                    div class="choice" { input type="radio" id="art-organisation" name="art" value="organisation"; label for="art-organisation" { "Unternehmenskonto (für Firmen und Vereine)" } }
                }
                (field("organisation", "Name des Unternehmens (nur Unternehmenskonto)", "text", "", "organization"))
                (field("email", "E-Mail", "email", email, "email"))
                div class="field" {
                    label for="passwort" { "Passwort" }
                    p id="passwort-hinweis" class="hint" { "Mindestens 10 Zeichen; keine bekannten oder leicht zu erratenden Passwörter." }
                    input id="passwort" name="passwort" type="password" autocomplete="new-password" aria-describedby="passwort-hinweis";
                }
                div class="actions" { button type="submit" { "Konto anlegen" } }
            }
        }
    })
}

/// `GET /konto/registrieren`
pub async fn register_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    register_page(&state, &headers, "", None, StatusCode::OK)
}

#[derive(Deserialize)]
pub(super) struct RegisterForm {
    csrf: String,
    art: String,
    organisation: Option<String>,
    email: String,
    passwort: String,
}

/// `POST /konto/registrieren`
pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<RegisterForm>,
) -> Response {
    let again = |msg: &str, status| register_page(&state, &headers, &f.email, Some(msg), status);
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return again(
            "Das Formular ist abgelaufen. Bitte senden Sie es erneut.",
            StatusCode::FORBIDDEN,
        );
    }
    if let Some(limiter) = &state.login_limiter
        && limiter.check(limiter.client(&headers, peer)).is_err()
    {
        return again(
            "Zu viele Anfragen von Ihrem Anschluss. Bitte warten Sie eine Minute.",
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let email = match rathaus_identity::accounts::normalise_email(&f.email) {
        Ok(e) => e,
        Err(e) => return again(&e.to_string(), StatusCode::UNPROCESSABLE_ENTITY),
    };
    if let Err(reason) = check_policy(&f.passwort, &[&email]) {
        return again(&reason, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let kind = if f.art == "organisation" {
        AccountKind::Organisation
    } else {
        AccountKind::Person
    };
    let organisation_name = f.organisation.as_deref().and_then(opt);
    if kind == AccountKind::Organisation && organisation_name.is_none() {
        return again(
            "Bitte geben Sie den Namen des Unternehmens an.",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let hash = match state.identity.hasher().hash(&f.passwort) {
        Ok(h) => h,
        Err(_) => return again("Technischer Fehler.", StatusCode::INTERNAL_SERVER_ERROR),
    };
    let new = NewAccount {
        kind,
        email: email.clone(),
        password_hash: Some(hash),
        profile: Profile {
            organisation_name,
            ..Profile::default()
        },
        email_verified: false,
    };
    let done = html! {
        h1 { "Fast geschafft" }
        p { "Wir haben eine Nachricht an " strong { (email) } " geschickt. Bitte bestätigen Sie Ihre E-Mail-Adresse über den Link darin; danach können Sie sich anmelden." }
    };
    match state.identity.accounts.create(&new, "anonymous").await {
        Ok(account) => {
            if let Err(e) = mail_link(&state, &account, MailPurpose::VerifyEmail).await {
                tracing::error!(error = %e, "confirmation mail failed");
            }
            plain_page("Bitte E-Mail bestätigen", done).into_response()
        }
        // Do not reveal whether the address already has an account: answer the same.
        Err(IdentityError::Storage(StorageError::Conflict(_))) => {
            plain_page("Bitte E-Mail bestätigen", done).into_response()
        }
        Err(e) => again(&e.to_string(), StatusCode::UNPROCESSABLE_ENTITY),
    }
}

#[derive(Deserialize)]
pub(super) struct TokenQuery {
    token: Option<String>,
}

/// `GET /konto/bestaetigen?token=…`
pub async fn confirm(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let account = match q.token {
        Some(t) => state
            .identity
            .accounts
            .consume_mail_token(&t, MailPurpose::VerifyEmail)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    match account {
        Some(id) if state.identity.accounts.confirm_email(&id).await.is_ok() => plain_page(
            "E-Mail bestätigt",
            html! { h1 { "E-Mail-Adresse bestätigt" } p { "Sie können sich jetzt anmelden." } p { a href="/anmelden" { "Zur Anmeldung" } } },
        )
        .into_response(),
        _ => error_page(StatusCode::BAD_REQUEST, "Link ungültig", "Der Bestätigungslink ist ungültig, abgelaufen oder wurde bereits verwendet."),
    }
}

fn forgot_page(state: &AppState, headers: &HeaderMap, sent: bool) -> Response {
    respond(state, headers, "Passwort vergessen", StatusCode::OK, |t| {
        html! {
            h1 { "Passwort vergessen" }
            @if sent {
                (notice(Some("Wenn zu dieser Adresse ein Konto besteht, haben wir einen Link zum Festlegen eines neuen Passworts geschickt.")))
            }
            form method="post" action="/konto/passwort-vergessen" class="stack" {
                input type="hidden" name=(csrf::FIELD) value=(t);
                (field("email", "E-Mail", "email", "", "email"))
                div class="actions" { button type="submit" { "Link anfordern" } }
            }
        }
    })
}

/// `GET /konto/passwort-vergessen`
pub async fn forgot_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    forgot_page(&state, &headers, false)
}

#[derive(Deserialize)]
pub(super) struct EmailForm {
    csrf: String,
    email: String,
}

/// `POST /konto/passwort-vergessen`
pub async fn forgot(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<EmailForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired_form();
    }
    let limited = state
        .login_limiter
        .as_ref()
        .is_some_and(|l| l.check(l.client(&headers, peer)).is_err());
    if !limited
        && let Ok(Some(account)) = state.identity.accounts.by_email(&f.email).await
        && let Err(e) = mail_link(&state, &account, MailPurpose::ResetPassword).await
    {
        tracing::error!(error = %e, "reset mail failed");
    }
    forgot_page(&state, &headers, true)
}

fn reset_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    respond(state, headers, "Neues Passwort", status, |t| {
        html! {
            h1 { "Neues Passwort festlegen" }
            (alert(error))
            form method="post" action="/konto/passwort-neu" class="stack" {
                input type="hidden" name=(csrf::FIELD) value=(t);
                input type="hidden" name="token" value=(token);
                (field("passwort", "Neues Passwort", "password", "", "new-password"))
                div class="actions" { button type="submit" { "Passwort speichern" } }
            }
        }
    })
}

/// `GET /konto/passwort-neu?token=…`
pub async fn reset_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    reset_page(
        &state,
        &headers,
        q.token.as_deref().unwrap_or(""),
        None,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub(super) struct ResetForm {
    csrf: String,
    token: String,
    passwort: String,
}

/// `POST /konto/passwort-neu`
pub async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<ResetForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return reset_page(
            &state,
            &headers,
            &f.token,
            Some("Das Formular ist abgelaufen."),
            StatusCode::FORBIDDEN,
        );
    }
    // Check the password before using up the link, so a refused password keeps the link valid.
    if let Err(reason) = check_policy(&f.passwort, &[]) {
        return reset_page(
            &state,
            &headers,
            &f.token,
            Some(&reason),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let Ok(Some(id)) = state
        .identity
        .accounts
        .consume_mail_token(&f.token, MailPurpose::ResetPassword)
        .await
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Link ungültig",
            "Der Link ist ungültig, abgelaufen oder wurde bereits verwendet.",
        );
    };
    let Ok(Some(account)) = state.identity.accounts.get(&id).await else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Link ungültig",
            "Das Konto existiert nicht mehr.",
        );
    };
    if let Err(reason) = check_policy(&f.passwort, &[&account.email]) {
        return reset_page(
            &state,
            &headers,
            &f.token,
            Some(&reason),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let Ok(hash) = state.identity.hasher().hash(&f.passwort) else {
        return technical_error();
    };
    if state
        .identity
        .accounts
        .set_password(&id, &hash, &format!("account:{id}"))
        .await
        .is_err()
    {
        return technical_error();
    }
    // A reset ends every session: whoever knew the old password is logged out.
    for s in state
        .identity
        .accounts
        .sessions(&id)
        .await
        .unwrap_or_default()
    {
        let _ = state.identity.accounts.end_session(&id, &s.sid).await;
    }
    // Confirming by mail link also proves the address.
    let _ = state.identity.accounts.confirm_email(&id).await;
    plain_page(
        "Passwort geändert",
        html! { h1 { "Passwort geändert" } p { a href="/anmelden" { "Jetzt anmelden" } } },
    )
    .into_response()
}

fn totp_page(
    state: &AppState,
    headers: &HeaderMap,
    account: &Account,
    secret: Option<(&str, &str)>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    respond(state, headers, "Zweiter Faktor", status, |t| {
        html! {
            h1 { "Zweiter Faktor (Authenticator-App)" }
            (alert(error))
            @if account.has_totp() {
                p { "Ein zweiter Faktor ist eingerichtet." }
                form method="post" action="/konto/zwei-faktor/entfernen" {
                    input type="hidden" name=(csrf::FIELD) value=(t);
                    button type="submit" class="secondary" { "Zweiten Faktor entfernen" }
                }
            } @else if let Some((secret, uri)) = secret {
                p { "Richten Sie in Ihrer Authenticator-App ein neues Konto ein: öffnen Sie den Link auf dem Smartphone oder geben Sie den Schlüssel von Hand ein." }
                dl class="facts" {
                    dt { "Schlüssel" } dd { code id="totp-schluessel" { (secret) } }
                    dt { "Link" } dd { a href=(uri) { "In Authenticator-App öffnen" } }
                }
                form method="post" action="/konto/zwei-faktor" class="stack" {
                    input type="hidden" name=(csrf::FIELD) value=(t);
                    input type="hidden" name="schluessel" value=(state.identity.seal("totp-setup", &format!("{}|{secret}", account.id), Duration::minutes(15)));
                    div class="field" {
                        label for="code" { "Code aus der App" }
                        input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6";
                    }
                    div class="actions" { button type="submit" { "Einrichten" } }
                }
            }
            p { a href="/konto" { "Zurück zum Konto" } }
        }
    })
}

/// `GET /konto/zwei-faktor`
pub async fn totp_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
) -> Response {
    match TotpSecret::generate(TOTP_ISSUER, &account.email) {
        Ok(s) => totp_page(
            &state,
            &headers,
            &account,
            Some((&s.base32(), &s.uri())),
            None,
            StatusCode::OK,
        ),
        Err(_) => technical_error(),
    }
}

#[derive(Deserialize)]
pub(super) struct TotpForm {
    csrf: String,
    schluessel: String,
    code: String,
}

/// `POST /konto/zwei-faktor`
pub async fn totp_enable(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Form(f): Form<TotpForm>,
) -> Response {
    let sealed = state.identity.unseal("totp-setup", &f.schluessel);
    let secret = sealed
        .as_deref()
        .and_then(|v| v.split_once('|'))
        .filter(|(id, _)| *id == account.id)
        .and_then(|(_, s)| TotpSecret::from_base32(s, TOTP_ISSUER, &account.email).ok());
    let Some(secret) =
        secret.filter(|_| csrf::verify(&headers, &f.csrf, &state.config.csrf_secret))
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Einrichtung abgelaufen",
            "Bitte beginnen Sie die Einrichtung erneut.",
        );
    };
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let Some(step) = secret.verify(&f.code, now, None) else {
        let (b, u) = (secret.base32(), secret.uri());
        return totp_page(
            &state,
            &headers,
            &account,
            Some((&b, &u)),
            Some(
                "Der Code stimmt nicht. Bitte prüfen Sie die Uhrzeit Ihres Geräts und versuchen Sie es erneut.",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    if state
        .identity
        .accounts
        .set_totp(&account.id, Some(&secret.base32()))
        .await
        .is_err()
        || state
            .identity
            .accounts
            .use_totp_step(&account.id, step)
            .await
            .is_err()
    {
        return technical_error();
    }
    Redirect::to("/konto?hinweis=zwei-faktor").into_response()
}

#[derive(Deserialize)]
pub(super) struct CsrfOnly {
    csrf: String,
}

/// `POST /konto/zwei-faktor/entfernen`
pub async fn totp_disable(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(session, account): SignedIn,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired_form();
    }
    // Removing the factor needs a session that used it.
    if !session.amr.iter().any(|m| m == "otp") {
        return totp_page(
            &state,
            &headers,
            &account,
            None,
            Some("Bitte melden Sie sich zuerst mit dem zweiten Faktor an."),
            StatusCode::FORBIDDEN,
        );
    }
    match state.identity.accounts.set_totp(&account.id, None).await {
        Ok(()) => Redirect::to("/konto?hinweis=zwei-faktor-entfernt").into_response(),
        Err(_) => technical_error(),
    }
}

#[derive(Deserialize)]
pub(super) struct SessionForm {
    csrf: String,
    sid: String,
}

/// `POST /konto/sitzungen/beenden`
pub async fn end_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Form(f): Form<SessionForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired_form();
    }
    let _ = state
        .identity
        .accounts
        .end_session(&account.id, &f.sid)
        .await;
    Redirect::to("/konto?hinweis=sitzung").into_response()
}

/// `GET /konto/export`: everything stored about the account (DSGVO Art. 15/20).
pub async fn export(State(state): State<AppState>, SignedIn(_, account): SignedIn) -> Response {
    let passkeys = state.identity.passkeys.list(&account.id).await;
    match (state.identity.accounts.export(&account.id).await, passkeys) {
        (Ok(mut v), Ok(passkeys)) => {
            v["second_factor"]["passkeys"] = serde_json::json!(passkeys);
            let mut res = axum::Json(v).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"servicekonto.json\""),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        _ => technical_error(),
    }
}

fn delete_page(
    state: &AppState,
    headers: &HeaderMap,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    respond(state, headers, "Konto löschen", status, |t| {
        html! {
            h1 { "Servicekonto löschen" }
            (alert(error))
            p { "Das Löschen entfernt Ihr Konto mit allen persönlichen Angaben, Sitzungen, Zustimmungen und verknüpften Identitäten. Laden Sie vorher Ihre Daten herunter, wenn Sie sie behalten möchten." }
            form method="post" action="/konto/loeschen" class="stack" {
                input type="hidden" name=(csrf::FIELD) value=(t);
                (field("passwort", "Zur Bestätigung: Ihr Passwort", "password", "", "current-password"))
                div class="actions" { button type="submit" { "Konto endgültig löschen" } }
            }
        }
    })
}

/// `GET /konto/loeschen`
pub async fn delete_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    _: SignedIn,
) -> Response {
    delete_page(&state, &headers, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub(super) struct DeleteForm {
    csrf: String,
    passwort: String,
}

/// `POST /konto/loeschen`
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Form(f): Form<DeleteForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return delete_page(
            &state,
            &headers,
            Some("Das Formular ist abgelaufen."),
            StatusCode::FORBIDDEN,
        );
    }
    let confirmed = match account.password_hash.as_deref() {
        Some(h) => state.identity.hasher().verify(&f.passwort, h),
        None => true,
    };
    if !confirmed {
        return delete_page(
            &state,
            &headers,
            Some("Das Passwort ist falsch."),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match state
        .identity
        .accounts
        .delete(&account.id, &format!("account:{}", account.id))
        .await
    {
        Ok(()) => {
            let mut res = plain_page("Konto gelöscht", html! { h1 { "Ihr Servicekonto wurde gelöscht" } p { a href="/" { "Zur Startseite" } } }).into_response();
            if let Some(c) = clear_session_cookie(&state) {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res
        }
        Err(_) => delete_page(
            &state,
            &headers,
            Some("Das Konto konnte nicht gelöscht werden."),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}

#[derive(Deserialize)]
pub(super) struct ConsentForm {
    csrf: String,
    client_id: String,
}

/// `POST /konto/freigaben/widerrufen`
pub async fn withdraw_consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Form(f): Form<ConsentForm>,
) -> Response {
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired_form();
    }
    match state
        .identity
        .grants
        .withdraw_consent(&account.id, &f.client_id)
        .await
    {
        Ok(()) => Redirect::to("/konto?hinweis=freigabe").into_response(),
        Err(_) => technical_error(),
    }
}
