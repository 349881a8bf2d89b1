//! The service catalogue in the database: replaced as a whole on import (one transaction),
//! read as documents for the search index.

use crate::{Db, Result, StorageError, audit};
use rathaus_catalog::{CatalogData, LeikaKey, ServiceDoc};
use rathaus_core::TenantId;
use rathaus_core::audit::NewAuditEntry;
use rathaus_core::time::now_text;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

/// Rows per multi-row INSERT (well below SQLite's and PostgreSQL's parameter limits).
const BATCH: usize = 200;

/// Counts of an import.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Themenfelder.
    pub themenfelder: usize,
    /// Lebenslagen.
    pub lebenslagen: usize,
    /// OZG-Leistungen.
    pub ozg_leistungen: usize,
    /// LeiKa services.
    pub leistungen: usize,
    /// Rows left out.
    pub rejected: usize,
}

/// A tenant's offer of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Offer {
    /// Source id of the service.
    pub leistung_id: i64,
    /// Offered online.
    pub online: bool,
    /// Link to the online service.
    pub url: Option<String>,
    /// OZG Reifegrad 0–4.
    pub maturity: i64,
}

/// The services of a Land (`$1`) with their classification, plus a suffix, as one static SQL string.
macro_rules! service_docs {
    ($rest:literal) => {
        concat!(
            "SELECT l.id, l.leika, l.name, l.legal_basis, o.ozg_id, o.name AS ozg_name, g.name AS lebenslage, ",
            "f.name AS themenfeld FROM catalog_leistungen l ",
            "LEFT JOIN catalog_ozg_leistungen o ON o.tenant_id = l.tenant_id AND o.id = l.ozg_leistung_id ",
            "LEFT JOIN catalog_lebenslagen g ON g.tenant_id = o.tenant_id AND g.id = o.lebenslage_id ",
            "LEFT JOIN catalog_themenfelder f ON f.tenant_id = g.tenant_id AND f.id = g.themenfeld_id ",
            "WHERE l.tenant_id = $1 ",
            $rest
        )
    };
}

fn service_doc(r: &sqlx::any::AnyRow) -> Result<ServiceDoc> {
    let leika: Option<String> = r.try_get("leika")?;
    Ok(ServiceDoc {
        id: r.try_get("id")?,
        leika: leika
            .map(|k| LeikaKey::parse(&k))
            .transpose()
            .map_err(StorageError::Corrupt)?,
        name: r.try_get("name")?,
        ozg_id: r.try_get("ozg_id")?,
        ozg_name: r.try_get("ozg_name")?,
        lebenslage: r.try_get("lebenslage")?,
        themenfeld: r.try_get("themenfeld")?,
        legal_basis: r.try_get("legal_basis")?,
    })
}

/// Access to the catalogue.
#[derive(Clone, Debug)]
pub struct CatalogStore {
    db: Db,
}

fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn insert_batches<T>(
    conn: &mut AnyConnection,
    table_and_columns: &str,
    cols: usize,
    items: &[T],
    bind: impl for<'q> Fn(Query<'q, Any, AnyArguments>, &'q T) -> Query<'q, Any, AnyArguments>,
    progress: &mut dyn FnMut(usize),
) -> Result<()> {
    for chunk in items.chunks(BATCH) {
        // The statement text consists only of the fixed table/column list and numbered placeholders.
        let sql = format!(
            "INSERT INTO {table_and_columns} VALUES {}",
            placeholders(chunk.len(), cols)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for item in chunk {
            q = bind(q, item);
        }
        q.execute(&mut *conn).await?;
        progress(chunk.len());
    }
    Ok(())
}

impl CatalogStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Replaces the catalogue of `land` by `data` in one transaction: if anything fails, the
    /// previous catalogue stays as it was. `progress(done, total)` is called after each batch.
    pub async fn replace(
        &self,
        land: TenantId,
        data: &CatalogData,
        actor: &str,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<ImportCounts> {
        let total = data.themenfelder.len()
            + data.lebenslagen.len()
            + data.ozg_leistungen.len()
            + data.leistungen.len();
        let mut done = 0;
        let mut tick = |n: usize| {
            done += n;
            progress(done, total);
        };
        let t = land.to_string();
        let mut tx = self.db.pool().begin().await?;
        for table in [
            "catalog_leistungen",
            "catalog_ozg_leistungen",
            "catalog_lebenslagen",
            "catalog_themenfelder",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE tenant_id = $1"
            )))
            .bind(&t)
            .execute(&mut *tx)
            .await?;
        }
        insert_batches(
            &mut tx,
            "catalog_themenfelder (tenant_id, id, name)",
            3,
            &data.themenfelder,
            |q, v| q.bind(&t).bind(v.id).bind(&v.name),
            &mut tick,
        )
        .await?;
        insert_batches(
            &mut tx,
            "catalog_lebenslagen (tenant_id, id, themenfeld_id, name)",
            4,
            &data.lebenslagen,
            |q, v| q.bind(&t).bind(v.id).bind(v.themenfeld_id).bind(&v.name),
            &mut tick,
        )
        .await?;
        insert_batches(
            &mut tx,
            "catalog_ozg_leistungen (tenant_id, id, ozg_id, name, lebenslage_id, priority, status, description)",
            8,
            &data.ozg_leistungen,
            |q, v| {
                q.bind(&t)
                    .bind(v.id)
                    .bind(&v.ozg_id.0)
                    .bind(&v.name)
                    .bind(v.lebenslage_id)
                    .bind(v.priority)
                    .bind(v.status)
                    .bind(&v.description)
            },
            &mut tick,
        )
        .await?;
        insert_batches(
            &mut tx,
            "catalog_leistungen (tenant_id, id, leika, name, typ, ozg_leistung_id, legal_basis, laws, law_shortcuts)",
            9,
            &data.leistungen,
            |q, v| {
                q.bind(&t)
                    .bind(v.id)
                    .bind(v.leika.as_ref().map(|k| k.as_str()))
                    .bind(&v.name)
                    .bind(&v.typ)
                    .bind(v.ozg_leistung_id)
                    .bind(&v.legal_basis)
                    .bind(&v.laws)
                    .bind(&v.law_shortcuts)
            },
            &mut tick,
        )
        .await
        .map_err(|e| match e {
            StorageError::Database(e) => StorageError::from_write(e, "Leistung doppelt"),
            other => other,
        })?;
        let counts = ImportCounts {
            themenfelder: data.themenfelder.len(),
            lebenslagen: data.lebenslagen.len(),
            ozg_leistungen: data.ozg_leistungen.len(),
            leistungen: data.leistungen.len(),
            rejected: data.rejected.len(),
        };
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "catalog.import".into(),
                tenant: Some(t.clone()),
                object_type: "catalog".into(),
                object_id: t.clone(),
                details: json!(counts),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Counts of the stored catalogue of `land`.
    pub async fn counts(&self, land: TenantId) -> Result<ImportCounts> {
        let mut c = ImportCounts::default();
        for (table, slot) in [
            ("catalog_themenfelder", &mut c.themenfelder),
            ("catalog_lebenslagen", &mut c.lebenslagen),
            ("catalog_ozg_leistungen", &mut c.ozg_leistungen),
            ("catalog_leistungen", &mut c.leistungen),
        ] {
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} WHERE tenant_id = $1"
            )))
            .bind(land.to_string())
            .fetch_one(self.db.pool())
            .await?;
            *slot = usize::try_from(n).unwrap_or(0);
        }
        Ok(c)
    }

    /// All services of `land` with their classification.
    pub async fn services(&self, land: TenantId) -> Result<Vec<ServiceDoc>> {
        let rows = sqlx::query(service_docs!("ORDER BY l.id"))
            .bind(land.to_string())
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(service_doc).collect()
    }

    /// Sets (or replaces) a tenant's offer of a service.
    pub async fn set_offer(&self, tenant: TenantId, offer: &Offer, actor: &str) -> Result<()> {
        self.set_offers(tenant, std::slice::from_ref(offer), actor)
            .await
            .map(|_| ())
    }

    /// All offers of a tenant.
    pub async fn offers(&self, tenant: TenantId) -> Result<Vec<Offer>> {
        let rows = sqlx::query(
            "SELECT leistung_id, online, url, maturity FROM catalog_offers WHERE tenant_id = $1 ORDER BY leistung_id",
        )
        .bind(tenant.to_string())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let online: i64 = r.try_get("online")?;
                Ok(Offer {
                    leistung_id: r.try_get("leistung_id")?,
                    online: online != 0,
                    url: r.try_get("url")?,
                    maturity: r.try_get("maturity")?,
                })
            })
            .collect()
    }
}

impl CatalogStore {
    /// A number that changes with every import of `land`'s catalogue (the audit sequence number
    /// of the last import; 0 if never imported). Search indexes compare it to know when to rebuild.
    pub async fn version(&self, land: TenantId) -> Result<i64> {
        let v: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(seq) FROM audit_log WHERE tenant_id = $1 AND action = 'catalog.import'",
        )
        .bind(land.to_string())
        .fetch_one(self.db.pool())
        .await?;
        Ok(v.unwrap_or(0))
    }

    /// One service of `land` by its id.
    pub async fn service(&self, land: TenantId, id: i64) -> Result<ServiceDoc> {
        sqlx::query(service_docs!("AND l.id = $2"))
            .bind(land.to_string())
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?
            .map(|r| service_doc(&r))
            .transpose()?
            .ok_or_else(|| StorageError::NotFound(format!("Leistung {id}")))
    }
}

