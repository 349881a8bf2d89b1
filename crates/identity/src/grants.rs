//! What the provider hands out and must remember: consents, authorization codes, refresh
//! token families, revoked access tokens and signing keys.

use crate::audit::{account_event, entry};
use crate::columns::Columns;
use crate::keys::{KeyRing, SigningAlg, SigningKey};
use crate::rotation::Rotator;
use crate::scope::Scopes;
use crate::tokens::{self, prefix};
use crate::{Result, TrustLevel};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{Duration, Utc};
use rathaus_core::time::{format_ts, now_text, parse_ts};
use rathaus_storage::{Db, StorageError, audit};
use serde_json::json;
use sqlx::Row;

/// What a login grants a client: the data carried from the authorization request to the tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Client.
    pub client_id: String,
    /// Account.
    pub account_id: String,
    /// Browser session the login happened in.
    pub sid: String,
    /// Granted scopes.
    pub scope: String,
    /// Trust level of the login.
    pub level: TrustLevel,
    /// Methods.
    pub amr: Vec<String>,
    /// Login time (Unix seconds).
    pub auth_time: i64,
}

/// An authorization code's data.
#[derive(Clone, Debug)]
pub struct CodeGrant {
    /// The grant.
    pub grant: Grant,
    /// The redirect URI of the request (must be repeated at the token endpoint).
    pub redirect_uri: String,
    /// Nonce for the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge (S256).
    pub code_challenge: Option<String>,
}

/// A consent as the account page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentInfo {
    /// Client.
    pub client_id: String,
    /// Its name.
    pub client_name: String,
    /// Granted scopes (space separated).
    pub scopes: String,
    /// When.
    pub granted_at: String,
}

/// Outcome of presenting a refresh token.
#[derive(Debug)]
pub enum Refresh {
    /// Valid: the grant, the new refresh token that replaces it, and the grant's account as it
    /// is now (`None` if it no longer exists).
    Rotated(Grant, String, Option<Box<crate::accounts::Account>>),
    /// Unknown, expired, revoked or of another client.
    Invalid,
    /// Already used: the family has been revoked.
    Reused,
}

/// Access to consents, codes, refresh tokens, revocations and keys.
#[derive(Clone, Debug)]
pub struct GrantStore {
    db: Db,
    rotator: std::sync::Arc<Rotator>,
}

pub(crate) fn grant_from_row(row: &impl Columns) -> Result<Grant> {
    let level: String = row.col("level")?;
    let amr: String = row.col("amr")?;
    Ok(Grant {
        client_id: row.col("client_id")?,
        account_id: row.col("account_id")?,
        sid: row.col("sid")?,
        scope: row.col("scope")?,
        level: TrustLevel::from_acr(&level)
            .ok_or_else(|| StorageError::Corrupt(format!("level = {level:?}")))?,
        amr: amr.split_ascii_whitespace().map(str::to_owned).collect(),
        auth_time: row.col("auth_time")?,
    })
}

