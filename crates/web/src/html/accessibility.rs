//! The accessibility statement (Erklärung zur Barrierefreiheit) with the feedback form that
//! BITV 2.0 § 7 requires, for the portal and every tenant.

use super::layout::{Chrome, page};
use super::{internal_error, land};
use crate::csrf;
use crate::state::AppState;
use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use rathaus_core::Tenant;
use rathaus_core::feedback::{MAX_MESSAGE, NewFeedback};
use rathaus_storage::StorageError;
use serde::Deserialize;
use std::net::SocketAddr;

/// The submitted form.
#[derive(Deserialize, Default)]
pub struct FeedbackForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    contact: String,
}

fn base(t: &Tenant, portal: bool) -> String {
    if portal {
        "/".into()
    } else {
        format!("/{}/", t.slug)
    }
}

fn form(
    t: &Tenant,
    portal: bool,
    token: &str,
    values: &FeedbackForm,
    error: Option<&str>,
) -> Markup {
    let action = format!("{}barrierefreiheit", base(t, portal));
    html! {
        h1 { "Erklärung zur Barrierefreiheit" }
        p {
            (t.name) " ist bemüht, dieses Serviceportal im Einklang mit der Barrierefreien-Informationstechnik-Verordnung "
            "(BITV 2.0) und der Richtlinie (EU) 2016/2102 barrierefrei zugänglich zu machen."
        }
        h2 { "Stand der Vereinbarkeit" }
        p {
            "Das Portal wird gegen die Erfolgskriterien der WCAG 2.1 auf Stufe AA geprüft; jede Seite wird vor der "
            "Veröffentlichung automatisiert mit axe-core getestet. Eine vollständige manuelle Prüfung steht noch aus; "
            "das Portal ist daher als teilweise vereinbar anzusehen."
        }
        h2 id="feedback" { "Barriere melden" }
        p {
            "Ist Ihnen eine Barriere aufgefallen? Beschreiben Sie bitte, wo sie auftritt und was nicht funktioniert. "
            "Wir antworten, wenn Sie eine E-Mail-Adresse angeben."
        }
        @if let Some(e) = error {
            div class="fehler" role="alert" id="fehler" {
                p { strong { "Die Meldung wurde nicht gesendet: " } (e) }
            }
        }
        form method="post" action=(action) class="form" novalidate {
            input type="hidden" name=(csrf::FIELD) value=(token);
            div class="field" {
                label for="page" { "Betroffene Seite (optional)" }
                input id="page" name="page" type="text" autocomplete="url" value=(values.page) maxlength="500";
            }
            div class="field" {
                label for="message" { "Beschreibung der Barriere" span class="req" { " (Pflichtfeld)" } }
                @if error.is_some() {
                    textarea id="message" name="message" rows="6" required maxlength=(MAX_MESSAGE) aria-invalid="true"
                        aria-describedby="fehler" { (values.message) }
                } @else {
                    textarea id="message" name="message" rows="6" required maxlength=(MAX_MESSAGE) { (values.message) }
                }
            }
            div class="field" {
                label for="contact" { "E-Mail-Adresse (optional)" }
                input id="contact" name="contact" type="email" autocomplete="email" value=(values.contact) maxlength="254";
            }
            button type="submit" class="button" { "Meldung absenden" }
        }
        h2 { "Schlichtungsverfahren" }
        p {
            "Erhalten Sie auf Ihre Meldung keine zufriedenstellende Antwort, können Sie sich an die Ombudsstelle für "
            "barrierefreie Informationstechnik des Landes wenden."
        }
    }
}

fn chrome<'a>(t: &'a Tenant, portal: bool) -> Chrome<'a> {
    let c = if portal {
        Chrome::portal(Some(t)).crumb("Startseite", "/")
    } else {
        Chrome::tenant(t).crumb(t.name.clone(), format!("/{}/", t.slug))
    };
    c.crumb(
        "Barrierefreiheit",
        format!("{}barrierefreiheit", base(t, portal)),
    )
}

