//! Time-based one-time passwords (RFC 6238): 6 digits, 30-second steps, SHA-1, as every
//! authenticator app understands. A code is accepted once: the caller stores the step of the
//! last accepted code and passes it back, so a replayed code is refused.

use crate::{IdentityError, Result};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Length of a new secret in bytes (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;
/// Seconds per step.
const STEP: u64 = 30;

/// A TOTP secret of one account.
#[derive(Clone, Debug)]
pub struct TotpSecret {
    totp: Totp,
}

impl TotpSecret {
    /// A new random secret for `account` (shown in the authenticator app with `issuer`).
    pub fn generate(issuer: &str, account: &str) -> Result<Self> {
        let mut secret = vec![0u8; SECRET_BYTES];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        Self::build(secret, issuer, account)
    }

    /// Restores a stored secret (base32, as [`TotpSecret::base32`] gives it).
    pub fn from_base32(secret: &str, issuer: &str, account: &str) -> Result<Self> {
        let secret = Secret::try_from_base32(secret)
            .map_err(|_| IdentityError::Invalid("gespeichertes TOTP-Geheimnis ungültig".into()))?;
        Self::build(secret.as_bytes().to_vec(), issuer, account)
    }

    fn build(secret: Vec<u8>, issuer: &str, account: &str) -> Result<Self> {
        // Issuer and account name must not contain ':' in the otpauth URI.
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(STEP)
            .with_secret(secret)
            .with_issuer(Some(issuer.replace(':', " ")))
            .with_account_name(account.replace(':', " "))
            .build()
            .map_err(|e| IdentityError::Crypto(format!("TOTP: {e}")))?;
        Ok(Self { totp })
    }

    /// The secret in base32 (to store, and for manual entry in an app).
    pub fn base32(&self) -> String {
        self.totp.secret().to_base32()
    }

    /// The `otpauth://` URI for authenticator apps.
    pub fn uri(&self) -> String {
        self.totp.to_url().unwrap_or_default()
    }

    /// The code for a Unix time (for tests and for showing nothing else).
    pub fn code_at(&self, unix: u64) -> String {
        self.totp.generate(unix).to_string()
    }

    /// Checks `code` at Unix time `now`, allowing one step of clock skew either way.
    /// Returns the step of the matching code if it is newer than `last_step`, else `None`.
    pub fn verify(&self, code: &str, now: u64, last_step: Option<i64>) -> Option<i64> {
        let code = code.trim().replace(' ', "");
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let matched = self
            .totp
            .check(&code, now)
            .and_then(|s| i64::try_from(s).ok());
        matched.filter(|step| last_step.is_none_or(|last| *step > last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_reference_value() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 → 94287082 (8 digits);
        // the last 6 digits are what a 6-digit generator yields.
        let secret = TotpSecret::build(b"12345678901234567890".to_vec(), "Rathaus", "x").unwrap();
        assert_eq!(secret.code_at(59), "287082");
        assert_eq!(secret.code_at(1111111109), "081804");
    }

    #[test]
    fn codes_verify_once_within_skew() {
        let secret = TotpSecret::generate("Rathaus NRW", "erika@example.org").unwrap();
        let restored =
            TotpSecret::from_base32(&secret.base32(), "Rathaus NRW", "erika@example.org").unwrap();
        let now = 1_800_000_000;
        let code = secret.code_at(now);
        let step = restored.verify(&code, now, None).expect("valid code");
        assert_eq!(
            restored.verify(&code, now + 30, None),
            Some(step),
            "one step of skew"
        );
        assert_eq!(
            restored.verify(&code, now, Some(step)),
            None,
            "replay refused"
        );
        assert_eq!(restored.verify(&code, now + 120, None), None, "too old");
        assert_eq!(restored.verify("12345", now, None), None);
        assert!(
            secret.uri().starts_with("otpauth://totp/"),
            "{}",
            secret.uri()
        );
    }
}
