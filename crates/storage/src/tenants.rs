//! Tenants: the only table that is not scoped by a tenant, because it defines them.

use crate::{Db, Result, StorageError, audit};
use rathaus_core::audit::NewAuditEntry;
use rathaus_core::tenant::NewTenant;
use rathaus_core::time::now_text;
use rathaus_core::{Ags, Ars, Branding, Module, Tenant, TenantId, TenantKind, TenantSlug};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long [`TenantStore::get`] answers from memory. Writes through the same store forget at
/// once; changes made by other app nodes show after at most this long.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// The tenant query with a suffix (`WHERE …`, `ORDER BY …`), as one static SQL string.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT t.id, t.slug, t.name, t.kind, t.ags, t.ars, p.slug AS parent_slug, \
    t.display_name, t.primary_color, t.accent_color, t.logo_key, t.modules, t.version \
    FROM tenants t LEFT JOIN tenants p ON p.id = t.parent_id ",
            $rest
        )
    };
}

fn corrupt(e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(e.to_string())
}

fn from_row(row: &AnyRow) -> Result<Tenant> {
    let id: String = row.try_get("id")?;
    let slug: String = row.try_get("slug")?;
    let kind: String = row.try_get("kind")?;
    let ags: String = row.try_get("ags")?;
    let ars: String = row.try_get("ars")?;
    let parent: Option<String> = row.try_get("parent_slug")?;
    let modules: String = row.try_get("modules")?;
    let logo: Option<String> = row.try_get("logo_key")?;
    Ok(Tenant {
        id: id.parse().map_err(corrupt)?,
        slug: TenantSlug::parse(&slug).map_err(corrupt)?,
        name: row.try_get("name")?,
        kind: kind.parse().map_err(corrupt)?,
        ags: Ags::parse(&ags).map_err(corrupt)?,
        ars: Ars::parse(&ars).map_err(corrupt)?,
        parent: parent
            .map(|p| TenantSlug::parse(&p))
            .transpose()
            .map_err(corrupt)?,
        branding: Branding {
            display_name: row.try_get("display_name")?,
            primary_color: row.try_get("primary_color")?,
            accent_color: row.try_get("accent_color")?,
            has_logo: logo.is_some(),
        },
        modules: serde_json::from_str(&modules).map_err(corrupt)?,
        version: row.try_get("version")?,
    })
}

/// A change to a tenant's settings; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct TenantPatch {
    /// New official name.
    pub name: Option<String>,
    /// New branding (logo flag is ignored; use [`TenantStore::set_logo`]).
    pub branding: Option<Branding>,
    /// New set of modules.
    pub modules: Option<Vec<Module>>,
}

/// Whether a seed created, changed or left a tenant alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    /// Newly created.
    Created,
    /// Existed with other values and was brought in line.
    Updated,
    /// Already as seeded.
    Unchanged,
}

/// Access to tenants.
#[derive(Clone, Debug)]
pub struct TenantStore {
    db: Db,
    /// Tenants recently read by slug (every page and API call reads its tenant).
    recent: Arc<RwLock<HashMap<String, (Instant, Tenant)>>>,
}

