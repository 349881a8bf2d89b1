//! Signing keys and JSON Web Signatures.
//!
//! Keys are generated and held by aws-lc-rs; a parsed key pair stays in memory so signing
//! costs one signature operation, nothing more. Tokens are verified with `jsonwebtoken`,
//! which refuses `alg: none` and every algorithm other than the key's own.
//! The key id is the RFC 7638 thumbprint of the public key.

use crate::{IdentityError, Result};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// A signature algorithm for tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    /// ECDSA with P-256 and SHA-256.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    Rs256,
}

impl SigningAlg {
    /// Every supported algorithm.
    pub const ALL: [SigningAlg; 2] = [Self::Es256, Self::Rs256];

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    fn jwt(self) -> Algorithm {
        match self {
            Self::Es256 => Algorithm::ES256,
            Self::Rs256 => Algorithm::RS256,
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unbekannter Signaturalgorithmus {s:?} (erlaubt: ES256, RS256)"))
    }
}

enum Pair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// One private signing key with its public JWK.
pub struct SigningKey {
    kid: String,
    alg: SigningAlg,
    pair: Pair,
    jwk: Value,
    decoding: DecodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn crypto(e: impl fmt::Display) -> IdentityError {
    IdentityError::Crypto(e.to_string())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SigningKey {
    /// Generates a new key.
    pub fn generate(alg: SigningAlg) -> Result<Self> {
        let der = match alg {
            SigningAlg::Es256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|p| p.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec())
                .map_err(crypto)?,
            SigningAlg::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|p| p.as_der())
                .map(|d| d.as_ref().to_vec())
                .map_err(crypto)?,
        };
        Self::from_pkcs8(alg, &der)
    }

    /// Loads a key from its PKCS#8 DER form.
    pub fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<Self> {
        let (pair, public) = match alg {
            SigningAlg::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(crypto)?;
                let point = pair.public_key().as_ref();
                if point.len() != 65 || point[0] != 4 {
                    return Err(IdentityError::Crypto(
                        "unerwartetes P-256-Schlüsselformat".into(),
                    ));
                }
                let public = json!({
                    "crv": "P-256", "kty": "EC",
                    "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                });
                (Pair::Ec(pair), public)
            }
            SigningAlg::Rs256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(crypto)?;
                let public = pair.public_key();
                let public = json!({
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                });
                (Pair::Rsa(pair), public)
            }
        };
        // RFC 7638: SHA-256 over the required members in lexicographic order, no spaces
        // (serde_json's map is sorted and compact).
        let kid = b64(&Sha256::digest(public.to_string().as_bytes()));
        let decoding = match alg {
            SigningAlg::Es256 => DecodingKey::from_ec_components(
                public["x"].as_str().unwrap_or_default(),
                public["y"].as_str().unwrap_or_default(),
            ),
            SigningAlg::Rs256 => DecodingKey::from_rsa_components(
                public["n"].as_str().unwrap_or_default(),
                public["e"].as_str().unwrap_or_default(),
            ),
        }
        .map_err(crypto)?;
        let mut jwk = public;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(alg.as_str());
        jwk["use"] = json!("sig");
        Ok(Self {
            kid,
            alg,
            pair,
            jwk,
            decoding,
        })
    }

    /// The private key as PKCS#8 DER (for storage).
    pub fn pkcs8(&self) -> Result<Vec<u8>> {
        match &self.pair {
            Pair::Ec(p) => p.to_pkcs8v1().map(|d| d.as_ref().to_vec()).map_err(crypto),
            Pair::Rsa(p) => p.as_der().map(|d| d.as_ref().to_vec()).map_err(crypto),
        }
    }

    /// Key id (RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Algorithm.
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The public key as JWK (with `kid`, `alg`, `use`).
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// Signs `claims` as a compact JWS with header `{"alg", "kid", "typ"}`.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String> {
        let header = json!({"alg": self.alg.as_str(), "kid": self.kid, "typ": typ});
        let payload = serde_json::to_vec(claims).map_err(crypto)?;
        let mut jws = String::with_capacity(payload.len() * 4 / 3 + 400);
        URL_SAFE_NO_PAD.encode_string(header.to_string().as_bytes(), &mut jws);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jws);
        let rng = SystemRandom::new();
        let signature = match &self.pair {
            Pair::Ec(p) => p
                .sign(&rng, jws.as_bytes())
                .map_err(crypto)?
                .as_ref()
                .to_vec(),
            Pair::Rsa(p) => {
                let mut sig = vec![0u8; p.public_modulus_len()];
                p.sign(&RSA_PKCS1_SHA256, &rng, jws.as_bytes(), &mut sig)
                    .map_err(crypto)?;
                sig
            }
        };
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut jws);
        Ok(jws)
    }
}

/// Why a token was not accepted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejected {
    /// Not a JWS of ours (bad form, unknown key, wrong algorithm, bad signature).
    #[error("Token ungültig")]
    Invalid,
    /// Signature fine, but expired.
    #[error("Token abgelaufen")]
    Expired,
}

