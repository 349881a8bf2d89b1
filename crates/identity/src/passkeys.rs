//! WebAuthn passkeys as a second factor of the Servicekonto (through `webauthn-rs`).
//!
//! The relying party id is the host of the issuer and the only accepted origin is the issuer
//! itself. WebAuthn needs a domain name there: browsers refuse IP addresses as relying party
//! ids, so with an issuer like `http://127.0.0.1:8080` passkeys are [unavailable]
//! (`http://localhost:…` works for development).
//!
//! A ceremony (registration or authentication) is two round trips: `start_*` makes a challenge
//! and keeps the state of webauthn-rs in a `passkey_ceremonies` row, keyed by the hash of a
//! random id that the browser gets with the options; `finish_*` deletes that row in the same
//! statement that reads it, so each challenge can be answered at most once, on any node, and
//! only within [`CEREMONY_TTL`]. (Sealing the state into the browser instead would let a
//! captured answer be replayed as long as the seal is valid.)
//!
//! [unavailable]: PasskeyStore::available

use crate::accounts::Account;
use crate::audit::account_event;
use crate::tokens;
use crate::{IdentityError, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use rathaus_core::time::{format_ts, now_text};
use rathaus_storage::{Db, StorageError};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use std::sync::Arc;
use thiserror::Error;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// How long the browser has to answer a challenge (also the authenticator timeout).
pub const CEREMONY_TTL: Duration = Duration::minutes(5);

/// Largest accepted answer of the browser (a passkey answer has a few kilobytes).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Longest name of a passkey (characters).
const MAX_NAME_CHARS: usize = 60;

/// Prefix of ceremony ids (only their hash is stored).
const CEREMONY_PREFIX: &str = "rpk_";

/// Why a passkey operation fails. The texts are for the user (German).
#[derive(Debug, Error)]
pub enum PasskeyError {
    /// The issuer has no domain name, so browsers cannot use passkeys here.
    #[error(
        "Passkeys sind auf dieser Installation nicht verfügbar (sie braucht einen Domainnamen)."
    )]
    Unavailable,
    /// The ceremony is unknown, used, expired or belongs to another account.
    #[error(
        "Der Vorgang ist abgelaufen oder wurde bereits verwendet. Bitte versuchen Sie es erneut."
    )]
    Expired,
    /// The account has no passkey to authenticate with.
    #[error("Für dieses Konto ist kein Passkey eingerichtet.")]
    NoPasskey,
    /// The passkey does not exist or belongs to another account.
    #[error("Der Passkey wurde nicht gefunden.")]
    NotFound,
    /// The credential is registered already (to this or another account).
    #[error("Dieser Passkey ist bereits registriert.")]
    Duplicate,
    /// The browser's answer was refused; `reason` says why in words for the user.
    #[error("{reason}")]
    Refused {
        /// Explanation for the user.
        reason: &'static str,
        /// What webauthn-rs or the parser reported (for the log).
        detail: String,
    },
    /// Storage or another identity failure.
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

impl From<sqlx::Error> for PasskeyError {
    fn from(e: sqlx::Error) -> Self {
        Self::Identity(e.into())
    }
}

impl From<StorageError> for PasskeyError {
    fn from(e: StorageError) -> Self {
        Self::Identity(e.into())
    }
}

impl PasskeyError {
    /// Whether the user caused it (bad or stale input) rather than the server.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Self::Identity(_))
    }
}

