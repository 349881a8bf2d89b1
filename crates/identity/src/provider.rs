//! The OpenID Connect provider: the flows that combine accounts, clients, grants and keys.
//! Transport-free: the web crate turns requests into these calls and results into responses.

use crate::accounts::{Account, AccountKind, AccountStore, NewAccount, Session};
use crate::clients::{Client, ClientKind, ClientStore};
use crate::grants::{CodeGrant, Grant, GrantStore, Refresh};
use crate::keys::{KeyRing, SigningAlg, TokenRejected};
use crate::passkeys::PasskeyStore;
use crate::password::{HashParams, PasswordHasher};
use crate::scope::Scopes;
use crate::sealed::Sealer;
use crate::tokens::{AccessClaims, IdClaims, at_hash};
use crate::upstream::UpstreamIdentity;
use crate::{Result, TrustLevel, pkce, redirect};
use chrono::{Duration, Utc};
use rathaus_core::audit::NewAuditEntry;
use rathaus_storage::Db;
use rathaus_storage::audit::AuditStore;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::sync::{Arc, RwLock};

/// Settings of the provider.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// Issuer URL (the instance root, no trailing slash).
    pub issuer: String,
    /// Algorithm of ID and access tokens.
    pub signing_alg: SigningAlg,
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of ID tokens.
    pub id_ttl: Duration,
    /// Lifetime of refresh tokens (each rotation starts it anew).
    pub refresh_ttl: Duration,
    /// Lifetime of authorization codes.
    pub code_ttl: Duration,
    /// Lifetime of a browser session.
    pub session_ttl: Duration,
    /// Age after which a new signing key is made.
    pub rotate_after: Duration,
    /// How long a replaced key stays in the JWKS.
    pub retire_after: Duration,
    /// argon2id parameters.
    pub hash_params: HashParams,
    /// Secret for signing short-lived form state (32+ bytes, the same on every node).
    pub secret: Vec<u8>,
}

impl ProviderConfig {
    /// Defaults for `issuer`.
    pub fn new(issuer: &str, secret: Vec<u8>) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            signing_alg: SigningAlg::Es256,
            access_ttl: Duration::minutes(10),
            id_ttl: Duration::minutes(10),
            refresh_ttl: Duration::days(30),
            code_ttl: Duration::seconds(60),
            session_ttl: Duration::hours(8),
            rotate_after: Duration::days(90),
            retire_after: Duration::days(2),
            hash_params: HashParams::default(),
            secret,
        }
    }
}

/// A standard OAuth error (RFC 6749 §5.2, RFC 6750, OIDC Core 3.1.2.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    /// Error code.
    pub error: &'static str,
    /// Human-readable description (German).
    pub error_description: String,
    /// HTTP status for the token and resource endpoints.
    #[serde(skip)]
    pub status: u16,
}

impl OAuthError {
    fn new(error: &'static str, status: u16, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: description.into(),
            status,
        }
    }
    /// `invalid_request` (400).
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", 400, d)
    }
    /// `invalid_client` (401).
    pub fn invalid_client() -> Self {
        Self::new(
            "invalid_client",
            401,
            "Client-Authentifizierung fehlgeschlagen.",
        )
    }
    /// `invalid_grant` (400).
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new("invalid_grant", 400, d)
    }
    /// `unauthorized_client` (400).
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new("unauthorized_client", 400, d)
    }
    /// `invalid_scope` (400).
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new("invalid_scope", 400, d)
    }
    /// `invalid_token` (401, resource endpoints).
    pub fn invalid_token() -> Self {
        Self::new(
            "invalid_token",
            401,
            "Das Zugriffstoken ist ungültig, abgelaufen oder widerrufen.",
        )
    }
    /// `server_error` (500).
    pub fn server_error() -> Self {
        Self::new("server_error", 500, "Interner Fehler.")
    }
}

impl From<crate::IdentityError> for OAuthError {
    fn from(e: crate::IdentityError) -> Self {
        tracing::error!(error = %e, "identity provider failed");
        Self::server_error()
    }
}

