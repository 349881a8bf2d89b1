//! Configuration: defaults → `rathaus.toml` → `RATHAUS_*` environment → command-line flags.
//!
//! Nested keys use `__` in the environment (`RATHAUS_HTTP__HSTS=true`). Secrets can be read
//! from files: `database_url_file`, `http.csrf_secret_file`, `blobs.secret_access_key_file`
//! (e.g. `RATHAUS_DATABASE_URL_FILE=/run/secrets/db`). Every key is documented in
//! `docs/configuration.md`; a test keeps that page and these defaults in step.

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use rathaus_storage::BlobConfig;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Directory for the SQLite file, local blobs and generated secrets.
    pub data_dir: PathBuf,
    /// Directory of the catalogue data (OZG/LeiKa CSV) that `demo` imports on first start.
    pub catalog_dir: Option<PathBuf>,
    /// Database URL; empty means SQLite in `data_dir/rathaus.db`.
    pub database_url: Option<String>,
    /// File holding the database URL (for secrets).
    pub database_url_file: Option<PathBuf>,
    /// Apply pending migrations when `serve` starts.
    pub auto_migrate: bool,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// Log filter (tracing `EnvFilter` syntax); `RUST_LOG` overrides it.
    pub log_level: String,
    /// Database pool settings.
    pub database: DatabaseConfig,
    /// HTTP settings.
    pub http: HttpConfig,
    /// Blob storage.
    pub blobs: BlobConfig,
    /// Servicekonto and OpenID Connect provider.
    pub identity: IdentityConfig,
    /// Online forms.
    pub forms: FormsConfig,
    /// E-Rechnung reception.
    pub einvoice: EinvoiceConfig,
}

/// E-Rechnung reception.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct EinvoiceConfig {
    /// Largest accepted invoice in bytes, for `POST /api/v1/einvoices` and the staff upload page
    /// alike; larger ones get 413.
    pub max_bytes: usize,
    /// Invoices per sending client (staff token or machine client; else client address; on the
    /// upload page the signed-in account) and minute, per app node; more get 429. `0`: no limit.
    pub receptions_per_minute: u32,
}

impl Default for EinvoiceConfig {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            receptions_per_minute: 60,
        }
    }
}

/// Online forms.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FormsConfig {
    /// Largest upload per file in bytes (a field's own smaller limit wins).
    pub max_upload_bytes: usize,
    /// ClamAV daemon (`host:port`, e.g. `127.0.0.1:3310`) that scans every upload; empty: no
    /// virus scan (type and size checks only).
    pub clamav: Option<String>,
    /// Submissions without a signed-in account (API and HTML) per client address and minute, per
    /// app node; more get 429. `0` switches the limit off (benchmarks).
    pub anonymous_submissions_per_minute: u32,
}

impl Default for FormsConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 10 * 1024 * 1024,
            clamav: None,
            anonymous_submissions_per_minute: 30,
        }
    }
}

/// Servicekonto and OpenID Connect provider.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IdentityConfig {
    /// Issuer URL (the public root of the instance, e.g. `https://service.nrw.example`);
    /// empty: `http://` plus the address the server listens on.
    pub issuer: Option<String>,
    /// Signature algorithm of ID and access tokens: `ES256` or `RS256`.
    pub signing_alg: String,
    /// Lifetime of access and ID tokens in seconds.
    pub access_token_secs: i64,
    /// Lifetime of refresh tokens in days (renewed with each rotation).
    pub refresh_token_days: i64,
    /// Lifetime of a browser session in hours.
    pub session_hours: i64,
    /// Age in days after which new signing keys are made (old ones stay published for two days).
    pub key_rotation_days: i64,
    /// argon2id memory in KiB (at least 19456, OWASP).
    pub argon2_memory_kib: u32,
    /// argon2id iterations (at least 2).
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
    /// Login attempts per client address and minute (0: unlimited).
    pub login_rate_per_minute: u32,
    /// Directory where outgoing mail is written (pickup directory); empty: `data_dir/mail-outbox`.
    pub mail_outbox: Option<PathBuf>,
    /// Sender of outgoing mail.
    pub mail_from: String,
    /// Upstream OpenID Connect provider (BundID, eID service); none when absent.
    pub upstream: Option<UpstreamConfig>,
}

