//! The `rathaus` binary: command line, configuration, start-up and shutdown.

mod catalog;
mod config;
mod demo;
mod einvoice;
mod forms;
mod identity;
mod memory;
mod xrechnung;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use config::{Config, Overrides};
use rathaus_core::staff::Role;
use rathaus_storage::audit::AuditStore;
use rathaus_storage::staff::StaffStore;
use rathaus_storage::tenants::TenantStore;
use rathaus_storage::{Blobs, Db, StorageError, redact_url};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Rathaus – die Plattform für die Online-Verwaltung eines Landes und seiner Kommunen.
#[derive(Parser)]
#[command(name = "rathaus", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
pub(crate) struct Common {
    /// Configuration file (default: ./rathaus.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory (SQLite file, local blobs, generated secrets). Default: ./data
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server.
    Serve {
        /// Listen address (default 127.0.0.1:8080; port 0 picks a free port).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        #[command(flatten)]
        common: Common,
    },
    /// Seed the demo (NRW and real municipalities) idempotently, then start the server.
    Demo {
        /// Listen address (default 127.0.0.1:8080; port 0 picks a free port).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        #[command(flatten)]
        common: Common,
    },
    /// Apply pending database migrations.
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The service catalogue.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Print the OpenAPI description of the JSON API.
    Openapi,
    /// E-Rechnungen (XRechnung) prüfen.
    Xrechnung {
        #[command(subcommand)]
        command: xrechnung::XrechnungCommand,
    },
    /// E-Rechnung reception: Leitweg-ID routes.
    Einvoice {
        #[command(subcommand)]
        command: einvoice::EinvoiceCommand,
    },
    /// Staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Online forms (FIM import).
    Forms {
        #[command(subcommand)]
        command: forms::FormsCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exit code 1 if any entry was changed or deleted.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Import the OZG/LeiKa catalogue (CSV files) for a Land; replaces its catalogue atomically.
    Import {
        /// Directory with ozg_themenfelder.csv, ozg_lebenslagen.csv, ozg_leistungen.csv, leika_leistungen.csv.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Slug of the Land tenant whose catalogue this is.
        #[arg(long, default_value = "nrw")]
        land: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Harvest another Rathaus portal's federation export (rathaus-leistungen/1) as the
    /// published offers of a tenant (Portalverbund); prints a JSON summary.
    Harvest {
        /// The export (…/api/v1/tenants/SLUG/services-export) or the other portal's base URL.
        url: String,
        /// Slug of the tenant here; the export must belong to the same tenant (same ARS).
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create the staff user if missing and print a bearer token (one line).
    Token {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Login name.
        #[arg(long)]
        user: String,
        /// Organisationseinheit.
        #[arg(long, default_value = "Verwaltung")]
        office: String,
        /// Role: admin, Sachbearbeitung, Registratur, Archiv, Redaktion, Kasse.
        #[arg(long, default_value = "Sachbearbeitung")]
        role: String,
        /// Validity in hours.
        #[arg(long, default_value_t = 8)]
        valid_hours: i64,
        #[command(flatten)]
        common: Common,
    },
    /// Make a Servicekonto account a staff member of a tenant (back-office login at /SLUG/verwaltung).
    Link {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Login name of the staff member.
        #[arg(long)]
        user: String,
        /// E-mail address of the Servicekonto account.
        #[arg(long)]
        email: String,
        /// Organisationseinheit.
        #[arg(long, default_value = "Verwaltung")]
        office: String,
        /// Role: admin, Sachbearbeitung, Registratur, Archiv, Redaktion, Kasse.
        #[arg(long, default_value = "Sachbearbeitung")]
        role: String,
        #[command(flatten)]
        common: Common,
    },
}

pub(crate) fn load(common: &Common, listen: Option<SocketAddr>) -> Result<Config> {
    Config::load(
        common.config.as_deref(),
        &Overrides {
            listen,
            data_dir: common.data_dir.clone(),
        },
    )
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub(crate) async fn connect(config: &Config) -> Result<Db> {
    let url = config.database_url()?;
    let db = Db::connect(
        &url,
        config.database.max_connections,
        Duration::from_secs(config.database.connect_timeout_secs),
    )
    .await?;
    tracing::info!(database = %redact_url(&url), backend = db.backend().as_str(), "database connected");
    Ok(db)
}

async fn serve(config: Config, seed_demo: bool) -> Result<()> {
    let started = Instant::now();
    init_tracing(&config);
    let db = connect(&config).await?;
    if config.auto_migrate || seed_demo {
        let n = db.migrate().await?;
        if n > 0 {
            tracing::info!(applied = n, "migrations applied");
        }
    }
    if seed_demo {
        let (created, updated, unchanged) = demo::seed(&db).await?;
        tracing::info!(created, updated, unchanged, "demo tenants seeded");
        demo::seed_catalog(&db, config.catalog_dir.as_deref()).await?;
        demo::seed_forms(&db).await?;
    }
    let blobs = Blobs::open(&config.blobs, &config.data_dir)?;
    if seed_demo {
        demo::seed_einvoice_routes(&db, &blobs).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("Adresse {} nicht verfügbar", config.listen))?;
    let addr = listener.local_addr()?;
    let csrf_secret = config.csrf_secret()?;
    let identity = identity::build(&config, &db, addr, &csrf_secret).await?;
    if seed_demo {
        demo::seed_identity(&identity.provider).await?;
    }
    let web = rathaus_web::WebConfig {
        hsts: config.http.hsts,
        secure_cookies: config.http.secure_cookies,
        max_body_bytes: config.http.max_body_bytes,
        max_logo_bytes: config.http.max_logo_bytes,
        csrf_secret,
        form_rate_per_minute: config.http.form_rate_per_minute,
        trust_forwarded_for: config.http.trust_forwarded_for,
        login_rate_per_minute: config.identity.login_rate_per_minute,
        max_upload_bytes: config.forms.max_upload_bytes,
        clamav: config.forms.clamav.clone(),
        submission_rate_per_minute: config.forms.anonymous_submissions_per_minute,
        einvoice_max_bytes: config.einvoice.max_bytes,
        einvoice_rate_per_minute: config.einvoice.receptions_per_minute,
    };
    let state = rathaus_web::AppState::from(rathaus_web::Services {
        einvoice_validator: xrechnung::load_for_serve(config.einvoice.max_bytes),
        ..rathaus_web::Services::new(db.clone(), blobs, web, identity)
    });
    rathaus_web::search_index::spawn_refresher(state.clone());
    identity::spawn_upkeep(state.identity.clone());
    let app = rathaus_web::router(state);
    tracing::info!(%addr, startup_ms = started.elapsed().as_millis() as u64, "listening");
    println!("Rathaus bereit: http://{addr}/");
    let grace = Duration::from_secs(config.http.shutdown_grace_secs);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal(grace))
    .await?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; afterwards running requests get `grace` to finish.
async fn shutdown_signal(grace: Duration) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!(grace_secs = grace.as_secs(), "shutting down");
    tokio::spawn(async move {
        tokio::time::sleep(grace).await;
        tracing::warn!("grace period over, exiting");
        std::process::exit(0);
    });
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve { listen, common } => serve(load(&common, listen)?, false).await?,
        Command::Demo { listen, common } => serve(load(&common, listen)?, true).await?,
        Command::Migrate { common } => {
            let config = load(&common, None)?;
            let db = connect(&config).await?;
            let n = db.migrate().await?;
            println!(
                "{n} Migration(en) angewendet; Schema aktuell ({} bekannt).",
                Db::known_migrations()
            );
        }
        Command::Audit {
            command: AuditCommand::Verify { json, common },
        } => {
            let config = load(&common, None)?;
            let db = connect(&config).await?;
            let report = AuditStore::new(db)
                .verify(|n| eprintln!("… {n} Einträge geprüft"))
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else if report.problems.is_empty() {
                println!(
                    "Protokoll unversehrt: {} Einträge geprüft. Kettenkopf {} (Eintrag {}).",
                    report.checked, report.last_hash, report.last_seq
                );
            } else {
                println!(
                    "Protokoll MANIPULIERT: {} Einträge geprüft, {} Befund(e):",
                    report.checked,
                    report.problems.len()
                );
                for p in &report.problems {
                    println!("  - {p}");
                }
            }
            return Ok(if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        Command::Openapi => println!("{}", rathaus_web::openapi_json()),
        Command::Xrechnung { command } => return xrechnung::run(command),
        Command::Forms { command } => forms::run(command).await?,
        Command::Einvoice { command } => einvoice::run(command).await?,
        Command::Catalog {
            command:
                CatalogCommand::Import {
                    dir,
                    land,
                    json,
                    common,
                },
        } => {
            let config = load(&common, None)?;
            let db = connect(&config).await?;
            db.migrate().await?;
            let report = catalog::import(&db, &dir, &land, true).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                report.print();
            }
        }
        Command::Catalog {
            command:
                CatalogCommand::Harvest {
                    url,
                    tenant,
                    common,
                },
        } => {
            let config = load(&common, None)?;
            let db = connect(&config).await?;
            db.migrate().await?;
            let report = catalog::harvest(&db, &url, &tenant).await?;
            println!("{}", serde_json::to_string(&report)?);
        }
        Command::Staff {
            command:
                StaffCommand::Token {
                    tenant,
                    user,
                    office,
                    role,
                    valid_hours,
                    common,
                },
        } => {
            let config = load(&common, None)?;
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            anyhow::ensure!(
                (1..=24 * 366).contains(&valid_hours),
                "--valid-hours muss zwischen 1 und 8784 liegen"
            );
            let db = connect(&config).await?;
            db.migrate().await?;
            let t = match TenantStore::new(db.clone()).get(&tenant).await {
                Err(StorageError::NotFound(_)) => anyhow::bail!("Mandant {tenant:?} gibt es nicht"),
                other => other?,
            };
            let token = StaffStore::new(db)
                .issue_token(
                    t.id,
                    &user,
                    &office,
                    role,
                    chrono::Duration::hours(valid_hours),
                )
                .await?;
            println!("{token}");
        }
        Command::Staff {
            command:
                StaffCommand::Link {
                    tenant,
                    user,
                    email,
                    office,
                    role,
                    common,
                },
        } => {
            let config = load(&common, None)?;
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let db = connect(&config).await?;
            db.migrate().await?;
            let t = match TenantStore::new(db.clone()).get(&tenant).await {
                Err(StorageError::NotFound(_)) => anyhow::bail!("Mandant {tenant:?} gibt es nicht"),
                other => other?,
            };
            let accounts = rathaus_identity::accounts::AccountStore::new(db.clone());
            let Some(account) = accounts.by_email(&email).await? else {
                anyhow::bail!("Ein Servicekonto mit der E-Mail-Adresse {email:?} gibt es nicht");
            };
            StaffStore::new(db)
                .link_account(t.id, &user, &office, role, &account.id, "cli")
                .await?;
            println!(
                "{user} ({}) ist jetzt {} in {} ({office}); Anmeldung unter /{}/verwaltung",
                account.email,
                role.as_str(),
                t.name,
                t.slug
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    memory::tune_allocator();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Fehler: Laufzeitumgebung nicht startbar: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Fehler: {e:#}");
            ExitCode::from(2)
        }
    }
}
