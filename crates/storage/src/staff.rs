//! Staff accounts and their bearer tokens.
//!
//! Tokens are 256-bit random values shown once; only their SHA-256 is stored, so a database
//! dump yields no usable token.

use crate::error::parsed;
use crate::{Db, Result, StorageError, audit};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use rand::RngCore;
use rathaus_core::audit::NewAuditEntry;
use rathaus_core::staff::{Role, StaffPrincipal};
use rathaus_core::time::{format_ts, now_text};
use rathaus_core::{StaffId, TenantId, TenantKind};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Prefix of every staff token, so leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "rth_";

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Access to staff accounts and tokens.
#[derive(Clone, Debug)]
pub struct StaffStore {
    db: Db,
}

impl StaffStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Creates the staff member `login` of `tenant` if missing (else updates office and role)
    /// and issues a bearer token valid for `valid_for`. Returns the token; it is not stored.
    pub async fn issue_token(
        &self,
        tenant: TenantId,
        login: &str,
        office: &str,
        role: Role,
        valid_for: Duration,
    ) -> Result<String> {
        let mut tx = self.db.pool().begin().await?;
        let (staff_id, action) = upsert(&mut tx, tenant, login, office, role, None).await?;
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw));
        let expires = format_ts(Utc::now() + valid_for);
        sqlx::query(
            "INSERT INTO api_tokens (token_hash, tenant_id, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(&token))
        .bind(tenant.to_string())
        .bind(&staff_id)
        .bind(now_text())
        .bind(&expires)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: "cli".into(),
                action: action.into(),
                tenant: Some(tenant.to_string()),
                object_type: "staff".into(),
                object_id: staff_id.clone(),
                details: json!({"login": login.trim(), "office": office.trim(), "role": role.as_str(), "token_expires": expires}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Makes the Servicekonto account `account_id` the staff member `login` of `tenant` (created
    /// if missing, else office and role updated), so that it can log in to the back office.
    pub async fn link_account(
        &self,
        tenant: TenantId,
        login: &str,
        office: &str,
        role: Role,
        account_id: &str,
        actor: &str,
    ) -> Result<StaffId> {
        let mut tx = self.db.pool().begin().await?;
        let (staff_id, action) =
            upsert(&mut tx, tenant, login, office, role, Some(account_id)).await?;
        audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: actor.into(),
                action: action.into(),
                tenant: Some(tenant.to_string()),
                object_type: "staff".into(),
                object_id: staff_id.clone(),
                details: json!({"login": login.trim(), "office": office.trim(), "role": role.as_str(), "account": account_id}),
            },
        )
        .await?;
        tx.commit().await?;
        staff_id
            .parse()
            .map_err(|e: uuid::Error| StorageError::Corrupt(e.to_string()))
    }

    /// The staff memberships of a Servicekonto account (one per tenant at most).
    pub async fn for_account(&self, account_id: &str) -> Result<Vec<StaffPrincipal>> {
        let rows = sqlx::query(
            "SELECT s.id, s.tenant_id, t.slug, t.kind, s.login, s.office, s.role \
             FROM staff_users s JOIN tenants t ON t.id = s.tenant_id WHERE s.account_id = $1 ORDER BY t.slug",
        )
        .bind(account_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(principal).collect()
    }

    /// Resolves a bearer token; `None` if unknown or expired.
    pub async fn authenticate(&self, token: &str) -> Result<Option<StaffPrincipal>> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT s.id, s.tenant_id, t.slug, t.kind, s.login, s.office, s.role, k.expires_at \
             FROM api_tokens k JOIN staff_users s ON s.id = k.staff_id AND s.tenant_id = k.tenant_id \
             JOIN tenants t ON t.id = s.tenant_id WHERE k.token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires: String = row.try_get("expires_at")?;
        if expires.as_str() <= now_text().as_str() {
            return Ok(None);
        }
        principal(&row).map(Some)
    }

    /// Deletes expired tokens; returns how many.
    pub async fn purge_expired(&self) -> Result<u64> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE expires_at <= $1")
            .bind(now_text())
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

fn principal(row: &sqlx::any::AnyRow) -> Result<StaffPrincipal> {
    let kind: TenantKind = parsed(row, "kind")?;
    Ok(StaffPrincipal {
        id: parsed(row, "id")?,
        tenant: parsed(row, "tenant_id")?,
        tenant_slug: row.try_get("slug")?,
        state_level: kind == TenantKind::Land,
        login: row.try_get("login")?,
        office: row.try_get("office")?,
        role: parsed(row, "role")?,
    })
}

/// Creates or updates a staff member inside `tx`; returns its id and the audit action.
async fn upsert(
    tx: &mut sqlx::AnyConnection,
    tenant: TenantId,
    login: &str,
    office: &str,
    role: Role,
    account_id: Option<&str>,
) -> Result<(String, &'static str)> {
    let login = login.trim();
    if login.is_empty() || login.len() > 100 || login.chars().any(char::is_whitespace) {
        return Err(StorageError::Invalid(format!(
            "ungültiger Anmeldename {login:?}"
        )));
    }
    let office = office.trim();
    if office.is_empty() || office.chars().count() > 200 {
        return Err(StorageError::Invalid(
            "die Organisationseinheit darf nicht leer sein".into(),
        ));
    }
    let existing = sqlx::query("SELECT id FROM staff_users WHERE tenant_id = $1 AND login = $2")
        .bind(tenant.to_string())
        .bind(login)
        .fetch_optional(&mut *tx)
        .await?;
    match existing {
        Some(row) => {
            let id: String = row.try_get(0)?;
            sqlx::query(
                "UPDATE staff_users SET office = $1, role = $2, account_id = COALESCE($3, account_id) WHERE id = $4 AND tenant_id = $5",
            )
            .bind(office)
            .bind(role.as_str())
            .bind(account_id)
            .bind(&id)
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
            Ok((
                id,
                if account_id.is_some() {
                    "staff.link"
                } else {
                    "staff.token"
                },
            ))
        }
        None => {
            let id = StaffId::new().to_string();
            sqlx::query(
                "INSERT INTO staff_users (id, tenant_id, login, office, role, created_at, account_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(tenant.to_string())
            .bind(login)
            .bind(office)
            .bind(role.as_str())
            .bind(now_text())
            .bind(account_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| StorageError::from_write(e, "Anmeldename bereits vergeben"))?;
            Ok((id, "staff.create"))
        }
    }
}
