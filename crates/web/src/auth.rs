//! Bearer-token authentication of staff for the API.

use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
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
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(Problem::unauthenticated)?;
        match state.staff.authenticate(token).await? {
            Some(p) => Ok(Staff(p)),
            None => {
                Err(Problem::unauthenticated().detail("Das Token ist unbekannt oder abgelaufen."))
            }
        }
    }
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