/// The keys in use: the newest key of each algorithm signs; every key verifies.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: Vec<Arc<SigningKey>>,
}

impl KeyRing {
    /// A ring of `keys`, oldest first (the last key of an algorithm signs).
    pub fn new(keys: Vec<SigningKey>) -> Self {
        Self {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }

    /// The key that signs with `alg`.
    pub fn signer(&self, alg: SigningAlg) -> Option<&Arc<SigningKey>> {
        self.keys.iter().rev().find(|k| k.alg == alg)
    }

    /// The JWK Set of all keys.
    pub fn jwks(&self) -> Value {
        json!({"keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Like [`KeyRing::verify`] but accepts expired tokens (for `id_token_hint`).
    pub fn verify_ignoring_expiry<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
    ) -> Result<T, TokenRejected> {
        self.verify_with(token, typ, issuer, false)
    }

    /// Verifies a token of ours: header `typ` must be `typ`, issuer `issuer`; audience is
    /// not checked here (the caller knows what it expects). Expiry is checked without leeway.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
    ) -> Result<T, TokenRejected> {
        self.verify_with(token, typ, issuer, true)
    }

    fn verify_with<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
        check_exp: bool,
    ) -> Result<T, TokenRejected> {
        if token.len() > 16 * 1024 {
            return Err(TokenRejected::Invalid);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejected::Invalid)?;
        if header.typ.as_deref() != Some(typ) {
            return Err(TokenRejected::Invalid);
        }
        let kid = header.kid.ok_or(TokenRejected::Invalid)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(TokenRejected::Invalid)?;
        let mut validation = Validation::new(key.alg.jwt());
        validation.leeway = 0;
        validation.validate_exp = check_exp;
        validation.validate_aud = false;
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        jsonwebtoken::decode::<T>(token, &key.decoding, &validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRejected::Expired,
                _ => TokenRejected::Invalid,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Claims {
        iss: String,
        sub: String,
        exp: i64,
    }

    fn claims(exp_in: i64) -> Claims {
        Claims {
            iss: "http://issuer".into(),
            sub: "abc".into(),
            exp: chrono::Utc::now().timestamp() + exp_in,
        }
    }

    #[test]
    fn both_algorithms_sign_verify_and_survive_storage() {
        for alg in SigningAlg::ALL {
            let key = SigningKey::generate(alg).unwrap();
            let stored = SigningKey::from_pkcs8(alg, &key.pkcs8().unwrap()).unwrap();
            assert_eq!(stored.kid(), key.kid(), "thumbprint is stable");
            let ring = KeyRing::new(vec![stored]);
            let token = key.sign("JWT", &claims(60)).unwrap();
            let back: Claims = ring.verify(&token, "JWT", "http://issuer").unwrap();
            assert_eq!(back.sub, "abc");
            assert_eq!(
                ring.verify::<Claims>(&token, "at+jwt", "http://issuer"),
                Err(TokenRejected::Invalid)
            );
            assert_eq!(
                ring.verify::<Claims>(&token, "JWT", "http://other"),
                Err(TokenRejected::Invalid)
            );
            let expired = key.sign("JWT", &claims(-5)).unwrap();
            assert_eq!(
                ring.verify::<Claims>(&expired, "JWT", "http://issuer"),
                Err(TokenRejected::Expired)
            );
            let jwks = ring.jwks();
            assert_eq!(jwks["keys"][0]["alg"], alg.as_str());
            assert!(
                jwks["keys"][0].get("d").is_none(),
                "no private parts in the JWKS"
            );
        }
    }

    #[test]
    fn tampered_and_unsigned_tokens_are_refused() {
        let key = SigningKey::generate(SigningAlg::Es256).unwrap();
        let kid = key.kid().to_owned();
        let ring = KeyRing::new(vec![key]);
        let signer = ring.signer(SigningAlg::Es256).unwrap();
        let token = signer.sign("JWT", &claims(60)).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let other_payload = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                sub: "admin".into(),
                ..claims(60)
            })
            .unwrap(),
        );
        let tampered = format!("{}.{}.{}", parts[0], other_payload, parts[2]);
        assert_eq!(
            ring.verify::<Claims>(&tampered, "JWT", "http://issuer"),
            Err(TokenRejected::Invalid)
        );
        let none_header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{kid}","typ":"JWT"}}"#));
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert_eq!(
            ring.verify::<Claims>(&unsigned, "JWT", "http://issuer"),
            Err(TokenRejected::Invalid)
        );
        let hs_header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","kid":"{kid}","typ":"JWT"}}"#));
        let confused = format!("{hs_header}.{}.{}", parts[1], parts[2]);
        assert_eq!(
            ring.verify::<Claims>(&confused, "JWT", "http://issuer"),
            Err(TokenRejected::Invalid)
        );
        assert_eq!(
            ring.verify::<Claims>("a.b", "JWT", "http://issuer"),
            Err(TokenRejected::Invalid)
        );
    }
}