impl CatalogStore {
    /// Ids of services some tenant offers online.
    pub async fn online_anywhere(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT leistung_id FROM catalog_offers WHERE online = 1 ORDER BY leistung_id",
        )
        .fetch_all(self.db.pool())
        .await?)
    }
}

impl CatalogStore {
    /// The OZG-Leistungen of `land` with their Themenfeld (for the OZG dashboard).
    pub async fn ozg_services(
        &self,
        land: TenantId,
    ) -> Result<Vec<rathaus_catalog::dashboard::OzgService>> {
        let rows = sqlx::query(
            "SELECT z.id, z.ozg_id, z.name, COALESCE(f.name, '') AS themenfeld FROM catalog_ozg_leistungen z \
             LEFT JOIN catalog_lebenslagen g ON g.tenant_id = z.tenant_id AND g.id = z.lebenslage_id \
             LEFT JOIN catalog_themenfelder f ON f.tenant_id = g.tenant_id AND f.id = g.themenfeld_id \
             WHERE z.tenant_id = $1 ORDER BY z.ozg_id",
        )
        .bind(land.to_string())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(rathaus_catalog::dashboard::OzgService {
                    id: r.try_get("id")?,
                    ozg_id: r.try_get("ozg_id")?,
                    name: r.try_get("name")?,
                    themenfeld: r.try_get("themenfeld")?,
                })
            })
            .collect()
    }

    /// Every tenant's offers of `land`'s services, reduced to OZG-Leistungen; the tenant is
    /// given by its slug. Offers of services without an OZG-Leistung are left out.
    pub async fn ozg_offers(
        &self,
        land: TenantId,
    ) -> Result<Vec<rathaus_catalog::dashboard::OzgOffer>> {
        let rows = sqlx::query(
            "SELECT t.slug, l.ozg_leistung_id, o.online, o.maturity FROM catalog_offers o \
             JOIN tenants t ON t.id = o.tenant_id \
             JOIN catalog_leistungen l ON l.tenant_id = $1 AND l.id = o.leistung_id \
             WHERE l.ozg_leistung_id IS NOT NULL",
        )
        .bind(land.to_string())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let online: i64 = r.try_get("online")?;
                Ok(rathaus_catalog::dashboard::OzgOffer {
                    tenant: r.try_get("slug")?,
                    ozg_leistung_id: r.try_get("ozg_leistung_id")?,
                    online: online != 0,
                    maturity: r.try_get("maturity")?,
                })
            })
            .collect()
    }
}

impl CatalogStore {
    /// Sets many offers of one tenant in one transaction with one audit entry (bulk maintenance,
    /// demo data). Existing offers of the same services are replaced.
    pub async fn set_offers(
        &self,
        tenant: TenantId,
        offers: &[Offer],
        actor: &str,
    ) -> Result<usize> {
        if offers.iter().any(|o| !(0..=4).contains(&o.maturity)) {
            return Err(StorageError::Invalid(
                "Reifegrad muss zwischen 0 und 4 liegen".into(),
            ));
        }
        let t = tenant.to_string();
        let now = now_text();
        let mut tx = self.db.pool().begin().await?;
        for o in offers {
            sqlx::query("DELETE FROM catalog_offers WHERE tenant_id = $1 AND leistung_id = $2")
                .bind(&t)
                .bind(o.leistung_id)
                .execute(&mut *tx)
                .await?;
            // Editors holding the previous version must not overwrite this change unnoticed.
            sqlx::query(
                "UPDATE catalog_offer_drafts SET version = version + 1 WHERE tenant_id = $1 AND leistung_id = $2",
            )
            .bind(&t)
            .bind(o.leistung_id)
            .execute(&mut *tx)
            .await?;
        }
        insert_batches(
            &mut tx,
            "catalog_offers (tenant_id, leistung_id, online, url, maturity, updated_at)",
            6,
            offers,
            |q, o| {
                q.bind(&t)
                    .bind(o.leistung_id)
                    .bind(i64::from(o.online))
                    .bind(o.url.as_deref())
                    .bind(o.maturity)
                    .bind(&now)
            },
            &mut |_| {},
        )
        .await?;
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "catalog.offers".into(),
                tenant: Some(t.clone()),
                object_type: "catalog_offer".into(),
                object_id: t.clone(),
                // Small changes are recorded in full; bulk changes by their size.
                details: if offers.len() <= 10 {
                    json!({"count": offers.len(), "offers": offers})
                } else {
                    json!({"count": offers.len()})
                },
            },
        )
        .await?;
        tx.commit().await?;
        Ok(offers.len())
    }
}
