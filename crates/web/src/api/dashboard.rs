//! `GET /api/v1/ozg-dashboard` (JSON) and `/api/v1/ozg-dashboard.csv`: OZG implementation status,
//! state-wide with a comparison of all tenants, or for one tenant. Public.

use super::tenants::tenant_or_404;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rathaus_catalog::dashboard::{Coverage, coverage, coverage_by_tenant};
use rathaus_core::{TenantKind, TenantSlug};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Scope of the dashboard.
#[derive(Deserialize, IntoParams)]
pub struct DashboardQuery {
    /// Tenant slug; without: the whole Land with a comparison of its tenants.
    pub tenant: Option<String>,
}

/// One row of the comparison of tenants.
#[derive(Serialize, ToSchema, Clone)]
pub struct TenantRow {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: TenantKind,
    /// OZG-Leistungen online.
    pub online: usize,
    /// Percentage of all OZG-Leistungen online.
    pub percent: f64,
    /// OZG-Leistungen offered at Reifegrad 3 or 4.
    pub mature: usize,
}

/// The dashboard.
#[derive(Serialize, ToSchema)]
pub struct Dashboard {
    /// `land` or the tenant's slug.
    pub scope: String,
    /// Name of the scope.
    pub name: String,
    /// Coverage (online = offered online by the tenant; state-wide: by any tenant).
    #[schema(value_type = Object)]
    pub coverage: Coverage,
    /// State-wide only: every tenant below the Land.
    pub tenants: Vec<TenantRow>,
}

/// Loads the dashboard for the Land or a tenant.
pub(crate) async fn load(state: &AppState, tenant: Option<&str>) -> Result<Dashboard, Problem> {
    let all = state.tenants.list().await?;
    let land = all
        .iter()
        .find(|t| t.kind == TenantKind::Land)
        .ok_or_else(|| Problem::not_found("Es ist noch kein Land eingerichtet."))?;
    let services = state.catalog.ozg_services(land.id).await?;
    let offers = state.catalog.ozg_offers(land.id).await?;
    if let Some(slug) = tenant {
        let t = tenant_or_404(state, slug).await?;
        let own: Vec<_> = offers
            .into_iter()
            .filter(|o| o.tenant == t.slug.as_str())
            .collect();
        return Ok(Dashboard {
            scope: t.slug.to_string(),
            name: t.name,
            coverage: coverage(&services, &own),
            tenants: Vec::new(),
        });
    }
    let per = coverage_by_tenant(&services, &offers);
    let tenants = all
        .iter()
        .filter(|t| t.kind != TenantKind::Land)
        .map(|t| {
            let c = per.get(t.slug.as_str());
            TenantRow {
                slug: t.slug.to_string(),
                name: t.name.clone(),
                kind: t.kind,
                online: c.map_or(0, |c| c.online),
                percent: c.map_or(0.0, |c| c.percent),
                mature: c.map_or(0, |c| c.maturity[3] + c.maturity[4]),
            }
        })
        .collect();
    Ok(Dashboard {
        scope: "land".into(),
        name: land.name.clone(),
        coverage: coverage(&services, &offers),
        tenants,
    })
}

/// OZG dashboard as JSON.
#[utoipa::path(get, path = "/api/v1/ozg-dashboard", operation_id = "ozgDashboard", tag = "Leistungen",
    params(DashboardQuery), responses((status = 200, body = Dashboard)))]
pub async fn json(
    State(state): State<AppState>,
    Query(q): Query<DashboardQuery>,
) -> Result<Json<Dashboard>, Problem> {
    Ok(Json(load(&state, q.tenant.as_deref()).await?))
}

pub(crate) fn csv_field(s: &str) -> String {
    // RFC 4180 quoting; a leading formula character is defused for spreadsheet programs.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// OZG dashboard as CSV: state-wide one row per tenant, for a tenant one row per offered OZG-Leistung.
#[utoipa::path(get, path = "/api/v1/ozg-dashboard.csv", operation_id = "ozgDashboardCsv", tag = "Leistungen",
    params(DashboardQuery), responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn csv(
    State(state): State<AppState>,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, Problem> {
    let d = load(&state, q.tenant.as_deref()).await?;
    let mut out = String::new();
    if d.scope == "land" {
        out.push_str("slug,name,art,ozg_leistungen_online,anteil_prozent,reifegrad_3_oder_4\r\n");
        for t in &d.tenants {
            out.push_str(&format!(
                "{},{},{},{},{:.1},{}\r\n",
                csv_field(&t.slug),
                csv_field(&t.name),
                t.kind.as_str(),
                t.online,
                t.percent,
                t.mature
            ));
        }
    } else {
        out.push_str("ozg_id,name,themenfeld,online,reifegrad\r\n");
        for s in &d.coverage.services {
            out.push_str(&format!(
                "{},{},{},{},{}\r\n",
                csv_field(&s.ozg_id),
                csv_field(&s.name),
                csv_field(&s.themenfeld),
                if s.online { "ja" } else { "nein" },
                s.maturity
            ));
        }
    }
    let file = format!(
        "attachment; filename=\"ozg-dashboard-{}.csv\"",
        TenantSlug::parse(&d.scope)
            .map(|s| s.to_string())
            .unwrap_or_else(|_| "land".into())
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        out,
    )
        .into_response())
}
