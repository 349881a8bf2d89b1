//! Prozessinventur entries, scoped by tenant.

use crate::{Db, Result, StorageError, audit};
use rathaus_catalog::inventory::InventoryInput;
use rathaus_core::TenantId;
use rathaus_core::audit::NewAuditEntry;
use rathaus_core::time::now_text;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

/// A stored entry with the service it is about.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InventoryEntry {
    /// Service id.
    pub leistung_id: i64,
    /// LeiKa key of the service.
    pub leika: Option<String>,
    /// Name of the service.
    pub name: String,
    /// Cases per year.
    pub cases_per_year: i64,
    /// Minutes per case.
    pub minutes_per_case: i64,
    /// Processing office.
    pub office: String,
    /// Other offices involved.
    pub involved_offices: Vec<String>,
    /// Legal particularities.
    pub legal_notes: String,
    /// Priority score: working hours per year.
    pub score: f64,
    /// Last change.
    pub updated_at: String,
    /// Who changed it last.
    pub updated_by: String,
}

/// Access to the process inventory.
#[derive(Clone, Debug)]
pub struct InventoryStore {
    db: Db,
}

impl InventoryStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Creates or replaces the entry of `tenant` for a service of `land`'s catalogue.
    pub async fn put(
        &self,
        tenant: TenantId,
        land: TenantId,
        leistung_id: i64,
        input: &InventoryInput,
        actor: &str,
    ) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM catalog_leistungen WHERE tenant_id = $1 AND id = $2",
        )
        .bind(land.to_string())
        .bind(leistung_id)
        .fetch_one(&mut *tx)
        .await?;
        if exists == 0 {
            return Err(StorageError::NotFound(format!("Leistung {leistung_id}")));
        }
        sqlx::query("DELETE FROM process_inventory WHERE tenant_id = $1 AND leistung_id = $2")
            .bind(tenant.to_string())
            .bind(leistung_id)
            .execute(&mut *tx)
            .await?;
        let involved = serde_json::to_string(&input.involved_offices)
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        sqlx::query(
            "INSERT INTO process_inventory (tenant_id, leistung_id, cases_per_year, minutes_per_case, office, \
             involved_offices, legal_notes, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(tenant.to_string())
        .bind(leistung_id)
        .bind(input.cases_per_year)
        .bind(input.minutes_per_case)
        .bind(&input.office)
        .bind(&involved)
        .bind(&input.legal_notes)
        .bind(now_text())
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "inventory.put".into(),
                tenant: Some(tenant.to_string()),
                object_type: "process_inventory".into(),
                object_id: leistung_id.to_string(),
                details: json!({"cases_per_year": input.cases_per_year, "minutes_per_case": input.minutes_per_case, "office": input.office}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The entries of `tenant`, highest priority first.
    pub async fn ranked(&self, tenant: TenantId, land: TenantId) -> Result<Vec<InventoryEntry>> {
        let rows = sqlx::query(
            "SELECT p.leistung_id, l.leika, l.name, p.cases_per_year, p.minutes_per_case, p.office, p.involved_offices, \
             p.legal_notes, p.updated_at, p.updated_by FROM process_inventory p \
             JOIN catalog_leistungen l ON l.tenant_id = $2 AND l.id = p.leistung_id \
             WHERE p.tenant_id = $1",
        )
        .bind(tenant.to_string())
        .bind(land.to_string())
        .fetch_all(self.db.pool())
        .await?;
        let mut entries = rows
            .iter()
            .map(|r| {
                let involved: String = r.try_get("involved_offices")?;
                let input = InventoryInput {
                    cases_per_year: r.try_get("cases_per_year")?,
                    minutes_per_case: r.try_get("minutes_per_case")?,
                    office: r.try_get("office")?,
                    involved_offices: serde_json::from_str(&involved)
                        .map_err(|e| StorageError::Corrupt(e.to_string()))?,
                    legal_notes: r.try_get("legal_notes")?,
                };
                Ok(InventoryEntry {
                    leistung_id: r.try_get("leistung_id")?,
                    leika: r.try_get("leika")?,
                    name: r.try_get("name")?,
                    score: input.score(),
                    cases_per_year: input.cases_per_year,
                    minutes_per_case: input.minutes_per_case,
                    office: input.office,
                    involved_offices: input.involved_offices,
                    legal_notes: input.legal_notes,
                    updated_at: r.try_get("updated_at")?,
                    updated_by: r.try_get("updated_by")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        entries.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(entries)
    }
}
