//! Shared state of all handlers.

use crate::forms::FormCache;
use crate::forms::scan::VirusScanner;
use crate::ratelimit::{KeyLimiter, Limiter};
use crate::search_index::{OnlineCache, SearchHolder};
use metrics_exporter_prometheus::PrometheusHandle;
use rathaus_identity::mail::Outbox;
use rathaus_identity::provider::Provider;
use rathaus_identity::upstream::Upstream;
use rathaus_storage::audit::AuditStore;
use rathaus_storage::catalog::CatalogStore;
use rathaus_storage::feedback::FeedbackStore;
use rathaus_storage::forms::{FormStore, SubmissionStore};
use rathaus_storage::staff::StaffStore;
use rathaus_storage::tenants::TenantStore;
use rathaus_storage::{Blobs, Db};
use std::sync::Arc;

/// Settings of the web frontend.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Send `Strict-Transport-Security` (only behind TLS).
    pub hsts: bool,
    /// Mark cookies `Secure` (only behind TLS).
    pub secure_cookies: bool,
    /// Largest accepted request body in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Largest accepted logo in bytes.
    pub max_logo_bytes: usize,
    /// Secret for signing CSRF tokens (32+ random bytes).
    pub csrf_secret: Vec<u8>,
    /// Anonymous form submissions per client address and minute (0: unlimited).
    pub form_rate_per_minute: u32,
    /// Take the client address from the last `X-Forwarded-For` entry (behind a reverse proxy).
    pub trust_forwarded_for: bool,
    /// Login attempts (and registrations, reset requests) per client address and minute.
    pub login_rate_per_minute: u32,
    /// Largest accepted upload in a form, in bytes.
    pub max_upload_bytes: usize,
    /// ClamAV daemon (`host:port`) that scans uploads; none: type and size checks only.
    pub clamav: Option<String>,
    /// Form submissions without a signed-in account per client address and minute (0: unlimited).
    pub submission_rate_per_minute: u32,
    /// Largest accepted E-Rechnung (API body and HTML upload), in bytes.
    pub einvoice_max_bytes: usize,
    /// E-Rechnungen received per sending client and minute (0: unlimited).
    pub einvoice_rate_per_minute: u32,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            hsts: false,
            secure_cookies: false,
            max_body_bytes: 1024 * 1024,
            max_logo_bytes: 512 * 1024,
            csrf_secret: Vec::new(),
            form_rate_per_minute: 10,
            trust_forwarded_for: false,
            login_rate_per_minute: 20,
            max_upload_bytes: 10 * 1024 * 1024,
            clamav: None,
            submission_rate_per_minute: 30,
            einvoice_max_bytes: crate::api::einvoices::DEFAULT_MAX_BYTES,
            einvoice_rate_per_minute: 60,
        }
    }
}