/// Explains a refusal of webauthn-rs in the user's words; the detail goes to the log.
fn refused(e: &WebauthnError) -> PasskeyError {
    use WebauthnError as W;
    let reason = match e {
        W::MismatchedChallenge | W::ChallengeNotFound => {
            "Die Antwort gehört nicht zu dieser Anfrage. Bitte versuchen Sie es erneut."
        }
        W::InvalidRPOrigin | W::InvalidRPIDHash | W::CredentialCrossOrigin => {
            "Der Passkey wurde für eine andere Website ausgestellt oder verwendet."
        }
        W::InvalidClientDataType => "Die Antwort des Browsers passt nicht zu diesem Schritt.",
        W::UserNotVerified | W::UserNotPresent => {
            "Der Passkey hat Sie nicht bestätigt (PIN, Fingerabdruck oder Gesichtserkennung nötig)."
        }
        W::CredentialAlteredAlgFromRequest | W::CredentialInsecureCryptography => {
            "Dieses Gerät verwendet ein nicht zugelassenes Verfahren."
        }
        W::CredentialExcludedFromRequest | W::CredentialAlreadyExists => {
            "Dieser Passkey ist bereits registriert."
        }
        W::CredentialNotFound => "Dieser Passkey ist für Ihr Konto nicht eingerichtet.",
        W::CredentialPossibleCompromise => {
            "Der Passkey meldet einen unerwarteten Zählerstand und wurde abgelehnt."
        }
        W::AuthenticationFailure => "Die Signatur des Passkeys ist ungültig.",
        _ => "Die Antwort des Browsers ist unvollständig oder fehlerhaft.",
    };
    PasskeyError::Refused {
        reason,
        detail: e.to_string(),
    }
}

fn malformed(detail: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Refused {
        reason: "Die Antwort des Browsers ist unvollständig oder fehlerhaft.",
        detail: detail.to_string(),
    }
}

/// A registered passkey as the account pages show it (no key material).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PasskeyInfo {
    /// Id (for removal).
    pub id: String,
    /// Name given by the account holder.
    pub name: String,
    /// Registered.
    pub created_at: String,
    /// Last used for a login.
    pub last_used_at: Option<String>,
}

/// Options for the browser (`navigator.credentials.create/get`) and the id of the ceremony
/// to send back with the answer.
#[derive(Clone, Debug, Serialize)]
pub struct Challenge {
    /// Ceremony id (secret until answered; only its hash is stored).
    pub ceremony: String,
    /// `{"publicKey": …}` with binary fields as base64url, as webauthn-rs serialises them.
    pub options: Value,
}

#[derive(Clone, Copy)]
enum Kind {
    Register,
    Authenticate,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Authenticate => "authenticate",
        }
    }
}

/// Passkeys and running ceremonies, in the database.
#[derive(Clone)]
pub struct PasskeyStore {
    db: Db,
    webauthn: Option<Arc<Webauthn>>,
    rp_id: Option<String>,
}

impl std::fmt::Debug for PasskeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyStore")
            .field("rp_id", &self.rp_id)
            .finish_non_exhaustive()
    }
}

/// The relying party of an issuer: its host name (not an IP address) and its origin.
fn relying_party(issuer: &str) -> Option<(String, Url)> {
    let url = Url::parse(issuer).ok()?;
    let host = url.domain()?.to_owned();
    let origin = Url::parse(&url.origin().ascii_serialization()).ok()?;
    Some((host, origin))
}

impl PasskeyStore {
    /// Passkeys for the relying party of `issuer` (unavailable if its host is no domain name).
    pub fn new(db: Db, issuer: &str) -> Self {
        let built = relying_party(issuer).and_then(|(rp_id, origin)| {
            let webauthn = WebauthnBuilder::new(&rp_id, &origin)
                .ok()?
                .rp_name("Servicekonto")
                .timeout(CEREMONY_TTL.to_std().ok()?)
                .build()
                .ok()?;
            Some((Arc::new(webauthn), rp_id))
        });
        if built.is_none() {
            tracing::info!(%issuer, "passkeys unavailable: the issuer's host is no domain name");
        }
        let (webauthn, rp_id) = built.unzip();
        Self {
            db,
            webauthn,
            rp_id,
        }
    }

    /// Whether passkeys can be used with this issuer.
    pub fn available(&self) -> bool {
        self.webauthn.is_some()
    }

    /// The relying party id (the issuer's host), if passkeys are available.
    pub fn rp_id(&self) -> Option<&str> {
        self.rp_id.as_deref()
    }

