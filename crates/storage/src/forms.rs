//! Online forms: definitions and their versions, activations by tenants (Einer-für-Alle),
//! drafts, submissions (idempotent) and their attachments.
//!
//! Definitions are stored as the JSON of the forms crate's model; this module keeps what the
//! database must guarantee: a published version never changes, a submission key is used once per
//! form and tenant, every read is scoped by tenant, every change is in the audit trail.

use crate::{Db, Result, StorageError, audit};
use rathaus_core::TenantId;
use rathaus_core::audit::NewAuditEntry;
use rathaus_core::time::now_text;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;

/// A form (all of its versions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FormRecord {
    /// Id (used in URLs).
    pub id: String,
    /// Tenant that owns it.
    pub owner_tenant_id: String,
    /// FIM schema id of an imported form.
    pub source_id: Option<String>,
    /// Title of the newest version.
    pub title: String,
    /// Whether other tenants may activate it.
    pub template: bool,
    /// Created.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// One version of a form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FormVersion {
    /// Form.
    pub form_id: String,
    /// Version number, from 1.
    pub version: i64,
    /// Published versions are immutable; drafts are edited in place.
    pub published: bool,
    /// The definition (JSON of the forms model).
    pub definition: String,
    /// Its JSON Schema.
    pub json_schema: String,
    /// Created.
    pub created_at: String,
    /// By whom.
    pub created_by: String,
    /// Published when.
    pub published_at: Option<String>,
    /// Saves of this version (a draft is edited in place); with `version` the `ETag` of edits.
    pub revision: i64,
}

impl FormVersion {
    /// The state an edit of this version is based on.
    pub fn base(&self) -> Base {
        Base {
            version: self.version,
            revision: self.revision,
        }
    }
}

/// The state of a form an edit was based on: version number and its revision, written
/// `version.revision` (the `ETag` of the builder API, e.g. `3.2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Base {
    /// Version number.
    pub version: i64,
    /// Revision of that version.
    pub revision: i64,
}

impl Base {
    /// `Ok` if an edit based on `self` may change `current`: another version is
    /// [`StorageError::VersionMismatch`], another revision of it [`StorageError::Stale`].
    pub fn expect(self, current: Base) -> Result<()> {
        if self.version != current.version {
            return Err(StorageError::VersionMismatch {
                expected: self.version,
                actual: current.version,
            });
        }
        if self.revision != current.revision {
            return Err(StorageError::Stale {
                expected: self.to_string(),
                actual: current.to_string(),
            });
        }
        Ok(())
    }
}

impl std::fmt::Display for Base {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.version, self.revision)
    }
}

impl std::str::FromStr for Base {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        let (v, r) = s.split_once('.').ok_or(())?;
        Ok(Self {
            version: v.parse().map_err(|_| ())?,
            revision: r.parse().map_err(|_| ())?,
        })
    }
}

/// A tenant's form as listed for staff: the form, its newest published version and whether the
/// tenant owns it or has activated another tenant's template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TenantForm {
    /// The form.
    pub form: FormRecord,
    /// Newest published version, if any.
    pub published_version: Option<i64>,
    /// Newest version (may be a draft).
    pub latest_version: i64,
    /// True if the tenant owns it.
    pub owned: bool,
    /// The tenant's parameters (office, fees, destination) if it has activated the form.
    pub params: Option<serde_json::Value>,
}

const FORM_COLUMNS: &str =
    "f.id, f.owner_tenant_id, f.source_id, f.title, f.template, f.created_at, f.updated_at";
const VERSION_COLUMNS: &str = "v.form_id, v.version, v.status, v.definition, v.json_schema, v.created_at, v.created_by, v.published_at, v.revision";