/// How the client presented itself at the token, revocation or introspection endpoint.
#[derive(Clone, Debug, Default)]
pub struct ClientCredentials {
    /// Client id (from Basic auth or the form).
    pub client_id: Option<String>,
    /// Secret (from Basic auth or the form).
    pub secret: Option<String>,
    /// Whether both came in an `Authorization: Basic` header.
    pub basic: bool,
}

/// A token request's form fields.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct TokenRequest {
    /// Grant type.
    pub grant_type: Option<String>,
    /// Authorization code.
    pub code: Option<String>,
    /// Redirect URI of the authorization request.
    pub redirect_uri: Option<String>,
    /// PKCE verifier.
    pub code_verifier: Option<String>,
    /// Refresh token.
    pub refresh_token: Option<String>,
    /// Requested scope.
    pub scope: Option<String>,
    /// Client id (form).
    pub client_id: Option<String>,
    /// Client secret (form).
    pub client_secret: Option<String>,
}

/// A successful token response.
#[derive(Clone, Debug, Serialize)]
pub struct TokenResponse {
    /// Access token (JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Granted scopes.
    pub scope: String,
    /// ID token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Refresh token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// A validated authorization request.
#[derive(Clone, Debug)]
pub struct AuthorizeRequest {
    /// The client.
    pub client: Arc<Client>,
    /// Where to send the answer.
    pub redirect_uri: String,
    /// Requested scopes (known ones that the client may ask for).
    pub scopes: Scopes,
    /// State to echo.
    pub state: Option<String>,
    /// Nonce for the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// `prompt` values.
    pub prompt: Vec<String>,
    /// Maximum age of the login in seconds.
    pub max_age: Option<i64>,
    /// Minimum trust level requested.
    pub min_level: TrustLevel,
    /// E-mail hint.
    pub login_hint: Option<String>,
}

/// Raw query parameters of an authorization request.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// Client id.
    pub client_id: Option<String>,
    /// Redirect URI.
    pub redirect_uri: Option<String>,
    /// Scopes.
    pub scope: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Nonce.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// PKCE method (only `S256`).
    pub code_challenge_method: Option<String>,
    /// `none`, `login`, `consent`.
    pub prompt: Option<String>,
    /// Maximum login age.
    pub max_age: Option<String>,
    /// Requested trust levels.
    pub acr_values: Option<String>,
    /// E-mail hint.
    pub login_hint: Option<String>,
    /// Response mode (only `query`).
    pub response_mode: Option<String>,
    /// Request objects are not supported.
    pub request: Option<String>,
    /// Request objects by reference are not supported.
    pub request_uri: Option<String>,
}

/// Why an authorization request fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI is not trustworthy: show an error page, never redirect.
    Page(String),
    /// Tell the client through its redirect URI.
    Redirect {
        /// Validated redirect URI.
        redirect_uri: String,
        /// Error code.
        error: &'static str,
        /// Description.
        description: String,
        /// State to echo.
        state: Option<String>,
    },
}

impl AuthorizeError {
    /// The URL to redirect to (for [`AuthorizeError::Redirect`]).
    pub fn redirect_url(&self) -> Option<String> {
        match self {
            Self::Page(_) => None,
            Self::Redirect {
                redirect_uri,
                error,
                description,
                state,
            } => {
                let mut url = url::Url::parse(redirect_uri).ok()?;
                {
                    let mut q = url.query_pairs_mut();
                    q.append_pair("error", error);
                    q.append_pair("error_description", description);
                    if let Some(s) = state {
                        q.append_pair("state", s);
                    }
                }
                Some(url.into())
            }
        }
    }
}

