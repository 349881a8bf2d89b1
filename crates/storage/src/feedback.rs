//! Accessibility feedback reports, always scoped by tenant.

use crate::error::parsed;
use crate::{Db, Result, StorageError, audit};
use rathaus_core::audit::NewAuditEntry;
use rathaus_core::feedback::{Feedback, FeedbackStatus, NewFeedback};
use rathaus_core::time::now_text;
use rathaus_core::{FeedbackId, TenantId};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

/// The column list, as a literal for `concat!`.
macro_rules! columns {
    () => {
        "id, tenant_id, page, message, contact, status, created_at, updated_at"
    };
}

fn from_row(row: &AnyRow) -> Result<Feedback> {
    Ok(Feedback {
        id: parsed(row, "id")?,
        tenant: parsed(row, "tenant_id")?,
        page: row.try_get("page")?,
        message: row.try_get("message")?,
        contact: row.try_get("contact")?,
        status: parsed(row, "status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Access to feedback reports.
#[derive(Clone, Debug)]
pub struct FeedbackStore {
    db: Db,
}

impl FeedbackStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Stores a validated report for `tenant`.
    pub async fn create(&self, tenant: TenantId, new: NewFeedback) -> Result<Feedback> {
        let new = new
            .validate()
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        let id = FeedbackId::new();
        let now = now_text();
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(concat!(
            "INSERT INTO accessibility_feedback (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
        ))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .bind(&new.page)
        .bind(&new.message)
        .bind(new.contact.as_deref())
        .bind(FeedbackStatus::Neu.as_str())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: "anonymous".into(),
                action: "feedback.create".into(),
                tenant: Some(tenant.to_string()),
                object_type: "accessibility_feedback".into(),
                object_id: id.to_string(),
                details: json!({"page": new.page}),
            },
        )
        .await?;
        tx.commit().await?;
        self.get(tenant, id).await
    }

    /// One report of `tenant`; reports of other tenants are not found.
    pub async fn get(&self, tenant: TenantId, id: FeedbackId) -> Result<Feedback> {
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM accessibility_feedback WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(self.db.pool())
        .await?
        .map(|r| from_row(&r))
        .transpose()?
        .ok_or_else(|| StorageError::NotFound(format!("Meldung {id}")))
    }

    /// Reports of `tenant`, newest first.
    pub async fn list(&self, tenant: TenantId, limit: i64) -> Result<Vec<Feedback>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM accessibility_feedback WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(tenant.to_string())
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Changes the status of a report of `tenant`.
    pub async fn set_status(
        &self,
        tenant: TenantId,
        id: FeedbackId,
        status: FeedbackStatus,
        actor: &str,
    ) -> Result<Feedback> {
        let mut tx = self.db.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE accessibility_feedback SET status = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(status.as_str())
        .bind(now_text())
        .bind(tenant.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound(format!("Meldung {id}")));
        }
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "feedback.status".into(),
                tenant: Some(tenant.to_string()),
                object_type: "accessibility_feedback".into(),
                object_id: id.to_string(),
                details: json!({"status": status.as_str()}),
            },
        )
        .await?;
        tx.commit().await?;
        self.get(tenant, id).await
    }
}
