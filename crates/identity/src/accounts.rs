//! Accounts (Bürgerkonto, Unternehmenskonto), their sessions, e-mail links, upstream links
//! and the login throttle, in the database.

use crate::audit::account_event;
use crate::columns::Columns;
use crate::tokens::{self, prefix};
use crate::{IdentityError, Result, TrustLevel};
use chrono::{Duration, Utc};
use rathaus_core::time::{format_ts, now_text};
use rathaus_storage::{Db, StorageError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Kind of account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    /// A citizen (Bürgerkonto).
    Person,
    /// A company or association (Unternehmenskonto) with member accounts.
    Organisation,
}

impl AccountKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Organisation => "organisation",
        }
    }
}

impl std::str::FromStr for AccountKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "person" => Ok(Self::Person),
            "organisation" => Ok(Self::Organisation),
            _ => Err(format!("unbekannte Kontoart {s:?}")),
        }
    }
}

/// Postal address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Street and number.
    pub street: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Town.
    pub locality: Option<String>,
    /// Country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
}

/// Profile data that forms may prefill with the citizen's consent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Date of birth (YYYY-MM-DD).
    pub birthdate: Option<String>,
    /// Address.
    pub address: Address,
    /// Name of the organisation (organisation accounts).
    pub organisation_name: Option<String>,
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Id (the `sub` claim).
    pub id: String,
    /// Kind.
    pub kind: AccountKind,
    /// E-mail address (lower case).
    pub email: String,
    /// Whether the e-mail address is confirmed.
    pub email_verified: bool,
    /// PHC hash of the password (absent for accounts that log in only upstream).
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Profile.
    pub profile: Profile,
    /// Base32 TOTP secret, if a second factor is set up.
    #[serde(skip)]
    pub totp_secret: Option<String>,
    /// Step of the last accepted TOTP code.
    #[serde(skip)]
    pub totp_last_step: Option<i64>,
    /// Highest level an upstream identity (eID) confirmed.
    pub verified_level: Option<TrustLevel>,
    /// Locked for logins until then (after repeated wrong passwords).
    pub locked_until: Option<String>,
    /// Optimistic-locking version.
    pub version: i64,
    /// Created.
    pub created_at: String,
}

impl Account {
    /// Whether TOTP is set up.
    pub fn has_totp(&self) -> bool {
        self.totp_secret.is_some()
    }
}

pub(crate) const ACCOUNT_COLUMNS: &str = "id, kind, email, email_verified_at, password_hash, given_name, family_name, birthdate, \
     street, postal_code, locality, country, organisation_name, totp_secret, totp_last_step, verified_level, \
     locked_until, version, created_at";

pub(crate) fn account_from_row(row: &impl Columns) -> Result<Account> {
    let verified: Option<String> = row.col("verified_level")?;
    let email_verified: Option<String> = row.col("email_verified_at")?;
    Ok(Account {
        id: row.col("id")?,
        kind: row.parsed("kind")?,
        email: row.col("email")?,
        email_verified: email_verified.is_some(),
        password_hash: row.col("password_hash")?,
        profile: Profile {
            given_name: row.col("given_name")?,
            family_name: row.col("family_name")?,
            birthdate: row.col("birthdate")?,
            address: Address {
                street: row.col("street")?,
                postal_code: row.col("postal_code")?,
                locality: row.col("locality")?,
                country: row.col("country")?,
            },
            organisation_name: row.col("organisation_name")?,
        },
        totp_secret: row.col("totp_secret")?,
        totp_last_step: row.col("totp_last_step")?,
        verified_level: verified.as_deref().and_then(TrustLevel::from_acr),
        locked_until: row.col("locked_until")?,
        version: row.col("version")?,
        created_at: row.col("created_at")?,
    })
}

/// Normalises an e-mail address (trimmed, lower case) and checks its form.
pub fn normalise_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        })
        && email.matches('@').count() == 1;
    if valid {
        Ok(email)
    } else {
        Err(IdentityError::Invalid(
            "Bitte geben Sie eine gültige E-Mail-Adresse ein.".into(),
        ))
    }
}

/// A new account.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// Kind.
    pub kind: AccountKind,
    /// E-mail address.
    pub email: String,
    /// PHC hash of the password.
    pub password_hash: Option<String>,
    /// Profile.
    pub profile: Profile,
    /// Whether the address counts as confirmed (demo seed, upstream-verified addresses).
    pub email_verified: bool,
}

