//! A tenant's variants of the services it offers (the municipality's offer).
//!
//! The published state lives in `catalog_offers`, which everything public reads (service
//! pages, search, dashboard, federation export); drafts live in `catalog_offer_drafts` and are
//! read only for the tenant's staff. Every change (draft, publish, withdrawal, Einer-für-Alle
//! re-use, harvest) counts the offer's version up for optimistic locking and appends an audit
//! entry in the same transaction.

use crate::{Db, Result, StorageError, audit};
use rathaus_catalog::offer::{Fees, OfferVariant, Office};
use rathaus_core::TenantId;
use rathaus_core::audit::NewAuditEntry;
use rathaus_core::time::now_text;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// The published variant of an offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Published {
    /// What citizens see.
    pub variant: OfferVariant,
    /// Slug of the tenant whose online service is re-used (Einer für Alle).
    pub provided_by: Option<String>,
    /// When it was last published (RFC 3339).
    pub updated_at: String,
}

/// The unpublished draft of an offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Draft {
    /// The edited variant.
    pub variant: OfferVariant,
    /// Kept Einer-für-Alle provider (while the link stays the provider's).
    pub provided_by: Option<String>,
    /// Last change of the offer (RFC 3339).
    pub updated_at: String,
    /// Who changed it last.
    pub updated_by: String,
}

/// Everything known about one offer of a tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OfferState {
    /// Source id of the service.
    pub leistung_id: i64,
    /// Counts every change; 0 if the offer was never edited through this store.
    pub version: i64,
    /// The published variant (none: not offered).
    pub published: Option<Published>,
    /// The draft, if one is open.
    pub draft: Option<Draft>,
}

/// A published offer from another portal's export.
#[derive(Clone, Debug)]
pub struct Harvested {
    /// Source id of the service in this instance's catalogue.
    pub leistung_id: i64,
    /// The variant.
    pub variant: OfferVariant,
    /// Einer-für-Alle provider named by the source.
    pub provided_by: Option<String>,
}

/// The local details as stored in `catalog_offers.details`.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct Details {
    office: Office,
    fees: Fees,
    note: String,
}

/// What a change does to the draft.
enum DraftChange<'a> {
    Keep,
    Clear,
    Set {
        json: String,
        provided_by: Option<&'a str>,
    },
}

/// Access to offers with drafts.
#[derive(Clone, Debug)]
pub struct OfferStore {
    db: Db,
}

fn corrupt(e: serde_json::Error) -> StorageError {
    StorageError::Corrupt(format!("Angebot: {e}"))
}

fn published_of(r: &sqlx::any::AnyRow) -> Result<(i64, Published)> {
    let online: i64 = r.try_get("online")?;
    let details: Option<String> = r.try_get("details")?;
    let d: Details = match details {
        Some(text) => serde_json::from_str(&text).map_err(corrupt)?,
        None => Details::default(),
    };
    Ok((
        r.try_get("leistung_id")?,
        Published {
            variant: OfferVariant {
                online: online != 0,
                url: r.try_get("url")?,
                maturity: r.try_get("maturity")?,
                office: d.office,
                fees: d.fees,
                note: d.note,
            },
            provided_by: r.try_get("provided_by")?,
            updated_at: r.try_get("updated_at")?,
        },
    ))
}

/// (leistung_id, version, draft)
fn draft_of(r: &sqlx::any::AnyRow) -> Result<(i64, i64, Option<Draft>)> {
    let text: Option<String> = r.try_get("draft")?;
    let draft = match text {
        Some(t) => Some(Draft {
            variant: serde_json::from_str(&t).map_err(corrupt)?,
            provided_by: r.try_get("draft_provided_by")?,
            updated_at: r.try_get("updated_at")?,
            updated_by: r.try_get("updated_by")?,
        }),
        None => None,
    };
    Ok((r.try_get("leistung_id")?, r.try_get("version")?, draft))
}

const PUBLISHED: &str = "SELECT leistung_id, online, url, maturity, details, provided_by, updated_at FROM catalog_offers";
const DRAFTS: &str = "SELECT leistung_id, version, draft, draft_provided_by, updated_at, updated_by FROM catalog_offer_drafts";

async fn read_one(conn: &mut AnyConnection, t: &str, id: i64) -> Result<OfferState> {
    let published = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{PUBLISHED} WHERE tenant_id = $1 AND leistung_id = $2"
    )))
    .bind(t)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| published_of(&r))
    .transpose()?
    .map(|(_, p)| p);
    let (version, draft) = match sqlx::query(sqlx::AssertSqlSafe(format!(
        "{DRAFTS} WHERE tenant_id = $1 AND leistung_id = $2"
    )))
    .bind(t)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    {
        Some(r) => {
            let (_, v, d) = draft_of(&r)?;
            (v, d)
        }
        None => (0, None),
    };
    Ok(OfferState {
        leistung_id: id,
        version,
        published,
        draft,
    })
}