/// An upstream OpenID Connect provider.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct UpstreamConfig {
    /// Its issuer URL.
    pub issuer: String,
    /// Our client id there.
    pub client_id: String,
    /// Our client secret there.
    pub client_secret: Option<String>,
    /// File holding the client secret.
    pub client_secret_file: Option<PathBuf>,
    /// Name on the login button ("Mit … anmelden").
    pub name: String,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            client_secret_file: None,
            name: "BundID".into(),
        }
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            signing_alg: "ES256".into(),
            access_token_secs: 600,
            refresh_token_days: 30,
            session_hours: 8,
            key_rotation_days: 90,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            login_rate_per_minute: 20,
            mail_outbox: None,
            mail_from: "Servicekonto <servicekonto@rathaus.invalid>".into(),
            upstream: None,
        }
    }
}

/// Database pool settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DatabaseConfig {
    /// Maximum pool size.
    pub max_connections: u32,
    /// Seconds to wait for a connection before giving up.
    pub connect_timeout_secs: u64,
}

/// HTTP settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpConfig {
    /// Send HSTS (enable when served over TLS).
    pub hsts: bool,
    /// Mark cookies `Secure` (enable when served over TLS).
    pub secure_cookies: bool,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Largest logo upload in bytes.
    pub max_logo_bytes: usize,
    /// Secret for CSRF tokens; generated into `data_dir/secrets/csrf.key` when empty.
    /// Several app nodes must share it.
    pub csrf_secret: Option<String>,
    /// File holding the CSRF secret.
    pub csrf_secret_file: Option<PathBuf>,
    /// Seconds to let running requests finish on shutdown.
    pub shutdown_grace_secs: u64,
    /// Anonymous form submissions per client address and minute (0: unlimited).
    pub form_rate_per_minute: u32,
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a reverse proxy).
    pub trust_forwarded_for: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            catalog_dir: None,
            database_url: None,
            database_url_file: None,
            auto_migrate: true,
            log_format: "text".into(),
            log_level: "info,sqlx=warn".into(),
            database: DatabaseConfig::default(),
            http: HttpConfig::default(),
            blobs: BlobConfig::default(),
            identity: IdentityConfig::default(),
            forms: FormsConfig::default(),
            einvoice: EinvoiceConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            connect_timeout_secs: 10,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            hsts: false,
            secure_cookies: false,
            max_body_bytes: 1024 * 1024,
            max_logo_bytes: 512 * 1024,
            csrf_secret: None,
            csrf_secret_file: None,
            shutdown_grace_secs: 20,
            form_rate_per_minute: 10,
            trust_forwarded_for: false,
        }
    }
}

/// Overrides from the command line.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
}

fn read_secret(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("Geheimnis-Datei {} nicht lesbar", path.display()))?;
    Ok(text.trim().to_owned())
}