fn form_from_row(r: &AnyRow) -> Result<FormRecord> {
    let template: i64 = r.try_get("template")?;
    Ok(FormRecord {
        id: r.try_get("id")?,
        owner_tenant_id: r.try_get("owner_tenant_id")?,
        source_id: r.try_get("source_id")?,
        title: r.try_get("title")?,
        template: template != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn version_from_row(r: &AnyRow) -> Result<FormVersion> {
    let status: String = r.try_get("status")?;
    Ok(FormVersion {
        form_id: r.try_get("form_id")?,
        version: r.try_get("version")?,
        published: status == "published",
        definition: r.try_get("definition")?,
        json_schema: r.try_get("json_schema")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        published_at: r.try_get("published_at")?,
        revision: r.try_get("revision")?,
    })
}

/// What an import or a save did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    /// The form.
    pub form_id: String,
    /// The version written or found.
    pub version: i64,
    /// Its revision (see [`Base`]).
    pub revision: i64,
    /// False if an identical version existed already (nothing written).
    pub changed: bool,
}

/// An edited definition from the builder.
#[derive(Clone, Copy, Debug)]
pub struct FormEdit<'a> {
    /// Title.
    pub title: &'a str,
    /// Definition (JSON of the forms model).
    pub definition: &'a str,
    /// Its JSON Schema.
    pub json_schema: &'a str,
}

/// How long [`FormStore::published_head`] answers from memory. Writes through the same store
/// forget at once; changes by other app nodes (or the CLI) show after at most this long.
const HEAD_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(2);

/// A cached answer of [`FormStore::published_head`].
type Head = (FormRecord, i64, serde_json::Value);

/// Heads by (tenant, form), with when they were read.
type Heads =
    std::sync::Arc<std::sync::RwLock<HashMap<(TenantId, String), (std::time::Instant, Head)>>>;

/// Access to forms and their versions.
#[derive(Clone, Debug)]
pub struct FormStore {
    db: Db,
    /// Recently read heads by (tenant, form): every form page and submission reads one.
    heads: Heads,
}

impl FormStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            heads: Default::default(),
        }
    }

    fn remembered_head(&self, tenant: TenantId, form_id: &str) -> Option<Head> {
        let heads = self.heads.read().ok()?;
        let (at, head) = heads.get(&(tenant, form_id.to_owned()))?;
        (at.elapsed() < HEAD_FRESH_FOR).then(|| head.clone())
    }

    fn remember_head(&self, tenant: TenantId, form_id: &str, head: &Head) {
        if let Ok(mut heads) = self.heads.write() {
            if heads.len() >= 4096 {
                heads.retain(|_, (at, _)| at.elapsed() < HEAD_FRESH_FOR);
            }
            heads.insert(
                (tenant, form_id.to_owned()),
                (std::time::Instant::now(), head.clone()),
            );
        }
    }

    /// Forgets the cached heads (after every write of this store).
    fn forget_heads(&self) {
        if let Ok(mut heads) = self.heads.write() {
            heads.clear();
        }
    }

    /// Stores an imported FIM schema of `owner` as a published version: a new form for a new
    /// schema id, a new version when the definition changed, nothing when it is identical.
    pub async fn import(
        &self,
        owner: TenantId,
        source_id: &str,
        title: &str,
        definition: &str,
        json_schema: &str,
        actor: &str,
    ) -> Result<Saved> {
        let mut tx = self.db.pool().begin().await?;
        let now = now_text();
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM forms WHERE owner_tenant_id = $1 AND source_id = $2",
        )
        .bind(owner.to_string())
        .bind(source_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (form_id, version) = match existing {
            Some(id) => {
                let latest = sqlx::query(
                    "SELECT version, definition, revision FROM form_versions WHERE form_id = $1 ORDER BY version DESC LIMIT 1",
                )
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
                let (latest_version, latest_def, latest_revision) = match latest {
                    Some(r) => (
                        r.try_get::<i64, _>(0)?,
                        r.try_get::<String, _>(1)?,
                        r.try_get::<i64, _>(2)?,
                    ),
                    None => (0, String::new(), 1),
                };
                if latest_def == definition {
                    tx.rollback().await?;
                    return Ok(Saved {
                        form_id: id,
                        version: latest_version,
                        revision: latest_revision,
                        changed: false,
                    });
                }
                sqlx::query("UPDATE forms SET title = $1, updated_at = $2 WHERE id = $3")
                    .bind(title)
                    .bind(&now)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                (id, latest_version + 1)
            }
            None => {
                let id = new_form_id();
                sqlx::query(
                    "INSERT INTO forms (id, owner_tenant_id, source_id, title, template, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, 0, $5, $5)",
                )
                .bind(&id)
                .bind(owner.to_string())
                .bind(source_id)
                .bind(title)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                (id, 1)
            }
        };
        sqlx::query(
            "INSERT INTO form_versions (form_id, version, status, definition, json_schema, created_at, created_by, published_at) \
             VALUES ($1, $2, 'published', $3, $4, $5, $6, $5)",
        )
        .bind(&form_id)
        .bind(version)
        .bind(definition)
        .bind(json_schema)
        .bind(&now)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "form.import".into(),
                tenant: Some(owner.to_string()),
                object_type: "form".into(),
                object_id: form_id.clone(),
                details: json!({"source_id": source_id, "version": version, "title": title}),
            },
        )
        .await?;
        tx.commit().await?;
        self.forget_heads();
        Ok(Saved {
            form_id,
            version,
            revision: 1,
            changed: true,
        })
    }

    /// Creates a form with the builder: version 1 as a draft.
    pub async fn create(
        &self,
        owner: TenantId,
        title: &str,
        definition: &str,
        json_schema: &str,
        actor: &str,
    ) -> Result<Saved> {
        let mut tx = self.db.pool().begin().await?;
        let now = now_text();
        let id = new_form_id();
        sqlx::query(
            "INSERT INTO forms (id, owner_tenant_id, source_id, title, template, created_at, updated_at) \
             VALUES ($1, $2, NULL, $3, 0, $4, $4)",
        )
        .bind(&id)
        .bind(owner.to_string())
        .bind(title)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO form_versions (form_id, version, status, definition, json_schema, created_at, created_by) \
             VALUES ($1, 1, 'draft', $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(definition)
        .bind(json_schema)
        .bind(&now)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &form_audit(actor, "form.create", owner, &id, json!({"title": title})),
        )
        .await?;
        tx.commit().await?;
        self.forget_heads();
        Ok(Saved {
            form_id: id,
            version: 1,
            revision: 1,
            changed: true,
        })
    }

    /// Saves an edited definition of `owner`'s form: into the open draft version if `base` is
    /// that draft, or as a new draft version if `base` is the newest published version. Any
    /// other `base` means someone else saved in between: [`StorageError::VersionMismatch`] for
    /// another version, [`StorageError::Stale`] for another revision of the same draft.
    pub async fn save_draft(
        &self,
        owner: TenantId,
        form_id: &str,
        base: Base,
        edit: &FormEdit<'_>,
        actor: &str,
    ) -> Result<Saved> {
        let FormEdit {
            title,
            definition,
            json_schema,
        } = *edit;
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.pool().begin().await?;
        let now = now_text();
        let latest = latest_of_owner(&mut tx, owner, form_id).await?;
        let (latest_version, latest_published) = (latest.base.version, latest.published);
        base.expect(latest.base)?;
        let version = if latest_published {
            sqlx::query(
                "INSERT INTO form_versions (form_id, version, status, definition, json_schema, created_at, created_by) \
                 VALUES ($1, $2, 'draft', $3, $4, $5, $6)",
            )
            .bind(form_id)
            .bind(latest_version + 1)
            .bind(definition)
            .bind(json_schema)
            .bind(&now)
            .bind(actor)
            .execute(&mut *tx)
            .await?;
            latest_version + 1
        } else {
            let n = sqlx::query(
                "UPDATE form_versions SET definition = $1, json_schema = $2, created_at = $3, created_by = $4, \
                 revision = revision + 1 WHERE form_id = $5 AND version = $6 AND status = 'draft' AND revision = $7",
            )
            .bind(definition)
            .bind(json_schema)
            .bind(&now)
            .bind(actor)
            .bind(form_id)
            .bind(latest_version)
            .bind(base.revision)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                // Saved by another writer between our read and this update.
                return Err(StorageError::Stale {
                    expected: base.to_string(),
                    actual: format!("{latest_version}.?"),
                });
            }
            latest_version
        };
        sqlx::query("UPDATE forms SET title = $1, updated_at = $2 WHERE id = $3")
            .bind(title)
            .bind(&now)
            .bind(form_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &form_audit(
                actor,
                "form.save",
                owner,
                form_id,
                json!({"version": version}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.forget_heads();
        Ok(Saved {
            form_id: form_id.to_owned(),
            version,
            revision: if latest_published {
                1
            } else {
                base.revision + 1
            },
            changed: true,
        })
    }

    /// Publishes the open draft of `owner`'s form; from then on it is immutable. With `base`,
    /// refuses if the draft was saved since the caller read it.
    pub async fn publish(
        &self,
        owner: TenantId,
        form_id: &str,
        base: Option<Base>,
        actor: &str,
    ) -> Result<i64> {
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.pool().begin().await?;
        let latest = latest_of_owner(&mut tx, owner, form_id).await?;
        let (version, published) = (latest.base.version, latest.published);
        if let Some(base) = base {
            base.expect(latest.base)?;
        }
        if published {
            return Err(StorageError::Conflict(format!(
                "Version {version} ist bereits veröffentlicht."
            )));
        }
        let now = now_text();
        sqlx::query(
            "UPDATE form_versions SET status = 'published', published_at = $1 \
             WHERE form_id = $2 AND version = $3 AND revision = $4",
        )
        .bind(&now)
        .bind(form_id)
        .bind(version)
        .bind(latest.base.revision)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &form_audit(
                actor,
                "form.publish",
                owner,
                form_id,
                json!({"version": version}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.forget_heads();
        Ok(version)
    }

    /// Offers `owner`'s form to every tenant as an Einer-für-Alle template (or stops offering it).
    pub async fn set_template(
        &self,
        owner: TenantId,
        form_id: &str,
        template: bool,
        actor: &str,
    ) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        let n = sqlx::query(
            "UPDATE forms SET template = $1, updated_at = $2 WHERE id = $3 AND owner_tenant_id = $4",
        )
        .bind(i64::from(template))
        .bind(now_text())
        .bind(form_id)
        .bind(owner.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StorageError::NotFound(format!("Formular {form_id}")));
        }
        audit::append(
            &mut tx,
            &form_audit(
                actor,
                "form.template",
                owner,
                form_id,
                json!({"template": template}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.forget_heads();
        Ok(())
    }

    /// Activates a form for `tenant` with its own parameters: its own form, or another
    /// tenant's template (never copied: the tenant always uses the template's newest published
    /// version).
    pub async fn activate(
        &self,
        tenant: TenantId,
        form_id: &str,
        params: &serde_json::Value,
        actor: &str,
    ) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        let usable: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM forms WHERE id = $1 AND (owner_tenant_id = $2 OR template = 1)",
        )
        .bind(form_id)
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if usable.is_none() {
            return Err(StorageError::NotFound(format!("Formular {form_id}")));
        }
        let now = now_text();
        sqlx::query("DELETE FROM form_activations WHERE tenant_id = $1 AND form_id = $2")
            .bind(tenant.to_string())
            .bind(form_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO form_activations (tenant_id, form_id, params, active, updated_at) VALUES ($1, $2, $3, 1, $4)",
        )
        .bind(tenant.to_string())
        .bind(form_id)
        .bind(params.to_string())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &form_audit(actor, "form.activate", tenant, form_id, params.clone()),
        )
        .await?;
        tx.commit().await?;
        self.forget_heads();
        Ok(())
    }

    /// The form `form_id` as `tenant` may offer it: owned by the tenant or activated by it, with
    /// its newest published version and the tenant's parameters (`{}` if none).
    pub async fn published_for(
        &self,
        tenant: TenantId,
        form_id: &str,
    ) -> Result<Option<(FormRecord, FormVersion, serde_json::Value)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FORM_COLUMNS}, a.params FROM forms f \
             LEFT JOIN form_activations a ON a.form_id = f.id AND a.tenant_id = $2 AND a.active = 1 \
             WHERE f.id = $1 AND (f.owner_tenant_id = $2 OR a.tenant_id IS NOT NULL)"
        )))
        .bind(form_id)
        .bind(tenant.to_string())
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let form = form_from_row(&row)?;
        let params: Option<String> = row.try_get("params")?;
        let params = match params {
            Some(p) => {
                serde_json::from_str(&p).map_err(|e| StorageError::Corrupt(e.to_string()))?
            }
            None => json!({}),
        };
        let version = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM form_versions v WHERE v.form_id = $1 AND v.status = 'published' \
             ORDER BY v.version DESC LIMIT 1"
        )))
        .bind(form_id)
        .fetch_optional(self.db.pool())
        .await?;
        match version {
            Some(v) => Ok(Some((form, version_from_row(&v)?, params))),
            None => Ok(None),
        }
    }

    /// What `tenant` offers of a form, without its definition: the form, the number of its newest
    /// published version and the tenant's parameters, in one query (answered from memory for
    /// 2 s after a read; see `HEAD_FRESH_FOR`). Callers that cache parsed
    /// versions (published ones never change) fetch the definition only when the number is new,
    /// with [`FormStore::published_version`].
    pub async fn published_head(&self, tenant: TenantId, form_id: &str) -> Result<Option<Head>> {
        if let Some(head) = self.remembered_head(tenant, form_id) {
            return Ok(Some(head));
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FORM_COLUMNS}, a.params, (SELECT MAX(v.version) FROM form_versions v \
             WHERE v.form_id = f.id AND v.status = 'published') AS head FROM forms f \
             LEFT JOIN form_activations a ON a.form_id = f.id AND a.tenant_id = $2 AND a.active = 1 \
             WHERE f.id = $1 AND (f.owner_tenant_id = $2 OR a.tenant_id IS NOT NULL)"
        )))
        .bind(form_id)
        .bind(tenant.to_string())
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let Some(head) = row.try_get::<Option<i64>, _>("head")? else {
            return Ok(None);
        };
        let params: Option<String> = row.try_get("params")?;
        let params = match params {
            Some(p) => {
                serde_json::from_str(&p).map_err(|e| StorageError::Corrupt(e.to_string()))?
            }
            None => json!({}),
        };
        let found = (form_from_row(&row)?, head, params);
        self.remember_head(tenant, form_id, &found);
        Ok(Some(found))
    }

    /// A published version of a form by number (no tenant check: pair it with
    /// [`FormStore::published_head`]).
    pub async fn published_version(
        &self,
        form_id: &str,
        version: i64,
    ) -> Result<Option<FormVersion>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM form_versions v \
             WHERE v.form_id = $1 AND v.version = $2 AND v.status = 'published'"
        )))
        .bind(form_id)
        .bind(version)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(version_from_row).transpose()
    }

    /// A version of a form that `tenant` owns or has activated (for drafts and submissions
    /// made against an older version).
    pub async fn version_for(
        &self,
        tenant: TenantId,
        form_id: &str,
        version: i64,
    ) -> Result<Option<FormVersion>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM form_versions v JOIN forms f ON f.id = v.form_id \
             WHERE v.form_id = $1 AND v.version = $2 AND (f.owner_tenant_id = $3 OR EXISTS \
             (SELECT 1 FROM form_activations a WHERE a.form_id = f.id AND a.tenant_id = $3))"
        )))
        .bind(form_id)
        .bind(version)
        .bind(tenant.to_string())
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(version_from_row).transpose()
    }

    /// The newest version (draft or published) of `owner`'s form, for the builder.
    pub async fn latest_of(
        &self,
        owner: TenantId,
        form_id: &str,
    ) -> Result<Option<(FormRecord, FormVersion)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FORM_COLUMNS} FROM forms f WHERE f.id = $1 AND f.owner_tenant_id = $2"
        )))
        .bind(form_id)
        .bind(owner.to_string())
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let version = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM form_versions v WHERE v.form_id = $1 ORDER BY v.version DESC LIMIT 1"
        )))
        .bind(form_id)
        .fetch_one(self.db.pool())
        .await?;
        Ok(Some((form_from_row(&row)?, version_from_row(&version)?)))
    }

    /// The forms of `tenant`: its own and the templates it has activated, newest first.
    pub async fn list_for(&self, tenant: TenantId) -> Result<Vec<TenantForm>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FORM_COLUMNS}, a.params, \
             (SELECT MAX(version) FROM form_versions WHERE form_id = f.id AND status = 'published') AS published_version, \
             (SELECT MAX(version) FROM form_versions WHERE form_id = f.id) AS latest_version \
             FROM forms f LEFT JOIN form_activations a ON a.form_id = f.id AND a.tenant_id = $1 AND a.active = 1 \
             WHERE f.owner_tenant_id = $1 OR a.tenant_id IS NOT NULL ORDER BY f.updated_at DESC, f.id"
        )))
        .bind(tenant.to_string())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let form = form_from_row(r)?;
                let params: Option<String> = r.try_get("params")?;
                Ok(TenantForm {
                    owned: form.owner_tenant_id == tenant.to_string(),
                    form,
                    published_version: r.try_get("published_version")?,
                    latest_version: r.try_get("latest_version")?,
                    params: params
                        .map(|p| serde_json::from_str(&p))
                        .transpose()
                        .map_err(|e| StorageError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// Templates of other tenants that `tenant` could activate.
    pub async fn templates(&self, tenant: TenantId) -> Result<Vec<FormRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FORM_COLUMNS} FROM forms f WHERE f.template = 1 AND f.owner_tenant_id <> $1 \
             AND EXISTS (SELECT 1 FROM form_versions v WHERE v.form_id = f.id AND v.status = 'published') \
             ORDER BY f.title"
        )))
        .bind(tenant.to_string())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(form_from_row).collect()
    }
}

