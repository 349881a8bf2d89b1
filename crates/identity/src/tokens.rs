//! Opaque tokens (authorization codes, refresh tokens, session ids, e-mail links) and the
//! claims of the JWTs this provider issues.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A new random token (256 bits) with a recognisable prefix, and the hash to store.
/// Only the hash is ever stored, so a database dump yields no usable token.
pub fn opaque(prefix: &str) -> (String, String) {
    let mut raw = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(raw));
    let hash = hash(&token);
    (token, hash)
}

/// A new refresh token of `family` and the hash to store: `rrt_<family>.<secret>` with 256
/// random bits of secret. The token names its family so that a rotation finds the family's one
/// row by its key (see [`refresh_family`]).
pub fn refresh(family: &str) -> (String, String) {
    let mut raw = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
    let token = format!(
        "{}{family}.{}",
        prefix::REFRESH,
        URL_SAFE_NO_PAD.encode(raw)
    );
    let hash = hash(&token);
    (token, hash)
}

/// The family a refresh token names (32 lowercase hex digits), or `None` if `token` does not
/// have the form of [`refresh`]'s tokens.
pub fn refresh_family(token: &str) -> Option<&str> {
    let (family, secret) = token.strip_prefix(prefix::REFRESH)?.split_once('.')?;
    let family_ok = family.len() == 32
        && family
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let secret_ok = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (family_ok && secret_ok).then_some(family)
}

/// The stored form of an opaque token or client secret (SHA-256, hex).
pub fn hash(token: &str) -> String {
    hex_lower(&Sha256::digest(token.as_bytes()))
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Compares two strings in constant time (for their common length).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Prefixes of the opaque tokens.
pub mod prefix {
    /// Authorization code.
    pub const CODE: &str = "rac_";
    /// Refresh token.
    pub const REFRESH: &str = "rrt_";
    /// Browser session.
    pub const SESSION: &str = "rss_";
    /// E-mail confirmation and password reset links.
    pub const MAIL_LINK: &str = "rml_";
}

/// Claims of an access token (RFC 9068 JWT profile, `typ: at+jwt`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Account id, or the client id for client-credentials tokens.
    pub sub: String,
    /// Audience (the issuer's resource servers).
    pub aud: String,
    /// Client.
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires (Unix seconds).
    pub exp: i64,
    /// Unique id (for revocation).
    pub jti: String,
    /// Trust level of the login (absent for machine clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Time of the login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// Session id (for logout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Claims of an ID token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IdClaims {
    /// Issuer.
    pub iss: String,
    /// Account id.
    pub sub: String,
    /// The client.
    pub aud: String,
    /// Authorised party (the client).
    pub azp: String,
    /// Issued at.
    pub iat: i64,
    /// Expires.
    pub exp: i64,
    /// Time of the login.
    pub auth_time: i64,
    /// Nonce from the authorization request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Trust level (eIDAS URI).
    pub acr: String,
    /// Methods used (`pwd`, `otp`, `fed`).
    pub amr: Vec<String>,
    /// Session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Left half of the access token's hash (OIDC Core 3.3.2.11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// Profile and contact claims granted by scope.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `at_hash` for an ES256/RS256-signed ID token: base64url of the left half of SHA-256.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_tokens_are_random_prefixed_and_hashed() {
        let (a, ha) = opaque(prefix::CODE);
        let (b, _) = opaque(prefix::CODE);
        assert!(a.starts_with("rac_") && a.len() == 4 + 43);
        assert_ne!(a, b);
        assert_eq!(ha, hash(&a));
        assert_eq!(ha.len(), 64);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
    }

    #[test]
    fn refresh_tokens_name_their_family() {
        let family = "0123456789abcdef0123456789abcdef";
        let (a, ha) = refresh(family);
        let (b, _) = refresh(family);
        assert_ne!(a, b);
        assert_eq!(ha, hash(&a));
        assert_eq!(a.len(), 4 + 32 + 1 + 43);
        assert_eq!(refresh_family(&a), Some(family));
        // Anything else is no refresh token: other prefixes, short or foreign families,
        // secrets of the wrong length or alphabet, the old format without a family.
        let secret = &a[a.len() - 43..];
        for bad in [
            String::new(),
            format!("rac_{family}.{secret}"),
            format!("rrt_{}.{secret}", &family[1..]),
            format!("rrt_{}.{secret}", family.to_uppercase()),
            format!("rrt_{family}.{}", &secret[1..]),
            format!("rrt_{family}.{}+", &secret[1..]),
            format!("rrt_{family}{secret}"),
            format!("rrt_{secret}"),
        ] {
            assert_eq!(refresh_family(&bad), None, "{bad}");
        }
    }
}
