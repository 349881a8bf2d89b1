//! The OZG dashboard as an accessible page: tables first, an SVG chart beside them, exports.

use super::layout::{Chrome, page};
use super::{land, tenant_page};
use crate::api::dashboard::{Dashboard, TenantRow, load};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use rathaus_catalog::dashboard::ThemenfeldCoverage;
use serde::Deserialize;

/// Sorting of the comparison table.
#[derive(Deserialize, Default)]
pub struct SortParams {
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    dir: Option<String>,
}

/// German percentage: one decimal, decimal comma.
fn pct(value: f64) -> String {
    format!("{value:.1}\u{a0}%").replace('.', ",")
}

fn problem_page(p: crate::Problem) -> Response {
    let status = axum::http::StatusCode::from_u16(p.status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    super::layout::error_page(status, &p.title, p.detail.as_deref().unwrap_or(""))
}

/// Horizontal bars of the coverage per Themenfeld; the same numbers are in the table next to it.
fn chart(rows: &[ThemenfeldCoverage]) -> Markup {
    let bar_h = 22;
    let height = rows.len() * (bar_h + 8) + 10;
    html! {
        figure class="chart" {
            svg role="img" aria-labelledby="chart-title" viewBox={ "0 0 640 " (height) } width="100%" {
                title id="chart-title" { "Anteil der online verfügbaren OZG-Leistungen je Themenfeld (Balkendiagramm; Werte in der Tabelle)" }
                @for (i, r) in rows.iter().enumerate() {
                    @let y = i * (bar_h + 8) + 5;
                    @let w = (r.percent * 3.3).round() as i64;
                    text x="0" y=(y + 16) font-size="13" fill="#1b1b1b" { (r.themenfeld) }
                    rect x="270" y=(y) width="330" height=(bar_h) fill="#e6e9ec" {}
                    rect x="270" y=(y) width=(w) height=(bar_h) fill="#00506e" {}
                    text x=(275 + w.max(0)) y=(y + 16) font-size="13" fill="#1b1b1b" { (pct(r.percent)) }
                }
            }
            figcaption { "Anteil online verfügbarer OZG-Leistungen je Themenfeld" }
        }
    }
}

fn themen_table(rows: &[ThemenfeldCoverage]) -> Markup {
    html! {
        table class="data" {
            caption { "OZG-Leistungen je Themenfeld" }
            thead { tr { th scope="col" { "Themenfeld" } th scope="col" { "online" } th scope="col" { "gesamt" } th scope="col" { "Anteil" } } }
            tbody {
                @for r in rows {
                    tr { th scope="row" { (r.themenfeld) } td { (r.online) } td { (r.total) } td { (pct(r.percent)) } }
                }
            }
        }
    }
}

fn sort_rows(rows: &mut [TenantRow], sort: &str, desc: bool) {
    match sort {
        "online" => rows.sort_by_key(|r| r.online),
        "anteil" => rows.sort_by(|a, b| a.percent.total_cmp(&b.percent)),
        "reife" => rows.sort_by_key(|r| r.mature),
        _ => rows.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    if desc {
        rows.reverse();
    }
}

fn comparison(d: &Dashboard, params: &SortParams) -> Markup {
    let sort = params.sort.as_deref().unwrap_or("name");
    let desc = params.dir.as_deref() == Some("desc");
    let mut rows = d.tenants.clone();
    sort_rows(&mut rows, sort, desc);
    let header = |key: &str, label: &str| {
        let active = sort == key;
        let next = if active && !desc { "desc" } else { "asc" };
        let aria = if active {
            if desc { "descending" } else { "ascending" }
        } else {
            "none"
        };
        html! {
            th scope="col" aria-sort=(aria) {
                a href={ "?sort=" (key) "&dir=" (next) "#vergleich" } { (label) @if active { (if desc { " ↓" } else { " ↑" }) } }
            }
        }
    };
    html! {
        table class="data" id="vergleich" {
            caption { "Vergleich der Kommunen (Spaltenkopf zum Sortieren wählen)" }
            thead { tr { (header("name", "Kommune")) (header("online", "OZG-Leistungen online")) (header("anteil", "Anteil")) (header("reife", "Reifegrad 3–4")) } }
            tbody {
                @for r in &rows {
                    tr {
                        th scope="row" { a href={ "/" (r.slug) "/ozg-dashboard" } { (r.name) } }
                        td { (r.online) } td { (pct(r.percent)) } td { (r.mature) }
                    }
                }
            }
        }
    }
}

fn body(d: &Dashboard, params: &SortParams, export_query: &str) -> Markup {
    let c = &d.coverage;
    html! {
        h1 { "OZG-Dashboard: " (d.name) }
        p class="lead" {
            (c.online) " von " (c.total) " OZG-Leistungen sind online verfügbar (" (pct(c.percent)) ")."
        }
        p { "Daten herunterladen: "
            a href={ "/api/v1/ozg-dashboard.csv" (export_query) } { "CSV" } ", "
            a href={ "/api/v1/ozg-dashboard" (export_query) } { "JSON" } }
        h2 { "Reifegrad" }
        table class="data" {
            caption { "Angebotene OZG-Leistungen nach höchstem Reifegrad" }
            thead { tr { @for i in 0..5 { th scope="col" { "Stufe " (i) } } } }
            tbody { tr { @for n in c.maturity { td { (n) } } } }
        }
        h2 { "Nach Themenfeld" }
        div class="split" {
            (themen_table(&c.by_themenfeld))
            (chart(&c.by_themenfeld))
        }
        @if !d.tenants.is_empty() {
            h2 { "Kommunen im Vergleich" }
            (comparison(d, params))
        }
    }
}

/// `GET /ozg-dashboard`
pub async fn portal(State(state): State<AppState>, Query(params): Query<SortParams>) -> Response {
    let (land, _) = match land(&state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let d = match load(&state, None).await {
        Ok(d) => d,
        Err(p) => return problem_page(p),
    };
    let chrome = Chrome::portal(land.as_ref())
        .crumb("Startseite", "/")
        .crumb("OZG-Dashboard", "/ozg-dashboard");
    Html(page(&chrome, "OZG-Dashboard", body(&d, &params, "")).into_string()).into_response()
}

/// `GET /{slug}/ozg-dashboard`
pub async fn tenant(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let t = match tenant_page(&state, &slug).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let d = match load(&state, Some(&slug)).await {
        Ok(d) => d,
        Err(p) => return problem_page(p),
    };
    let chrome = Chrome::tenant(&t)
        .crumb(t.name.clone(), format!("/{slug}/"))
        .crumb("OZG-Dashboard", format!("/{slug}/ozg-dashboard"));
    let html = body(&d, &SortParams::default(), &format!("?tenant={slug}"));
    Html(page(&chrome, "OZG-Dashboard", html).into_string()).into_response()
}