    fn webauthn(&self) -> Result<&Webauthn, PasskeyError> {
        self.webauthn.as_deref().ok_or(PasskeyError::Unavailable)
    }

    /// The passkeys of an account, oldest first.
    pub async fn list(&self, account_id: &str) -> Result<Vec<PasskeyInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at FROM passkeys WHERE account_id = $1 ORDER BY created_at, id",
        )
        .bind(account_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PasskeyInfo {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// Whether the account has at least one passkey.
    pub async fn has_any(&self, account_id: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(self.db.pool())
            .await?;
        Ok(n > 0)
    }

    /// The stored credentials of an account: `(id, passkey)`.
    async fn credentials(&self, account_id: &str) -> Result<Vec<(String, Passkey)>> {
        let rows = sqlx::query(
            "SELECT id, credential FROM passkeys WHERE account_id = $1 ORDER BY created_at, id",
        )
        .bind(account_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let text: String = r.try_get("credential")?;
                let key = serde_json::from_str(&text).map_err(|e| {
                    StorageError::Corrupt(format!("passkeys.credential of {id}: {e}"))
                })?;
                Ok((id, key))
            })
            .collect()
    }

    /// Keeps the state of a new ceremony; the account's earlier open ceremony of the same kind
    /// ends (one at a time per account and kind, so rows cannot pile up).
    async fn open(&self, account_id: &str, kind: Kind, state: &impl Serialize) -> Result<String> {
        let state = serde_json::to_string(state)
            .map_err(|e| IdentityError::Crypto(format!("WebAuthn-Zustand: {e}")))?;
        let (ceremony, hash) = tokens::opaque(CEREMONY_PREFIX);
        let now = Utc::now();
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at < $1 OR (account_id = $2 AND kind = $3)")
            .bind(format_ts(now))
            .bind(account_id)
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO passkey_ceremonies (id_hash, account_id, kind, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash)
        .bind(account_id)
        .bind(kind.as_str())
        .bind(state)
        .bind(format_ts(now))
        .bind(format_ts(now + CEREMONY_TTL))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ceremony)
    }

    /// Takes the state of a ceremony of `account_id` out of the database (once); `None` if
    /// unknown, used, expired, of another kind or another account's.
    async fn take(
        &self,
        account_id: &str,
        kind: Kind,
        ceremony: &str,
    ) -> Result<Option<String>, PasskeyError> {
        if !ceremony.starts_with(CEREMONY_PREFIX) || ceremony.len() > 100 {
            return Ok(None);
        }
        let row = sqlx::query(
            "DELETE FROM passkey_ceremonies WHERE id_hash = $1 AND account_id = $2 AND kind = $3 \
             RETURNING state, expires_at",
        )
        .bind(tokens::hash(ceremony))
        .bind(account_id)
        .bind(kind.as_str())
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires: String = row.try_get("expires_at")?;
        if expires <= now_text() {
            return Ok(None);
        }
        Ok(Some(row.try_get("state")?))
    }

    /// Starts registering a new passkey for `account` (already registered ones are excluded).
    pub async fn start_registration(&self, account: &Account) -> Result<Challenge, PasskeyError> {
        let webauthn = self.webauthn()?;
        let user = Uuid::parse_str(&account.id).map_err(|e| {
            IdentityError::Invalid(format!("Konto-Id {} ist keine UUID: {e}", account.id))
        })?;
        let exclude: Vec<_> = self
            .credentials(&account.id)
            .await?
            .into_iter()
            .map(|(_, k)| k.cred_id().clone())
            .collect();
        let display = match (&account.profile.given_name, &account.profile.family_name) {
            (Some(g), Some(f)) => format!("{g} {f}"),
            _ => account.email.clone(),
        };
        let (options, state) = webauthn
            .start_passkey_registration(user, &account.email, &display, Some(exclude))
            .map_err(|e| IdentityError::Crypto(format!("WebAuthn-Registrierung: {e}")))?;
        let ceremony = self.open(&account.id, Kind::Register, &state).await?;
        Ok(Challenge {
            ceremony,
            options: serde_json::to_value(options)
                .map_err(|e| IdentityError::Crypto(e.to_string()))?,
        })
    }

    /// Finishes a registration with the browser's answer (JSON of the `PublicKeyCredential`)
    /// and stores the passkey under `name`; audited as `account.passkey_added`.
    pub async fn finish_registration(
        &self,
        account_id: &str,
        ceremony: &str,
        name: &str,
        answer: &str,
    ) -> Result<PasskeyInfo, PasskeyError> {
        let webauthn = self.webauthn()?;
        let state = self
            .take(account_id, Kind::Register, ceremony)
            .await?
            .ok_or(PasskeyError::Expired)?;
        let state: PasskeyRegistration = serde_json::from_str(&state)
            .map_err(|e| StorageError::Corrupt(format!("passkey_ceremonies.state: {e}")))?;
        if answer.len() > MAX_ANSWER_BYTES {
            return Err(malformed("answer too large"));
        }
        let answer: RegisterPublicKeyCredential =
            serde_json::from_str(answer).map_err(malformed)?;
        let key = match webauthn.finish_passkey_registration(&answer, &state) {
            Ok(key) => key,
            // webauthn-rs reports a credential of the exclude list (one already registered
            // to this account) with this variant too; name it correctly. The refusal itself
            // does not depend on this check of the client-claimed id.
            Err(WebauthnError::CredentialAlteredAlgFromRequest)
                if self
                    .credentials(account_id)
                    .await?
                    .iter()
                    .any(|(_, k)| k.cred_id().as_slice() == answer.raw_id.as_slice()) =>
            {
                return Err(PasskeyError::Duplicate);
            }
            Err(e) => return Err(refused(&e)),
        };
        let info = PasskeyInfo {
            id: uuid::Uuid::now_v7().to_string(),
            name: clean_name(name),
            created_at: now_text(),
            last_used_at: None,
        };
        let credential =
            serde_json::to_string(&key).map_err(|e| IdentityError::Crypto(e.to_string()))?;
        let mut tx = self.db.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO passkeys (id, account_id, credential_id, credential, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&info.id)
        .bind(account_id)
        .bind(URL_SAFE_NO_PAD.encode(key.cred_id()))
        .bind(credential)
        .bind(&info.name)
        .bind(&info.created_at)
        .execute(&mut *tx)
        .await;
        match inserted.map_err(|e| StorageError::from_write(e, "passkey")) {
            Ok(_) => {}
            Err(StorageError::Conflict(_)) => return Err(PasskeyError::Duplicate),
            Err(e) => return Err(e.into()),
        }
        account_event(
            &mut tx,
            &format!("account:{account_id}"),
            "account.passkey_added",
            account_id,
            json!({"passkey": info.id, "name": info.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(info)
    }

    /// Starts a login confirmation with one of the account's passkeys.
    pub async fn start_authentication(&self, account_id: &str) -> Result<Challenge, PasskeyError> {
        let webauthn = self.webauthn()?;
        let keys: Vec<Passkey> = self
            .credentials(account_id)
            .await?
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        if keys.is_empty() {
            return Err(PasskeyError::NoPasskey);
        }
        let (options, state) = webauthn
            .start_passkey_authentication(&keys)
            .map_err(|e| IdentityError::Crypto(format!("WebAuthn-Anmeldung: {e}")))?;
        let ceremony = self.open(account_id, Kind::Authenticate, &state).await?;
        Ok(Challenge {
            ceremony,
            options: serde_json::to_value(options)
                .map_err(|e| IdentityError::Crypto(e.to_string()))?,
        })
    }

    /// Checks the browser's answer to a login challenge (signature by one of the account's
    /// passkeys, user verified, counter not regressed); returns the passkey's id and records
    /// its use and new counter.
    pub async fn finish_authentication(
        &self,
        account_id: &str,
        ceremony: &str,
        answer: &str,
    ) -> Result<String, PasskeyError> {
        let webauthn = self.webauthn()?;
        let state = self
            .take(account_id, Kind::Authenticate, ceremony)
            .await?
            .ok_or(PasskeyError::Expired)?;
        let state: PasskeyAuthentication = serde_json::from_str(&state)
            .map_err(|e| StorageError::Corrupt(format!("passkey_ceremonies.state: {e}")))?;
        if answer.len() > MAX_ANSWER_BYTES {
            return Err(malformed("answer too large"));
        }
        let answer: PublicKeyCredential = serde_json::from_str(answer).map_err(malformed)?;
        let result = webauthn
            .finish_passkey_authentication(&answer, &state)
            .map_err(|e| refused(&e))?;
        let (id, mut key) = self
            .credentials(account_id)
            .await?
            .into_iter()
            .find(|(_, k)| k.cred_id() == result.cred_id())
            .ok_or(PasskeyError::Refused {
                reason: "Dieser Passkey ist für Ihr Konto nicht eingerichtet.",
                detail: "credential removed during the ceremony".into(),
            })?;
        let changed = key.update_credential(&result).unwrap_or(false);
        let credential =
            serde_json::to_string(&key).map_err(|e| IdentityError::Crypto(e.to_string()))?;
        let update = if changed {
            sqlx::query("UPDATE passkeys SET last_used_at = $1, credential = $2 WHERE id = $3 AND account_id = $4")
                .bind(now_text())
                .bind(credential)
        } else {
            sqlx::query("UPDATE passkeys SET last_used_at = $1 WHERE id = $2 AND account_id = $3")
                .bind(now_text())
        };
        update
            .bind(&id)
            .bind(account_id)
            .execute(self.db.pool())
            .await?;
        Ok(id)
    }

    /// Removes a passkey of `account_id`; another account's id is [`PasskeyError::NotFound`].
    /// Audited as `account.passkey_removed`.
    pub async fn remove(&self, account_id: &str, id: &str) -> Result<(), PasskeyError> {
        let mut tx = self.db.pool().begin().await?;
        let row =
            sqlx::query("DELETE FROM passkeys WHERE id = $1 AND account_id = $2 RETURNING name")
                .bind(id)
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(row) = row else {
            return Err(PasskeyError::NotFound);
        };
        let name: String = row.try_get(0)?;
        account_event(
            &mut tx,
            &format!("account:{account_id}"),
            "account.passkey_removed",
            account_id,
            json!({"passkey": id, "name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A printable, bounded name (default: "Passkey").
fn clean_name(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_NAME_CHARS)
        .collect();
    if name.is_empty() {
        "Passkey".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_issuers_domain_never_an_ip() {
        let (id, origin) = relying_party("https://service.land.example").expect("domain");
        assert_eq!(id, "service.land.example");
        assert_eq!(origin.as_str(), "https://service.land.example/");
        let (id, origin) = relying_party("http://localhost:8080").expect("localhost");
        assert_eq!(id, "localhost");
        assert_eq!(origin.as_str(), "http://localhost:8080/");
        assert!(relying_party("http://127.0.0.1:8080").is_none());
        assert!(relying_party("http://[::1]:8080").is_none());
        assert!(relying_party("kein url").is_none());
    }

    #[test]
    fn names_are_printable_and_bounded() {
        assert_eq!(clean_name("  Mein\tLaptop \u{7} "), "Mein Laptop");
        assert_eq!(clean_name(""), "Passkey");
        assert_eq!(clean_name(&"x".repeat(200)).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn webauthn_refusals_are_explained_in_german() {
        let e = refused(&WebauthnError::InvalidRPOrigin);
        assert!(e.to_string().contains("andere Website"), "{e}");
        assert!(e.is_user_error());
        let e = refused(&WebauthnError::MismatchedChallenge);
        assert!(e.to_string().contains("nicht zu dieser Anfrage"), "{e}");
    }
}
