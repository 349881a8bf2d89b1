//! Registered OpenID Connect clients (relying parties and machine clients).

use crate::audit::entry;
use crate::keys::SigningAlg;
use crate::tokens;
use crate::{IdentityError, Result};
use rathaus_core::staff::Role;
use rathaus_core::time::now_text;
use rathaus_storage::error::parsed;
use rathaus_storage::{Db, StorageError, audit};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Whether a client can keep a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// Browser or native app: no secret, PKCE required.
    Public,
    /// Server-side application with a secret.
    Confidential,
}

impl std::str::FromStr for ClientKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "public" => Ok(Self::Public),
            "confidential" => Ok(Self::Confidential),
            _ => Err(format!("unbekannte Clientart {s:?}")),
        }
    }
}

/// A registered client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Client {
    /// Client id.
    pub client_id: String,
    /// Tenant that registered it (`None`: the state-wide installation).
    pub tenant_id: Option<String>,
    /// Name shown on the consent screen.
    pub name: String,
    /// Public or confidential.
    pub kind: ClientKind,
    /// SHA-256 of the secret (confidential clients).
    #[serde(skip)]
    pub secret_hash: Option<String>,
    /// Allowed redirect URIs (exact match; loopback without port: any port).
    pub redirect_uris: Vec<String>,
    /// Allowed post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Allowed grant types.
    pub grant_types: Vec<String>,
    /// Allowed scopes.
    pub scopes: Vec<String>,
    /// Tenant slugs a machine client may act for (`*`: all).
    pub acts_for: Vec<String>,
    /// The staff role a machine client acts with.
    pub staff_role: Option<Role>,
    /// Algorithm of its ID tokens (default: the provider's).
    #[serde(skip)]
    pub id_token_alg: Option<SigningAlg>,
}

impl Client {
    /// Whether the client may use `grant`.
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }

    /// Whether `secret` is the client's secret (constant-time comparison of hashes).
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.secret_hash
            .as_deref()
            .is_some_and(|h| tokens::constant_time_eq(h, &tokens::hash(secret)))
    }

    /// Whether the client may act for the tenant `slug`.
    pub fn acts_for(&self, slug: &str) -> bool {
        self.acts_for.iter().any(|t| t == "*" || t == slug)
    }
}

/// A client to register.
#[derive(Clone, Debug)]
pub struct NewClient {
    /// The client's data (`secret_hash` is ignored; see `secret`).
    pub client: Client,
    /// The secret of a confidential client.
    pub secret: Option<String>,
}

/// The column list, as a literal for `concat!`.
macro_rules! client_columns {
    () => {
        "client_id, tenant_id, name, kind, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types, \
         scopes, acts_for, staff_role, id_token_alg"
    };
}

fn list(row: &AnyRow, col: &str) -> Result<Vec<String>> {
    let text: String = row.try_get(col)?;
    serde_json::from_str(&text).map_err(|e| StorageError::Corrupt(format!("{col}: {e}")).into())
}

fn from_row(row: &AnyRow) -> Result<Client> {
    let role: Option<String> = row.try_get("staff_role")?;
    let alg: Option<String> = row.try_get("id_token_alg")?;
    Ok(Client {
        client_id: row.try_get("client_id")?,
        tenant_id: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        kind: parsed(row, "kind")?,
        secret_hash: row.try_get("secret_hash")?,
        redirect_uris: list(row, "redirect_uris")?,
        post_logout_redirect_uris: list(row, "post_logout_redirect_uris")?,
        grant_types: list(row, "grant_types")?,
        scopes: list(row, "scopes")?,
        acts_for: list(row, "acts_for")?,
        staff_role: role
            .map(|r| r.parse())
            .transpose()
            .map_err(StorageError::Corrupt)?,
        id_token_alg: alg
            .map(|a| a.parse())
            .transpose()
            .map_err(StorageError::Corrupt)?,
    })
}

/// How long a looked-up client is served from memory (changes reach other nodes after this).
const CACHE_TTL: Duration = Duration::from_secs(10);

/// A looked-up client (or its absence) and when it was read.
type CacheEntry = (Instant, Option<Arc<Client>>);

/// Access to clients, with a short in-memory cache (the token endpoint reads a client per request).
#[derive(Clone, Debug)]
pub struct ClientStore {
    db: Db,
    cache: Arc<RwLock<HashMap<String, CacheEntry>>>,
}

