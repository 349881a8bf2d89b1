//! `/api/v1/tenants/{slug}/oidc-clients`: the OpenID Connect clients a tenant registers for its
//! services and back-office systems (tenant admins only).

use super::ApiJson;
use super::tenants::tenant_or_404;
use crate::auth::Staff;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rathaus_core::staff::Role;
use rathaus_identity::clients::{Client, ClientKind, NewClient};
use rathaus_identity::{scope, tokens};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const GRANTS: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

/// A client to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientRequest {
    /// Name shown on the consent screen.
    pub name: String,
    /// `public` (browser or app, PKCE, no secret) or `confidential` (server with a secret).
    #[schema(example = "confidential")]
    pub kind: String,
    /// Redirect URIs (exact match; `https`, or `http` on a loopback address, where a URI without
    /// port allows any port).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Allowed targets after logout.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `authorization_code`, `refresh_token`, `client_credentials`.
    pub grant_types: Vec<String>,
    /// Scopes the client may ask for (`openid`, `profile`, `email`, `address`, `offline_access`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// For machine clients (client credentials): the staff role its access tokens act with on
    /// this tenant's back-office API.
    pub staff_role: Option<Role>,
}

/// A registered client (the secret is never shown again).
#[derive(Serialize, ToSchema)]
pub struct ClientView {
    /// Client id.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// `public` or `confidential`.
    pub kind: String,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Role of its machine tokens.
    pub staff_role: Option<Role>,
    /// The secret (only in the answer to the registration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl ClientView {
    fn of(c: &Client, secret: Option<String>) -> Self {
        Self {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            kind: match c.kind {
                ClientKind::Public => "public",
                ClientKind::Confidential => "confidential",
            }
            .into(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            grant_types: c.grant_types.clone(),
            scopes: c.scopes.clone(),
            staff_role: c.staff_role,
            client_secret: secret,
        }
    }
}

/// Checks a redirect URI: absolute, no fragment, `https` or `http` on loopback.
fn check_uri(uri: &str, field: &str) -> Result<(), Problem> {
    let bad = |why: &str| Problem::invalid(format!("{uri:?}: {why}")).field(field.to_owned());
    let u = url::Url::parse(uri).map_err(|_| bad("keine gültige absolute Adresse"))?;
    if u.fragment().is_some() {
        return Err(bad("ein Fragment (#…) ist nicht erlaubt"));
    }
    let loopback = matches!(u.host_str(), Some("127.0.0.1") | Some("[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(bad("nur https, oder http auf 127.0.0.1/[::1]")),
    }
}

fn validate(req: &NewClientRequest) -> Result<ClientKind, Problem> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Problem::invalid("Der Name muss 1 bis 200 Zeichen lang sein.").field("name"));
    }
    let kind = match req.kind.as_str() {
        "public" => ClientKind::Public,
        "confidential" => ClientKind::Confidential,
        _ => return Err(Problem::invalid("kind ist public oder confidential.").field("kind")),
    };
    if req.grant_types.is_empty() {
        return Err(Problem::invalid("Mindestens ein Grant-Typ ist nötig.").field("grant_types"));
    }
    if let Some(g) = req
        .grant_types
        .iter()
        .find(|g| !GRANTS.contains(&g.as_str()))
    {
        return Err(Problem::invalid(format!("unbekannter Grant-Typ {g:?}")).field("grant_types"));
    }
    if let Some(s) = req
        .scopes
        .iter()
        .find(|s| !scope::KNOWN.contains(&s.as_str()))
    {
        return Err(Problem::invalid(format!("unbekannter Scope {s:?}")).field("scopes"));
    }
    let has = |g: &str| req.grant_types.iter().any(|x| x == g);
    if kind == ClientKind::Public && has("client_credentials") {
        return Err(Problem::invalid(
            "Öffentliche Clients dürfen client_credentials nicht verwenden.",
        )
        .field("grant_types"));
    }
    if has("authorization_code") && req.redirect_uris.is_empty() {
        return Err(Problem::invalid(
            "Für authorization_code ist mindestens eine redirect_uri nötig.",
        )
        .field("redirect_uris"));
    }
    if req.staff_role.is_some() && !has("client_credentials") {
        return Err(
            Problem::invalid("staff_role gibt es nur für client_credentials.").field("staff_role"),
        );
    }
    for u in &req.redirect_uris {
        check_uri(u, "redirect_uris")?;
    }
    for u in &req.post_logout_redirect_uris {
        check_uri(u, "post_logout_redirect_uris")?;
    }
    if req.redirect_uris.len() + req.post_logout_redirect_uris.len() > 50 {
        return Err(Problem::invalid("Höchstens 50 Adressen.").field("redirect_uris"));
    }
    Ok(kind)
}