/// Counts the version of an offer up (creating its row at version 1) after checking `expected`;
/// applies `change` to the draft. Race-free: the update only matches the version it read.
async fn bump(
    conn: &mut AnyConnection,
    t: &str,
    id: i64,
    current: i64,
    expected: Option<i64>,
    change: DraftChange<'_>,
    actor: &str,
) -> Result<i64> {
    if let Some(e) = expected
        && e != current
    {
        return Err(StorageError::VersionMismatch {
            expected: e,
            actual: current,
        });
    }
    let now = now_text();
    let mismatch = || StorageError::VersionMismatch {
        expected: current,
        actual: current + 1,
    };
    if current == 0 {
        let (draft, provided_by) = match &change {
            DraftChange::Set { json, provided_by } => (Some(json.as_str()), *provided_by),
            DraftChange::Keep | DraftChange::Clear => (None, None),
        };
        sqlx::query(
            "INSERT INTO catalog_offer_drafts (tenant_id, leistung_id, version, draft, draft_provided_by, updated_at, updated_by) \
             VALUES ($1, $2, 1, $3, $4, $5, $6)",
        )
        .bind(t)
        .bind(id)
        .bind(draft)
        .bind(provided_by)
        .bind(&now)
        .bind(actor)
        .execute(&mut *conn)
        .await
        .map_err(|e| match StorageError::from_write(e, "") {
            StorageError::Conflict(_) => mismatch(),
            other => other,
        })?;
        return Ok(1);
    }
    let q = match &change {
        DraftChange::Keep => sqlx::query(
            "UPDATE catalog_offer_drafts SET version = version + 1, updated_at = $4, updated_by = $5 \
             WHERE tenant_id = $1 AND leistung_id = $2 AND version = $3",
        ),
        DraftChange::Clear => sqlx::query(
            "UPDATE catalog_offer_drafts SET version = version + 1, updated_at = $4, updated_by = $5, \
             draft = NULL, draft_provided_by = NULL WHERE tenant_id = $1 AND leistung_id = $2 AND version = $3",
        ),
        DraftChange::Set { .. } => sqlx::query(
            "UPDATE catalog_offer_drafts SET version = version + 1, updated_at = $4, updated_by = $5, \
             draft = $6, draft_provided_by = $7 WHERE tenant_id = $1 AND leistung_id = $2 AND version = $3",
        ),
    };
    let mut q = q.bind(t).bind(id).bind(current).bind(&now).bind(actor);
    if let DraftChange::Set { json, provided_by } = &change {
        q = q.bind(json.as_str()).bind(*provided_by);
    }
    if q.execute(&mut *conn).await?.rows_affected() != 1 {
        return Err(mismatch());
    }
    Ok(current + 1)
}

