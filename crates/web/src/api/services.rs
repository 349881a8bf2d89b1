//! `GET /api/v1/services`: search the service catalogue.

use super::tenants::tenant_or_404;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// Search parameters.
#[derive(Deserialize, IntoParams)]
pub struct ServiceQuery {
    /// Search words (German; `"phrase"`, `-ausschließen`, `oder`). Empty: no hits.
    pub q: Option<String>,
    /// Tenant slug: mark and prefer what this tenant offers online. Without: the whole state's catalogue.
    pub tenant: Option<String>,
    /// Page size (1–100, default 20).
    pub limit: Option<usize>,
    /// Offset (0–400).
    pub offset: Option<usize>,
    /// Only services of this Themenfeld (exact name, e.g. `Familie & Kind`).
    pub themenfeld: Option<String>,
    /// Only services of this Lebenslage (exact name, e.g. `Umzug`).
    pub lebenslage: Option<String>,
    /// `true`: only services offered online.
    pub online: Option<bool>,
    /// `true`: add facet counts (computed over the 500 best matches).
    pub facets: Option<bool>,
}

/// Count of hits per value.
#[derive(Serialize, ToSchema)]
pub struct FacetCount {
    /// Value (e.g. a Themenfeld name).
    pub name: String,
    /// Number of hits.
    pub count: usize,
}

/// Facets of a search.
#[derive(Serialize, ToSchema)]
pub struct Facets {
    /// Hits per Themenfeld, most first.
    pub themenfeld: Vec<FacetCount>,
    /// Hits per Lebenslage, most first.
    pub lebenslage: Vec<FacetCount>,
    /// Hits offered online.
    pub online: usize,
}

/// Longest result considered for filters and facets.
const FACET_HEAD: usize = 500;

/// A hit.
#[derive(Serialize, ToSchema)]
pub struct ServiceItem {
    /// LeiKa key (14 digits); `null` for services outside the LeiKa.
    pub leika: Option<String>,
    /// Name.
    pub name: String,
    /// Offered online (by the tenant; without tenant: by any tenant).
    pub online: bool,
    /// Page of the service.
    pub url: String,
    /// OZG-ID of its OZG-Leistung.
    pub ozg_id: Option<String>,
    /// Its Themenfeld.
    pub themenfeld: Option<String>,
    /// Its Lebenslage.
    pub lebenslage: Option<String>,
}

/// The answer.
#[derive(Serialize, ToSchema)]
pub struct ServiceList {
    /// Number of matching services.
    pub total: usize,
    /// One page of hits, best first.
    pub items: Vec<ServiceItem>,
    /// Facet counts (only with `facets=true`, `themenfeld`, `lebenslage` or `online`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<Facets>,
}

/// Facet counts over hits.
pub(crate) fn facets(hits: &[rathaus_catalog::search::Hit<'_>], avail: &Availability) -> Facets {
    Facets {
        themenfeld: count_by(hits, |d| d.themenfeld.as_deref()),
        lebenslage: count_by(hits, |d| d.lebenslage.as_deref()),
        online: hits.iter().filter(|h| avail.is_online(h.doc.id)).count(),
    }
}

/// Hits per value of `key`, most first (ties by name).
fn count_by<'a>(
    hits: &'a [rathaus_catalog::search::Hit<'_>],
    key: impl Fn(&'a rathaus_catalog::ServiceDoc) -> Option<&'a str>,
) -> Vec<FacetCount> {
    let mut by: HashMap<&str, usize> = HashMap::new();
    for h in hits {
        if let Some(v) = key(h.doc) {
            *by.entry(v).or_default() += 1;
        }
    }
    let mut counts: Vec<FacetCount> = by
        .into_iter()
        .map(|(name, count)| FacetCount {
            name: name.to_owned(),
            count,
        })
        .collect();
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    counts
}

/// Whether a hit passes the Themenfeld and Lebenslage filters.
pub(crate) fn in_facets(
    doc: &rathaus_catalog::ServiceDoc,
    themenfeld: Option<&str>,
    lebenslage: Option<&str>,
) -> bool {
    themenfeld.is_none_or(|t| doc.themenfeld.as_deref() == Some(t))
        && lebenslage.is_none_or(|l| doc.lebenslage.as_deref() == Some(l))
}

/// Which services are online, and where a hit's page is, for an optional tenant.
pub(crate) struct Availability {
    online: std::sync::Arc<std::collections::HashSet<i64>>,
    base: String,
}