fn render_form(
    state: &AppState,
    headers: &HeaderMap,
    t: &Tenant,
    portal: bool,
    values: &FeedbackForm,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (token, set_cookie) = csrf::token(
        headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let title = if error.is_some() {
        "Fehler: Erklärung zur Barrierefreiheit"
    } else {
        "Erklärung zur Barrierefreiheit"
    };
    let body = page(
        &chrome(t, portal),
        title,
        form(t, portal, &token, values, error),
    );
    let mut res = (status, Html(body.into_string())).into_response();
    if let Some(c) = set_cookie {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

async fn submit(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    t: &Tenant,
    portal: bool,
    input: FeedbackForm,
) -> Response {
    if let Some(wait) = crate::ratelimit::refused(state.form_limiter.as_ref(), headers, peer) {
        let res = super::layout::error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Zu viele Meldungen",
            "Von Ihrem Anschluss kamen gerade sehr viele Meldungen. Bitte warten Sie eine Minute und senden Sie dann erneut.",
        );
        return crate::ratelimit::with_retry_after(res, wait);
    }
    if !csrf::verify(headers, &input.csrf, &state.config.csrf_secret) {
        let msg = "Das Formular ist abgelaufen oder wurde nicht von dieser Seite gesendet. Bitte senden Sie es erneut.";
        return render_form(
            state,
            headers,
            t,
            portal,
            &input,
            Some(msg),
            StatusCode::FORBIDDEN,
        );
    }
    let new = NewFeedback {
        page: input.page.clone(),
        message: input.message.clone(),
        contact: Some(input.contact.clone()),
    };
    match state.feedback.create(t.id, new).await {
        Ok(f) => {
            let content = html! {
                h1 { "Vielen Dank für Ihre Meldung" }
                p { "Wir haben Ihre Meldung erhalten und kümmern uns darum." }
                p { "Ihr Aktenzeichen: " strong { (f.id) } }
                p { a href=(base(t, portal)) { "Zurück zur Startseite" } }
            };
            let body = page(&chrome(t, portal), "Meldung gesendet", content);
            (StatusCode::OK, Html(body.into_string())).into_response()
        }
        Err(StorageError::Invalid(msg)) => render_form(
            state,
            headers,
            t,
            portal,
            &input,
            Some(&msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => internal_error(e),
    }
}

async fn land_or_404(state: &AppState) -> Result<Tenant, Response> {
    match land(state).await? {
        (Some(l), _) => Ok(l),
        (None, _) => Err(super::layout::error_page(
            StatusCode::NOT_FOUND,
            "Nicht eingerichtet",
            "Es ist noch kein Land eingerichtet.",
        )),
    }
}

/// `GET /barrierefreiheit`
pub async fn portal_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match land_or_404(&state).await {
        Ok(l) => render_form(
            &state,
            &headers,
            &l,
            true,
            &FeedbackForm::default(),
            None,
            StatusCode::OK,
        ),
        Err(r) => r,
    }
}

/// `POST /barrierefreiheit`
pub async fn portal_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(input): Form<FeedbackForm>,
) -> Response {
    match land_or_404(&state).await {
        Ok(l) => submit(&state, &headers, peer, &l, true, input).await,
        Err(r) => r,
    }
}

/// `GET /{slug}/barrierefreiheit`
pub async fn tenant_form(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    match super::tenant_page(&state, &slug).await {
        Ok(t) => render_form(
            &state,
            &headers,
            &t,
            false,
            &FeedbackForm::default(),
            None,
            StatusCode::OK,
        ),
        Err(r) => r,
    }
}

/// `POST /{slug}/barrierefreiheit`
pub async fn tenant_submit(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(input): Form<FeedbackForm>,
) -> Response {
    match super::tenant_page(&state, &slug).await {
        Ok(t) => submit(&state, &headers, peer, &t, false, input).await,
        Err(r) => r,
    }
}
