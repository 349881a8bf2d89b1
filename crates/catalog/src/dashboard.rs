//! The OZG dashboard: which OZG services a tenant (or the whole Land) offers online, at which
//! maturity (OZG Reifegrad 0–4), grouped by Themenfeld, and how tenants compare.
//!
//! An OZG-Leistung counts as online for a tenant when the tenant offers at least one of its
//! LeiKa services online; its maturity is the highest maturity among the tenant's offers of it.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// An OZG-Leistung with its Themenfeld.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OzgService {
    /// Source id.
    pub id: i64,
    /// OZG-ID (5 digits).
    pub ozg_id: String,
    /// Name.
    pub name: String,
    /// Themenfeld name.
    pub themenfeld: String,
}

/// One offer of one LeiKa service, reduced to its OZG-Leistung.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OzgOffer {
    /// Opaque tenant key (the caller's id).
    pub tenant: String,
    /// The OZG-Leistung of the offered service.
    pub ozg_leistung_id: i64,
    /// Offered online.
    pub online: bool,
    /// Reifegrad 0–4.
    pub maturity: i64,
}

/// Status of one OZG-Leistung.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OzgStatus {
    /// OZG-ID.
    pub ozg_id: String,
    /// Name.
    pub name: String,
    /// Themenfeld.
    pub themenfeld: String,
    /// Online.
    pub online: bool,
    /// Highest Reifegrad among offers (0 if none).
    pub maturity: i64,
}

/// Coverage of one Themenfeld.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThemenfeldCoverage {
    /// Name.
    pub themenfeld: String,
    /// OZG-Leistungen online.
    pub online: usize,
    /// OZG-Leistungen in the Themenfeld.
    pub total: usize,
    /// Percentage online (0–100, one decimal).
    pub percent: f64,
}

/// Coverage of one tenant or of the whole Land.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Coverage {
    /// OZG-Leistungen online.
    pub online: usize,
    /// OZG-Leistungen in the catalogue.
    pub total: usize,
    /// Percentage online (0–100, one decimal).
    pub percent: f64,
    /// Number of OZG-Leistungen per highest Reifegrad 0..=4 (among those offered at all).
    pub maturity: [usize; 5],
    /// Per Themenfeld, ordered by name.
    pub by_themenfeld: Vec<ThemenfeldCoverage>,
    /// Every OZG-Leistung that is offered (online or not).
    pub services: Vec<OzgStatus>,
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// Computes the coverage over `offers` (of one tenant, or of all tenants for the Land).
pub fn coverage(services: &[OzgService], offers: &[OzgOffer]) -> Coverage {
    let mut best: HashMap<i64, (bool, i64)> = HashMap::new();
    for o in offers {
        let e = best.entry(o.ozg_leistung_id).or_insert((false, 0));
        e.0 |= o.online;
        e.1 = e.1.max(o.maturity.clamp(0, 4));
    }
    let mut themen: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut maturity = [0usize; 5];
    let mut statuses = Vec::new();
    let mut online = 0;
    for s in services {
        let t = themen.entry(s.themenfeld.as_str()).or_default();
        t.1 += 1;
        if let Some((on, m)) = best.get(&s.id) {
            if *on {
                online += 1;
                t.0 += 1;
            }
            maturity[*m as usize] += 1;
            statuses.push(OzgStatus {
                ozg_id: s.ozg_id.clone(),
                name: s.name.clone(),
                themenfeld: s.themenfeld.clone(),
                online: *on,
                maturity: *m,
            });
        }
    }
    statuses.sort_by(|a, b| a.ozg_id.cmp(&b.ozg_id));
    Coverage {
        online,
        total: services.len(),
        percent: percent(online, services.len()),
        maturity,
        by_themenfeld: themen
            .into_iter()
            .map(|(name, (on, total))| ThemenfeldCoverage {
                themenfeld: name.to_owned(),
                online: on,
                total,
                percent: percent(on, total),
            })
            .collect(),
        services: statuses,
    }
}

/// Splits offers by tenant and computes each tenant's coverage.
pub fn coverage_by_tenant(
    services: &[OzgService],
    offers: &[OzgOffer],
) -> HashMap<String, Coverage> {
    let mut per: HashMap<&str, Vec<OzgOffer>> = HashMap::new();
    for o in offers {
        per.entry(o.tenant.as_str()).or_default().push(o.clone());
    }
    per.into_iter()
        .map(|(t, o)| (t.to_owned(), coverage(services, &o)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(id: i64, themenfeld: &str) -> OzgService {
        OzgService {
            id,
            ozg_id: format!("1000{id}"),
            name: format!("S{id}"),
            themenfeld: themenfeld.into(),
        }
    }

    fn offer(tenant: &str, id: i64, online: bool, maturity: i64) -> OzgOffer {
        OzgOffer {
            tenant: tenant.into(),
            ozg_leistung_id: id,
            online,
            maturity,
        }
    }

    #[test]
    fn coverage_counts_online_services_per_themenfeld() {
        let services = [
            svc(1, "Bauen"),
            svc(2, "Bauen"),
            svc(3, "Familie"),
            svc(4, "Familie"),
        ];
        let offers = [
            offer("a", 1, true, 2),
            offer("a", 1, false, 3), // second LeiKa service of the same OZG-Leistung
            offer("a", 3, false, 1),
            offer("b", 2, true, 4),
            offer("a", 99, true, 4), // unknown OZG-Leistung: ignored
        ];
        let a = &coverage_by_tenant(&services, &offers)["a"];
        assert_eq!((a.online, a.total, a.percent), (1, 4, 25.0));
        assert_eq!(a.maturity, [0, 1, 0, 1, 0]);
        assert_eq!(
            a.by_themenfeld[0],
            ThemenfeldCoverage {
                themenfeld: "Bauen".into(),
                online: 1,
                total: 2,
                percent: 50.0
            }
        );
        assert_eq!(a.services.len(), 2);
        let land = coverage(&services, &offers);
        assert_eq!(
            (land.online, land.percent),
            (2, 50.0),
            "state-wide: online anywhere"
        );
        assert_eq!(coverage(&[], &[]).percent, 0.0);
    }
}
