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
