//! The page shell shared by every HTML page: landmarks, skip link, tenant branding.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use rathaus_core::Tenant;

/// Who a page belongs to: the state portal or one tenant.
pub struct Chrome<'a> {
    /// The tenant whose branding is used (the Land for the state portal).
    pub tenant: Option<&'a Tenant>,
    /// Whether this is the state-wide portal at `/`.
    pub portal: bool,
    /// Breadcrumbs above the content: (label, href); the last entry is the current page.
    pub trail: Vec<(String, String)>,
}

impl<'a> Chrome<'a> {
    /// Chrome for a tenant page.
    pub fn tenant(t: &'a Tenant) -> Self {
        Self {
            tenant: Some(t),
            portal: false,
            trail: Vec::new(),
        }
    }
    /// Chrome for the state portal.
    pub fn portal(land: Option<&'a Tenant>) -> Self {
        Self {
            tenant: land,
            portal: true,
            trail: Vec::new(),
        }
    }
    /// Adds a breadcrumb.
    pub fn crumb(mut self, label: impl Into<String>, href: impl Into<String>) -> Self {
        self.trail.push((label.into(), href.into()));
        self
    }

    fn base(&self) -> String {
        match (self.portal, self.tenant) {
            (false, Some(t)) => format!("/{}/", t.slug),
            _ => "/".to_owned(),
        }
    }

    fn site_name(&self) -> String {
        match (self.portal, self.tenant) {
            (true, Some(t)) => format!("Serviceportal {}", t.name),
            (true, None) => "Serviceportal".to_owned(),
            (false, Some(t)) => t.branding.display_name.clone(),
            (false, None) => "Rathaus".to_owned(),
        }
    }
}

/// Renders a full page.
pub fn page(chrome: &Chrome<'_>, title: &str, content: Markup) -> Markup {
    let base = chrome.base();
    let site = chrome.site_name();
    let full_title = if title == site {
        site.clone()
    } else {
        format!("{title} – {site}")
    };
    html! {
        (DOCTYPE)
        html lang="de" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (full_title) }
                link rel="stylesheet" href="/assets/rathaus.css";
                @if let Some(t) = chrome.tenant {
                    link rel="stylesheet" href={ "/" (t.slug) "/theme.css?v=" (t.version) };
                }
            }
            body {
                a class="skip-link" href="#inhalt" { "Zum Inhalt springen" }
                header class="site-header" {
                    div class="wrap header-row" {
                        a class="site-name" href=(base) {
                            @if let Some(t) = chrome.tenant.filter(|t| t.branding.has_logo) {
                                img src={ "/" (t.slug) "/logo" } alt="" class="logo" width="48" height="48";
                            }
                            span { (site) }
                        }
                        nav aria-label="Hauptnavigation" {
                            ul {
                                li { a href=(base) { "Start" } }
                                @if !chrome.portal {
                                    li { a href="/" { "Landesportal" } }
                                }
                                li { a href={ (base) "suche" } { "Leistungen" } }
                                li { a href={ (base) "ozg-dashboard" } { "OZG-Dashboard" } }
                                li { a href={ (base) "barrierefreiheit" } { "Barrierefreiheit" } }
                            }
                        }
                    }
                }
                @if !chrome.trail.is_empty() {
                    nav class="wrap breadcrumbs" aria-label="Sie sind hier" {
                        ol {
                            @for (i, (label, href)) in chrome.trail.iter().enumerate() {
                                @if i + 1 == chrome.trail.len() {
                                    li { a href=(href) aria-current="page" { (label) } }
                                } @else {
                                    li { a href=(href) { (label) } }
                                }
                            }
                        }
                    }
                }
                main id="inhalt" class="wrap" tabindex="-1" {
                    (content)
                }
                footer class="site-footer" {
                    div class="wrap" {
                        ul {
                            li { a href={ (base) "barrierefreiheit" } { "Erklärung zur Barrierefreiheit" } }
                            li { a href="/api/docs" { "Schnittstellen (API)" } }
                        }
                        p { "Betrieben mit Rathaus " (env!("CARGO_PKG_VERSION")) ", der offenen Plattform für die Online-Verwaltung." }
                    }
                }
            }
        }
    }
}

/// A page without tenant context (e.g. documentation pages).
pub fn plain_page(title: &str, content: Markup) -> Html<String> {
    let chrome = Chrome {
        tenant: None,
        portal: false,
        trail: Vec::new(),
    };
    Html(page(&chrome, title, content).into_string())
}

/// A full HTML error page with status.
pub fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    let content = html! {
        h1 { (title) }
        p { (text) }
        p { a href="/" { "Zur Startseite des Landesportals" } }
    };
    (status, plain_page(title, content)).into_response()
}