/// (newest version, whether it is published) of a form owned by `owner`.
/// The newest version of `owner`'s form.
struct Latest {
    base: Base,
    published: bool,
}

async fn latest_of_owner(
    tx: &mut sqlx::AnyConnection,
    owner: TenantId,
    form_id: &str,
) -> Result<Latest> {
    let row = sqlx::query(
        "SELECT v.version, v.status, v.revision FROM form_versions v JOIN forms f ON f.id = v.form_id \
         WHERE v.form_id = $1 AND f.owner_tenant_id = $2 ORDER BY v.version DESC LIMIT 1",
    )
    .bind(form_id)
    .bind(owner.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| StorageError::NotFound(format!("Formular {form_id}")))?;
    let status: String = row.try_get(1)?;
    Ok(Latest {
        base: Base {
            version: row.try_get(0)?,
            revision: row.try_get(2)?,
        },
        published: status == "published",
    })
}

fn form_audit(
    actor: &str,
    action: &str,
    tenant: TenantId,
    form_id: &str,
    details: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        actor: actor.to_owned(),
        action: action.to_owned(),
        tenant: Some(tenant.to_string()),
        object_type: "form".into(),
        object_id: form_id.to_owned(),
        details,
    }
}

/// A new form id: 16 lowercase hex digits, random.
fn new_form_id() -> String {
    let uuid = uuid::Uuid::new_v4().simple().to_string();
    format!("f{}", &uuid[..15])
}

