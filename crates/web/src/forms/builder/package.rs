//! The portable form package (`rathaus-formular/1`) and the store calls the HTML builder and
//! the API share: create, save, publish, with the builder's validation first.

use super::edit;
use crate::state::AppState;
use rathaus_core::Tenant;
use rathaus_forms::Form;
use rathaus_storage::StorageError;
use rathaus_storage::forms::{Base, FormEdit, FormRecord, FormVersion, Saved};
use serde::{Deserialize, Serialize};

/// Format name of a package.
pub const FORMAT: &str = "rathaus-formular/1";

/// A form as a portable package.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Package {
    /// Always `rathaus-formular/1`.
    pub format: String,
    /// The form model.
    #[schema(value_type = Object)]
    pub form: Form,
    /// When it was exported (RFC 3339).
    pub exported_at: String,
    /// Where it comes from.
    pub source: PackageSource,
}

/// Origin of a package.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct PackageSource {
    /// The exporting installation (its public address).
    pub instance: String,
    /// Slug of the exporting tenant.
    pub tenant: String,
    /// Form id at the source.
    pub form_id: String,
    /// Version exported.
    pub version: i64,
}

/// Why a builder write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BuilderError {
    /// The form breaks a rule (German messages).
    #[error("{}", .0.join(" "))]
    Invalid(Vec<String>),
    /// The store refused or failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The stored JSON and JSON Schema of a form.
fn serialise(form: &Form) -> Result<(String, String), BuilderError> {
    let definition =
        serde_json::to_string(form).map_err(|e| StorageError::Invalid(e.to_string()))?;
    Ok((definition, rathaus_forms::json_schema(form).to_string()))
}

/// Validates and stores a new form of `tenant` as draft version 1.
pub async fn create(
    state: &AppState,
    tenant: &Tenant,
    form: &Form,
    actor: &str,
) -> Result<Saved, BuilderError> {
    edit::validate(form).map_err(BuilderError::Invalid)?;
    let (definition, schema) = serialise(form)?;
    Ok(state
        .forms
        .create(tenant.id, &form.title, &definition, &schema, actor)
        .await?)
}

/// Validates and saves an edited form on top of version `base` (a new draft version if `base`
/// is published).
pub async fn save(
    state: &AppState,
    tenant: &Tenant,
    form_id: &str,
    base: Base,
    form: &Form,
    actor: &str,
) -> Result<Saved, BuilderError> {
    edit::validate(form).map_err(BuilderError::Invalid)?;
    let (definition, schema) = serialise(form)?;
    let edit = FormEdit {
        title: &form.title,
        definition: &definition,
        json_schema: &schema,
    };
    Ok(state
        .forms
        .save_draft(tenant.id, form_id, base, &edit, actor)
        .await?)
}

/// Publishes the open draft after checking it once more (and that it has content): exactly the
/// revision checked, and with `base` only if that is what the caller read.
pub async fn publish(
    state: &AppState,
    tenant: &Tenant,
    form_id: &str,
    base: Option<Base>,
    actor: &str,
) -> Result<i64, BuilderError> {
    let (_, version) = owned(state, tenant, form_id).await?;
    let read = version.base();
    if let Some(base) = base {
        base.expect(read)?;
    }
    let form = parse(&version)?;
    edit::validate(&form).map_err(BuilderError::Invalid)?;
    if form.elements.is_empty() {
        return Err(BuilderError::Invalid(vec![
            "Das Formular enthält noch keine Felder.".into(),
        ]));
    }
    Ok(state
        .forms
        .publish(tenant.id, form_id, Some(read), actor)
        .await?)
}

/// The newest version of a form the tenant owns (404 as [`StorageError::NotFound`]).
pub async fn owned(
    state: &AppState,
    tenant: &Tenant,
    form_id: &str,
) -> Result<(FormRecord, FormVersion), StorageError> {
    state
        .forms
        .latest_of(tenant.id, form_id)
        .await?
        .ok_or_else(|| StorageError::NotFound(format!("Formular {form_id}")))
}

/// The model of a stored version.
pub fn parse(v: &FormVersion) -> Result<Form, StorageError> {
    serde_json::from_str(&v.definition)
        .map_err(|e| StorageError::Corrupt(format!("Formular {}: {e}", v.form_id)))
}

/// The package of the newest published version of a form the tenant owns.
pub async fn export(
    state: &AppState,
    tenant: &Tenant,
    form_id: &str,
) -> Result<Package, StorageError> {
    owned(state, tenant, form_id).await?;
    let (record, version, _) = state
        .forms
        .published_for(tenant.id, form_id)
        .await?
        .ok_or_else(|| {
            StorageError::NotFound(format!("Formular {form_id} (noch nicht veröffentlicht)"))
        })?;
    Ok(Package {
        format: FORMAT.into(),
        form: parse(&version)?,
        exported_at: rathaus_core::time::now_text(),
        source: PackageSource {
            instance: state.identity.issuer().to_owned(),
            tenant: tenant.slug.to_string(),
            form_id: record.id,
            version: version.version,
        },
    })
}

/// Reads a package (JSON); German messages for anything that is not one.
pub fn read(bytes: &[u8]) -> Result<Form, Vec<String>> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|_| vec!["Die Datei ist kein JSON-Formularpaket.".to_owned()])?;
    match value.get("format").and_then(serde_json::Value::as_str) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(vec![format!(
                "Das Paketformat „{other}“ wird nicht unterstützt (erwartet: {FORMAT})."
            )]);
        }
        None => {
            return Err(vec![format!(
                "Die Datei ist kein Formularpaket (Angabe „format“: {FORMAT} fehlt)."
            )]);
        }
    }
    let form = value
        .get("form")
        .cloned()
        .ok_or_else(|| vec!["Das Paket enthält kein Formular („form“).".to_owned()])?;
    let form: Form = serde_json::from_value(form)
        .map_err(|e| vec![format!("Das Formular im Paket ist ungültig: {e}")])?;
    edit::validate(&form)?;
    Ok(form)
}

/// A `Content-Disposition` file name made of safe characters.
pub fn file_name(stem: &str, ext: &str) -> String {
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("attachment; filename=\"{safe}.{ext}\"")
}
