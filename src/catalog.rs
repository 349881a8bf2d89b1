//! `rathaus catalog import`: read, check and store the catalogue with a progress bar.

use anyhow::{Context, Result};
use rathaus_catalog::Rejected;
use rathaus_storage::catalog::{CatalogStore, ImportCounts};
use rathaus_storage::tenants::TenantStore;
use rathaus_storage::{Db, StorageError};
use serde::Serialize;
use std::path::Path;

/// What an import did.
#[derive(Serialize)]
pub struct Report {
    /// Imported rows per table.
    pub imported: ImportCounts,
    /// Rows left out, with file, line and reason.
    pub rejected: Vec<Rejected>,
}

impl Report {
    /// Prints the report for people.
    pub fn print(&self) {
        let c = &self.imported;
        println!(
            "Katalog importiert: {} Themenfelder, {} Lebenslagen, {} OZG-Leistungen, {} Leistungen; {} Zeile(n) abgewiesen.",
            c.themenfelder,
            c.lebenslagen,
            c.ozg_leistungen,
            c.leistungen,
            self.rejected.len()
        );
        for r in &self.rejected {
            println!("  {}:{}: {}", r.file, r.line, r.reason);
        }
    }
}

/// Imports `dir` as the catalogue of the Land `land`. With `progress`, draws a bar on stderr.
pub async fn import(db: &Db, dir: &Path, land: &str, progress: bool) -> Result<Report> {
    let tenant = match TenantStore::new(db.clone()).get(land).await {
        Err(StorageError::NotFound(_)) => anyhow::bail!("Mandant {land:?} gibt es nicht"),
        other => other?,
    };
    anyhow::ensure!(
        tenant.kind == rathaus_core::TenantKind::Land,
        "{land} ist kein Land: der Katalog gehört einem Land"
    );
    let data = rathaus_catalog::read_dir(dir)
        .with_context(|| format!("Katalog in {} nicht lesbar", dir.display()))?;
    let bar = if progress {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} Zeilen ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message("Import");
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let imported = CatalogStore::new(db.clone())
        .replace(tenant.id, &data, "cli", |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await?;
    bar.finish_and_clear();
    Ok(Report {
        imported,
        rejected: data.rejected,
    })
}

/// A service of another portal's export that was not taken over.
#[derive(Serialize)]
pub struct HarvestRejected {
    /// Position in the export's `services` (from 0).
    pub index: usize,
    /// Why (German).
    pub reason: String,
}

/// What a harvest did (printed as one JSON line).
#[derive(Serialize)]
pub struct HarvestReport {
    /// Slug of the tenant whose offers were stored.
    pub tenant: String,
    /// The export that was read.
    pub source: String,
    /// Services stored as published offers.
    pub services: usize,
    /// Of these, offered online.
    pub online: usize,
    /// Services left out.
    pub rejected: Vec<HarvestRejected>,
}

/// Export format this instance reads and writes.
const EXPORT_FORMAT: &str = "rathaus-leistungen/1";

#[derive(serde::Deserialize)]
struct ExportHead {
    format: String,
    tenant: ExportTenant,
    services: Vec<serde_json::Value>,
}

#[derive(serde::Deserialize)]
struct ExportTenant {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    ars: String,
}

#[derive(serde::Deserialize)]
struct ExportProvider {
    slug: String,
}

#[derive(serde::Deserialize)]
struct ExportService {
    leika: Option<String>,
    online: bool,
    maturity: i64,
    url: String,
    #[serde(default)]
    provided_by: Option<ExportProvider>,
    #[serde(default)]
    office: Option<rathaus_catalog::offer::Office>,
    #[serde(default)]
    fees: Option<rathaus_catalog::offer::Fees>,
    #[serde(default)]
    note: Option<String>,
}

/// The export URL: `url` itself if it names an export, else the export of `slug` below it.
fn export_url(url: &str, slug: &str) -> Result<url::Url> {
    let parsed = url::Url::parse(url).with_context(|| format!("{url:?} ist keine gültige URL"))?;
    anyhow::ensure!(
        matches!(parsed.scheme(), "http" | "https"),
        "{url:?} ist keine http(s)-Adresse"
    );
    if parsed.path().ends_with("/services-export") {
        return Ok(parsed);
    }
    let mut base = parsed;
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(base.join(&format!("api/v1/tenants/{slug}/services-export"))?)
}

/// One exported service as an offer of this instance, or why not.
fn harvested(
    s: serde_json::Value,
    source: &url::Url,
    leika_ids: &std::collections::HashMap<String, i64>,
) -> std::result::Result<rathaus_storage::offers::Harvested, String> {
    let s: ExportService =
        serde_json::from_value(s).map_err(|e| format!("Eintrag nicht lesbar: {e}"))?;
    let Some(leika) = s.leika else {
        return Err("Leistung ohne LeiKa-Schlüssel".into());
    };
    let Some(&leistung_id) = leika_ids.get(&leika) else {
        return Err(format!(
            "LeiKa-Schlüssel {leika} ist im Leistungskatalog dieses Portals nicht bekannt"
        ));
    };
    // Links of the source portal (paths) become absolute links to it.
    let url = if s.online {
        let u = source
            .join(&s.url)
            .map_err(|e| format!("Link {:?} ungültig: {e}", s.url))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!("Link {:?} ist keine http(s)-Adresse", s.url));
        }
        Some(u.to_string())
    } else {
        None
    };
    let variant = rathaus_catalog::offer::OfferVariant {
        online: s.online,
        url,
        maturity: s.maturity,
        office: s.office.unwrap_or_default(),
        fees: s.fees.unwrap_or_default(),
        note: s.note.unwrap_or_default(),
    }
    .normalized();
    // The link was resolved above (the source may be plain http); every other rule applies.
    if let Err(errors) = variant.validate() {
        let messages: Vec<String> = errors
            .into_iter()
            .filter(|e| e.field != "url")
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        if !messages.is_empty() {
            return Err(messages.join("; "));
        }
    }
    Ok(rathaus_storage::offers::Harvested {
        leistung_id,
        variant,
        provided_by: s.provided_by.map(|p| p.slug),
    })
}