impl GrantStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self {
            rotator: std::sync::Arc::new(Rotator::new(db.clone())),
            db,
        }
    }

    /// Scopes the account has consented to for the client.
    pub async fn consent(&self, account_id: &str, client_id: &str) -> Result<Scopes> {
        let row = sqlx::query(
            "SELECT scopes FROM oidc_consents WHERE account_id = $1 AND client_id = $2",
        )
        .bind(account_id)
        .bind(client_id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(match row {
            Some(r) => Scopes::parse(&r.try_get::<String, _>(0)?),
            None => Scopes::default(),
        })
    }

    /// Records consent to `scopes` (replacing an earlier one).
    pub async fn give_consent(
        &self,
        account_id: &str,
        client_id: &str,
        scopes: &Scopes,
    ) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("DELETE FROM oidc_consents WHERE account_id = $1 AND client_id = $2")
            .bind(account_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO oidc_consents (account_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)")
            .bind(account_id)
            .bind(client_id)
            .bind(scopes.to_string())
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
        account_event(
            &mut tx,
            &format!("account:{account_id}"),
            "oidc.consent",
            account_id,
            json!({"client_id": client_id, "scopes": scopes.to_string()}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The consents of an account, with the clients' names.
    pub async fn consents(&self, account_id: &str) -> Result<Vec<ConsentInfo>> {
        let rows = sqlx::query(
            "SELECT c.client_id, k.name, c.scopes, c.granted_at FROM oidc_consents c \
             JOIN oidc_clients k ON k.client_id = c.client_id WHERE c.account_id = $1 ORDER BY k.name",
        )
        .bind(account_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ConsentInfo {
                    client_id: r.try_get(0)?,
                    client_name: r.try_get(1)?,
                    scopes: r.try_get(2)?,
                    granted_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Withdraws consent (and revokes the client's refresh tokens of the account).
    pub async fn withdraw_consent(&self, account_id: &str, client_id: &str) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("DELETE FROM oidc_consents WHERE account_id = $1 AND client_id = $2")
            .bind(account_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE oidc_refresh_families SET revoked_at = $1 WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(account_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        account_event(
            &mut tx,
            &format!("account:{account_id}"),
            "oidc.consent_withdrawn",
            account_id,
            json!({"client_id": client_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issues an authorization code valid for `valid_for`.
    pub async fn issue_code(&self, code: &CodeGrant, valid_for: Duration) -> Result<String> {
        let (token, hash) = tokens::opaque(prefix::CODE);
        let g = &code.grant;
        sqlx::query(
            "INSERT INTO oidc_codes (code_hash, client_id, account_id, sid, redirect_uri, scope, nonce, code_challenge, level, amr, auth_time, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(hash)
        .bind(&g.client_id)
        .bind(&g.account_id)
        .bind(&g.sid)
        .bind(&code.redirect_uri)
        .bind(&g.scope)
        .bind(code.nonce.as_deref())
        .bind(code.code_challenge.as_deref())
        .bind(g.level.as_str())
        .bind(g.amr.join(" "))
        .bind(g.auth_time)
        .bind(format_ts(Utc::now() + valid_for))
        .execute(self.db.pool())
        .await?;
        Ok(token)
    }

    /// Redeems a code once. A second redemption returns `None` and revokes the refresh tokens
    /// issued from the first (RFC 6749 §4.1.2: a replayed code means it leaked).
    pub async fn redeem_code(&self, code: &str) -> Result<Option<CodeGrant>> {
        if !code.starts_with(prefix::CODE) || code.len() > 100 {
            return Ok(None);
        }
        let hash = tokens::hash(code);
        let now = now_text();
        let row = sqlx::query(
            "UPDATE oidc_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL \
             RETURNING client_id, account_id, sid, redirect_uri, scope, nonce, code_challenge, level, amr, auth_time, expires_at",
        )
        .bind(&now)
        .bind(&hash)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else {
            let replay = sqlx::query(
                "SELECT client_id, account_id, sid FROM oidc_codes WHERE code_hash = $1",
            )
            .bind(&hash)
            .fetch_optional(self.db.pool())
            .await?;
            if let Some(r) = replay {
                let (client, account, sid): (String, String, String) =
                    (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                let mut tx = self.db.pool().begin().await?;
                sqlx::query("UPDATE oidc_refresh_families SET revoked_at = $1 WHERE client_id = $2 AND account_id = $3 AND sid = $4 AND revoked_at IS NULL")
                    .bind(&now)
                    .bind(&client)
                    .bind(&account)
                    .bind(&sid)
                    .execute(&mut *tx)
                    .await?;
                account_event(
                    &mut tx,
                    "anonymous",
                    "oidc.code_replay",
                    &account,
                    json!({"client_id": client, "sid": sid}),
                )
                .await?;
                tx.commit().await?;
            }
            return Ok(None);
        };
        let expires: String = row.try_get("expires_at")?;
        if expires <= now {
            return Ok(None);
        }
        Ok(Some(CodeGrant {
            grant: grant_from_row(&row)?,
            redirect_uri: row.try_get("redirect_uri")?,
            nonce: row.try_get("nonce")?,
            code_challenge: row.try_get("code_challenge")?,
        }))
    }

    /// Starts a refresh-token family for a grant; returns its first token.
    pub async fn issue_refresh(&self, grant: &Grant, valid_for: Duration) -> Result<String> {
        let family = uuid::Uuid::new_v4().simple().to_string();
        let (token, hash) = tokens::refresh(&family);
        let now = Utc::now();
        sqlx::query(
            "INSERT INTO oidc_refresh_families (family_id, current_hash, client_id, account_id, sid, scope, level, amr, auth_time, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&family)
        .bind(hash)
        .bind(&grant.client_id)
        .bind(&grant.account_id)
        .bind(&grant.sid)
        .bind(&grant.scope)
        .bind(grant.level.as_str())
        .bind(grant.amr.join(" "))
        .bind(grant.auth_time)
        .bind(format_ts(now))
        .bind(format_ts(now + valid_for))
        .execute(self.db.pool())
        .await?;
        Ok(token)
    }

    /// Presents a refresh token of `client_id`: rotates it, or detects reuse and revokes the family.
    ///
    /// A token that names a family of the client but is not the family's current token is an
    /// earlier one of that family, presented again (or one made up by someone who held a token
    /// of the family: the family id is random and appears only in its tokens): reuse.
    pub async fn rotate_refresh(
        &self,
        token: &str,
        client_id: &str,
        valid_for: Duration,
    ) -> Result<Refresh> {
        let Some(family) = tokens::refresh_family(token) else {
            return Ok(Refresh::Invalid);
        };
        let hash = tokens::hash(token);
        if let Some((grant, next, account)) = self
            .rotator
            .rotate(family, hash.clone(), client_id, valid_for)
            .await?
        {
            return Ok(Refresh::Rotated(grant, next, account));
        }
        // Not rotated: unknown, another client's, expired, revoked — or not the current token.
        let known = sqlx::query(
            "SELECT account_id, current_hash FROM oidc_refresh_families WHERE family_id = $1 AND client_id = $2",
        )
        .bind(family)
        .bind(client_id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(known) = known else {
            return Ok(Refresh::Invalid);
        };
        let account: String = known.try_get(0)?;
        let current: String = known.try_get(1)?;
        if tokens::constant_time_eq(&current, &hash) {
            // The current token, but the family expired or was revoked.
            return Ok(Refresh::Invalid);
        }
        self.revoke_family(
            family,
            "anonymous",
            "oidc.refresh_reuse",
            &account,
            json!({"client_id": client_id, "family": family}),
        )
        .await?;
        Ok(Refresh::Reused)
    }

    /// Revokes the family of a refresh token of `client_id` (any token of the family, current
    /// or earlier); false if the token names no family of that client.
    pub async fn revoke_refresh(&self, token: &str, client_id: &str) -> Result<bool> {
        let Some(family) = tokens::refresh_family(token) else {
            return Ok(false);
        };
        let row = sqlx::query(
            "SELECT account_id FROM oidc_refresh_families WHERE family_id = $1 AND client_id = $2",
        )
        .bind(family)
        .bind(client_id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(false) };
        let account: String = row.try_get(0)?;
        self.revoke_family(
            family,
            &format!("client:{client_id}"),
            "oidc.revoke",
            &account,
            json!({"token_type": "refresh_token"}),
        )
        .await?;
        Ok(true)
    }

    /// Revokes a refresh-token family and records `action` of `actor` on `account` in the
    /// audit trail, in one transaction.
    async fn revoke_family(
        &self,
        family: &str,
        actor: &str,
        action: &str,
        account: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("UPDATE oidc_refresh_families SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(family)
            .execute(&mut *tx)
            .await?;
        account_event(&mut tx, actor, action, account, details).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The grant of a live refresh token and when it expires (for introspection): only the
    /// current token of an unrevoked, unexpired family is live.
    pub async fn refresh_info(&self, token: &str) -> Result<Option<(Grant, String)>> {
        let Some(family) = tokens::refresh_family(token) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT client_id, account_id, sid, scope, level, amr, auth_time, expires_at FROM oidc_refresh_families \
             WHERE family_id = $1 AND current_hash = $2 AND revoked_at IS NULL AND expires_at > $3",
        )
        .bind(family)
        .bind(tokens::hash(token))
        .bind(now_text())
        .fetch_optional(self.db.pool())
        .await?;
        row.map(|r| Ok((grant_from_row(&r)?, r.try_get("expires_at")?)))
            .transpose()
    }

    /// Records an access token as revoked until it expires.
    pub async fn revoke_access(
        &self,
        jti: &str,
        exp: i64,
        actor: &str,
        account: &str,
    ) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("INSERT INTO oidc_revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
            .bind(jti)
            .bind(exp)
            .execute(&mut *tx)
            .await?;
        account_event(
            &mut tx,
            actor,
            "oidc.revoke",
            account,
            json!({"token_type": "access_token", "jti": jti}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether an access token was revoked.
    pub async fn access_revoked(&self, jti: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM oidc_revoked_tokens WHERE jti = $1")
                .bind(jti)
                .fetch_optional(self.db.pool())
                .await?
                .is_some(),
        )
    }

    /// Removes expired codes, refresh tokens and revocation entries; returns how many.
    pub async fn purge_expired(&self) -> Result<u64> {
        let now = now_text();
        let mut n = 0;
        for sql in [
            "DELETE FROM oidc_codes WHERE expires_at <= $1",
            "DELETE FROM oidc_refresh_families WHERE expires_at <= $1",
            "DELETE FROM account_mail_tokens WHERE expires_at <= $1",
            "DELETE FROM sessions WHERE expires_at <= $1",
        ] {
            n += sqlx::query(sql)
                .bind(&now)
                .execute(self.db.pool())
                .await?
                .rows_affected();
        }
        n += sqlx::query("DELETE FROM oidc_revoked_tokens WHERE expires_at <= $1")
            .bind(Utc::now().timestamp())
            .execute(self.db.pool())
            .await?
            .rows_affected();
        Ok(n)
    }

    /// Loads the signing keys; creates the first key of `alg` and the other algorithm if
    /// missing, and a new one when the newest is older than `rotate_after` (the old key stays
    /// in the JWKS until `retire_after` past its successor, so tokens signed with it verify).
    pub async fn key_ring(
        &self,
        rotate_after: Duration,
        retire_after: Duration,
    ) -> Result<KeyRing> {
        let now = Utc::now();
        for alg in SigningAlg::ALL {
            let newest = sqlx::query("SELECT created_at FROM signing_keys WHERE alg = $1 AND retired_at IS NULL ORDER BY created_at DESC LIMIT 1")
                .bind(alg.as_str())
                .fetch_optional(self.db.pool())
                .await?;
            let stale = match &newest {
                None => true,
                Some(r) => {
                    parse_ts(&r.try_get::<String, _>(0)?).is_none_or(|t| t + rotate_after <= now)
                }
            };
            if stale {
                self.add_key(alg).await?;
            }
        }
        self.load_ring(retire_after).await
    }

    /// Adds a new key of `alg` (it signs from now on); returns its id.
    pub async fn add_key(&self, alg: SigningAlg) -> Result<String> {
        let key = SigningKey::generate(alg)?;
        let kid = key.kid().to_owned();
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("INSERT INTO signing_keys (kid, alg, private_pkcs8, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&kid)
            .bind(alg.as_str())
            .bind(STANDARD.encode(key.pkcs8()?))
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &entry(
                "system",
                "oidc.key_add",
                "signing_key",
                &kid,
                json!({"alg": alg.as_str()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(kid)
    }

    /// The keys in use: per algorithm the newest, and older ones whose successor is younger
    /// than `retire_after`; older keys are marked retired.
    pub async fn load_ring(&self, retire_after: Duration) -> Result<KeyRing> {
        let rows = sqlx::query("SELECT kid, alg, private_pkcs8, created_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at, kid")
            .fetch_all(self.db.pool())
            .await?;
        let now = Utc::now();
        let mut keys = Vec::new();
        let mut retire = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let kid: String = row.try_get(0)?;
            let alg: SigningAlg = rathaus_storage::error::parsed(row, "alg")?;
            // The next key of the same algorithm replaced this one at its creation time.
            let successor = rows[i + 1..]
                .iter()
                .find(|r| r.try_get::<String, _>(1).is_ok_and(|a| a == alg.as_str()));
            if let Some(next) = successor {
                let since: String = next.try_get(3)?;
                if parse_ts(&since).is_none_or(|t| t + retire_after <= now) {
                    retire.push(kid);
                    continue;
                }
            }
            let der = STANDARD
                .decode(row.try_get::<String, _>(2)?)
                .map_err(|e| StorageError::Corrupt(format!("signing key {kid}: {e}")))?;
            keys.push(SigningKey::from_pkcs8(alg, &der)?);
        }
        for kid in retire {
            sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE kid = $2")
                .bind(now_text())
                .bind(&kid)
                .execute(self.db.pool())
                .await?;
        }
        Ok(KeyRing::new(keys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::rotation_fixture;
    use futures::future::join_all;
    use rathaus_storage::testing::TestDatabase;

    async fn setup(backend: &str) -> (TestDatabase, GrantStore, Grant) {
        let tdb = TestDatabase::new(backend).await.expect("test database");
        let db = tdb.connect().await.expect("connect");
        let grant = rotation_fixture(&db).await;
        (tdb, GrantStore::new(db), grant)
    }

    async fn batched_rotation(backend: &str) {
        let (_tdb, store, grant) = setup(backend).await;
        let ttl = Duration::days(1);
        // Many families presented at once: every token rotates to a distinct successor that
        // carries its grant and rotates again.
        let mut first = Vec::new();
        for _ in 0..40 {
            first.push(store.issue_refresh(&grant, ttl).await.expect("issue"));
        }
        let outcomes = join_all(first.iter().map(|t| store.rotate_refresh(t, "app-a", ttl))).await;
        let mut next = Vec::new();
        for outcome in outcomes {
            match outcome.expect("rotate") {
                Refresh::Rotated(g, token, account) => {
                    assert_eq!(g, grant);
                    // The account is read in the rotation's transaction, for the ID token.
                    let account = account.expect("account of the grant");
                    assert_eq!(account.id, grant.account_id);
                    assert_eq!(account.email, "rotation@example.org");
                    next.push(token);
                }
                other => panic!("expected rotation, got {other:?}"),
            }
        }
        let distinct: std::collections::HashSet<_> = next.iter().collect();
        assert_eq!(distinct.len(), 40);
        for t in &next[..3] {
            assert!(matches!(
                store.rotate_refresh(t, "app-a", ttl).await.expect("rotate"),
                Refresh::Rotated(..)
            ));
        }

        // Writes through the pool (new families) while the writer rotates: both succeed (on
        // SQLite they meet at the database's single write lock).
        let mut fresh = Vec::new();
        for _ in 0..20 {
            fresh.push(store.issue_refresh(&grant, ttl).await.expect("issue"));
        }
        let (issued, rotated) = tokio::join!(
            join_all((0..20).map(|_| store.issue_refresh(&grant, ttl))),
            join_all(fresh.iter().map(|t| store.rotate_refresh(t, "app-a", ttl)))
        );
        for token in issued {
            assert!(
                token
                    .expect("issue beside rotations")
                    .starts_with(prefix::REFRESH)
            );
        }
        for outcome in rotated {
            assert!(matches!(
                outcome.expect("rotate beside pool writes"),
                Refresh::Rotated(..)
            ));
        }

        // Another client's presentation neither rotates nor burns the token.
        let token = store.issue_refresh(&grant, ttl).await.expect("issue");
        assert!(matches!(
            store
                .rotate_refresh(&token, "app-b", ttl)
                .await
                .expect("rotate"),
            Refresh::Invalid
        ));
        // The same token presented eight times at once: one rotation, the rest is reuse, which
        // revokes the family including the successor just issued.
        let outcomes = join_all((0..8).map(|_| store.rotate_refresh(&token, "app-a", ttl))).await;
        let mut rotated = Vec::new();
        let mut reused = 0;
        for outcome in outcomes {
            match outcome.expect("rotate") {
                Refresh::Rotated(_, next, _) => rotated.push(next),
                Refresh::Reused => reused += 1,
                Refresh::Invalid => panic!("a presented token is never unknown here"),
            }
        }
        assert_eq!((rotated.len(), reused), (1, 7));
        assert!(matches!(
            store
                .rotate_refresh(&rotated[0], "app-a", ttl)
                .await
                .expect("rotate"),
            Refresh::Invalid
        ));
        // An expired token does not rotate.
        let expired = store
            .issue_refresh(&grant, Duration::seconds(-1))
            .await
            .expect("issue");
        assert!(matches!(
            store
                .rotate_refresh(&expired, "app-a", ttl)
                .await
                .expect("rotate"),
            Refresh::Invalid
        ));
        // Unknown and malformed tokens, and a well-formed token of a family that does not exist.
        let (stranger, _) = tokens::refresh(&uuid::Uuid::new_v4().simple().to_string());
        for t in ["rrt_unbekannt", "", stranger.as_str()] {
            assert!(matches!(
                store.rotate_refresh(t, "app-a", ttl).await.expect("rotate"),
                Refresh::Invalid
            ));
        }
    }

    /// Only the current token of a family is live; any earlier one revokes it, at the token
    /// endpoint as at the revocation endpoint.
    async fn family_lifecycle(backend: &str) {
        let (_tdb, store, grant) = setup(backend).await;
        let ttl = Duration::days(1);
        let first = store.issue_refresh(&grant, ttl).await.expect("issue");
        let family = tokens::refresh_family(&first).expect("family").to_owned();
        let (info, _) = store
            .refresh_info(&first)
            .await
            .expect("info")
            .expect("live");
        assert_eq!(info, grant);
        let Refresh::Rotated(_, second, _) = store
            .rotate_refresh(&first, "app-a", ttl)
            .await
            .expect("rotate")
        else {
            panic!("first rotation");
        };
        assert_eq!(tokens::refresh_family(&second), Some(family.as_str()));
        // The earlier token is no longer live; the successor is.
        assert!(store.refresh_info(&first).await.expect("info").is_none());
        assert!(store.refresh_info(&second).await.expect("info").is_some());
        // A made-up secret for the family counts as reuse, as an earlier token does.
        let (forged, _) = tokens::refresh(&family);
        assert!(matches!(
            store
                .rotate_refresh(&forged, "app-a", ttl)
                .await
                .expect("rotate"),
            Refresh::Reused
        ));
        assert!(store.refresh_info(&second).await.expect("info").is_none());
        assert!(matches!(
            store
                .rotate_refresh(&second, "app-a", ttl)
                .await
                .expect("rotate"),
            Refresh::Invalid
        ));

        // Revocation with an earlier token of a family ends the family; another client's
        // revocation request changes nothing.
        let a = store.issue_refresh(&grant, ttl).await.expect("issue");
        let Refresh::Rotated(_, b, _) = store
            .rotate_refresh(&a, "app-a", ttl)
            .await
            .expect("rotate")
        else {
            panic!("rotation");
        };
        assert!(!store.revoke_refresh(&a, "app-b").await.expect("revoke"));
        assert!(store.refresh_info(&b).await.expect("info").is_some());
        assert!(store.revoke_refresh(&a, "app-a").await.expect("revoke"));
        assert!(store.refresh_info(&b).await.expect("info").is_none());
        assert!(
            !store
                .revoke_refresh("rrt_unbekannt", "app-a")
                .await
                .expect("revoke")
        );

        // The audit trail names each reuse.
        let reuses: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'oidc.refresh_reuse'",
        )
        .fetch_one(store.db.pool())
        .await
        .expect("audit");
        assert_eq!(reuses, 1);
    }

    #[tokio::test]
    async fn family_lifecycle_sqlite() {
        family_lifecycle("sqlite").await;
    }

    #[tokio::test]
    async fn family_lifecycle_postgres() {
        family_lifecycle("postgres").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batched_rotation_sqlite() {
        // On SQLite the batches go through the direct connection's writer thread.
        let tdb = TestDatabase::new("sqlite").await.expect("test database");
        let db = tdb.connect().await.expect("connect");
        assert!(db.direct_sqlite().expect("direct connection").is_some());
        batched_rotation("sqlite").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batched_rotation_postgres() {
        batched_rotation("postgres").await;
    }
}
