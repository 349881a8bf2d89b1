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
}