impl ClientStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: Arc::default(),
        }
    }

    /// Registers a client or replaces its registration.
    pub async fn upsert(&self, new: &NewClient, actor: &str) -> Result<()> {
        let c = &new.client;
        if c.client_id.is_empty() || c.client_id.len() > 100 {
            return Err(IdentityError::Invalid("ungültige client_id".into()));
        }
        if c.kind == ClientKind::Confidential && new.secret.as_deref().is_none_or(|s| s.len() < 8) {
            return Err(IdentityError::Invalid(
                "ein vertraulicher Client braucht ein Geheimnis (mindestens 8 Zeichen)".into(),
            ));
        }
        let secret_hash = new.secret.as_deref().map(tokens::hash);
        let to_json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        let now = now_text();
        let mut tx = self.db.pool().begin().await?;
        let exists = sqlx::query("SELECT 1 FROM oidc_clients WHERE client_id = $1")
            .bind(&c.client_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        let sql = if exists {
            "UPDATE oidc_clients SET tenant_id = $2, name = $3, kind = $4, secret_hash = $5, redirect_uris = $6, \
             post_logout_redirect_uris = $7, grant_types = $8, scopes = $9, acts_for = $10, staff_role = $11, updated_at = $12, \
             id_token_alg = $13 WHERE client_id = $1"
        } else {
            "INSERT INTO oidc_clients (client_id, tenant_id, name, kind, secret_hash, redirect_uris, post_logout_redirect_uris, \
             grant_types, scopes, acts_for, staff_role, created_at, updated_at, id_token_alg) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)"
        };
        sqlx::query(sql)
            .bind(&c.client_id)
            .bind(c.tenant_id.as_deref())
            .bind(&c.name)
            .bind(match c.kind {
                ClientKind::Public => "public",
                ClientKind::Confidential => "confidential",
            })
            .bind(secret_hash)
            .bind(to_json(&c.redirect_uris))
            .bind(to_json(&c.post_logout_redirect_uris))
            .bind(to_json(&c.grant_types))
            .bind(to_json(&c.scopes))
            .bind(to_json(&c.acts_for))
            .bind(c.staff_role.map(Role::as_str))
            .bind(&now)
            .bind(c.id_token_alg.map(SigningAlg::as_str))
            .execute(&mut *tx)
            .await?;
        let mut e = entry(
            actor,
            "oidc.client_register",
            "oidc_client",
            &c.client_id,
            json!({"kind": c.kind, "grant_types": c.grant_types, "redirect_uris": c.redirect_uris}),
        );
        e.tenant = c.tenant_id.clone();
        audit::append(&mut tx, &e).await?;
        tx.commit().await?;
        self.forget(&c.client_id);
        Ok(())
    }

    /// The clients a tenant registered.
    pub async fn list(&self, tenant_id: &str) -> Result<Vec<Client>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM oidc_clients WHERE tenant_id = $1 ORDER BY client_id"
        ))
        .bind(tenant_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Removes a client of `tenant_id` with everything issued to it; false if the tenant has
    /// no such client.
    pub async fn remove(&self, tenant_id: &str, client_id: &str, actor: &str) -> Result<bool> {
        let mut tx = self.db.pool().begin().await?;
        let owned =
            sqlx::query("SELECT 1 FROM oidc_clients WHERE client_id = $1 AND tenant_id = $2")
                .bind(client_id)
                .bind(tenant_id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if !owned {
            return Ok(false);
        }
        for sql in [
            "DELETE FROM oidc_codes WHERE client_id = $1",
            "DELETE FROM oidc_refresh_families WHERE client_id = $1",
            "DELETE FROM oidc_consents WHERE client_id = $1",
            "DELETE FROM oidc_clients WHERE client_id = $1",
        ] {
            sqlx::query(sql).bind(client_id).execute(&mut *tx).await?;
        }
        let mut e = entry(
            actor,
            "oidc.client_remove",
            "oidc_client",
            client_id,
            json!({}),
        );
        e.tenant = Some(tenant_id.to_owned());
        audit::append(&mut tx, &e).await?;
        tx.commit().await?;
        self.forget(client_id);
        Ok(true)
    }

    fn forget(&self, client_id: &str) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(client_id);
        }
    }

    /// A client by id.
    pub async fn get(&self, client_id: &str) -> Result<Option<Arc<Client>>> {
        if client_id.is_empty() || client_id.len() > 100 {
            return Ok(None);
        }
        if let Ok(cache) = self.cache.read()
            && let Some((at, client)) = cache.get(client_id)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(client.clone());
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM oidc_clients WHERE client_id = $1"
        ))
        .bind(client_id)
        .fetch_optional(self.db.pool())
        .await?;
        let client = row.as_ref().map(from_row).transpose()?.map(Arc::new);
        if let Ok(mut cache) = self.cache.write() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(client_id.to_owned(), (Instant::now(), client.clone()));
        }
        Ok(client)
    }
}