/// A stored submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Submission {
    /// Id.
    pub id: String,
    /// Tenant it was sent to.
    pub tenant_id: String,
    /// Form.
    pub form_id: String,
    /// Form version it was made against.
    pub form_version: i64,
    /// Account of the sender, if signed in.
    pub account_id: Option<String>,
    /// The data (JSON keyed by FIM ids).
    pub data: serde_json::Value,
    /// Processing status (`eingegangen`, `in_bearbeitung`, `erledigt`).
    pub status: String,
    /// Reference number shown on the receipt.
    pub reference: String,
    /// Received.
    pub created_at: String,
    /// Last status change.
    pub updated_at: String,
}

/// A submission to store.
#[derive(Clone, Debug)]
pub struct NewSubmission<'a> {
    /// Tenant.
    pub tenant: TenantId,
    /// Form.
    pub form_id: &'a str,
    /// Version.
    pub form_version: i64,
    /// Sender's account.
    pub account_id: Option<&'a str>,
    /// Idempotency key: the same key for the same form and tenant stores nothing new.
    pub idempotency_key: Option<&'a str>,
    /// Valid data.
    pub data: &'a serde_json::Value,
    /// Draft whose attachments move to the submission (and which is deleted).
    pub draft_id: Option<&'a str>,
    /// Who sent it (audit actor).
    pub actor: &'a str,
}

