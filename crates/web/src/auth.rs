//! Bearer-token authentication of staff for the API.

use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use rathaus_core::staff::{Role, StaffPrincipal};
use rathaus_core::{Tenant, TenantId};

/// An authenticated staff member. Rejects with 401 problem+json when the token is missing,
/// unknown or expired.
pub struct Staff(pub StaffPrincipal);

impl FromRequestParts<AppState> for Staff {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match optional_principal(state, &parts.headers).await? {
            Some(p) => Ok(Staff(p)),
            None => Err(Problem::unauthenticated()),
        }
    }
}

/// The staff principal of a request that may come with or without a token (`None` without an
/// `Authorization` header); a token that is sent but unknown or expired is a 401.
pub async fn optional_principal(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<StaffPrincipal>, Problem> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(Problem::unauthenticated)?;
    let principal = if token.starts_with(rathaus_storage::staff::TOKEN_PREFIX) {
        state.staff.authenticate(token).await?
    } else {
        machine_client(state, token).await?
    };
    match principal {
        Some(p) => Ok(Some(p)),
        None => Err(Problem::unauthenticated().detail("Das Token ist unbekannt oder abgelaufen.")),
    }
}

/// A back-office system with an access token from the client-credentials grant acts with its
/// registered staff role: for one tenant, or (`*`) as the state's system for every tenant.
async fn machine_client(state: &AppState, token: &str) -> Result<Option<StaffPrincipal>, Problem> {
    let Ok(claims) = state.identity.verify_access(token).await else {
        return Ok(None);
    };
    // Tokens of citizens carry an account as subject; only machine tokens name the client.
    if claims.sub != claims.client_id {
        return Ok(None);
    }
    let Some(client) = state
        .identity
        .clients
        .get(&claims.client_id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "client lookup failed");
            Problem::internal()
        })?
    else {
        return Ok(None);
    };
    let Some(role) = client.staff_role else {
        return Ok(None);
    };
    let tenants = state.tenants.list().await?;
    let (tenant, state_level) = if client.acts_for.iter().any(|t| t == "*") {
        (
            tenants
                .iter()
                .find(|t| t.kind == rathaus_core::TenantKind::Land),
            true,
        )
    } else if let [slug] = client.acts_for.as_slice() {
        (tenants.iter().find(|t| t.slug.as_str() == slug), false)
    } else {
        (None, false)
    };
    Ok(tenant.map(|t| StaffPrincipal {
        id: rathaus_core::StaffId(uuid::Uuid::nil()),
        tenant: t.id,
        tenant_slug: t.slug.to_string(),
        state_level,
        login: format!("client:{}", client.client_id),
        office: client.name.clone(),
        role,
    }))
}

impl Staff {
    /// Ensures the principal may act with one of `roles` on `tenant`'s data (403 otherwise).
    pub fn require(&self, tenant: &Tenant, roles: &[Role]) -> Result<(), Problem> {
        self.require_id(tenant.id, roles)
    }

    /// Like [`Staff::require`] with a tenant id.
    pub fn require_id(&self, tenant: TenantId, roles: &[Role]) -> Result<(), Problem> {
        if self.0.may(tenant, roles) {
            Ok(())
        } else {
            Err(Problem::forbidden())
        }
    }

    /// Ensures the principal is an administrator of a Land (manages all tenants).
    pub fn require_state_admin(&self) -> Result<(), Problem> {
        if self.0.state_level && self.0.role == Role::Admin {
            Ok(())
        } else {
            Err(Problem::forbidden())
        }
    }
}