/// Fetches another portal's federation export of `slug` and stores its services as `slug`'s
/// published offers (one transaction). Refuses a wrong format or another tenant (by ARS).
pub async fn harvest(db: &Db, url: &str, slug: &str) -> Result<HarvestReport> {
    let tenants = TenantStore::new(db.clone());
    let tenant = match tenants.get(slug).await {
        Err(StorageError::NotFound(_)) => anyhow::bail!("Mandant {slug:?} gibt es nicht"),
        other => other?,
    };
    let source = export_url(url, slug)?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()?;
    let res = client
        .get(source.clone())
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{source} ist nicht erreichbar: {e}"))?;
    anyhow::ensure!(
        res.status().is_success(),
        "{source} antwortet mit HTTP {}",
        res.status()
    );
    let body: serde_json::Value = res
        .json()
        .await
        .map_err(|e| anyhow::anyhow!("{source} liefert kein JSON: {e}"))?;
    let format = body.get("format").and_then(|f| f.as_str()).unwrap_or("");
    anyhow::ensure!(
        format == EXPORT_FORMAT,
        "{source} liefert keinen Leistungsexport im Format {EXPORT_FORMAT} (Format: {format:?})"
    );
    let export: ExportHead = serde_json::from_value(body)
        .map_err(|e| anyhow::anyhow!("Export im Format {EXPORT_FORMAT} unvollständig: {e}"))?;
    debug_assert_eq!(export.format, EXPORT_FORMAT);
    anyhow::ensure!(
        export.tenant.ars == tenant.ars.to_string(),
        "Der Export gehört zu {} ({}, ARS {}), nicht zu {} ({}, ARS {}); nichts übernommen",
        export.tenant.name,
        export.tenant.slug,
        export.tenant.ars,
        tenant.name,
        tenant.slug,
        tenant.ars
    );
    let land = tenants
        .list()
        .await?
        .into_iter()
        .find(|t| t.kind == rathaus_core::TenantKind::Land)
        .context("Es ist noch kein Land eingerichtet")?;
    let leika_ids: std::collections::HashMap<String, i64> = CatalogStore::new(db.clone())
        .services(land.id)
        .await?
        .into_iter()
        .filter_map(|d| d.leika.map(|k| (k.as_str().to_owned(), d.id)))
        .collect();
    let total = export.services.len();
    let mut offers = Vec::new();
    let mut rejected = Vec::new();
    for (index, s) in export.services.into_iter().enumerate() {
        match harvested(s, &source, &leika_ids) {
            Ok(o) => offers.push(o),
            Err(reason) => rejected.push(HarvestRejected { index, reason }),
        }
    }
    eprintln!(
        "Übernehme {} von {total} Leistungen aus {source} für {} …",
        offers.len(),
        tenant.name
    );
    let stored = rathaus_storage::offers::OfferStore::new(db.clone())
        .harvest(tenant.id, &offers, source.as_str(), "cli:harvest", |_| {})
        .await?;
    Ok(HarvestReport {
        tenant: tenant.slug.to_string(),
        source: source.to_string(),
        services: stored,
        online: offers.iter().filter(|o| o.variant.online).count(),
        rejected,
    })
}
