//! The page of an Unternehmenskonto for its members: `/konto/organisation/{id}`. Admins of the
//! organisation add members (existing Servicekonto accounts, by e-mail) and remove them.

use super::{SignedIn, expired_form, technical_error};
use crate::csrf;
use crate::html::layout::{error_page, plain_page};
use crate::state::AppState;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use rathaus_identity::IdentityError;
use rathaus_identity::accounts::{Account, AccountKind};
use rathaus_storage::StorageError;
use serde::Deserialize;

/// The organisation and the viewer's role in it, or the refusal.
async fn membership(
    state: &AppState,
    viewer: &Account,
    id: &str,
) -> Result<(Account, Vec<(Account, String)>, bool), Response> {
    let org = match state.identity.accounts.get(id).await {
        Ok(Some(o)) if o.kind == AccountKind::Organisation => o,
        Ok(_) => {
            return Err(error_page(
                StatusCode::NOT_FOUND,
                "Nicht gefunden",
                "Dieses Unternehmenskonto gibt es nicht.",
            ));
        }
        Err(_) => return Err(technical_error()),
    };
    let members = state
        .identity
        .accounts
        .members(&org.id)
        .await
        .map_err(|_| technical_error())?;
    let Some((_, role)) = members.iter().find(|(a, _)| a.id == viewer.id) else {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "Kein Zugang",
            "Sie sind nicht Mitglied dieses Unternehmenskontos.",
        ));
    };
    let admin = role == "admin";
    Ok((org, members, admin))
}

fn render(
    state: &AppState,
    headers: &HeaderMap,
    org: &Account,
    members: &[(Account, String)],
    admin: bool,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (token, set_cookie) = csrf::token(
        headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let name = org
        .profile
        .organisation_name
        .clone()
        .unwrap_or_else(|| org.email.clone());
    let base = format!("/konto/organisation/{}", org.id);
    let content = html! {
        h1 { (name) }
        p { a href="/konto" { "Zurück zu Ihrem Servicekonto" } }
        @if let Some(e) = error {
            div class="error-summary" role="alert" { p { (e) } }
        }
        h2 { "Mitglieder" }
        table {
            caption class="visually-hidden" { "Mitglieder des Unternehmenskontos" }
            thead { tr { th scope="col" { "E-Mail" } th scope="col" { "Rolle" } @if admin { th scope="col" { span class="visually-hidden" { "Aktion" } } } } }
            tbody {
                @for (m, role) in members {
                    tr {
                        td { (m.email) }
                        td { (if role == "admin" { "Administration" } else { "Mitglied" }) }
                        @if admin {
                            td {
                                form method="post" action={ (base) "/entfernen" } {
                                    input type="hidden" name=(csrf::FIELD) value=(token);
                                    input type="hidden" name="account_id" value=(m.id);
                                    button type="submit" class="secondary" aria-label={ (m.email) " entfernen" } { "Entfernen" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            h2 { "Mitglied hinzufügen" }
            form method="post" action={ (base) "/mitglieder" } class="stack" {
                input type="hidden" name=(csrf::FIELD) value=(token);
                div class="field" {
                    label for="email" { "E-Mail des Servicekontos" }
                    input id="email" name="email" type="email" autocomplete="off";
                }
                fieldset {
                    legend { "Rolle" }
                    div class="choice" { input type="radio" id="rolle-mitglied" name="rolle" value="member" checked; label for="rolle-mitglied" { "Mitglied" } }
                    div class="choice" { input type="radio" id="rolle-admin" name="rolle" value="admin"; label for="rolle-admin" { "Administration" } }
                }
                div class="actions" { button type="submit" { "Hinzufügen" } }
            }
        }
    };
    let mut res = (status, plain_page(&name, content)).into_response();
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// `GET /konto/organisation/{id}`
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    SignedIn(_, viewer): SignedIn,
) -> Response {
    match membership(&state, &viewer, &id).await {
        Ok((org, members, admin)) => render(
            &state,
            &headers,
            &org,
            &members,
            admin,
            None,
            StatusCode::OK,
        ),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub(super) struct AddForm {
    csrf: String,
    email: String,
    rolle: String,
}

async fn refused(
    state: &AppState,
    headers: &HeaderMap,
    org: &Account,
    message: &str,
    status: StatusCode,
) -> Response {
    let members = state
        .identity
        .accounts
        .members(&org.id)
        .await
        .unwrap_or_default();
    render(state, headers, org, &members, true, Some(message), status)
}

/// `POST /konto/organisation/{id}/mitglieder`
pub async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    SignedIn(_, viewer): SignedIn,
    Form(f): Form<AddForm>,
) -> Response {
    let (org, _, admin) = match membership(&state, &viewer, &id).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    if !admin {
        return error_page(
            StatusCode::FORBIDDEN,
            "Kein Zugang",
            "Nur die Administration des Unternehmenskontos verwaltet Mitglieder.",
        );
    }
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired_form();
    }
    let member = match state.identity.accounts.by_email(&f.email).await {
        Ok(Some(a)) if a.kind == AccountKind::Person => a,
        Ok(_) => return refused(&state, &headers, &org, "Zu dieser E-Mail-Adresse gibt es kein Bürgerkonto; die Person muss sich zuerst registrieren.", StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(_) => return technical_error(),
    };
    match state
        .identity
        .accounts
        .add_member(
            &org.id,
            &member.id,
            &f.rolle,
            &format!("account:{}", viewer.id),
        )
        .await
    {
        Ok(()) => Redirect::to(&format!("/konto/organisation/{}", org.id)).into_response(),
        Err(IdentityError::Storage(StorageError::Conflict(_))) => {
            refused(
                &state,
                &headers,
                &org,
                "Diese Person ist bereits Mitglied.",
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(IdentityError::Invalid(m)) => {
            refused(&state, &headers, &org, &m, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(_) => technical_error(),
    }
}

#[derive(Deserialize)]
pub(super) struct RemoveForm {
    csrf: String,
    account_id: String,
}

/// `POST /konto/organisation/{id}/entfernen`
pub async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    SignedIn(_, viewer): SignedIn,
    Form(f): Form<RemoveForm>,
) -> Response {
    let (org, _, admin) = match membership(&state, &viewer, &id).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    if !admin {
        return error_page(
            StatusCode::FORBIDDEN,
            "Kein Zugang",
            "Nur die Administration des Unternehmenskontos verwaltet Mitglieder.",
        );
    }
    if !csrf::verify(&headers, &f.csrf, &state.config.csrf_secret) {
        return expired_form();
    }
    match state
        .identity
        .accounts
        .remove_member(&org.id, &f.account_id, &format!("account:{}", viewer.id))
        .await
    {
        Ok(true) => Redirect::to(&format!("/konto/organisation/{}", org.id)).into_response(),
        Ok(false) => error_page(
            StatusCode::NOT_FOUND,
            "Nicht gefunden",
            "Diese Person ist nicht Mitglied.",
        ),
        Err(IdentityError::Invalid(m)) => {
            refused(&state, &headers, &org, &m, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(_) => technical_error(),
    }
}
