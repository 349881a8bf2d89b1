//! The audit trail in the database: append inside the caller's transaction, read, verify.

use crate::{Db, Result, StorageError};
use futures::TryStreamExt;
use rathaus_core::audit::{AuditEntry, ChainReport, ChainVerifier, NewAuditEntry, entry_hash};
use rathaus_core::time::now_text;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// The column list, as a literal for `concat!`.
macro_rules! columns {
    () => {
        "seq, at, actor, action, tenant_id, object_type, object_id, details, prev_hash, hash"
    };
}

/// Appends an entry. Call it inside the transaction of the change it records, so that the change
/// and its audit entry are committed together or not at all.
///
/// The first statement bumps the chain head; its row lock (PostgreSQL) or the write lock it takes
/// (SQLite) serialises concurrent appenders, so the chain never forks.
pub async fn append(conn: &mut AnyConnection, entry: &NewAuditEntry) -> Result<AuditEntry> {
    let row = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = row.try_get(0)?;
    let prev_hash: String = row.try_get(1)?;
    let at = now_text();
    let details =
        serde_json::to_string(&entry.details).map_err(|e| StorageError::Invalid(e.to_string()))?;
    let hash = entry_hash(
        seq,
        &at,
        &entry.actor,
        &entry.action,
        entry.tenant.as_deref(),
        &entry.object_type,
        &entry.object_id,
        &details,
        &prev_hash,
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, tenant_id, object_type, object_id, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(&at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(entry.tenant.as_deref())
    .bind(&entry.object_type)
    .bind(&entry.object_id)
    .bind(&details)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(AuditEntry {
        seq,
        at,
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        tenant: entry.tenant.clone(),
        object_type: entry.object_type.clone(),
        object_id: entry.object_id.clone(),
        details,
        prev_hash,
        hash,
    })
}

/// Appends several entries in order, with one bump of the chain head (for batched writes: the
/// head's lock is taken once per batch instead of once per entry). Same guarantees as [`append`].
pub async fn append_many(
    conn: &mut AnyConnection,
    entries: &[NewAuditEntry],
) -> Result<Vec<AuditEntry>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let n = i64::try_from(entries.len()).map_err(|e| StorageError::Invalid(e.to_string()))?;
    let row = sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
        .bind(n)
        .fetch_one(&mut *conn)
        .await?;
    let last: i64 = row.try_get(0)?;
    let mut prev_hash: String = row.try_get(1)?;
    let at = now_text();
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let seq = last - n + 1 + i as i64;
        let details = serde_json::to_string(&entry.details)
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        let hash = entry_hash(
            seq,
            &at,
            &entry.actor,
            &entry.action,
            entry.tenant.as_deref(),
            &entry.object_type,
            &entry.object_id,
            &details,
            &prev_hash,
        );
        out.push(AuditEntry {
            seq,
            at: at.clone(),
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            tenant: entry.tenant.clone(),
            object_type: entry.object_type.clone(),
            object_id: entry.object_id.clone(),
            details,
            prev_hash: std::mem::take(&mut prev_hash),
            hash: hash.clone(),
        });
        prev_hash = hash;
    }
    let sql = format!(
        concat!("INSERT INTO audit_log (", columns!(), ") VALUES {}"),
        crate::values_placeholders(out.len(), 10)
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for e in &out {
        insert = insert
            .bind(e.seq)
            .bind(&e.at)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(e.tenant.as_deref())
            .bind(&e.object_type)
            .bind(&e.object_id)
            .bind(&e.details)
            .bind(&e.prev_hash)
            .bind(&e.hash);
    }
    insert.execute(&mut *conn).await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev_hash)
        .execute(&mut *conn)
        .await?;
    Ok(out)
}

fn from_row(row: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        tenant: row.try_get("tenant_id")?,
        object_type: row.try_get("object_type")?,
        object_id: row.try_get("object_id")?,
        details: row.try_get("details")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Read access to the audit trail.
#[derive(Clone, Debug)]
pub struct AuditStore {
    db: Db,
}

impl AuditStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Appends an entry in its own transaction (for actions that change nothing else).
    pub async fn record(&self, entry: &NewAuditEntry) -> Result<AuditEntry> {
        let mut tx = self.db.pool().begin().await?;
        let e = append(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// The newest entries of one tenant, newest first.
    pub async fn list_for_tenant(&self, tenant_id: &str, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT $2"
        ))
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Walks the whole chain in order and checks every link against the head.
    /// `progress` is called with the number of entries checked so far, every 10,000 entries.
    pub async fn verify(&self, mut progress: impl FnMut(u64)) -> Result<ChainReport> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(self.db.pool())
            .await?;
        let (head_seq, head_hash): (i64, String) = match head {
            Some(r) => (r.try_get(0)?, r.try_get(1)?),
            None => (-1, String::new()),
        };
        let mut verifier = ChainVerifier::default();
        let mut rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM audit_log ORDER BY seq"
        ))
        .fetch(self.db.pool());
        let mut n = 0u64;
        while let Some(row) = rows.try_next().await? {
            verifier.push(&from_row(&row)?);
            n += 1;
            if n.is_multiple_of(10_000) {
                progress(n);
            }
        }
        Ok(verifier.finish(head_seq, &head_hash))
    }
}