impl TenantStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            recent: Arc::default(),
        }
    }

    fn remembered(&self, slug: &str) -> Option<Tenant> {
        let recent = self.recent.read().ok()?;
        let (at, tenant) = recent.get(slug)?;
        (at.elapsed() < FRESH_FOR).then(|| tenant.clone())
    }

    fn remember(&self, tenant: &Tenant) {
        if let Ok(mut recent) = self.recent.write() {
            if recent.len() >= 4096 {
                recent.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
            }
            recent.insert(
                tenant.slug.as_str().to_owned(),
                (Instant::now(), tenant.clone()),
            );
        }
    }

    fn forget(&self) {
        if let Ok(mut recent) = self.recent.write() {
            recent.clear();
        }
    }

    /// All tenants, ordered by ARS (Land first, then each Kreis before its Gemeinden).
    pub async fn list(&self) -> Result<Vec<Tenant>> {
        let rows = sqlx::query(select!("ORDER BY t.ars"))
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// One tenant by slug.
    /// Answers from memory for a few seconds after a read (see `FRESH_FOR`).
    pub async fn get(&self, slug: &str) -> Result<Tenant> {
        if let Some(t) = self.remembered(slug) {
            return Ok(t);
        }
        let tenant = self.fetch(slug).await?;
        self.remember(&tenant);
        Ok(tenant)
    }

    /// One tenant by slug, from the database.
    async fn fetch(&self, slug: &str) -> Result<Tenant> {
        sqlx::query(select!("WHERE t.slug = $1"))
            .bind(slug)
            .fetch_optional(self.db.pool())
            .await?
            .map(|r| from_row(&r))
            .transpose()?
            .ok_or_else(|| StorageError::NotFound(format!("Mandant {slug}")))
    }

    /// One tenant by id.
    pub async fn get_by_id(&self, id: TenantId) -> Result<Tenant> {
        sqlx::query(select!("WHERE t.id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.db.pool())
            .await?
            .map(|r| from_row(&r))
            .transpose()?
            .ok_or_else(|| StorageError::NotFound(format!("Mandant {id}")))
    }

    async fn parent_id(conn: &mut AnyConnection, new: &NewTenant) -> Result<Option<String>> {
        let Some(parent) = &new.parent else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT id, kind, ags FROM tenants WHERE slug = $1")
            .bind(parent.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| {
                StorageError::Invalid(format!("übergeordneter Mandant {parent} existiert nicht"))
            })?;
        let kind: String = row.try_get(1)?;
        let ags: String = row.try_get(2)?;
        let kind: TenantKind = kind.parse().map_err(corrupt)?;
        let fits = match (kind, new.kind) {
            (TenantKind::Land, TenantKind::Kreis | TenantKind::Gemeinde) => {
                ags[..2] == new.ags.as_str()[..2]
            }
            (TenantKind::Kreis, TenantKind::Gemeinde) => ags[..5] == new.ags.as_str()[..5],
            _ => false,
        };
        if !fits {
            return Err(StorageError::Invalid(format!(
                "{} ({}) kann nicht zu {parent} ({}, AGS {ags}) gehören",
                new.name,
                new.ags,
                kind.label()
            )));
        }
        Ok(Some(row.try_get(0)?))
    }

    /// Creates a tenant and records it in the audit trail.
    pub async fn create(&self, new: &NewTenant, actor: &str) -> Result<Tenant> {
        new.validate()
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        let mut tx = self.db.pool().begin().await?;
        let parent_id = Self::parent_id(&mut tx, new).await?;
        let id = TenantId::new();
        let now = now_text();
        let modules = serde_json::to_string(&new.modules).map_err(corrupt)?;
        sqlx::query(
            "INSERT INTO tenants (id, slug, name, kind, ags, ars, parent_id, display_name, primary_color, \
             accent_color, modules, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12)",
        )
        .bind(id.to_string())
        .bind(new.slug.as_str())
        .bind(&new.name)
        .bind(new.kind.as_str())
        .bind(new.ags.as_str())
        .bind(new.ars.as_str())
        .bind(parent_id)
        .bind(&new.branding.display_name)
        .bind(&new.branding.primary_color)
        .bind(&new.branding.accent_color)
        .bind(&modules)
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StorageError::from_write(e, "Kurzname, AGS oder ARS ist bereits vergeben"))?;
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "tenant.create".into(),
                tenant: Some(id.to_string()),
                object_type: "tenant".into(),
                object_id: id.to_string(),
                details: json!({"slug": new.slug, "name": new.name, "ags": new.ags, "ars": new.ars}),
            },
        )
        .await?;
        tx.commit().await?;
        self.forget();
        self.get_by_id(id).await
    }

    /// Changes a tenant's settings. With `expected_version`, refuses if someone else changed it meanwhile.
    pub async fn update(
        &self,
        id: TenantId,
        patch: &TenantPatch,
        expected_version: Option<i64>,
        actor: &str,
    ) -> Result<Tenant> {
        let mut tx = self.db.pool().begin().await?;
        // Take the write lock first (bump the version), then read and check.
        let row =
            sqlx::query("UPDATE tenants SET version = version + 1 WHERE id = $1 RETURNING version")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StorageError::NotFound(format!("Mandant {id}")))?;
        let new_version: i64 = row.try_get(0)?;
        if let Some(expected) = expected_version
            && expected != new_version - 1
        {
            return Err(StorageError::VersionMismatch {
                expected,
                actual: new_version - 1,
            });
        }
        let current = from_row(
            &sqlx::query(select!("WHERE t.id = $1"))
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await?,
        )?;
        let name = patch.name.clone().unwrap_or(current.name.clone());
        if name.trim().is_empty() || name.chars().count() > 120 {
            return Err(StorageError::Invalid(
                "der Name darf nicht leer und höchstens 120 Zeichen lang sein".into(),
            ));
        }
        let branding = patch.branding.clone().unwrap_or(current.branding.clone());
        branding
            .validate()
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        let mut modules = patch.modules.clone().unwrap_or(current.modules.clone());
        modules.sort();
        modules.dedup();
        sqlx::query(
            "UPDATE tenants SET name = $1, display_name = $2, primary_color = $3, accent_color = $4, \
             modules = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(&name)
        .bind(&branding.display_name)
        .bind(&branding.primary_color)
        .bind(&branding.accent_color)
        .bind(serde_json::to_string(&modules).map_err(corrupt)?)
        .bind(now_text())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "tenant.update".into(),
                tenant: Some(id.to_string()),
                object_type: "tenant".into(),
                object_id: id.to_string(),
                details: json!({
                    "version": new_version,
                    "name": name,
                    "branding": {"display_name": branding.display_name, "primary_color": branding.primary_color,
                                 "accent_color": branding.accent_color},
                    "modules": modules,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        self.forget();
        self.get_by_id(id).await
    }

    /// Records that a logo was stored under `key` (in the blob store) with its content type.
    pub async fn set_logo(
        &self,
        id: TenantId,
        key: &str,
        content_type: &str,
        actor: &str,
    ) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE tenants SET logo_key = $1, logo_content_type = $2, version = version + 1, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(key)
        .bind(content_type)
        .bind(now_text())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound(format!("Mandant {id}")));
        }
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "tenant.logo".into(),
                tenant: Some(id.to_string()),
                object_type: "tenant".into(),
                object_id: id.to_string(),
                details: json!({"blob": key, "content_type": content_type}),
            },
        )
        .await?;
        tx.commit().await?;
        self.forget();
        Ok(())
    }

    /// The blob key and content type of a tenant's logo, if one was uploaded.
    pub async fn logo(&self, id: TenantId) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT logo_key, logo_content_type FROM tenants WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.db.pool())
            .await?;
        Ok(match row {
            Some(r) => {
                let key: Option<String> = r.try_get(0)?;
                let ct: Option<String> = r.try_get(1)?;
                key.zip(ct)
            }
            None => None,
        })
    }

    /// Creates the tenant or brings name, keys, kind and parent in line with `new`; branding and
    /// modules of an existing tenant are left as its administrators set them. Idempotent.
    pub async fn seed(&self, new: &NewTenant, actor: &str) -> Result<SeedOutcome> {
        let existing = match self.fetch(new.slug.as_str()).await {
            Ok(t) => t,
            Err(StorageError::NotFound(_)) => {
                self.create(new, actor).await?;
                return Ok(SeedOutcome::Created);
            }
            Err(e) => return Err(e),
        };
        if existing.name == new.name
            && existing.kind == new.kind
            && existing.ags == new.ags
            && existing.ars == new.ars
            && existing.parent == new.parent
        {
            return Ok(SeedOutcome::Unchanged);
        }
        new.validate()
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        let mut tx = self.db.pool().begin().await?;
        let parent_id = Self::parent_id(&mut tx, new).await?;
        sqlx::query(
            "UPDATE tenants SET name = $1, kind = $2, ags = $3, ars = $4, parent_id = $5, \
             version = version + 1, updated_at = $6 WHERE id = $7",
        )
        .bind(&new.name)
        .bind(new.kind.as_str())
        .bind(new.ags.as_str())
        .bind(new.ars.as_str())
        .bind(parent_id)
        .bind(now_text())
        .bind(existing.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| StorageError::from_write(e, "AGS oder ARS ist bereits vergeben"))?;
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "tenant.seed".into(),
                tenant: Some(existing.id.to_string()),
                object_type: "tenant".into(),
                object_id: existing.id.to_string(),
                details: json!({"name": new.name, "ags": new.ags, "ars": new.ars}),
            },
        )
        .await?;
        tx.commit().await?;
        self.forget();
        Ok(SeedOutcome::Updated)
    }
}
