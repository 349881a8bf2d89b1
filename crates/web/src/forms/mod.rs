//! Online forms on the web: the citizen's pages (`pages`), the HTML inputs made from the form
//! model (`fields`), reading posted pages back into data (`posted`), the staff inbox (`inbox`)
//! the optional virus scanner for uploads (`scan`) and the form builder of the back office
//! (`builder`).
//!
//! A form is offered by a tenant at `/{slug}/formulare/{form_id}`: its own form, or another
//! tenant's Einer-für-Alle template it has activated with its own parameters.

pub(crate) mod account;
pub(crate) mod builder;
mod fields;
mod inbox;
mod pages;
pub(crate) mod posted;
mod receipt_pdf;
pub mod scan;

use crate::html::layout::error_page;
use crate::state::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use rathaus_core::{Tenant, TenantId};
use rathaus_forms::Form;
use rathaus_storage::StorageError;
use rathaus_storage::forms::{FormRecord, FormVersion};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Routes of the form pages and the staff inbox.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{slug}/formulare", get(inbox::public_list))
        .route(
            "/{slug}/formulare/{form_id}",
            get(pages::show).post(pages::save),
        )
        .route("/{slug}/formulare/{form_id}/pruefen", get(pages::review))
        .route("/{slug}/formulare/{form_id}/absenden", post(pages::submit))
        .route(
            "/{slug}/formulare/{form_id}/eingang/{id}",
            get(pages::receipt),
        )
        .route(
            "/{slug}/formulare/{form_id}/eingang/{id}/pdf",
            get(pages::receipt_pdf),
        )
        .route("/{slug}/verwaltung/antraege", get(inbox::list))
        .route(
            "/{slug}/verwaltung/antraege/{id}",
            get(inbox::detail).post(inbox::set_status),
        )
        .route(
            "/{slug}/verwaltung/antraege/{id}/anlagen/{attachment}",
            get(inbox::attachment),
        )
        .route(
            "/{slug}/verwaltung/formulare",
            get(builder::list).post(builder::create),
        )
        .route(
            "/{slug}/verwaltung/formulare/paket-import",
            post(builder::import),
        )
        .route(
            "/{slug}/verwaltung/formulare/fim-import",
            post(builder::import_fim),
        )
        .route(
            "/{slug}/verwaltung/formulare/{form_id}",
            get(builder::editor).post(builder::change),
        )
        .route(
            "/{slug}/verwaltung/formulare/{form_id}/veroeffentlichen",
            post(builder::publish),
        )
        .route(
            "/{slug}/verwaltung/formulare/{form_id}/vorlage",
            post(builder::template),
        )
        .route(
            "/{slug}/verwaltung/formulare/{form_id}/aktivieren",
            post(builder::activate),
        )
        .route(
            "/{slug}/verwaltung/formulare/{form_id}/vorschau",
            get(builder::preview),
        )
        .route(
            "/{slug}/verwaltung/formulare/{form_id}/paket",
            get(builder::export_package),
        )
        .route(
            "/{slug}/verwaltung/formulare/{form_id}/xdf3",
            get(builder::export_xdf3),
        )
}

/// Parsed form definitions by (form, version): published versions never change, so they are
/// read and parsed once per process.
#[derive(Clone, Default)]
pub struct FormCache {
    inner: Arc<Mutex<Parsed>>,
}

/// A published version with its parsed definition.
type Entry = (Arc<FormVersion>, Arc<Form>);

/// Published versions by (form id, version).
type Parsed = HashMap<(String, i64), Entry>;

impl FormCache {
    /// The parsed definition of a stored version (cached when it is published).
    pub fn parse(&self, v: &FormVersion) -> Result<Arc<Form>, StorageError> {
        if v.published
            && let Some((_, f)) = self.get(&v.form_id, v.version)
        {
            return Ok(f);
        }
        let form = Arc::new(parse_definition(v)?);
        if v.published {
            self.insert(Arc::new(v.clone()), form.clone());
        }
        Ok(form)
    }

    fn get(&self, form_id: &str, version: i64) -> Option<Entry> {
        let map = self.inner.lock().ok()?;
        map.get(&(form_id.to_owned(), version)).cloned()
    }

    fn insert(&self, version: Arc<FormVersion>, form: Arc<Form>) {
        if let Ok(mut m) = self.inner.lock() {
            if m.len() > 1000 {
                m.clear();
            }
            m.insert((version.form_id.clone(), version.version), (version, form));
        }
    }
}