/// The provider.
#[derive(Clone)]
pub struct Provider {
    cfg: Arc<ProviderConfig>,
    /// Accounts and sessions.
    pub accounts: AccountStore,
    /// Clients.
    pub clients: ClientStore,
    /// Grants and keys.
    pub grants: GrantStore,
    /// WebAuthn passkeys (relying party: the issuer's host).
    pub passkeys: PasskeyStore,
    audit: AuditStore,
    keys: Arc<RwLock<Arc<KeyRing>>>,
    hasher: PasswordHasher,
    sealer: Sealer,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.cfg.issuer)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// Builds the provider and loads (or makes) its signing keys.
    pub async fn new(db: Db, cfg: ProviderConfig) -> Result<Self> {
        let grants = GrantStore::new(db.clone());
        let ring = grants.key_ring(cfg.rotate_after, cfg.retire_after).await?;
        Ok(Self {
            hasher: PasswordHasher::new(cfg.hash_params)?,
            sealer: Sealer::new(cfg.secret.clone()),
            accounts: AccountStore::new(db.clone()),
            clients: ClientStore::new(db.clone()),
            passkeys: PasskeyStore::new(db.clone(), &cfg.issuer),
            audit: AuditStore::new(db),
            grants,
            keys: Arc::new(RwLock::new(Arc::new(ring))),
            cfg: Arc::new(cfg),
        })
    }

    /// Reloads the keys (rotating when due); every node calls this periodically.
    pub async fn refresh_keys(&self) -> Result<()> {
        let ring = self
            .grants
            .key_ring(self.cfg.rotate_after, self.cfg.retire_after)
            .await?;
        if let Ok(mut keys) = self.keys.write() {
            *keys = Arc::new(ring);
        }
        Ok(())
    }

    /// Makes new signing keys now (both algorithms) and reloads.
    pub async fn rotate_keys(&self) -> Result<Vec<String>> {
        let mut kids = Vec::new();
        for alg in SigningAlg::ALL {
            kids.push(self.grants.add_key(alg).await?);
        }
        self.refresh_keys().await?;
        Ok(kids)
    }

    fn ring(&self) -> Arc<KeyRing> {
        self.keys.read().map(|k| Arc::clone(&k)).unwrap_or_default()
    }

    /// The settings.
    pub fn config(&self) -> &ProviderConfig {
        &self.cfg
    }

    /// The issuer.
    pub fn issuer(&self) -> &str {
        &self.cfg.issuer
    }

    /// The password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The JWK Set.
    pub fn jwks(&self) -> Value {
        self.ring().jwks()
    }

    /// The discovery document (endpoints under `/oidc/`).
    pub fn discovery(&self) -> Value {
        let i = &self.cfg.issuer;
        json!({
            "issuer": i,
            "authorization_endpoint": format!("{i}/oidc/authorize"),
            "token_endpoint": format!("{i}/oidc/token"),
            "userinfo_endpoint": format!("{i}/oidc/userinfo"),
            "jwks_uri": format!("{i}/oidc/jwks"),
            "revocation_endpoint": format!("{i}/oidc/revoke"),
            "introspection_endpoint": format!("{i}/oidc/introspect"),
            "end_session_endpoint": format!("{i}/oidc/logout"),
            "scopes_supported": crate::scope::KNOWN,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": self.supported_algs(),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": TrustLevel::ALL.map(TrustLevel::acr),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid",
                "name", "given_name", "family_name", "birthdate", "email", "email_verified", "address"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "ui_locales_supported": ["de", "en"],
            "frontchannel_logout_supported": false,
            "backchannel_logout_supported": false,
        })
    }

    async fn audit_failure(&self, actor: &str, action: &str, error: &OAuthError, details: Value) {
        let mut d = details;
        d["error"] = json!(error.error);
        let entry = NewAuditEntry {
            actor: actor.to_owned(),
            action: action.to_owned(),
            tenant: None,
            object_type: "oidc".into(),
            object_id: "-".into(),
            details: d,
        };
        if let Err(e) = self.audit.record(&entry).await {
            tracing::error!(error = %e, "audit of an OAuth failure failed");
        }
    }

    /// Authenticates a client (Basic, form secret, or none for public clients).
    pub async fn authenticate_client(
        &self,
        creds: &ClientCredentials,
    ) -> Result<Arc<Client>, OAuthError> {
        let Some(id) = creds.client_id.as_deref() else {
            return Err(OAuthError::invalid_client());
        };
        let client = self
            .clients
            .get(id)
            .await?
            .ok_or_else(OAuthError::invalid_client)?;
        match (client.kind, creds.secret.as_deref()) {
            (ClientKind::Confidential, Some(secret)) if client.secret_matches(secret) => Ok(client),
            (ClientKind::Public, None) => Ok(client),
            _ => Err(OAuthError::invalid_client()),
        }
    }

    /// The token endpoint.
    pub async fn token(
        &self,
        creds: &ClientCredentials,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let result = self.token_inner(creds, req).await;
        if let Err(e) = &result {
            self.audit_failure(
                &format!("client:{}", creds.client_id.as_deref().unwrap_or("-")),
                "oidc.token_failed",
                e,
                json!({"grant_type": req.grant_type}),
            )
            .await;
        }
        result
    }

    async fn token_inner(
        &self,
        creds: &ClientCredentials,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let client = self.authenticate_client(creds).await?;
        let grant_type = req
            .grant_type
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("grant_type fehlt."))?;
        if !matches!(
            grant_type,
            "authorization_code" | "refresh_token" | "client_credentials"
        ) {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                400,
                format!("Grant-Typ {grant_type:?} wird nicht unterstützt."),
            ));
        }
        if !client.allows_grant(grant_type) {
            return Err(OAuthError::unauthorized_client(format!(
                "Der Client darf {grant_type} nicht verwenden."
            )));
        }
        match grant_type {
            "authorization_code" => self.code_grant(&client, req).await,
            "refresh_token" => self.refresh_grant(&client, req).await,
            _ => self.client_credentials(&client, req),
        }
    }

    async fn code_grant(
        &self,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let code = req
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("code fehlt."))?;
        let redeemed = self.grants.redeem_code(code).await?;
        let Some(code) = redeemed else {
            return Err(OAuthError::invalid_grant(
                "Der Code ist ungültig, abgelaufen oder wurde bereits verwendet.",
            ));
        };
        if code.grant.client_id != client.client_id {
            return Err(OAuthError::invalid_grant(
                "Der Code gehört zu einem anderen Client.",
            ));
        }
        if req.redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri stimmt nicht mit der Anfrage überein.",
            ));
        }
        match (&code.code_challenge, req.code_verifier.as_deref()) {
            (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge) => {}
            (None, None) if client.kind == ClientKind::Confidential => {}
            _ => {
                return Err(OAuthError::invalid_grant(
                    "PKCE-Prüfung fehlgeschlagen (code_verifier).",
                ));
            }
        }
        let account = self
            .accounts
            .get(&code.grant.account_id)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("Konto existiert nicht mehr."))?;
        self.issue(client, &code.grant, &account, code.nonce, None)
            .await
    }

    async fn refresh_grant(
        &self,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let token = req
            .refresh_token
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("refresh_token fehlt."))?;
        match self
            .grants
            .rotate_refresh(token, &client.client_id, self.cfg.refresh_ttl)
            .await?
        {
            Refresh::Invalid => Err(OAuthError::invalid_grant(
                "Das Aktualisierungs-Token ist ungültig oder abgelaufen.",
            )),
            Refresh::Reused => Err(OAuthError::invalid_grant(
                "Das Aktualisierungs-Token wurde bereits verwendet; alle Token dieser Anmeldung sind widerrufen.",
            )),
            Refresh::Rotated(mut grant, next, account) => {
                if let Some(scope) = req.scope.as_deref() {
                    let asked = Scopes::parse(scope);
                    if !asked.is_subset(&Scopes::parse(&grant.scope)) {
                        return Err(OAuthError::invalid_scope(
                            "Es können nur bereits gewährte Scopes angefordert werden.",
                        ));
                    }
                    grant.scope = asked.to_string();
                }
                // Read with the rotation, in its transaction (no read of its own per refresh).
                let account = account
                    .ok_or_else(|| OAuthError::invalid_grant("Konto existiert nicht mehr."))?;
                self.issue(client, &grant, &account, None, Some(next)).await
            }
        }
    }

    fn client_credentials(
        &self,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        if client.kind != ClientKind::Confidential {
            return Err(OAuthError::unauthorized_client(
                "Nur vertrauliche Clients dürfen client_credentials verwenden.",
            ));
        }
        let asked = Scopes::parse(req.scope.as_deref().unwrap_or(""));
        if let Some(bad) = asked.not_in(&client.scopes).next() {
            return Err(OAuthError::invalid_scope(format!(
                "Scope {bad:?} ist für diesen Client nicht erlaubt."
            )));
        }
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            iss: self.cfg.issuer.clone(),
            sub: client.client_id.clone(),
            aud: self.cfg.issuer.clone(),
            client_id: client.client_id.clone(),
            scope: asked.to_string(),
            iat: now,
            exp: now + self.cfg.access_ttl.num_seconds(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            acr: None,
            auth_time: None,
            sid: None,
        };
        let access_token = self.sign("at+jwt", &claims)?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.cfg.access_ttl.num_seconds(),
            scope: claims.scope,
            id_token: None,
            refresh_token: None,
        })
    }

    /// The ID-token algorithms: the default first, then the other one clients may register for.
    fn supported_algs(&self) -> Vec<&'static str> {
        let mut algs = vec![self.cfg.signing_alg.as_str()];
        algs.extend(
            SigningAlg::ALL
                .iter()
                .map(|a| a.as_str())
                .filter(|a| *a != self.cfg.signing_alg.as_str()),
        );
        algs
    }

    fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, OAuthError> {
        self.sign_with(self.cfg.signing_alg, typ, claims)
    }

    fn sign_with<T: Serialize>(
        &self,
        alg: SigningAlg,
        typ: &str,
        claims: &T,
    ) -> Result<String, OAuthError> {
        let ring = self.ring();
        let key = ring.signer(alg).ok_or_else(OAuthError::server_error)?;
        Ok(key.sign(typ, claims)?)
    }

    async fn issue(
        &self,
        client: &Client,
        grant: &Grant,
        account: &Account,
        nonce: Option<String>,
        rotated_refresh: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let scopes = Scopes::parse(&grant.scope);
        let now = Utc::now().timestamp();
        let access = AccessClaims {
            iss: self.cfg.issuer.clone(),
            sub: account.id.clone(),
            aud: self.cfg.issuer.clone(),
            client_id: client.client_id.clone(),
            scope: grant.scope.clone(),
            iat: now,
            exp: now + self.cfg.access_ttl.num_seconds(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            acr: Some(grant.level.acr().to_owned()),
            auth_time: Some(grant.auth_time),
            sid: Some(grant.sid.clone()),
        };
        let access_token = self.sign("at+jwt", &access)?;
        let id_token = if scopes.has("openid") {
            let claims = IdClaims {
                iss: self.cfg.issuer.clone(),
                sub: account.id.clone(),
                aud: client.client_id.clone(),
                azp: client.client_id.clone(),
                iat: now,
                exp: now + self.cfg.id_ttl.num_seconds(),
                auth_time: grant.auth_time,
                nonce,
                acr: grant.level.acr().to_owned(),
                amr: grant.amr.clone(),
                sid: Some(grant.sid.clone()),
                at_hash: Some(at_hash(&access_token)),
                extra: user_claims(account, &scopes),
            };
            Some(self.sign_with(
                client.id_token_alg.unwrap_or(self.cfg.signing_alg),
                "JWT",
                &claims,
            )?)
        } else {
            None
        };
        let refresh_token = match rotated_refresh {
            Some(t) => Some(t),
            None if scopes.has("offline_access") && client.allows_grant("refresh_token") => Some(
                self.grants
                    .issue_refresh(grant, self.cfg.refresh_ttl)
                    .await?,
            ),
            None => None,
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.cfg.access_ttl.num_seconds(),
            scope: grant.scope.clone(),
            id_token,
            refresh_token,
        })
    }

    /// Verifies an access token of ours (signature, expiry, not revoked).
    pub async fn verify_access(&self, token: &str) -> Result<AccessClaims, OAuthError> {
        let claims: AccessClaims = self
            .ring()
            .verify(token, "at+jwt", &self.cfg.issuer)
            .map_err(|_: TokenRejected| OAuthError::invalid_token())?;
        if self.grants.access_revoked(&claims.jti).await? {
            return Err(OAuthError::invalid_token());
        }
        Ok(claims)
    }

    /// Verifies an ID token we issued (for `id_token_hint`); expiry is not required.
    pub fn verify_id_token_hint(&self, token: &str) -> Option<IdClaims> {
        match self
            .ring()
            .verify::<IdClaims>(token, "JWT", &self.cfg.issuer)
        {
            Ok(c) => Some(c),
            Err(TokenRejected::Expired) => {
                // An expired hint still identifies the session: decode without expiry.
                self.ring()
                    .verify_ignoring_expiry(token, "JWT", &self.cfg.issuer)
                    .ok()
            }
            Err(TokenRejected::Invalid) => None,
        }
    }

    /// The userinfo endpoint.
    pub async fn userinfo(&self, bearer: &str) -> Result<Value, OAuthError> {
        let claims = match self.verify_access(bearer).await {
            Ok(c) => c,
            Err(e) => {
                self.audit_failure("anonymous", "oidc.userinfo_failed", &e, json!({}))
                    .await;
                return Err(e);
            }
        };
        let scopes = Scopes::parse(&claims.scope);
        if !scopes.has("openid") {
            return Err(OAuthError::new(
                "insufficient_scope",
                403,
                "Scope openid fehlt.",
            ));
        }
        let account = self
            .accounts
            .get(&claims.sub)
            .await?
            .ok_or_else(OAuthError::invalid_token)?;
        let mut out = user_claims(&account, &scopes);
        out.insert("sub".into(), json!(account.id));
        Ok(Value::Object(out))
    }

    /// Introspection (RFC 7662) by an authenticated confidential client.
    pub async fn introspect(
        &self,
        creds: &ClientCredentials,
        token: &str,
    ) -> Result<Value, OAuthError> {
        let client = match self.authenticate_client(creds).await {
            Ok(c) if c.kind == ClientKind::Confidential => c,
            Ok(_) | Err(_) => {
                let e = OAuthError::invalid_client();
                self.audit_failure(
                    &format!("client:{}", creds.client_id.as_deref().unwrap_or("-")),
                    "oidc.introspect_failed",
                    &e,
                    json!({}),
                )
                .await;
                return Err(e);
            }
        };
        let _ = client;
        if let Ok(c) = self.verify_access(token).await {
            let mut v = serde_json::to_value(&c).unwrap_or_default();
            v["active"] = json!(true);
            v["token_type"] = json!("Bearer");
            return Ok(v);
        }
        if let Some((grant, expires)) = self.grants.refresh_info(token).await? {
            return Ok(json!({
                "active": true, "token_type": "refresh_token", "client_id": grant.client_id, "sub": grant.account_id,
                "scope": grant.scope, "iss": self.cfg.issuer, "acr": grant.level.acr(),
                "exp": rathaus_core::time::parse_ts(&expires).map(|t| t.timestamp()),
            }));
        }
        Ok(json!({"active": false}))
    }

    /// Revocation (RFC 7009). Unknown tokens and tokens of other clients are ignored (200).
    pub async fn revoke(&self, creds: &ClientCredentials, token: &str) -> Result<(), OAuthError> {
        let client = match self.authenticate_client(creds).await {
            Ok(c) => c,
            Err(e) => {
                self.audit_failure(
                    &format!("client:{}", creds.client_id.as_deref().unwrap_or("-")),
                    "oidc.revoke_failed",
                    &e,
                    json!({}),
                )
                .await;
                return Err(e);
            }
        };
        if self.grants.revoke_refresh(token, &client.client_id).await? {
            return Ok(());
        }
        if let Ok(c) = self
            .ring()
            .verify::<AccessClaims>(token, "at+jwt", &self.cfg.issuer)
            && c.client_id == client.client_id
        {
            self.grants
                .revoke_access(
                    &c.jti,
                    c.exp,
                    &format!("client:{}", client.client_id),
                    &c.sub,
                )
                .await?;
        }
        Ok(())
    }

    /// Validates an authorization request.
    pub async fn check_authorize(
        &self,
        p: &AuthorizeParams,
    ) -> Result<AuthorizeRequest, AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let client_id = p
            .client_id
            .as_deref()
            .ok_or_else(|| page("Der Parameter client_id fehlt."))?;
        let client = self
            .clients
            .get(client_id)
            .await
            .map_err(|_| page("Der Dienst ist vorübergehend nicht verfügbar."))?
            .ok_or_else(|| page("Unbekannte Anwendung (client_id)."))?;
        let redirect_uri = p
            .redirect_uri
            .as_deref()
            .ok_or_else(|| page("Der Parameter redirect_uri fehlt."))?;
        if !client
            .redirect_uris
            .iter()
            .any(|r| redirect::matches(r, redirect_uri))
        {
            return Err(page(
                "Die Rücksprungadresse (redirect_uri) ist für diese Anwendung nicht registriert.",
            ));
        }
        let fail = |error: &'static str, description: &str| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            error,
            description: description.to_owned(),
            state: p.state.clone(),
        };
        if p.request.is_some() {
            return Err(fail(
                "request_not_supported",
                "Request-Objekte werden nicht unterstützt.",
            ));
        }
        if p.request_uri.is_some() {
            return Err(fail(
                "request_uri_not_supported",
                "request_uri wird nicht unterstützt.",
            ));
        }
        if p.response_type.as_deref() != Some("code") {
            return Err(fail(
                "unsupported_response_type",
                "Nur response_type=code wird unterstützt.",
            ));
        }
        if p.response_mode.as_deref().is_some_and(|m| m != "query") {
            return Err(fail(
                "invalid_request",
                "Nur response_mode=query wird unterstützt.",
            ));
        }
        if !client.allows_grant("authorization_code") {
            return Err(fail(
                "unauthorized_client",
                "Der Client darf den Autorisierungscode-Fluss nicht verwenden.",
            ));
        }
        let scopes = Scopes::parse(p.scope.as_deref().unwrap_or(""));
        if !scopes.has("openid") {
            return Err(fail("invalid_scope", "Der Scope openid fehlt."));
        }
        if let Some(bad) = scopes.not_in(&client.scopes).next() {
            return Err(fail(
                "invalid_scope",
                &format!("Scope {bad:?} ist für diesen Client nicht erlaubt."),
            ));
        }
        match (
            p.code_challenge.as_deref(),
            p.code_challenge_method.as_deref(),
        ) {
            (Some(c), Some("S256")) if pkce::is_valid_challenge(c) => {}
            (Some(_), Some("S256")) => {
                return Err(fail("invalid_request", "code_challenge ist ungültig."));
            }
            (Some(_), _) => {
                return Err(fail(
                    "invalid_request",
                    "Nur code_challenge_method=S256 wird unterstützt.",
                ));
            }
            (None, _) if client.kind == ClientKind::Public => {
                return Err(fail(
                    "invalid_request",
                    "PKCE (code_challenge mit S256) ist für öffentliche Clients Pflicht.",
                ));
            }
            (None, _) => {}
        }
        let max_age = match p.max_age.as_deref() {
            None => None,
            Some(m) => Some(
                m.parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| fail("invalid_request", "max_age ist ungültig."))?,
            ),
        };
        let prompt: Vec<String> = p
            .prompt
            .as_deref()
            .unwrap_or("")
            .split_ascii_whitespace()
            .map(str::to_owned)
            .collect();
        if prompt
            .iter()
            .any(|v| !matches!(v.as_str(), "none" | "login" | "consent" | "select_account"))
            || (prompt.len() > 1 && prompt.iter().any(|v| v == "none"))
        {
            return Err(fail("invalid_request", "prompt ist ungültig."));
        }
        if p.state.as_deref().is_some_and(|s| s.len() > 2000)
            || p.nonce.as_deref().is_some_and(|s| s.len() > 2000)
        {
            return Err(fail("invalid_request", "state oder nonce ist zu lang."));
        }
        Ok(AuthorizeRequest {
            redirect_uri: redirect_uri.to_owned(),
            scopes,
            state: p.state.clone(),
            nonce: p.nonce.clone(),
            code_challenge: p.code_challenge.clone(),
            prompt,
            max_age,
            min_level: p
                .acr_values
                .as_deref()
                .and_then(TrustLevel::requested)
                .unwrap_or(TrustLevel::Low),
            login_hint: p.login_hint.clone(),
            client,
        })
    }

    /// Whether `session` satisfies the request's login requirements (`max_age`, trust level).
    pub fn session_suffices(&self, req: &AuthorizeRequest, session: &Session) -> bool {
        let fresh = req
            .max_age
            .is_none_or(|m| Utc::now().timestamp() - session.auth_time <= m);
        fresh && session.level >= req.min_level
    }

    /// Issues a code for a logged-in session and returns the redirect URL.
    pub async fn issue_code(&self, req: &AuthorizeRequest, session: &Session) -> Result<String> {
        let code = self
            .grants
            .issue_code(
                &CodeGrant {
                    grant: Grant {
                        client_id: req.client.client_id.clone(),
                        account_id: session.account_id.clone(),
                        sid: session.sid.clone(),
                        scope: req.scopes.to_string(),
                        level: session.level,
                        amr: session.amr.clone(),
                        auth_time: session.auth_time,
                    },
                    redirect_uri: req.redirect_uri.clone(),
                    nonce: req.nonce.clone(),
                    code_challenge: req.code_challenge.clone(),
                },
                self.cfg.code_ttl,
            )
            .await?;
        let mut url = url::Url::parse(&req.redirect_uri)
            .map_err(|e| crate::IdentityError::Invalid(e.to_string()))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("code", &code);
            if let Some(s) = &req.state {
                q.append_pair("state", s);
            }
            q.append_pair("iss", &self.cfg.issuer);
        }
        Ok(url.into())
    }

    /// Signs a short-lived value for a form round trip.
    pub fn seal(&self, purpose: &str, value: &str, valid_for: Duration) -> String {
        self.sealer.seal(purpose, value, valid_for)
    }

    /// Opens a value sealed by [`Provider::seal`] for `purpose` if valid and fresh.
    pub fn unseal(&self, purpose: &str, sealed: &str) -> Option<String> {
        self.sealer.open(purpose, sealed)
    }

    /// The sealer (shared with the upstream login).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The account for an identity confirmed upstream: the linked one, else the account with
    /// the same verified e-mail address (then linked), else a new one. Raises its verified level.
    pub async fn upstream_account(&self, provider: &str, id: &UpstreamIdentity) -> Result<Account> {
        let linked = self.accounts.linked(provider, &id.subject).await?;
        let account = match linked {
            Some(account_id) => self.accounts.get(&account_id).await?,
            None => {
                let email = id.email.as_deref().filter(|_| id.email_verified).ok_or_else(|| {
                    crate::IdentityError::Invalid(
                        "Der Identitätsanbieter hat keine bestätigte E-Mail-Adresse übermittelt.".into(),
                    )
                })?;
                let account = match self.accounts.by_email(email).await? {
                    Some(a) => a,
                    None => {
                        self.accounts
                            .create(
                                &NewAccount {
                                    kind: AccountKind::Person,
                                    email: email.to_owned(),
                                    password_hash: None,
                                    profile: id.profile.clone(),
                                    email_verified: true,
                                },
                                &format!("upstream:{provider}"),
                            )
                            .await?
                    }
                };
                self.accounts
                    .link(provider, &id.subject, &account.id, id.level)
                    .await?;
                Some(account)
            }
        };
        let account = account
            .ok_or_else(|| crate::IdentityError::Invalid("Konto existiert nicht mehr.".into()))?;
        if id.level > TrustLevel::Low && account.verified_level.is_none_or(|l| l < id.level) {
            self.accounts
                .raise_verified_level(&account.id, id.level)
                .await?;
        }
        Ok(account)
    }
}