/// A browser session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Session {
    /// Public session id (`sid` claim; never the cookie value).
    pub sid: String,
    /// Account.
    pub account_id: String,
    /// Trust level of the login.
    pub level: TrustLevel,
    /// Methods (`pwd`, `otp`, `fed`).
    pub amr: Vec<String>,
    /// Login time (Unix seconds).
    pub auth_time: i64,
    /// Created.
    pub created_at: String,
    /// Expires.
    pub expires_at: String,
    /// Browser.
    pub user_agent: String,
}

/// Purpose of an e-mail link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailPurpose {
    /// Confirm the address.
    VerifyEmail,
    /// Set a new password.
    ResetPassword,
}

impl MailPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

/// Failures before an account is locked, and the first lock's length (it doubles each time).
pub const LOCK_AFTER: i64 = 5;
const FIRST_LOCK_SECS: i64 = 60;
const MAX_LOCK_SECS: i64 = 3600;

/// Access to accounts.
#[derive(Clone, Debug)]
pub struct AccountStore {
    db: Db,
}

impl AccountStore {
    /// Wraps a database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Creates an account; a taken e-mail address is a conflict.
    pub async fn create(&self, new: &NewAccount, actor: &str) -> Result<Account> {
        let email = normalise_email(&new.email)?;
        let id = uuid::Uuid::now_v7().to_string();
        let now = now_text();
        let p = &new.profile;
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO accounts (id, kind, email, email_verified_at, password_hash, given_name, family_name, birthdate, \
             street, postal_code, locality, country, organisation_name, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&id)
        .bind(new.kind.as_str())
        .bind(&email)
        .bind(new.email_verified.then(|| now.clone()))
        .bind(new.password_hash.as_deref())
        .bind(p.given_name.as_deref())
        .bind(p.family_name.as_deref())
        .bind(p.birthdate.as_deref())
        .bind(p.address.street.as_deref())
        .bind(p.address.postal_code.as_deref())
        .bind(p.address.locality.as_deref())
        .bind(p.address.country.as_deref())
        .bind(p.organisation_name.as_deref())
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StorageError::from_write(e, "Für diese E-Mail-Adresse besteht bereits ein Konto."))?;
        account_event(
            &mut tx,
            actor,
            "account.create",
            &id,
            json!({"kind": new.kind.as_str()}),
        )
        .await?;
        tx.commit().await?;
        self.get(&id)
            .await?
            .ok_or_else(|| StorageError::NotFound(id).into())
    }

    /// An account by id.
    pub async fn get(&self, id: &str) -> Result<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    /// An account by e-mail address.
    pub async fn by_email(&self, email: &str) -> Result<Option<Account>> {
        let Ok(email) = normalise_email(email) else {
            return Ok(None);
        };
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(self.db.pool())
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn update(
        &self,
        id: &str,
        sql: &'static str,
        binds: &[Option<&str>],
        action: &str,
        actor: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        let done = q.bind(now_text()).bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound(format!("Konto {id}")).into());
        }
        account_event(&mut tx, actor, action, id, details).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the e-mail address as confirmed.
    pub async fn confirm_email(&self, id: &str) -> Result<()> {
        let now = now_text();
        self.update(
            id,
            "UPDATE accounts SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $2 WHERE id = $3",
            &[Some(&now)],
            "account.email_verified",
            &format!("account:{id}"),
            json!({}),
        )
        .await
    }

    /// Sets a new password hash and lifts a lock.
    pub async fn set_password(&self, id: &str, hash: &str, actor: &str) -> Result<()> {
        self.update(
            id,
            "UPDATE accounts SET password_hash = $1, failed_logins = 0, locked_until = NULL, version = version + 1, updated_at = $2 WHERE id = $3",
            &[Some(hash)],
            "account.password",
            actor,
            json!({}),
        )
        .await
    }

    /// Replaces the profile if the account still has `version` (else a version conflict).
    pub async fn update_profile(&self, id: &str, version: i64, p: &Profile) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE accounts SET given_name = $1, family_name = $2, birthdate = $3, street = $4, postal_code = $5, \
             locality = $6, country = $7, organisation_name = $8, version = version + 1, updated_at = $9 \
             WHERE id = $10 AND version = $11",
        )
        .bind(p.given_name.as_deref())
        .bind(p.family_name.as_deref())
        .bind(p.birthdate.as_deref())
        .bind(p.address.street.as_deref())
        .bind(p.address.postal_code.as_deref())
        .bind(p.address.locality.as_deref())
        .bind(p.address.country.as_deref())
        .bind(p.organisation_name.as_deref())
        .bind(now_text())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let actual = sqlx::query("SELECT version FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match actual {
                Some(row) => StorageError::VersionMismatch {
                    expected: version,
                    actual: row.try_get(0)?,
                },
                None => StorageError::NotFound(format!("Konto {id}")),
            }
            .into());
        }
        account_event(
            &mut tx,
            &format!("account:{id}"),
            "account.profile",
            id,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets up (Some) or removes (None) the TOTP secret.
    pub async fn set_totp(&self, id: &str, secret: Option<&str>) -> Result<()> {
        let action = if secret.is_some() {
            "account.totp_enabled"
        } else {
            "account.totp_disabled"
        };
        self.update(
            id,
            "UPDATE accounts SET totp_secret = $1, totp_last_step = NULL, version = version + 1, updated_at = $2 WHERE id = $3",
            &[secret],
            action,
            &format!("account:{id}"),
            json!({}),
        )
        .await
    }

    /// Records the step of an accepted TOTP code; false if that step (or a later one) was
    /// already used — the code is a replay.
    pub async fn use_totp_step(&self, id: &str, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(id)
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Raises the verified level (upstream eID login).
    pub async fn raise_verified_level(&self, id: &str, level: TrustLevel) -> Result<()> {
        sqlx::query("UPDATE accounts SET verified_level = $1, updated_at = $2 WHERE id = $3")
            .bind(level.as_str())
            .bind(now_text())
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Counts a failed login; after [`LOCK_AFTER`] failures the account is locked for a
    /// doubling time (1 minute, 2, 4 … at most an hour). Returns the lock end, if locked.
    pub async fn login_failed(&self, id: &str) -> Result<Option<String>> {
        let mut tx = self.db.pool().begin().await?;
        let row = sqlx::query("UPDATE accounts SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let failures: i64 = row.try_get(0)?;
        let mut locked = None;
        if failures >= LOCK_AFTER {
            let exp = (failures - LOCK_AFTER).min(10) as u32;
            let secs = (FIRST_LOCK_SECS * 2_i64.pow(exp)).min(MAX_LOCK_SECS);
            let until = format_ts(Utc::now() + Duration::seconds(secs));
            sqlx::query("UPDATE accounts SET locked_until = $1 WHERE id = $2")
                .bind(&until)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            locked = Some(until);
        }
        account_event(
            &mut tx,
            "anonymous",
            "account.login_failed",
            id,
            json!({"failures": failures, "locked_until": locked}),
        )
        .await?;
        tx.commit().await?;
        Ok(locked)
    }

    /// Resets the failure count after a successful login.
    pub async fn login_succeeded(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND failed_logins > 0")
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Issues a one-time e-mail link token for `purpose`.
    pub async fn mail_token(
        &self,
        id: &str,
        purpose: MailPurpose,
        valid_for: Duration,
    ) -> Result<String> {
        let (token, hash) = tokens::opaque(prefix::MAIL_LINK);
        sqlx::query(
            "INSERT INTO account_mail_tokens (token_hash, account_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash)
        .bind(id)
        .bind(purpose.as_str())
        .bind(now_text())
        .bind(format_ts(Utc::now() + valid_for))
        .execute(self.db.pool())
        .await?;
        Ok(token)
    }

    /// Uses an e-mail link token once; returns its account, or `None` if unknown, used, expired
    /// or for another purpose.
    pub async fn consume_mail_token(
        &self,
        token: &str,
        purpose: MailPurpose,
    ) -> Result<Option<String>> {
        if token.len() > 100 {
            return Ok(None);
        }
        let now = now_text();
        let row = sqlx::query(
            "UPDATE account_mail_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL \
             AND expires_at > $1 RETURNING account_id",
        )
        .bind(&now)
        .bind(tokens::hash(token))
        .bind(purpose.as_str())
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Starts a session; returns the cookie value (secret) and the session.
    pub async fn start_session(
        &self,
        account_id: &str,
        level: TrustLevel,
        amr: &[&str],
        user_agent: &str,
        valid_for: Duration,
    ) -> Result<(String, Session)> {
        let (token, hash) = tokens::opaque(prefix::SESSION);
        let sid = uuid::Uuid::new_v4().simple().to_string();
        let now = Utc::now();
        let session = Session {
            sid: sid.clone(),
            account_id: account_id.to_owned(),
            level,
            amr: amr.iter().map(|s| (*s).to_owned()).collect(),
            auth_time: now.timestamp(),
            created_at: format_ts(now),
            expires_at: format_ts(now + valid_for),
            user_agent: user_agent.chars().take(300).collect(),
        };
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, sid, account_id, level, amr, auth_time, created_at, last_seen_at, expires_at, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)",
        )
        .bind(hash)
        .bind(&sid)
        .bind(account_id)
        .bind(level.as_str())
        .bind(session.amr.join(" "))
        .bind(session.auth_time)
        .bind(&session.created_at)
        .bind(&session.expires_at)
        .bind(&session.user_agent)
        .execute(&mut *tx)
        .await?;
        account_event(
            &mut tx,
            &format!("account:{account_id}"),
            "account.login",
            account_id,
            json!({"sid": sid, "level": level.as_str(), "amr": session.amr}),
        )
        .await?;
        tx.commit().await?;
        Ok((token, session))
    }

    /// The live session of a cookie value.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        if !token.starts_with(prefix::SESSION) || token.len() > 100 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT sid, account_id, level, amr, auth_time, created_at, expires_at, user_agent FROM sessions \
             WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(tokens::hash(token))
        .bind(now_text())
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// The live sessions of an account, newest first.
    pub async fn sessions(&self, account_id: &str) -> Result<Vec<Session>> {
        let rows = sqlx::query(
            "SELECT sid, account_id, level, amr, auth_time, created_at, expires_at, user_agent FROM sessions \
             WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC",
        )
        .bind(account_id)
        .bind(now_text())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Ends a session of `account_id` (and the refresh tokens issued in it); false if unknown.
    pub async fn end_session(&self, account_id: &str, sid: &str) -> Result<bool> {
        let now = now_text();
        let mut tx = self.db.pool().begin().await?;
        let done = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE account_id = $2 AND sid = $3 AND revoked_at IS NULL")
            .bind(&now)
            .bind(account_id)
            .bind(sid)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE oidc_refresh_families SET revoked_at = $1 WHERE account_id = $2 AND sid = $3 AND revoked_at IS NULL")
            .bind(&now)
            .bind(account_id)
            .bind(sid)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            account_event(
                &mut tx,
                &format!("account:{account_id}"),
                "account.logout",
                account_id,
                json!({"sid": sid}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The account linked to an upstream identity.
    pub async fn linked(&self, provider: &str, subject: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT account_id FROM account_links WHERE provider = $1 AND subject = $2",
        )
        .bind(provider)
        .bind(subject)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Links an upstream identity to an account.
    pub async fn link(
        &self,
        provider: &str,
        subject: &str,
        account_id: &str,
        level: TrustLevel,
    ) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("INSERT INTO account_links (provider, subject, account_id, level, linked_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(provider)
            .bind(subject)
            .bind(account_id)
            .bind(level.as_str())
            .bind(now_text())
            .execute(&mut *tx)
            .await
            .map_err(|e| StorageError::from_write(e, "Diese Identität ist bereits mit einem Konto verknüpft."))?;
        account_event(
            &mut tx,
            &format!("account:{account_id}"),
            "account.link",
            account_id,
            json!({"provider": provider}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a member to an organisation account.
    pub async fn add_member(
        &self,
        organisation_id: &str,
        account_id: &str,
        role: &str,
        actor: &str,
    ) -> Result<()> {
        if !matches!(role, "admin" | "member") {
            return Err(IdentityError::Invalid(format!(
                "unbekannte Rolle {role:?} (admin, member)"
            )));
        }
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("INSERT INTO organisation_members (organisation_id, account_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(organisation_id)
            .bind(account_id)
            .bind(role)
            .bind(now_text())
            .execute(&mut *tx)
            .await
            .map_err(|e| StorageError::from_write(e, "bereits Mitglied"))?;
        account_event(
            &mut tx,
            actor,
            "organisation.member_add",
            organisation_id,
            json!({"member": account_id, "role": role}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The members of an organisation account with their roles, by e-mail address.
    pub async fn members(&self, organisation_id: &str) -> Result<Vec<(Account, String)>> {
        let sql = format!(
            "SELECT {cols}, m.role AS member_role FROM organisation_members m JOIN accounts a ON a.id = m.account_id \
             WHERE m.organisation_id = $1 ORDER BY a.email",
            cols = ACCOUNT_COLUMNS
                .split(", ")
                .map(|c| format!("a.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(organisation_id)
            .fetch_all(self.db.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((account_from_row(r)?, r.try_get("member_role")?)))
            .collect()
    }

    /// Removes a member; the last admin cannot be removed. False if not a member.
    pub async fn remove_member(
        &self,
        organisation_id: &str,
        account_id: &str,
        actor: &str,
    ) -> Result<bool> {
        let members = self.members(organisation_id).await?;
        let Some((_, role)) = members.iter().find(|(a, _)| a.id == account_id) else {
            return Ok(false);
        };
        if role == "admin" && members.iter().filter(|(_, r)| r == "admin").count() == 1 {
            return Err(IdentityError::Invalid(
                "Die letzte Administratorin oder der letzte Administrator kann nicht entfernt werden.".into(),
            ));
        }
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "DELETE FROM organisation_members WHERE organisation_id = $1 AND account_id = $2",
        )
        .bind(organisation_id)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        account_event(
            &mut tx,
            actor,
            "organisation.member_remove",
            organisation_id,
            json!({"member": account_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The organisations an account belongs to, with its role: `(organisation, role)`.
    pub async fn memberships(&self, account_id: &str) -> Result<Vec<(Account, String)>> {
        let sql = format!(
            "SELECT {cols}, m.role AS member_role FROM organisation_members m JOIN accounts a ON a.id = m.organisation_id \
             WHERE m.account_id = $1 ORDER BY a.organisation_name",
            cols = ACCOUNT_COLUMNS
                .split(", ")
                .map(|c| format!("a.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .fetch_all(self.db.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((account_from_row(r)?, r.try_get("member_role")?)))
            .collect()
    }

    /// Everything stored about an account, as JSON (DSGVO Art. 15 and 20).
    pub async fn export(&self, id: &str) -> Result<serde_json::Value> {
        let account = self
            .get(id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("Konto {id}")))?;
        let sessions = self.sessions(id).await?;
        let consents = sqlx::query("SELECT client_id, scopes, granted_at FROM oidc_consents WHERE account_id = $1 ORDER BY client_id")
            .bind(id)
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(|r| Ok(json!({"client_id": r.try_get::<String, _>(0)?, "scopes": r.try_get::<String, _>(1)?, "granted_at": r.try_get::<String, _>(2)?})))
            .collect::<Result<Vec<_>>>()?;
        let links = sqlx::query("SELECT provider, level, linked_at FROM account_links WHERE account_id = $1")
            .bind(id)
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(|r| Ok(json!({"provider": r.try_get::<String, _>(0)?, "level": r.try_get::<String, _>(1)?, "linked_at": r.try_get::<String, _>(2)?})))
            .collect::<Result<Vec<_>>>()?;
        let orgs = self
            .memberships(id)
            .await?
            .into_iter()
            .map(|(org, role)| json!({"organisation": org.profile.organisation_name, "id": org.id, "role": role}))
            .collect::<Vec<_>>();
        Ok(json!({
            "format": "rathaus-konto-export/1",
            "exported_at": now_text(),
            "account": account,
            "second_factor": {"totp": account.has_totp()},
            "sessions": sessions,
            "consents": consents,
            "linked_identities": links,
            "organisations": orgs,
        }))
    }

    /// Deletes an account and all its personal data; the audit trail keeps only the fact.
    pub async fn delete(&self, id: &str, actor: &str) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        for sql in [
            "DELETE FROM sessions WHERE account_id = $1",
            "DELETE FROM account_mail_tokens WHERE account_id = $1",
            "DELETE FROM account_links WHERE account_id = $1",
            "DELETE FROM oidc_consents WHERE account_id = $1",
            "DELETE FROM oidc_codes WHERE account_id = $1",
            "DELETE FROM oidc_refresh_families WHERE account_id = $1",
            "DELETE FROM organisation_members WHERE account_id = $1 OR organisation_id = $1",
            "UPDATE staff_users SET account_id = NULL WHERE account_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let done = sqlx::query("DELETE FROM accounts WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound(format!("Konto {id}")).into());
        }
        account_event(&mut tx, actor, "account.delete", id, json!({})).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn session_from_row(row: &AnyRow) -> Result<Session> {
    let amr: String = row.try_get("amr")?;
    let level: String = row.try_get("level")?;
    Ok(Session {
        sid: row.try_get("sid")?,
        account_id: row.try_get("account_id")?,
        level: TrustLevel::from_acr(&level)
            .ok_or_else(|| StorageError::Corrupt(format!("level = {level:?}")))?,
        amr: amr.split_ascii_whitespace().map(str::to_owned).collect(),
        auth_time: row.try_get("auth_time")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        user_agent: row.try_get("user_agent")?,
    })
}