impl Availability {
    /// Which services are online for `tenant` (or anywhere), from a short-lived cache: the offer
    /// set is the same for every search of a tenant, and loading it per request dominated the
    /// search's cost (docs/benchmarks.md).
    pub(crate) async fn load(state: &AppState, tenant: Option<&str>) -> Result<Self, Problem> {
        let (key, base) = match tenant {
            Some(slug) => (slug.to_owned(), format!("/{slug}/leistungen/")),
            None => (String::new(), "/leistungen/".to_owned()),
        };
        if let Some(online) = state.online_cache.get(&key) {
            return Ok(Self { online, base });
        }
        let ids: Vec<i64> = match tenant {
            Some(slug) => {
                let t = tenant_or_404(state, slug).await?;
                state
                    .catalog
                    .offers(t.id)
                    .await?
                    .into_iter()
                    .filter(|o| o.online)
                    .map(|o| o.leistung_id)
                    .collect()
            }
            None => state.catalog.online_anywhere().await?,
        };
        let online = state.online_cache.put(key, ids.into_iter().collect());
        Ok(Self { online, base })
    }

    pub(crate) fn is_online(&self, id: i64) -> bool {
        self.online.contains(&id)
    }

    pub(crate) fn url(&self, id: i64) -> String {
        format!("{}{id}", self.base)
    }

    /// A hit in the API's shape.
    pub(crate) fn item(&self, h: &rathaus_catalog::search::Hit<'_>) -> ServiceItem {
        ServiceItem {
            leika: h.doc.leika.as_ref().map(ToString::to_string),
            name: h.doc.name.clone(),
            online: self.is_online(h.doc.id),
            url: self.url(h.doc.id),
            ozg_id: h.doc.ozg_id.clone(),
            themenfeld: h.doc.themenfeld.clone(),
            lebenslage: h.doc.lebenslage.clone(),
        }
    }
}

pub(crate) fn index_or_503(
    state: &AppState,
) -> Result<std::sync::Arc<rathaus_catalog::search::SearchIndex>, Problem> {
    state.search.get().ok_or_else(|| {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "search-unavailable", "Suche nicht bereit")
            .detail("Der Suchindex wird gerade aufgebaut oder es ist noch kein Leistungskatalog importiert.")
    })
}

/// Search services.
#[utoipa::path(get, path = "/api/v1/services", operation_id = "searchServices", tag = "Leistungen", params(ServiceQuery),
    responses((status = 200, body = ServiceList), (status = 503, body = Problem)))]
pub async fn search(
    State(state): State<AppState>,
    Query(p): Query<ServiceQuery>,
) -> Result<Json<ServiceList>, Problem> {
    let avail = Availability::load(&state, p.tenant.as_deref()).await?;
    let index = index_or_503(&state)?;
    let q = p.q.unwrap_or_default();
    let limit = p.limit.unwrap_or(20).clamp(1, 100);
    let offset = p.offset.unwrap_or(0).min(400);
    let boost = |d: &rathaus_catalog::ServiceDoc| if avail.is_online(d.id) { 1.3 } else { 1.0 };
    let failed = |e: rathaus_catalog::search::SearchError| {
        tracing::error!(error = %e, "search failed");
        Problem::internal()
    };
    let filtered = p.themenfeld.is_some() || p.lebenslage.is_some() || p.online == Some(true);
    if !filtered && p.facets != Some(true) {
        let (total, hits) = index.search(&q, offset, limit, boost).map_err(failed)?;
        let items = hits.iter().map(|h| avail.item(h)).collect();
        return Ok(Json(ServiceList {
            total,
            items,
            facets: None,
        }));
    }
    // Filters and facets work on the head of the ranking.
    let (total, head) = index.search(&q, 0, FACET_HEAD, boost).map_err(failed)?;
    let facets = facets(&head, &avail);
    let keep: Vec<_> = head
        .iter()
        .filter(|h| in_facets(h.doc, p.themenfeld.as_deref(), p.lebenslage.as_deref()))
        .filter(|h| p.online != Some(true) || avail.is_online(h.doc.id))
        .collect();
    let total = if filtered { keep.len() } else { total };
    let items = keep
        .iter()
        .skip(offset)
        .take(limit)
        .map(|h| avail.item(h))
        .collect();
    Ok(Json(ServiceList {
        total,
        items,
        facets: Some(facets),
    }))
}

/// Parameters of the assistant.
#[derive(Deserialize, IntoParams)]
pub struct AssistantQuery {
    /// The situation in one German sentence, e.g. "Ich möchte ein Café eröffnen".
    pub q: Option<String>,
    /// Tenant slug: mark and prefer what this tenant offers online.
    pub tenant: Option<String>,
    /// Number of services (1–50, default 10).
    pub limit: Option<usize>,
}

/// "What do I need?": services for a situation described in a sentence (same shape as the search).
#[utoipa::path(get, path = "/api/v1/assistant", operation_id = "assistant", tag = "Leistungen", params(AssistantQuery),
    responses((status = 200, body = ServiceList), (status = 503, body = Problem)))]