/// The claims about an account that `scopes` release.
pub fn user_claims(account: &Account, scopes: &Scopes) -> Map<String, Value> {
    let mut m = Map::new();
    let p = &account.profile;
    if scopes.has("email") {
        m.insert("email".into(), json!(account.email));
        m.insert("email_verified".into(), json!(account.email_verified));
    }
    if scopes.has("profile") {
        let name = [p.given_name.as_deref(), p.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let name = if name.is_empty() {
            p.organisation_name.clone().unwrap_or_default()
        } else {
            name
        };
        if !name.is_empty() {
            m.insert("name".into(), json!(name));
        }
        for (k, v) in [
            ("given_name", &p.given_name),
            ("family_name", &p.family_name),
            ("birthdate", &p.birthdate),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
    }
    if scopes.has("address") && p.address != crate::accounts::Address::default() {
        let a = &p.address;
        let formatted = [
            a.street.clone(),
            Some(
                format!(
                    "{} {}",
                    a.postal_code.as_deref().unwrap_or(""),
                    a.locality.as_deref().unwrap_or("")
                )
                .trim()
                .to_owned(),
            ),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
        m.insert(
            "address".into(),
            json!({
                "formatted": formatted, "street_address": a.street, "postal_code": a.postal_code,
                "locality": a.locality, "country": a.country,
            }),
        );
    }
    m
}
