//! Start pages: the state portal and a tenant's home page; theme and logo.

use super::layout::{Chrome, page};
use super::{internal_error, land, tenant_page};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use rathaus_core::{Module, Tenant, TenantKind};

fn kind_label(t: &Tenant) -> &'static str {
    match t.kind {
        TenantKind::Land => "Land",
        TenantKind::Kreis => "Kreis",
        TenantKind::Gemeinde if t.ags.as_str().ends_with("000") => "Kreisfreie Stadt",
        TenantKind::Gemeinde => "Kreisangehörige Gemeinde",
    }
}

fn modules_list(t: &Tenant) -> Markup {
    html! {
        @if t.modules.is_empty() {
            p { "Online-Dienste sind für " (t.name) " noch nicht freigeschaltet." }
        } @else {
            ul class="cards" {
                @for m in Module::ALL.iter().filter(|m| t.modules.contains(m)) {
                    li class="card" {
                        h3 { (m.label()) }
                        p class="hint" { "Dieses Angebot wird derzeit aufgebaut." }
                    }
                }
            }
        }
    }
}

/// `GET /`: the state portal with the list of all municipalities.
pub async fn portal(State(state): State<AppState>) -> Response {
    let (land, all) = match land(&state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let chrome = Chrome::portal(land.as_ref());
    let children = |parent: &Tenant| -> Vec<&Tenant> {
        all.iter()
            .filter(|t| t.parent.as_ref() == Some(&parent.slug))
            .collect()
    };
    let content = html! {
        @match &land {
            Some(l) => {
                h1 { "Serviceportal " (l.name) }
                p class="lead" { "Verwaltungsleistungen des Landes und seiner Kommunen online – an einem Ort." }
                (super::services::search_form("/suche", ""))
                (super::services::assistant_form("/assistent", ""))
                section aria-labelledby="kommunen" {
                    h2 id="kommunen" { "Ihre Kommune" }
                    p { "Wählen Sie Ihre Stadt, Gemeinde oder Ihren Kreis:" }
                    ul class="tenant-tree" {
                        @for t in children(l) {
                            li {
                                a href={ "/" (t.slug) "/" } { (t.name) }
                                " " span class="hint" { "(" (kind_label(t)) ")" }
                                @let sub = children(t);
                                @if !sub.is_empty() {
                                    ul {
                                        @for g in sub {
                                            li { a href={ "/" (g.slug) "/" } { (g.name) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                section aria-labelledby="landesdienste" {
                    h2 id="landesdienste" { "Online-Dienste des Landes" }
                    (modules_list(l))
                }
            }
            None => {
                h1 { "Serviceportal" }
                p { "Es sind noch keine Mandanten eingerichtet. Starten Sie zum Ausprobieren " code { "rathaus demo" } "." }
            }
        }
    };
    Html(page(&chrome, "Startseite", content).into_string()).into_response()
}

/// `GET /{slug}`: canonical form is with a trailing slash.
pub async fn add_slash(Path(slug): Path<String>) -> Redirect {
    Redirect::permanent(&format!("/{slug}/"))
}

/// `GET /{slug}/`: a tenant's start page.
pub async fn tenant_start(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let t = match tenant_page(&state, &slug).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if t.kind == TenantKind::Land {
        return Redirect::permanent("/").into_response();
    }
    let all = match state.tenants.list().await {
        Ok(all) => all,
        Err(e) => return internal_error(e),
    };
    let parent = all.iter().find(|p| Some(&p.slug) == t.parent.as_ref());
    let members: Vec<&Tenant> = all
        .iter()
        .filter(|c| c.parent.as_ref() == Some(&t.slug))
        .collect();
    let mut chrome = Chrome::tenant(&t).crumb("Landesportal", "/");
    if let Some(p) = parent.filter(|p| p.kind == TenantKind::Kreis) {
        chrome = chrome.crumb(p.name.clone(), format!("/{}/", p.slug));
    }
    chrome = chrome.crumb(t.name.clone(), format!("/{}/", t.slug));
    let content = html! {
        h1 { (t.branding.display_name) }
        p class="lead" { "Willkommen im Serviceportal. Hier erledigen Sie Verwaltungsangelegenheiten bei " (t.name) " online." }
        (super::services::search_form(&format!("/{}/suche", t.slug), ""))
        (super::services::assistant_form(&format!("/{}/assistent", t.slug), ""))
        section aria-labelledby="dienste" {
            h2 id="dienste" { "Online-Dienste" }
            (modules_list(&t))
        }
        @if !members.is_empty() {
            section aria-labelledby="gemeinden" {
                h2 id="gemeinden" { "Städte und Gemeinden im " (t.name) }
                ul class="columns" {
                    @for m in &members {
                        li { a href={ "/" (m.slug) "/" } { (m.name) } }
                    }
                }
            }
        }
        section aria-labelledby="steckbrief" {
            h2 id="steckbrief" { "Steckbrief" }
            dl class="facts" {
                dt { "Art" } dd { (kind_label(&t)) }
                dt { "Amtlicher Gemeindeschlüssel (AGS)" } dd { (t.ags) }
                dt { "Amtlicher Regionalschlüssel (ARS)" } dd { (t.ars) }
                @if let Some(p) = parent {
                    dt { "Gehört zu" } dd { @if p.kind == TenantKind::Land { a href="/" { (p.name) } } @else { a href={ "/" (p.slug) "/" } { (p.name) } } }
                }
            }
        }
    };
    Html(page(&chrome, &t.branding.display_name, content).into_string()).into_response()
}

/// `GET /{slug}/theme.css`: the tenant's colours as CSS custom properties (keeps the CSP strict).
pub async fn theme_css(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let t = match tenant_page(&state, &slug).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    // Colours were validated as #rrggbb when stored; check again before they reach CSS.
    let color = |c: &str| {
        if rathaus_core::tenant::parse_hex_color(c).is_some() {
            c.to_owned()
        } else {
            "#00506e".into()
        }
    };
    let css = format!(
        ":root {{ --primary: {}; --accent: {}; }}\n",
        color(&t.branding.primary_color),
        color(&t.branding.accent_color)
    );
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        css,
    )
        .into_response()
}

/// `GET /{slug}/logo`: the uploaded logo.
pub async fn logo(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let t = match tenant_page(&state, &slug).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let Ok(Some((key, content_type))) = state.tenants.logo(t.id).await else {
        return (StatusCode::NOT_FOUND, "Kein Logo").into_response();
    };
    match state.blobs.get(&key).await {
        Ok(bytes) => {
            let mut res = bytes.into_response();
            if let Ok(ct) = HeaderValue::from_str(&content_type) {
                res.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            res
        }
        Err(e) => internal_error(e),
    }
}