/// Writes the published state of an offer.
async fn upsert_published(
    conn: &mut AnyConnection,
    t: &str,
    id: i64,
    v: &OfferVariant,
    provided_by: Option<&str>,
) -> Result<()> {
    let details = serde_json::to_string(&Details {
        office: v.office.clone(),
        fees: v.fees.clone(),
        note: v.note.clone(),
    })
    .map_err(corrupt)?;
    sqlx::query(
        "INSERT INTO catalog_offers (tenant_id, leistung_id, online, url, maturity, updated_at, details, provided_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, leistung_id) DO UPDATE SET \
         online = excluded.online, url = excluded.url, maturity = excluded.maturity, \
         updated_at = excluded.updated_at, details = excluded.details, provided_by = excluded.provided_by",
    )
    .bind(t)
    .bind(id)
    .bind(i64::from(v.online))
    .bind(v.url.as_deref())
    .bind(v.maturity)
    .bind(now_text())
    .bind(details)
    .bind(provided_by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn record(
    conn: &mut AnyConnection,
    t: &str,
    actor: &str,
    action: &str,
    id: i64,
    details: serde_json::Value,
) -> Result<()> {
    audit::append(
        conn,
        &NewAuditEntry {
            actor: actor.to_owned(),
            action: action.to_owned(),
            tenant: Some(t.to_owned()),
            object_type: "catalog_offer".into(),
            object_id: id.to_string(),
            details,
        },
    )
    .await?;
    Ok(())
}

impl OfferStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// One offer of `tenant` with its draft (for staff) and version.
    pub async fn get(&self, tenant: TenantId, leistung_id: i64) -> Result<OfferState> {
        let mut conn = self.db.pool().acquire().await?;
        read_one(&mut conn, &tenant.to_string(), leistung_id).await
    }

    /// Every offer of `tenant` that is published or has a draft, by service id.
    pub async fn list(&self, tenant: TenantId) -> Result<Vec<OfferState>> {
        let t = tenant.to_string();
        let mut all: BTreeMap<i64, OfferState> = BTreeMap::new();
        for r in sqlx::query(sqlx::AssertSqlSafe(format!(
            "{PUBLISHED} WHERE tenant_id = $1"
        )))
        .bind(&t)
        .fetch_all(self.db.pool())
        .await?
        {
            let (id, p) = published_of(&r)?;
            all.entry(id).or_default().published = Some(p);
        }
        for r in sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DRAFTS} WHERE tenant_id = $1"
        )))
        .bind(&t)
        .fetch_all(self.db.pool())
        .await?
        {
            let (id, version, draft) = draft_of(&r)?;
            let e = all.entry(id).or_default();
            e.version = version;
            e.draft = draft;
        }
        Ok(all
            .into_iter()
            .filter(|(_, s)| s.published.is_some() || s.draft.is_some())
            .map(|(id, mut s)| {
                s.leistung_id = id;
                s
            })
            .collect())
    }

    /// The published offers of `tenant` (what citizens see), by service id.
    pub async fn published(&self, tenant: TenantId) -> Result<Vec<(i64, Published)>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{PUBLISHED} WHERE tenant_id = $1 ORDER BY leistung_id"
        )))
        .bind(tenant.to_string())
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(published_of)
        .collect()
    }

    /// Saves `variant` as the draft (validate it first). `expected` is the version the editor
    /// read; anything else is [`StorageError::VersionMismatch`] and saves nothing. The
    /// Einer-für-Alle provider is kept while the draft keeps the provider's link online.
    pub async fn save_draft(
        &self,
        tenant: TenantId,
        leistung_id: i64,
        expected: i64,
        variant: &OfferVariant,
        actor: &str,
    ) -> Result<i64> {
        let t = tenant.to_string();
        let mut tx = self.db.pool().begin().await?;
        let now = read_one(&mut tx, &t, leistung_id).await?;
        let base = now
            .draft
            .as_ref()
            .map(|d| (&d.variant, &d.provided_by))
            .or(now.published.as_ref().map(|p| (&p.variant, &p.provided_by)));
        let provided_by = base
            .filter(|(v, _)| variant.online && v.url == variant.url)
            .and_then(|(_, p)| p.clone());
        let json = serde_json::to_string(variant).map_err(corrupt)?;
        let version = bump(
            &mut tx,
            &t,
            leistung_id,
            now.version,
            Some(expected),
            DraftChange::Set {
                json,
                provided_by: provided_by.as_deref(),
            },
            actor,
        )
        .await?;
        record(
            &mut tx,
            &t,
            actor,
            "catalog.offer.draft",
            leistung_id,
            json!({"leistung_id": leistung_id, "version": version, "draft": variant}),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Publishes the draft: citizens see it from now on. [`StorageError::Conflict`] if there is
    /// no draft; with `expected`, [`StorageError::VersionMismatch`] if the offer changed since.
    pub async fn publish(
        &self,
        tenant: TenantId,
        leistung_id: i64,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<i64> {
        let t = tenant.to_string();
        let mut tx = self.db.pool().begin().await?;
        let now = read_one(&mut tx, &t, leistung_id).await?;
        let Some(draft) = now.draft else {
            if let Some(e) = expected
                && e != now.version
            {
                return Err(StorageError::VersionMismatch {
                    expected: e,
                    actual: now.version,
                });
            }
            return Err(StorageError::Conflict(
                "Es gibt keinen Entwurf, der veröffentlicht werden könnte.".into(),
            ));
        };
        let version = bump(
            &mut tx,
            &t,
            leistung_id,
            now.version,
            expected,
            DraftChange::Clear,
            actor,
        )
        .await?;
        upsert_published(
            &mut tx,
            &t,
            leistung_id,
            &draft.variant,
            draft.provided_by.as_deref(),
        )
        .await?;
        record(
            &mut tx,
            &t,
            actor,
            "catalog.offer.publish",
            leistung_id,
            json!({"leistung_id": leistung_id, "version": version, "published": draft.variant,
                   "provided_by": draft.provided_by}),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Stops offering the service: removes the published state and any draft.
    /// [`StorageError::NotFound`] if there is neither.
    pub async fn withdraw(
        &self,
        tenant: TenantId,
        leistung_id: i64,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<i64> {
        let t = tenant.to_string();
        let mut tx = self.db.pool().begin().await?;
        let now = read_one(&mut tx, &t, leistung_id).await?;
        if now.published.is_none() && now.draft.is_none() {
            return Err(StorageError::NotFound(format!(
                "Angebot der Leistung {leistung_id}"
            )));
        }
        let version = bump(
            &mut tx,
            &t,
            leistung_id,
            now.version,
            expected,
            DraftChange::Clear,
            actor,
        )
        .await?;
        sqlx::query("DELETE FROM catalog_offers WHERE tenant_id = $1 AND leistung_id = $2")
            .bind(&t)
            .bind(leistung_id)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            &t,
            actor,
            "catalog.offer.withdraw",
            leistung_id,
            json!({"leistung_id": leistung_id, "version": version,
                   "was": now.published.map(|p| p.variant)}),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Einer für Alle: `tenant` re-uses `provider`'s online service. Published at once, online
    /// with the provider's link and maturity; the local details stay. An open draft takes the
    /// link over as well. [`StorageError::Invalid`] if the provider does not offer it online.
    #[allow(
        clippy::too_many_arguments,
        reason = "both tenants, the service, the lock, the actor"
    )]
    pub async fn reuse(
        &self,
        tenant: TenantId,
        leistung_id: i64,
        provider: TenantId,
        provider_slug: &str,
        provider_name: &str,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<i64> {
        let t = tenant.to_string();
        let mut tx = self.db.pool().begin().await?;
        let theirs = read_one(&mut tx, &provider.to_string(), leistung_id).await?;
        let Some(source) = theirs
            .published
            .filter(|p| p.variant.online && p.variant.url.is_some())
        else {
            return Err(StorageError::Invalid(format!(
                "{provider_name} bietet diese Leistung nicht online an; eine Nachnutzung ist nicht möglich."
            )));
        };
        let now = read_one(&mut tx, &t, leistung_id).await?;
        let adopt = |mut v: OfferVariant| {
            v.online = true;
            v.url.clone_from(&source.variant.url);
            v.maturity = source.variant.maturity;
            v
        };
        let change = match &now.draft {
            Some(d) => DraftChange::Set {
                json: serde_json::to_string(&adopt(d.variant.clone())).map_err(corrupt)?,
                provided_by: Some(provider_slug),
            },
            None => DraftChange::Keep,
        };
        let version = bump(
            &mut tx,
            &t,
            leistung_id,
            now.version,
            expected,
            change,
            actor,
        )
        .await?;
        let published = adopt(now.published.map(|p| p.variant).unwrap_or_default());
        upsert_published(&mut tx, &t, leistung_id, &published, Some(provider_slug)).await?;
        record(
            &mut tx,
            &t,
            actor,
            "catalog.offer.reuse",
            leistung_id,
            json!({"leistung_id": leistung_id, "version": version, "from": provider_slug,
                   "url": published.url, "maturity": published.maturity}),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Stores offers harvested from another portal as `tenant`'s published offers, in one
    /// transaction with one audit entry naming the source. Open drafts stay, their version moves
    /// on. Running it again with the same data changes nothing visible.
    pub async fn harvest(
        &self,
        tenant: TenantId,
        offers: &[Harvested],
        source: &str,
        actor: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<usize> {
        let t = tenant.to_string();
        let mut tx = self.db.pool().begin().await?;
        for (i, o) in offers.iter().enumerate() {
            if !(0..=4).contains(&o.variant.maturity) {
                return Err(StorageError::Invalid(
                    "Reifegrad muss zwischen 0 und 4 liegen".into(),
                ));
            }
            let version: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM catalog_offer_drafts WHERE tenant_id = $1 AND leistung_id = $2",
            )
            .bind(&t)
            .bind(o.leistung_id)
            .fetch_optional(&mut *tx)
            .await?;
            bump(
                &mut tx,
                &t,
                o.leistung_id,
                version.unwrap_or(0),
                None,
                DraftChange::Keep,
                actor,
            )
            .await?;
            upsert_published(
                &mut tx,
                &t,
                o.leistung_id,
                &o.variant,
                o.provided_by.as_deref(),
            )
            .await?;
            progress(i + 1);
        }
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "catalog.offers.harvest".into(),
                tenant: Some(t.clone()),
                object_type: "catalog_offer".into(),
                object_id: t.clone(),
                details: json!({"source": source, "count": offers.len(),
                                "online": offers.iter().filter(|o| o.variant.online).count()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(offers.len())
    }
}
