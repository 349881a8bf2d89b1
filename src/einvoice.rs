//! `rathaus einvoice …`: the Leitweg-ID routes of E-Rechnung reception.

use anyhow::Result;
use clap::Subcommand;
use rathaus_core::Tenant;
use rathaus_storage::einvoices::{EinvoiceStore, RouteChange};
use rathaus_storage::tenants::TenantStore;
use rathaus_storage::{Blobs, StorageError};

use crate::Common;

/// E-Rechnung reception.
#[derive(Subcommand)]
pub enum EinvoiceCommand {
    /// Leitweg-ID routes: which Leitweg-IDs deliver invoices to which office of a tenant.
    Routes {
        #[command(subcommand)]
        command: RoutesCommand,
    },
}

/// Managing Leitweg-ID routes.
#[derive(Subcommand)]
pub enum RoutesCommand {
    /// List the tenant's routes (prefix and office, one per line).
    List {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Print a JSON array `[{"prefix", "office", "created_at"}]` instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Route a Leitweg-ID prefix to an office of the tenant (creates the route, or changes the
    /// office of the tenant's existing one); a prefix of another tenant is refused.
    Add {
        /// Leitweg-ID prefix: Grobadressierung (2–12 digits), optionally -Feinadressierung
        /// (1–30 letters or digits), optionally -check digits (2 digits).
        prefix: String,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Receiving office.
        #[arg(long)]
        office: String,
        #[command(flatten)]
        common: Common,
    },
    /// Remove a route of the tenant.
    Remove {
        /// Leitweg-ID prefix of the route.
        prefix: String,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        common: Common,
    },
}

/// The store and the tenant a command works on.
async fn open(common: &Common, slug: &str) -> Result<(EinvoiceStore, Tenant)> {
    let config = crate::load(common, None)?;
    let db = crate::connect(&config).await?;
    db.migrate().await?;
    let tenant = match TenantStore::new(db.clone()).get(slug).await {
        Err(StorageError::NotFound(_)) => anyhow::bail!("Mandant {slug:?} gibt es nicht"),
        other => other?,
    };
    let blobs = Blobs::open(&config.blobs, &config.data_dir)?;
    Ok((EinvoiceStore::new(db, blobs), tenant))
}

/// Runs an `einvoice` command.
pub async fn run(command: EinvoiceCommand) -> Result<()> {
    let EinvoiceCommand::Routes { command } = command;
    match command {
        RoutesCommand::List {
            tenant,
            json,
            common,
        } => {
            let (store, t) = open(&common, &tenant).await?;
            let routes = store.routes(t.id).await?;
            if json {
                let items: Vec<_> = routes
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "prefix": r.leitweg_prefix,
                            "office": r.office,
                            "created_at": r.created_at,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else if routes.is_empty() {
                println!("{} ({}) hat keine Leitweg-Routen.", t.name, t.slug);
            } else {
                println!("Leitweg-Routen von {} ({}):", t.name, t.slug);
                let width = routes
                    .iter()
                    .map(|r| r.leitweg_prefix.len())
                    .max()
                    .unwrap_or(0);
                for r in &routes {
                    println!("  {:width$}  → {}", r.leitweg_prefix, r.office);
                }
            }
        }
        RoutesCommand::Add {
            prefix,
            tenant,
            office,
            common,
        } => {
            let (store, t) = open(&common, &tenant).await?;
            let change = store.put_route(t.id, &prefix, &office, "cli").await?;
            let route = store.route(t.id, &prefix).await?;
            let what = match change {
                RouteChange::Created => "angelegt",
                RouteChange::Changed => "geändert",
                RouteChange::Unchanged => "unverändert",
            };
            println!(
                "Leitweg-Route {} → {} ({}), {}: {what}.",
                route.leitweg_prefix, t.name, t.slug, route.office
            );
        }
        RoutesCommand::Remove {
            prefix,
            tenant,
            common,
        } => {
            let (store, t) = open(&common, &tenant).await?;
            match store.remove_route(t.id, &prefix, "cli").await {
                Err(rathaus_storage::einvoices::EinvoiceError::Storage(
                    StorageError::NotFound(_),
                )) => anyhow::bail!(
                    "{} ({}) hat keine Leitweg-Route {:?}",
                    t.name,
                    t.slug,
                    prefix.trim()
                ),
                other => other?,
            }
            println!(
                "Leitweg-Route {} von {} ({}) entfernt.",
                prefix.trim().to_ascii_uppercase(),
                t.name,
                t.slug
            );
        }
    }
    Ok(())
}
