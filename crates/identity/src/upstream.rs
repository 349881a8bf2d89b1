//! Login through an upstream OpenID Connect provider (as BundID or an eID service would be
//! connected): authorization code flow with PKCE, state and nonce; the ID token is checked
//! against the provider's JWKS (issuer, audience, nonce, expiry, algorithm) and its `acr` is
//! mapped to our trust levels.

use crate::accounts::{Address, Profile};
use crate::sealed::Sealer;
use crate::tokens;
use crate::{IdentityError, Result, TrustLevel};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// Settings of the upstream provider.
#[derive(Clone, Debug)]
pub struct UpstreamConfig {
    /// Issuer URL (discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// Our client id there.
    pub client_id: String,
    /// Our client secret there.
    pub client_secret: String,
    /// Name on the login button ("Mit {name} anmelden").
    pub name: String,
    /// Our redirect URI there (`{our issuer}/anmelden/extern/rueckkehr`).
    pub redirect_uri: String,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// An identity the upstream provider confirmed.
#[derive(Clone, Debug)]
pub struct UpstreamIdentity {
    /// Subject at the provider.
    pub subject: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Whether the provider verified it.
    pub email_verified: bool,
    /// Profile data.
    pub profile: Profile,
    /// Trust level from `acr`.
    pub level: TrustLevel,
    /// Where the login was headed.
    pub return_to: String,
}

/// The upstream provider client.
#[derive(Debug)]
pub struct Upstream {
    cfg: UpstreamConfig,
    http: reqwest::Client,
    meta: OnceCell<Metadata>,
    sealer: Sealer,
}

fn up(e: impl std::fmt::Display) -> IdentityError {
    IdentityError::Upstream(e.to_string())
}

impl Upstream {
    /// A client for the configured provider; discovery happens on first use.
    pub fn new(cfg: UpstreamConfig, sealer: Sealer) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(up)?;
        Ok(Self {
            cfg,
            http,
            meta: OnceCell::new(),
            sealer,
        })
    }

    /// The button name.
    pub fn name(&self) -> &str {
        &self.cfg.name
    }

    /// The id under which identities of this provider are linked (its issuer).
    pub fn provider_id(&self) -> &str {
        &self.cfg.issuer
    }

    async fn meta(&self) -> Result<&Metadata> {
        self.meta
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.cfg.issuer.trim_end_matches('/')
                );
                let meta: Metadata = self
                    .http
                    .get(&url)
                    .send()
                    .await
                    .map_err(up)?
                    .error_for_status()
                    .map_err(up)?
                    .json()
                    .await
                    .map_err(up)?;
                if meta.issuer.trim_end_matches('/') != self.cfg.issuer.trim_end_matches('/') {
                    return Err(IdentityError::Upstream(format!(
                        "Discovery nennt den Aussteller {:?}",
                        meta.issuer
                    )));
                }
                Ok(meta)
            })
            .await
    }

    /// The URL to send the browser to, and the sealed value for the state cookie.
    pub async fn start(&self, return_to: &str) -> Result<(String, String)> {
        let meta = self.meta().await?;
        let (state, _) = tokens::opaque("");
        let (nonce, _) = tokens::opaque("");
        let (verifier, _) = tokens::opaque("");
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut url = url::Url::parse(&meta.authorization_endpoint).map_err(up)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.cfg.client_id)
            .append_pair("redirect_uri", &self.cfg.redirect_uri)
            .append_pair("scope", "openid profile email")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let cookie = self.sealer.seal(
            "upstream",
            &format!("{state}|{nonce}|{verifier}|{return_to}"),
            Duration::minutes(10),
        );
        // The cookie value must not contain ';' or spaces; the return path is URL-safe here.
        Ok((url.into(), URL_SAFE_NO_PAD.encode(cookie)))
    }

    /// Completes the login: checks `state` against the cookie, redeems the code, verifies the
    /// ID token.
    pub async fn finish(&self, cookie: &str, state: &str, code: &str) -> Result<UpstreamIdentity> {
        let sealed = URL_SAFE_NO_PAD
            .decode(cookie)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| up("Cookie ungültig"))?;
        let value = self
            .sealer
            .open("upstream", &sealed)
            .ok_or_else(|| up("Anmeldevorgang abgelaufen"))?;
        let mut parts = value.splitn(4, '|');
        let (Some(expected_state), Some(nonce), Some(verifier), Some(return_to)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(up("Cookie ungültig"));
        };
        if !tokens::constant_time_eq(expected_state, state) {
            return Err(up("state stimmt nicht überein"));
        }
        let meta = self.meta().await?;
        let res = self
            .http
            .post(&meta.token_endpoint)
            .basic_auth(
                form_encode(&self.cfg.client_id),
                Some(form_encode(&self.cfg.client_secret)),
            )
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.cfg.redirect_uri),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .map_err(up)?;
        if !res.status().is_success() {
            let status = res.status();
            let body: Value = res.json().await.unwrap_or_default();
            return Err(IdentityError::Upstream(format!(
                "Token-Endpunkt antwortete {status}: {}",
                body["error"]
            )));
        }
        let tokens: Value = res.json().await.map_err(up)?;
        let id_token = tokens["id_token"]
            .as_str()
            .ok_or_else(|| up("kein ID-Token"))?;
        let claims = self.verify_id_token(meta, id_token, nonce).await?;
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        let address = claims.get("address").cloned().unwrap_or_default();
        let addr = |k: &str| address.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(UpstreamIdentity {
            subject: text("sub").ok_or_else(|| up("sub fehlt"))?,
            email: text("email"),
            email_verified: claims
                .get("email_verified")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            profile: Profile {
                given_name: text("given_name"),
                family_name: text("family_name"),
                birthdate: text("birthdate"),
                address: Address {
                    street: addr("street_address"),
                    postal_code: addr("postal_code"),
                    locality: addr("locality"),
                    country: addr("country"),
                },
                organisation_name: None,
            },
            level: TrustLevel::from_upstream_acr(claims.get("acr").and_then(Value::as_str)),
            return_to: return_to.to_owned(),
        })
    }

    async fn verify_id_token(
        &self,
        meta: &Metadata,
        token: &str,
        nonce: &str,
    ) -> Result<serde_json::Map<String, Value>> {
        let header = jsonwebtoken::decode_header(token).map_err(up)?;
        let allowed = [
            Algorithm::RS256,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ];
        if !allowed.contains(&header.alg) {
            return Err(IdentityError::Upstream(format!(
                "Algorithmus {:?} nicht erlaubt",
                header.alg
            )));
        }
        let jwks: JwkSet = self
            .http
            .get(&meta.jwks_uri)
            .send()
            .await
            .map_err(up)?
            .json()
            .await
            .map_err(up)?;
        let jwk = match &header.kid {
            Some(kid) => jwks.find(kid),
            None => jwks.keys.first(),
        }
        .ok_or_else(|| up("Schlüssel nicht im JWKS"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(up)?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&meta.issuer]);
        v.set_audience(&[&self.cfg.client_id]);
        v.leeway = 60;
        let data =
            jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &v).map_err(up)?;
        if data.claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(up("nonce stimmt nicht überein"));
        }
        Ok(data.claims)
    }
}

/// `application/x-www-form-urlencoded` encoding of a client credential for Basic auth (RFC 6749 §2.3.1).
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