/// The tenant's registered clients.
#[utoipa::path(get, path = "/api/v1/tenants/{slug}/oidc-clients", operation_id = "listOidcClients", tag = "Servicekonto",
    security(("bearer" = [])), params(("slug" = String, Path)), responses((status = 200, body = [ClientView])))]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
) -> Result<Json<Vec<ClientView>>, Problem> {
    let t = tenant_or_404(&state, &slug).await?;
    staff.require(&t, &[])?;
    let clients = state
        .identity
        .clients
        .list(&t.id.to_string())
        .await
        .map_err(identity_error)?;
    Ok(Json(
        clients.iter().map(|c| ClientView::of(c, None)).collect(),
    ))
}

/// Register a client; the answer carries the secret of a confidential client, once.
#[utoipa::path(post, path = "/api/v1/tenants/{slug}/oidc-clients", operation_id = "registerOidcClient", tag = "Servicekonto",
    security(("bearer" = [])), params(("slug" = String, Path)), request_body = NewClientRequest,
    responses((status = 201, body = ClientView)))]
pub async fn register(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    staff: Staff,
    ApiJson(req): ApiJson<NewClientRequest>,
) -> Result<(StatusCode, Json<ClientView>), Problem> {
    let t = tenant_or_404(&state, &slug).await?;
    staff.require(&t, &[])?;
    let kind = validate(&req)?;
    let (suffix, _) = tokens::opaque("");
    let client_id = format!(
        "{}-{}",
        t.slug,
        &suffix[..10].to_ascii_lowercase().replace(['-', '_'], "x")
    );
    let secret = (kind == ClientKind::Confidential).then(|| tokens::opaque("rcs_").0);
    let client = Client {
        client_id,
        tenant_id: Some(t.id.to_string()),
        name: req.name.trim().to_owned(),
        kind,
        secret_hash: None,
        redirect_uris: req.redirect_uris,
        post_logout_redirect_uris: req.post_logout_redirect_uris,
        grant_types: req.grant_types,
        scopes: req.scopes,
        acts_for: if req.staff_role.is_some() {
            vec![t.slug.to_string()]
        } else {
            vec![]
        },
        staff_role: req.staff_role,
        id_token_alg: None,
    };
    state
        .identity
        .clients
        .upsert(
            &NewClient {
                client: client.clone(),
                secret: secret.clone(),
            },
            &staff.0.actor(),
        )
        .await
        .map_err(identity_error)?;
    Ok((StatusCode::CREATED, Json(ClientView::of(&client, secret))))
}

/// Remove a client; tokens issued to it stop working.
#[utoipa::path(delete, path = "/api/v1/tenants/{slug}/oidc-clients/{client_id}", operation_id = "removeOidcClient", tag = "Servicekonto",
    security(("bearer" = [])), params(("slug" = String, Path), ("client_id" = String, Path)), responses((status = 204)))]
pub async fn remove(
    State(state): State<AppState>,
    Path((slug, client_id)): Path<(String, String)>,
    staff: Staff,
) -> Result<StatusCode, Problem> {
    let t = tenant_or_404(&state, &slug).await?;
    staff.require(&t, &[])?;
    if state
        .identity
        .clients
        .remove(&t.id.to_string(), &client_id, &staff.0.actor())
        .await
        .map_err(identity_error)?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("Client {client_id}")))
    }
}

fn identity_error(e: rathaus_identity::IdentityError) -> Problem {
    match e {
        rathaus_identity::IdentityError::Storage(s) => s.into(),
        rathaus_identity::IdentityError::Invalid(m) => Problem::invalid(m),
        other => {
            tracing::error!(error = %other, "identity error");
            Problem::internal()
        }
    }
}