fn parse_definition(v: &FormVersion) -> Result<Form, StorageError> {
    serde_json::from_str(&v.definition)
        .map_err(|e| StorageError::Corrupt(format!("Formular {}: {e}", v.form_id)))
}

/// A form as a tenant offers it.
pub struct Loaded {
    /// The tenant.
    pub tenant: Tenant,
    /// The form.
    pub record: FormRecord,
    /// Its newest published version.
    pub version: Arc<FormVersion>,
    /// Parsed.
    pub form: Arc<Form>,
    /// The tenant's parameters.
    pub params: serde_json::Value,
}

impl Loaded {
    /// The form `form_id` as `tenant` offers it now (its newest published version), if it does.
    /// One query per call; the version itself is read and parsed once per process.
    pub async fn find(
        state: &AppState,
        tenant: Tenant,
        form_id: &str,
    ) -> Result<Option<Self>, StorageError> {
        let Some((record, head, params)) = state.forms.published_head(tenant.id, form_id).await?
        else {
            return Ok(None);
        };
        let (version, form) = match state.form_cache.get(&record.id, head) {
            Some(entry) => entry,
            None => {
                let Some(v) = state.forms.published_version(&record.id, head).await? else {
                    return Ok(None);
                };
                let form = Arc::new(parse_definition(&v)?);
                let v = Arc::new(v);
                state.form_cache.insert(v.clone(), form.clone());
                (v, form)
            }
        };
        Ok(Some(Self {
            tenant,
            record,
            version,
            form,
            params,
        }))
    }
}

/// The tenant and its published form, or the 404 page.
pub async fn load(state: &AppState, slug: &str, form_id: &str) -> Result<Loaded, Response> {
    let tenant = match state.tenants.get(slug).await {
        Ok(t) => t,
        Err(StorageError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(internal(e)),
    };
    Loaded::find(state, tenant, form_id)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)
}

fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Formular nicht gefunden",
        "Dieses Formular gibt es bei dieser Kommune nicht (oder nicht mehr). Über die Suche finden Sie alle Leistungen.",
    )
}

fn internal(e: StorageError) -> Response {
    tracing::error!(error = %e, "form failed");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Technischer Fehler",
        "Das Formular kann gerade nicht angezeigt werden. Bitte versuchen Sie es später erneut.",
    )
}

impl AppState {
    /// A version of a form the tenant offers, parsed (for submissions of older versions).
    pub(crate) async fn form_definition(
        &self,
        tenant: TenantId,
        form_id: &str,
        version: i64,
    ) -> Result<Arc<Form>, Response> {
        match self.forms.version_for(tenant, form_id, version).await {
            Ok(Some(v)) => self.form_cache.parse(&v).map_err(internal),
            Ok(None) => Err(not_found()),
            Err(e) => Err(internal(e)),
        }
    }
}

fn mac(state: &AppState, id: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&state.config.csrf_secret)
        .expect("HMAC accepts any key length");
    mac.update(b"eingang:");
    mac.update(id.as_bytes());
    mac
}

/// The token in the receipt link of a submission (an HMAC of its id).
pub(crate) fn receipt_token(state: &AppState, id: &str) -> String {
    hex::encode(&mac(state, id).finalize().into_bytes()[..16])
}

/// Whether `token` is the receipt token of `id`.
pub(crate) fn token_matches(state: &AppState, id: &str, token: &str) -> bool {
    let Ok(bytes) = hex::decode(token) else {
        return false;
    };
    mac(state, id).verify_truncated_left(&bytes).is_ok() && bytes.len() == 16
}

/// Stores an imported FIM schema as a published form of `owner` (a new version if it changed).
pub async fn store_import(
    forms: &rathaus_storage::forms::FormStore,
    owner: TenantId,
    imported: &rathaus_forms::Imported,
    actor: &str,
) -> Result<rathaus_storage::forms::Saved, StorageError> {
    let form = &imported.form;
    let definition =
        serde_json::to_string(form).map_err(|e| StorageError::Invalid(e.to_string()))?;
    let schema = rathaus_forms::json_schema(form).to_string();
    let source = form
        .source
        .as_ref()
        .map_or_else(|| form.id.clone(), |s| s.schema_id.clone());
    forms
        .import(owner, &source, &form.title, &definition, &schema, actor)
        .await
}
