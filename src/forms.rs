//! `rathaus forms …`: importing FIM schemas as forms and exporting them as XDatenfelder 3.

use anyhow::{Context, Result};
use clap::Subcommand;
use rathaus_forms::{CodeListDir, xml::Limits};
use rathaus_storage::StorageError;
use rathaus_storage::forms::FormStore;
use rathaus_storage::tenants::TenantStore;
use std::path::PathBuf;

use crate::Common;

/// Online forms.
#[derive(Subcommand)]
pub enum FormsCommand {
    /// Import a FIM XDatenfelder schema (XDF 2 or 3) as a published form of a tenant; prints
    /// `{"form_id", "url", "groups", "fields", "warnings"}`.
    ImportFim {
        /// The schema file (xdatenfelder.stammdatenschema.0102).
        file: PathBuf,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Directory with genericode code lists (file name containing the list's id); default:
        /// the schema's directory.
        #[arg(long, value_name = "DIR")]
        codelists: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
}

/// Runs a forms command.
pub async fn run(command: FormsCommand) -> Result<()> {
    match command {
        FormsCommand::ImportFim {
            file,
            tenant,
            codelists,
            common,
        } => {
            let limits = Limits::default();
            // Refuse oversized files by their size, before reading them.
            let size = std::fs::metadata(&file)
                .with_context(|| format!("{} nicht lesbar", file.display()))?
                .len();
            anyhow::ensure!(
                size <= limits.max_bytes as u64,
                "{}: {} MB ist zu groß für ein FIM-Schema (höchstens {} MB)",
                file.display(),
                size / (1024 * 1024),
                limits.max_bytes / (1024 * 1024)
            );
            let bytes =
                std::fs::read(&file).with_context(|| format!("{} nicht lesbar", file.display()))?;
            let source = match codelists {
                Some(dir) => CodeListDir::new(dir),
                None => CodeListDir::beside(&file),
            };
            let imported = rathaus_forms::xdf::import_with_limits(&bytes, &source, &limits)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let config = crate::load(&common, None)?;
            let db = crate::connect(&config).await?;
            db.migrate().await?;
            let t = match TenantStore::new(db.clone()).get(&tenant).await {
                Err(StorageError::NotFound(_)) => anyhow::bail!("Mandant {tenant:?} gibt es nicht"),
                other => other?,
            };
            let saved =
                rathaus_web::forms::store_import(&FormStore::new(db), t.id, &imported, "cli")
                    .await?;
            println!(
                "{}",
                serde_json::json!({
                    "form_id": saved.form_id,
                    "url": format!("/{}/formulare/{}", t.slug, saved.form_id),
                    "groups": imported.groups,
                    "fields": imported.fields,
                    "warnings": imported.warnings,
                    "version": saved.version,
                })
            );
        }
    }
    Ok(())
}