pub async fn assistant(
    State(state): State<AppState>,
    Query(p): Query<AssistantQuery>,
) -> Result<Json<ServiceList>, Problem> {
    let avail = Availability::load(&state, p.tenant.as_deref()).await?;
    let index = index_or_503(&state)?;
    let limit = p.limit.unwrap_or(10).clamp(1, 50);
    let (total, hits) =
        rathaus_catalog::assistant::assist(&index, p.q.as_deref().unwrap_or(""), limit, |d| {
            if avail.is_online(d.id) { 1.3 } else { 1.0 }
        })
        .map_err(|e| {
            tracing::error!(error = %e, "assistant failed");
            Problem::internal()
        })?;
    Ok(Json(ServiceList {
        total,
        items: hits.iter().map(|h| avail.item(h)).collect(),
        facets: None,
    }))
}

/// One offered service in the federation export.
#[derive(Serialize, ToSchema)]
pub struct ExportedService {
    /// LeiKa key.
    pub leika: Option<String>,
    /// Name.
    pub name: String,
    /// OZG-ID.
    pub ozg_id: Option<String>,
    /// Offered online.
    pub online: bool,
    /// OZG Reifegrad 0–4.
    pub maturity: i64,
    /// Absolute or portal-relative link to the online service or the service page.
    pub url: String,
    /// Set if the online service is another tenant's (Einer für Alle).
    pub provided_by: Option<super::offers::Provider>,
    /// The office that handles the service, if the tenant gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub office: Option<rathaus_catalog::offer::Office>,
    /// Fees, if the tenant gave them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fees: Option<rathaus_catalog::offer::Fees>,
    /// The tenant's note, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The federation export of a tenant (format `rathaus-leistungen/1`), for other portals to harvest.
#[derive(Serialize, ToSchema)]
pub struct ServiceExport {
    /// Format identifier and version.
    pub format: String,
    /// The tenant.
    pub tenant: super::tenants::TenantSummary,
    /// When the export was produced (RFC 3339).
    pub generated_at: String,
    /// Every service the tenant offers (online or on site).
    pub services: Vec<ExportedService>,
}

/// Export the services a tenant offers (Portalverbund; public).
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/services-export", operation_id = "exportServices", tag = "Leistungen",
    params(("slug" = String, Path)), responses((status = 200, body = ServiceExport)))]
pub async fn export(
    State(state): State<AppState>,
    axum::extract::Path(slug): axum::extract::Path<String>,
) -> Result<Json<ServiceExport>, Problem> {
    let t = tenant_or_404(&state, &slug).await?;
    let land = state
        .tenants
        .list()
        .await?
        .into_iter()
        .find(|t| t.kind == rathaus_core::TenantKind::Land)
        .ok_or_else(|| Problem::not_found("Es ist noch kein Land eingerichtet."))?;
    let docs: HashMap<i64, rathaus_catalog::ServiceDoc> = state
        .catalog
        .services(land.id)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let names = super::offers::Names::load(&state).await?;
    // Only published variants: drafts never leave the tenant's back office.
    let services = state
        .offers
        .published(t.id)
        .await?
        .into_iter()
        .filter_map(|(id, p)| {
            let d = docs.get(&id)?;
            let v = p.variant;
            Some(ExportedService {
                leika: d.leika.as_ref().map(ToString::to_string),
                name: d.name.clone(),
                ozg_id: d.ozg_id.clone(),
                online: v.online,
                maturity: v.maturity,
                url: v
                    .url
                    .clone()
                    .unwrap_or_else(|| format!("/{slug}/leistungen/{}", d.id)),
                provided_by: names.provider(p.provided_by.as_ref()),
                office: (!v.office.is_empty()).then_some(v.office),
                fees: (!v.fees.is_empty()).then_some(v.fees),
                note: (!v.note.is_empty()).then_some(v.note),
            })
        })
        .collect();
    Ok(Json(ServiceExport {
        format: "rathaus-leistungen/1".into(),
        tenant: (&t).into(),
        generated_at: rathaus_core::time::now_text(),
        services,
    }))
}

/// Parameters of the suggestions.
#[derive(Deserialize, IntoParams)]
pub struct SuggestQuery {
    /// What has been typed so far.
    pub q: Option<String>,
}

/// Suggestions while typing: up to 8 distinct service names for the words typed so far.
#[utoipa::path(get, path = "/api/v1/suggest", operation_id = "suggest", tag = "Leistungen", params(SuggestQuery),
    responses((status = 200, body = [String]), (status = 503, body = Problem)))]
pub async fn suggest(
    State(state): State<AppState>,
    Query(p): Query<SuggestQuery>,
) -> Result<Json<Vec<String>>, Problem> {
    let index = index_or_503(&state)?;
    let q = p.q.unwrap_or_default();
    if q.trim().chars().count() < 2 {
        return Ok(Json(Vec::new()));
    }
    let (_, hits) = index.search(&q, 0, 30, |_| 1.0).map_err(|e| {
        tracing::error!(error = %e, "suggest failed");
        Problem::internal()
    })?;
    let mut names: Vec<String> = Vec::new();
    for h in hits {
        if !names.contains(&h.doc.name) {
            names.push(h.doc.name.clone());
        }
        if names.len() == 8 {
            break;
        }
    }
    Ok(Json(names))
}