/// An uploaded file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// Id.
    pub id: String,
    /// Path of the field in the data.
    pub field_path: String,
    /// File name as uploaded.
    pub file_name: String,
    /// Media type (checked).
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 (hex).
    pub sha256: String,
    /// Key in the blob store.
    #[serde(skip)]
    pub blob_key: String,
}

async fn run_batches(db: Db, mut rx: tokio::sync::mpsc::Receiver<BatchJob>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match insert_batch(&db, &batch).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                // Nothing was committed; the callers answer with an error and may retry.
                tracing::error!(error = %e, size = batch.len(), "storing submissions failed");
                let message = e.to_string();
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(message.clone()));
                }
            }
        }
    }
}

/// Inserts a batch in one transaction; `Some` for each inserted submission, `None` where the
/// idempotency key was taken.
async fn insert_batch(db: &Db, jobs: &[BatchJob]) -> Result<Vec<Option<Submission>>> {
    let now = now_text();
    let prepared: Vec<Submission> = jobs
        .iter()
        .map(|j| Submission {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: j.tenant.to_string(),
            form_id: j.form_id.clone(),
            form_version: j.form_version,
            account_id: j.account_id.clone(),
            data: j.data.clone(),
            status: "eingegangen".into(),
            reference: reference_number(&now),
            created_at: now.clone(),
            updated_at: now.clone(),
        })
        .collect();
    let mut sql = format!(
        "INSERT INTO submissions (id, tenant_id, form_id, form_version, account_id, idempotency_key, data, status, \
         reference, created_at, updated_at) VALUES {}",
        crate::values_placeholders(prepared.len(), 11)
    );
    sql.push_str(" ON CONFLICT (tenant_id, form_id, idempotency_key) DO NOTHING RETURNING id");
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (s, j) in prepared.iter().zip(jobs) {
        insert = insert
            .bind(&s.id)
            .bind(&s.tenant_id)
            .bind(&s.form_id)
            .bind(s.form_version)
            .bind(s.account_id.as_deref())
            .bind(j.key.as_deref())
            .bind(s.data.to_string())
            .bind(&s.status)
            .bind(&s.reference)
            .bind(&s.created_at)
            .bind(&s.updated_at);
    }
    let _gate = db.write_gate().await;
    let mut tx = db.pool().begin().await?;
    let inserted: std::collections::HashSet<String> = insert
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<std::result::Result<_, _>>()?;
    let entries: Vec<NewAuditEntry> = prepared
        .iter()
        .zip(jobs)
        .filter(|(s, _)| inserted.contains(&s.id))
        .map(|(s, j)| NewAuditEntry {
            actor: j.actor.clone(),
            action: "submission.create".into(),
            tenant: Some(s.tenant_id.clone()),
            object_type: "submission".into(),
            object_id: s.id.clone(),
            details: json!({"form_id": s.form_id, "form_version": s.form_version, "reference": s.reference}),
        })
        .collect();
    audit::append_many(&mut tx, &entries).await?;
    tx.commit().await?;
    Ok(prepared
        .into_iter()
        .map(|s| inserted.contains(&s.id).then_some(s))
        .collect())
}