impl Config {
    /// Loads the layers. `file` defaults to `rathaus.toml` in the working directory (optional).
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => {
                anyhow::ensure!(
                    f.exists(),
                    "Konfigurationsdatei {} gibt es nicht",
                    f.display()
                );
                fig = fig.merge(Toml::file(f));
            }
            None => fig = fig.merge(Toml::file("rathaus.toml")),
        }
        fig = fig.merge(
            Env::prefixed("RATHAUS_")
                .split("__")
                .ignore(&["test_postgres_url", "bin"]),
        );
        let mut config: Config = fig.extract().context("Konfiguration ungültig")?;
        if let Some(l) = overrides.listen {
            config.listen = l;
        }
        if let Some(d) = &overrides.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(f) = &config.database_url_file {
            config.database_url = Some(read_secret(f)?);
        }
        if let Some(f) = &config.http.csrf_secret_file {
            config.http.csrf_secret = Some(read_secret(f)?);
        }
        if let BlobConfig::S3 {
            secret_access_key, ..
        } = &mut config.blobs
            && let Ok(f) = std::env::var("RATHAUS_BLOBS__SECRET_ACCESS_KEY_FILE")
        {
            *secret_access_key = Some(read_secret(Path::new(&f))?);
        }
        config.database_url = config.database_url.filter(|u| !u.trim().is_empty());
        Ok(config)
    }

    /// The database URL to use.
    pub fn database_url(&self) -> Result<String> {
        match &self.database_url {
            Some(u) => Ok(u.clone()),
            None => Ok(rathaus_storage::Db::sqlite_url(&self.data_dir)?),
        }
    }

    /// The upstream client secret (inline or from its file).
    pub fn upstream_secret(&self) -> Result<Option<String>> {
        let Some(u) = &self.identity.upstream else {
            return Ok(None);
        };
        match (&u.client_secret, &u.client_secret_file) {
            (Some(s), _) => Ok(Some(s.clone())),
            (None, Some(f)) => Ok(Some(read_secret(f)?)),
            (None, None) => Ok(Some(String::new())),
        }
    }

    /// The CSRF secret: configured, or generated once into the data dir.
    pub fn csrf_secret(&self) -> Result<Vec<u8>> {
        if let Some(s) = &self.http.csrf_secret {
            anyhow::ensure!(
                s.len() >= 32,
                "http.csrf_secret muss mindestens 32 Zeichen lang sein"
            );
            return Ok(s.as_bytes().to_vec());
        }
        let dir = self.data_dir.join("secrets");
        let path = dir.join("csrf.key");
        if let Ok(existing) = std::fs::read(&path)
            && existing.len() >= 32
        {
            return Ok(existing);
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("{} nicht anlegbar", dir.display()))?;
        let mut key = vec![0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        write_private(&path, &key)?;
        Ok(key)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("{} nicht schreibbar", path.display()))?;
    f.write_all(data)?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    std::fs::write(path, data).with_context(|| format!("{} nicht schreibbar", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(map) = value {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if v.is_object() {
                    keys(&key, v, out);
                } else {
                    out.push(key);
                }
            }
        }
    }

    #[test]
    fn every_key_is_documented() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/configuration.md"
        ))
        .unwrap();
        let mut all = Vec::new();
        keys(
            "",
            &serde_json::to_value(Config::default()).unwrap(),
            &mut all,
        );
        let s3 = BlobConfig::S3 {
            bucket: String::new(),
            endpoint: None,
            region: String::new(),
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
        };
        keys("blobs", &serde_json::to_value(s3).unwrap(), &mut all);
        keys(
            "identity.upstream",
            &serde_json::to_value(UpstreamConfig::default()).unwrap(),
            &mut all,
        );
        assert!(all.len() > 15);
        for key in all {
            assert!(
                doc.contains(&format!("| `{key}` |")),
                "{key} is missing in docs/configuration.md"
            );
        }
    }

    #[test]
    #[allow(
        clippy::result_large_err,
        reason = "figment::Jail's closure signature is fixed"
    )]
    fn layers_override_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "rathaus.toml",
                "listen = \"127.0.0.1:9000\"\n[http]\nhsts = true\nmax_body_bytes = 10\n",
            )?;
            jail.set_env("RATHAUS_HTTP__MAX_BODY_BYTES", "20");
            jail.set_env("RATHAUS_DATABASE_URL", "postgres://x@localhost/y");
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.listen.port(), 9000, "file over default");
            assert!(c.http.hsts);
            assert_eq!(c.http.max_body_bytes, 20, "environment over file");
            assert_eq!(c.database_url.as_deref(), Some("postgres://x@localhost/y"));
            let c = Config::load(
                None,
                &Overrides {
                    listen: Some("127.0.0.1:1234".parse().unwrap()),
                    data_dir: None,
                },
            )
            .map_err(|e| e.to_string())?;
            assert_eq!(c.listen.port(), 1234, "flag over everything");
            jail.create_file("db-url", "postgres://secret@host/db\n")?;
            jail.set_env("RATHAUS_DATABASE_URL_FILE", "db-url");
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(
                c.database_url.as_deref(),
                Some("postgres://secret@host/db"),
                "secret from file"
            );
            Ok(())
        });
    }
}
