//! The demo data: the Land Nordrhein-Westfalen and real municipalities with their official keys.

use anyhow::Result;
use rathaus_core::tenant::NewTenant;
use rathaus_core::{Ars, Branding, Module, TenantKind, TenantSlug};
use rathaus_storage::Db;
use rathaus_storage::catalog::{CatalogStore, Offer};
use rathaus_storage::tenants::{SeedOutcome, TenantStore};
use std::path::{Path, PathBuf};

/// One demo tenant: (slug, name, kind, ARS, parent slug, primary colour). AGS follows from the ARS.
type DemoTenant = (
    &'static str,
    &'static str,
    TenantKind,
    &'static str,
    Option<&'static str>,
    &'static str,
);

const TENANTS: &[DemoTenant] = &[
    (
        "nrw",
        "Nordrhein-Westfalen",
        TenantKind::Land,
        "050000000000",
        None,
        "#00506e",
    ),
    (
        "duesseldorf",
        "Landeshauptstadt Düsseldorf",
        TenantKind::Gemeinde,
        "051110000000",
        Some("nrw"),
        "#a3000b",
    ),
    (
        "koeln",
        "Stadt Köln",
        TenantKind::Gemeinde,
        "053150000000",
        Some("nrw"),
        "#8a1538",
    ),
    (
        "muenster",
        "Stadt Münster",
        TenantKind::Gemeinde,
        "055150000000",
        Some("nrw"),
        "#00576b",
    ),
    (
        "kreis-euskirchen",
        "Kreis Euskirchen",
        TenantKind::Kreis,
        "053660000000",
        Some("nrw"),
        "#1f5c2e",
    ),
    (
        "euskirchen",
        "Stadt Euskirchen",
        TenantKind::Gemeinde,
        "053660016016",
        Some("kreis-euskirchen"),
        "#2f4f8f",
    ),
    (
        "dahlem",
        "Gemeinde Dahlem",
        TenantKind::Gemeinde,
        "053660012012",
        Some("kreis-euskirchen"),
        "#4d5d1e",
    ),
];

/// The demo tenants as they are seeded.
pub fn tenants() -> Result<Vec<NewTenant>> {
    TENANTS
        .iter()
        .map(|(slug, name, kind, ars, parent, color)| {
            let ars = Ars::parse(ars)?;
            let display = if *kind == TenantKind::Land {
                format!("Land {name}")
            } else {
                (*name).to_owned()
            };
            Ok(NewTenant {
                slug: TenantSlug::parse(slug)?,
                name: (*name).to_owned(),
                kind: *kind,
                ags: ars.ags(),
                ars,
                parent: parent.map(TenantSlug::parse).transpose()?,
                branding: Branding {
                    primary_color: (*color).to_owned(),
                    ..Branding::for_name(&display)
                },
                modules: Module::ALL.to_vec(),
            })
        })
        .collect()
}

/// Seeds the demo idempotently; returns (created, updated, unchanged).
pub async fn seed(db: &Db) -> Result<(usize, usize, usize)> {
    let store = TenantStore::new(db.clone());
    let mut counts = (0, 0, 0);
    for t in tenants()? {
        match store.seed(&t, "system:demo").await? {
            SeedOutcome::Created => counts.0 += 1,
            SeedOutcome::Updated => counts.1 += 1,
            SeedOutcome::Unchanged => counts.2 += 1,
        }
    }
    Ok(counts)
}

/// Where the demo finds the catalogue: the configured directory, else the shared test data.
fn catalog_dir(configured: Option<&Path>) -> Option<PathBuf> {
    let candidates = [
        configured.map(Path::to_path_buf),
        Some(PathBuf::from("../shared/testdata/ozg-leika")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("leika_leistungen.csv").exists())
}

/// Share (percent) of the main services each demo municipality offers.
const DEMO_SHARE: &[(&str, u64)] = &[
    ("koeln", 45),
    ("duesseldorf", 40),
    ("muenster", 50),
    ("kreis-euskirchen", 25),
    ("euskirchen", 20),
    ("dahlem", 10),
];

/// A stable pseudo-random number per tenant and service (FNV-1a), so the demo is the same everywhere.
fn demo_hash(slug: &str, id: i64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in slug.bytes().chain(id.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Demo offers: (tenant, LeiKa key, online, maturity).
const OFFERS: &[(&str, &str, bool, i64)] = &[
    ("koeln", "99110009104000", true, 3),   // Hundehaltung Anmeldung
    ("koeln", "99115005104000", true, 2),   // Wohnsitz Anmeldung
    ("dahlem", "99110009104000", false, 0), // Hundehaltung Anmeldung, vor Ort
    ("muenster", "99115005104000", true, 3), // Wohnsitz Anmeldung
];

/// Imports the catalogue on the first demo start (when the Land has none) and sets demo offers.
pub async fn seed_catalog(db: &Db, configured: Option<&Path>) -> Result<()> {
    let store = CatalogStore::new(db.clone());
    let tenants = TenantStore::new(db.clone());
    let land = tenants.get("nrw").await?;
    if store.counts(land.id).await?.leistungen > 0 {
        return Ok(());
    }
    let Some(dir) = catalog_dir(configured) else {
        tracing::warn!(
            "no catalogue data found (set catalog_dir); the demo starts without a service catalogue"
        );
        return Ok(());
    };
    let report = crate::catalog::import(db, &dir, "nrw", false).await?;
    tracing::info!(
        services = report.imported.leistungen,
        rejected = report.rejected.len(),
        "demo catalogue imported"
    );
    let docs = store.services(land.id).await?;
    // A plausible spread of online services per municipality, so the OZG dashboard has something to
    // compare: a deterministic share of the main LeiKa services (keys ending in 000000) per tenant.
    for (slug, share) in DEMO_SHARE {
        let tenant = tenants.get(slug).await?;
        let offers: Vec<Offer> = docs
            .iter()
            .filter(|d| {
                d.leika
                    .as_ref()
                    .is_some_and(|k| k.as_str().ends_with("000000"))
            })
            .filter_map(|d| {
                let h = demo_hash(slug, d.id);
                (h % 100 < *share).then(|| Offer {
                    leistung_id: d.id,
                    online: !h.is_multiple_of(7),
                    url: None,
                    maturity: i64::try_from(1 + (h / 100) % 4).unwrap_or(1),
                })
            })
            .collect();
        store.set_offers(tenant.id, &offers, "system:demo").await?;
    }
    for (slug, leika, online, maturity) in OFFERS {
        let Some(doc) = docs
            .iter()
            .find(|d| d.leika.as_ref().is_some_and(|k| k.as_str() == *leika))
        else {
            continue;
        };
        let tenant = tenants.get(slug).await?;
        let url = online.then(|| format!("/{slug}/leistungen/{}", doc.id));
        store
            .set_offer(
                tenant.id,
                &Offer {
                    leistung_id: doc.id,
                    online: *online,
                    url,
                    maturity: *maturity,
                },
                "system:demo",
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_tenants_are_valid() {
        let all = super::tenants().unwrap();
        assert!(all.len() >= 6);
        for t in &all {
            t.validate().unwrap_or_else(|e| panic!("{}: {e}", t.slug));
        }
        let dahlem = all.iter().find(|t| t.slug.as_str() == "dahlem").unwrap();
        assert_eq!(dahlem.ags.as_str(), "05366012");
    }
}