/// Submission statuses in the staff inbox.
pub const SUBMISSION_STATUSES: &[&str] = &["eingegangen", "in_bearbeitung", "erledigt"];

const SUBMISSION_COLUMNS: &str = "id, tenant_id, form_id, form_version, account_id, data, status, reference, created_at, updated_at";

fn submission_from_row(r: &AnyRow) -> Result<Submission> {
    let data: String = r.try_get("data")?;
    Ok(Submission {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        form_id: r.try_get("form_id")?,
        form_version: r.try_get("form_version")?,
        account_id: r.try_get("account_id")?,
        data: serde_json::from_str(&data).map_err(|e| StorageError::Corrupt(e.to_string()))?,
        status: r.try_get("status")?,
        reference: r.try_get("reference")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn attachment_from_row(r: &AnyRow) -> Result<Attachment> {
    Ok(Attachment {
        id: r.try_get("id")?,
        field_path: r.try_get("field_path")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        blob_key: r.try_get("blob_key")?,
    })
}

/// Access to submissions, drafts and attachments.
#[derive(Clone, Debug)]
pub struct SubmissionStore {
    db: Db,
    batches: std::sync::Arc<Batcher>,
}

/// Group commit of submissions: the submissions that arrive while a batch is written wait in a
/// channel and are stored together — one multi-row insert, one audit append for all, one
/// commit (one disk flush) — by one task per store.
#[derive(Default)]
struct Batcher {
    queue: std::sync::OnceLock<tokio::sync::mpsc::Sender<BatchJob>>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("started", &self.queue.get().is_some())
            .finish()
    }
}

/// Most submissions written in one transaction.
const MAX_BATCH: usize = 64;

/// A submission waiting for its batch.
struct BatchJob {
    tenant: TenantId,
    form_id: String,
    form_version: i64,
    account_id: Option<String>,
    key: Option<String>,
    data: serde_json::Value,
    actor: String,
    reply: tokio::sync::oneshot::Sender<std::result::Result<Option<Submission>, String>>,
}

/// A saved draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Draft {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Form.
    pub form_id: String,
    /// Form version the data was entered against.
    pub form_version: i64,
    /// Entered data (possibly incomplete).
    pub data: serde_json::Value,
    /// Index of the step last shown.
    pub step: i64,
    /// Optimistic-locking version.
    pub version: i64,
    /// Last change.
    pub updated_at: String,
}

/// Who owns a draft.
#[derive(Clone, Copy, Debug)]
pub enum DraftOwner<'a> {
    /// A signed-in account.
    Account(&'a str),
    /// An anonymous browser: the hash of its draft cookie.
    Anonymous(&'a str),
}

impl SubmissionStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            batches: Default::default(),
        }
    }

    /// Stores a submission; with a known idempotency key returns the stored one and `false`.
    /// Submissions without a draft are written in batches with others arriving at the same time.
    pub async fn create(&self, new: &NewSubmission<'_>) -> Result<(Submission, bool)> {
        if new.draft_id.is_some() {
            return self.create_one(new).await;
        }
        let queue = self.batches.queue.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(run_batches(self.db.clone(), rx));
            tx
        });
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = BatchJob {
            tenant: new.tenant,
            form_id: new.form_id.to_owned(),
            form_version: new.form_version,
            account_id: new.account_id.map(str::to_owned),
            key: new.idempotency_key.map(str::to_owned),
            data: new.data.clone(),
            actor: new.actor.to_owned(),
            reply,
        };
        if queue.send(job).await.is_err() {
            // The batch task is gone (its runtime ended): write alone.
            return self.create_one(new).await;
        }
        match answer.await {
            Ok(Ok(Some(stored))) => Ok((stored, true)),
            // Not inserted: the key was used before (or in the same batch).
            Ok(Ok(None)) => match self.by_key(new).await? {
                Some(existing) => Ok((existing, false)),
                None => Err(StorageError::Conflict("Idempotency-Key".into())),
            },
            Ok(Err(message)) => Err(StorageError::Config(message)),
            Err(_) => Err(StorageError::Config(
                "Speichern des Antrags abgebrochen".into(),
            )),
        }
    }

    /// Stores one submission in its own transaction (moving a draft's uploads to it).
    async fn create_one(&self, new: &NewSubmission<'_>) -> Result<(Submission, bool)> {
        if let Some(existing) = self.by_key(new).await? {
            return Ok((existing, false));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let now = now_text();
        let reference = reference_number(&now);
        let mut tx = self.db.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO submissions (id, tenant_id, form_id, form_version, account_id, idempotency_key, data, status, \
             reference, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'eingegangen', $8, $9, $9)",
        )
        .bind(&id)
        .bind(new.tenant.to_string())
        .bind(new.form_id)
        .bind(new.form_version)
        .bind(new.account_id)
        .bind(new.idempotency_key)
        .bind(new.data.to_string())
        .bind(&reference)
        .bind(&now)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            // A concurrent request with the same key won the race: answer its submission.
            let conflict = StorageError::from_write(e, "Idempotency-Key");
            drop(tx);
            if matches!(conflict, StorageError::Conflict(_))
                && let Some(existing) = self.by_key(new).await?
            {
                return Ok((existing, false));
            }
            return Err(conflict);
        }
        if let Some(draft) = new.draft_id {
            sqlx::query(
                "UPDATE submission_attachments SET submission_id = $1, draft_id = NULL WHERE draft_id = $2 AND tenant_id = $3",
            )
            .bind(&id)
            .bind(draft)
            .bind(new.tenant.to_string())
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM form_drafts WHERE id = $1 AND tenant_id = $2")
                .bind(draft)
                .bind(new.tenant.to_string())
                .execute(&mut *tx)
                .await?;
        }
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: new.actor.to_owned(),
                action: "submission.create".into(),
                tenant: Some(new.tenant.to_string()),
                object_type: "submission".into(),
                object_id: id.clone(),
                details: json!({"form_id": new.form_id, "form_version": new.form_version, "reference": reference}),
            },
        )
        .await?;
        tx.commit().await?;
        let submission = self
            .get(new.tenant, &id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("Antrag {id}")))?;
        Ok((submission, true))
    }

    async fn by_key(&self, new: &NewSubmission<'_>) -> Result<Option<Submission>> {
        match new.idempotency_key {
            Some(key) => self.by_idempotency_key(new.tenant, new.form_id, key).await,
            None => Ok(None),
        }
    }

    /// The submission made with an idempotency key for a form of `tenant`.
    pub async fn by_idempotency_key(
        &self,
        tenant: TenantId,
        form_id: &str,
        key: &str,
    ) -> Result<Option<Submission>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tenant_id = $1 AND form_id = $2 AND idempotency_key = $3"
        )))
        .bind(tenant.to_string())
        .bind(form_id)
        .bind(key)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(submission_from_row).transpose()
    }

    /// A submission of `tenant`.
    pub async fn get(&self, tenant: TenantId, id: &str) -> Result<Option<Submission>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.to_string())
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(submission_from_row).transpose()
    }

    /// Submissions of `tenant`, newest first, optionally of one status.
    pub async fn list(
        &self,
        tenant: TenantId,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Submission>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tenant_id = $1 AND ($2 = '' OR status = $2) \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        )))
        .bind(tenant.to_string())
        .bind(status.unwrap_or(""))
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(submission_from_row).collect()
    }

    /// Submissions sent from an account, newest first.
    pub async fn of_account(&self, account_id: &str) -> Result<Vec<Submission>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE account_id = $1 ORDER BY created_at DESC, id DESC"
        )))
        .bind(account_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(submission_from_row).collect()
    }

    /// Sets the processing status of a submission of `tenant`.
    pub async fn set_status(
        &self,
        tenant: TenantId,
        id: &str,
        status: &str,
        actor: &str,
    ) -> Result<()> {
        if !SUBMISSION_STATUSES.contains(&status) {
            return Err(StorageError::Invalid(format!(
                "Unbekannter Status „{status}“."
            )));
        }
        let mut tx = self.db.pool().begin().await?;
        let n = sqlx::query(
            "UPDATE submissions SET status = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(status)
        .bind(now_text())
        .bind(tenant.to_string())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StorageError::NotFound(format!("Antrag {id}")));
        }
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "submission.status".into(),
                tenant: Some(tenant.to_string()),
                object_type: "submission".into(),
                object_id: id.to_owned(),
                details: json!({"status": status}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Attachments of a submission of `tenant`.
    pub async fn attachments(
        &self,
        tenant: TenantId,
        submission_id: &str,
    ) -> Result<Vec<Attachment>> {
        let rows = sqlx::query(
            "SELECT id, field_path, file_name, content_type, size, sha256, blob_key FROM submission_attachments \
             WHERE tenant_id = $1 AND submission_id = $2 ORDER BY created_at, id",
        )
        .bind(tenant.to_string())
        .bind(submission_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(attachment_from_row).collect()
    }

    /// Attachments uploaded into a draft of `tenant`.
    pub async fn draft_attachments(
        &self,
        tenant: TenantId,
        draft_id: &str,
    ) -> Result<Vec<Attachment>> {
        let rows = sqlx::query(
            "SELECT id, field_path, file_name, content_type, size, sha256, blob_key FROM submission_attachments \
             WHERE tenant_id = $1 AND draft_id = $2 ORDER BY created_at, id",
        )
        .bind(tenant.to_string())
        .bind(draft_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(attachment_from_row).collect()
    }

    /// Records a checked upload (its bytes already in the blob store) for a draft.
    pub async fn add_draft_attachment(
        &self,
        tenant: TenantId,
        draft_id: &str,
        a: &Attachment,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO submission_attachments (id, tenant_id, submission_id, draft_id, field_path, file_name, \
             content_type, size, sha256, blob_key, created_at) VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&a.id)
        .bind(tenant.to_string())
        .bind(draft_id)
        .bind(&a.field_path)
        .bind(&a.file_name)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(&a.sha256)
        .bind(&a.blob_key)
        .bind(now_text())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Removes an upload from a draft; returns its blob key to delete.
    pub async fn remove_draft_attachment(
        &self,
        tenant: TenantId,
        draft_id: &str,
        attachment_id: &str,
    ) -> Result<Option<String>> {
        let key: Option<String> = sqlx::query_scalar(
            "DELETE FROM submission_attachments WHERE tenant_id = $1 AND draft_id = $2 AND id = $3 RETURNING blob_key",
        )
        .bind(tenant.to_string())
        .bind(draft_id)
        .bind(attachment_id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(key)
    }

    /// The draft `id` of `tenant` if `owner` owns it.
    pub async fn draft(
        &self,
        tenant: TenantId,
        id: &str,
        owner: DraftOwner<'_>,
    ) -> Result<Option<Draft>> {
        let (account, anonymous) = owner_columns(owner);
        let row = sqlx::query(
            "SELECT id, tenant_id, form_id, form_version, data, step, version, updated_at FROM form_drafts \
             WHERE tenant_id = $1 AND id = $2 AND (account_id = $3 OR anonymous_key = $4)",
        )
        .bind(tenant.to_string())
        .bind(id)
        .bind(account)
        .bind(anonymous)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(draft_from_row).transpose()
    }

    /// The newest draft of `owner` for a form of `tenant`.
    pub async fn draft_for_form(
        &self,
        tenant: TenantId,
        form_id: &str,
        owner: DraftOwner<'_>,
    ) -> Result<Option<Draft>> {
        let (account, anonymous) = owner_columns(owner);
        let row = sqlx::query(
            "SELECT id, tenant_id, form_id, form_version, data, step, version, updated_at FROM form_drafts \
             WHERE tenant_id = $1 AND form_id = $2 AND (account_id = $3 OR anonymous_key = $4) \
             ORDER BY updated_at DESC LIMIT 1",
        )
        .bind(tenant.to_string())
        .bind(form_id)
        .bind(account)
        .bind(anonymous)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(draft_from_row).transpose()
    }

    /// Drafts of an account (all tenants), newest first.
    pub async fn drafts_of_account(&self, account_id: &str) -> Result<Vec<Draft>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, form_id, form_version, data, step, version, updated_at FROM form_drafts \
             WHERE account_id = $1 ORDER BY updated_at DESC",
        )
        .bind(account_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(draft_from_row).collect()
    }

    /// Creates a draft; returns it.
    pub async fn create_draft(
        &self,
        tenant: TenantId,
        form_id: &str,
        form_version: i64,
        owner: DraftOwner<'_>,
        data: &serde_json::Value,
    ) -> Result<Draft> {
        let (account, anonymous) = owner_columns(owner);
        let id = uuid::Uuid::now_v7().to_string();
        let now = now_text();
        sqlx::query(
            "INSERT INTO form_drafts (id, tenant_id, form_id, form_version, account_id, anonymous_key, data, step, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 1, $8, $8)",
        )
        .bind(&id)
        .bind(tenant.to_string())
        .bind(form_id)
        .bind(form_version)
        .bind(account)
        .bind(anonymous)
        .bind(data.to_string())
        .bind(&now)
        .execute(self.db.pool())
        .await?;
        Ok(Draft {
            id,
            tenant_id: tenant.to_string(),
            form_id: form_id.to_owned(),
            form_version,
            data: data.clone(),
            step: 0,
            version: 1,
            updated_at: now,
        })
    }

    /// Saves a draft's data if nobody saved it since `version` was read (two tabs).
    pub async fn save_draft(
        &self,
        tenant: TenantId,
        draft: &Draft,
        owner: DraftOwner<'_>,
    ) -> Result<i64> {
        let (account, anonymous) = owner_columns(owner);
        let n = sqlx::query(
            "UPDATE form_drafts SET data = $1, step = $2, form_version = $3, version = version + 1, updated_at = $4 \
             WHERE tenant_id = $5 AND id = $6 AND version = $7 AND (account_id = $8 OR anonymous_key = $9)",
        )
        .bind(draft.data.to_string())
        .bind(draft.step)
        .bind(draft.form_version)
        .bind(now_text())
        .bind(tenant.to_string())
        .bind(&draft.id)
        .bind(draft.version)
        .bind(account)
        .bind(anonymous)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        if n == 0 {
            let current: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM form_drafts WHERE tenant_id = $1 AND id = $2 AND (account_id = $3 OR anonymous_key = $4)",
            )
            .bind(tenant.to_string())
            .bind(&draft.id)
            .bind(account)
            .bind(anonymous)
            .fetch_optional(self.db.pool())
            .await?;
            return Err(match current {
                Some(actual) => StorageError::VersionMismatch {
                    expected: draft.version,
                    actual,
                },
                None => StorageError::NotFound(format!("Entwurf {}", draft.id)),
            });
        }
        Ok(draft.version + 1)
    }

    /// Deletes a draft of `owner` (and forgets its uploads); returns the blob keys to delete.
    pub async fn delete_draft(
        &self,
        tenant: TenantId,
        id: &str,
        owner: DraftOwner<'_>,
    ) -> Result<Vec<String>> {
        let (account, anonymous) = owner_columns(owner);
        let mut tx = self.db.pool().begin().await?;
        let n = sqlx::query(
            "DELETE FROM form_drafts WHERE tenant_id = $1 AND id = $2 AND (account_id = $3 OR anonymous_key = $4)",
        )
        .bind(tenant.to_string())
        .bind(id)
        .bind(account)
        .bind(anonymous)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = sqlx::query_scalar(
            "DELETE FROM submission_attachments WHERE tenant_id = $1 AND draft_id = $2 RETURNING blob_key",
        )
        .bind(tenant.to_string())
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(keys)
    }
}

fn owner_columns(owner: DraftOwner<'_>) -> (Option<&str>, Option<&str>) {
    match owner {
        DraftOwner::Account(a) => (Some(a), None),
        DraftOwner::Anonymous(k) => (None, Some(k)),
    }
}

fn draft_from_row(r: &AnyRow) -> Result<Draft> {
    let data: String = r.try_get("data")?;
    Ok(Draft {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        form_id: r.try_get("form_id")?,
        form_version: r.try_get("form_version")?,
        data: serde_json::from_str(&data).map_err(|e| StorageError::Corrupt(e.to_string()))?,
        step: r.try_get("step")?,
        version: r.try_get("version")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// A reference number for the receipt: `A-YYYYMMDD-XXXXXX` (six random base-32 characters
/// without look-alikes).
fn reference_number(now: &str) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let date: String = now.chars().filter(|c| c.is_ascii_digit()).take(8).collect();
    let random = uuid::Uuid::new_v4();
    let code: String = random.as_bytes()[..6]
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("A-{date}-{code}")
}