/// Everything a handler may need, behind one `Arc`: a request's copy of the state costs one
/// reference count, not one per store (measured: the field-by-field clone and drop of the
/// services were 7 % of the token endpoint's CPU under load).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl From<Services> for AppState {
    fn from(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

/// The stores, caches, limiters and settings the handlers share.
pub struct Services {
    /// Database.
    pub db: Db,
    /// Tenants.
    pub tenants: TenantStore,
    /// Staff and tokens.
    pub staff: StaffStore,
    /// Accessibility feedback.
    pub feedback: FeedbackStore,
    /// Audit trail.
    pub audit: AuditStore,
    /// Blob storage.
    pub blobs: Blobs,
    /// Settings.
    pub config: Arc<WebConfig>,
    /// Prometheus exposition.
    pub metrics: PrometheusHandle,
    /// Limit for anonymous form submissions.
    pub form_limiter: Option<Limiter>,
    /// Service catalogue.
    pub catalog: CatalogStore,
    /// The in-process search index of the catalogue.
    pub search: SearchHolder,
    /// Online-offer sets per tenant for the search.
    pub online_cache: OnlineCache,
    /// The Servicekonto's OpenID Connect provider.
    pub identity: Provider,
    /// The upstream identity provider, if configured.
    pub upstream: Option<Arc<Upstream>>,
    /// Its button name.
    pub upstream_name: Option<String>,
    /// Outgoing mail.
    pub outbox: Outbox,
    /// Limit for login attempts.
    pub login_limiter: Option<Limiter>,
    /// Limits form submissions without a signed-in account per client address.
    pub submission_limiter: Option<Limiter>,
    /// Limits E-Rechnung receptions per sending client (principal or address).
    pub einvoice_limiter: Option<KeyLimiter>,
    /// A password hash to verify against when an address is unknown (equal timing).
    pub dummy_hash: Arc<str>,
    /// Forms and their versions.
    pub forms: FormStore,
    /// Submissions, drafts and uploads.
    pub submissions: SubmissionStore,
    /// Parsed form definitions.
    pub form_cache: FormCache,
    /// Virus scanner for uploads, if configured.
    pub virus_scanner: Option<VirusScanner>,
    /// The XRechnung validator (KoSIT configuration), loaded once; none: reception answers 503.
    pub einvoice_validator: Option<Arc<rathaus_einvoice::Validator>>,
    /// Received E-Rechnungen and their Leitweg-ID routes.
    pub einvoices: rathaus_storage::einvoices::EinvoiceStore,
    /// The tenants' online offers (published state, drafts, re-use).
    pub offers: rathaus_storage::offers::OfferStore,
    /// The process inventory (OZG dashboard, prioritisation).
    pub inventory: rathaus_storage::inventory::InventoryStore,
}

/// The identity parts of the state.
pub struct IdentityParts {
    /// The provider.
    pub provider: Provider,
    /// The upstream identity provider.
    pub upstream: Option<Upstream>,
    /// Outgoing mail.
    pub outbox: Outbox,
}

impl AppState {
    /// Builds the state from a database, a blob store and the settings.
    pub fn new(db: Db, blobs: Blobs, config: WebConfig, identity: IdentityParts) -> Self {
        Services::new(db, blobs, config, identity).into()
    }
}

impl Services {
    /// Builds the services from a database, a blob store and the settings (without an
    /// XRechnung validator).
    pub fn new(db: Db, blobs: Blobs, mut config: WebConfig, identity: IdentityParts) -> Self {
        if config.csrf_secret.len() < 32 {
            let mut key = vec![0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
            config.csrf_secret = key;
        }
        let form_limiter = Limiter::new(config.form_rate_per_minute, config.trust_forwarded_for);
        let login_limiter = Limiter::new(config.login_rate_per_minute, config.trust_forwarded_for);
        let submission_limiter = Limiter::new(
            config.submission_rate_per_minute,
            config.trust_forwarded_for,
        );
        let einvoice_limiter = KeyLimiter::new(config.einvoice_rate_per_minute);
        let dummy_hash: Arc<str> = identity
            .provider
            .hasher()
            .hash("kein Konto unter dieser Adresse")
            .unwrap_or_default()
            .into();
        let metrics = crate::ops::metrics_handle();
        // Histograms keep their samples until drained: drain regularly even if nobody scrapes.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let handle = metrics.clone();
            rt.spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    tick.tick().await;
                    handle.run_upkeep();
                }
            });
        }
        Self {
            upstream_name: identity.upstream.as_ref().map(|u| u.name().to_owned()),
            upstream: identity.upstream.map(Arc::new),
            identity: identity.provider,
            outbox: identity.outbox,
            login_limiter,
            dummy_hash,
            form_limiter,
            submission_limiter,
            einvoice_limiter,
            virus_scanner: config.clamav.clone().map(VirusScanner::new),
            einvoice_validator: None,
            einvoices: rathaus_storage::einvoices::EinvoiceStore::new(db.clone(), blobs.clone()),
            forms: FormStore::new(db.clone()),
            offers: rathaus_storage::offers::OfferStore::new(db.clone()),
            inventory: rathaus_storage::inventory::InventoryStore::new(db.clone()),
            submissions: SubmissionStore::new(db.clone()),
            form_cache: FormCache::default(),
            catalog: CatalogStore::new(db.clone()),
            search: SearchHolder::default(),
            online_cache: OnlineCache::default(),
            tenants: TenantStore::new(db.clone()),
            staff: StaffStore::new(db.clone()),
            feedback: FeedbackStore::new(db.clone()),
            audit: AuditStore::new(db.clone()),
            db,
            blobs,
            config: Arc::new(config),
            metrics,
        }
    }
}
