//! Staff accounts and their roles within one tenant.

use crate::{StaffId, TenantId};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A role of a staff member within a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Role {
    /// Tenant administration (settings, branding, staff).
    #[serde(rename = "admin")]
    Admin,
    /// Case work.
    Sachbearbeitung,
    /// Registry (file plan, filing).
    Registratur,
    /// Archive (retention, disposal).
    Archiv,
    /// Editorial work (content, catalogue texts, feedback).
    Redaktion,
    /// Cash office (payments, invoices).
    Kasse,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] = [
        Self::Admin,
        Self::Sachbearbeitung,
        Self::Registratur,
        Self::Archiv,
        Self::Redaktion,
        Self::Kasse,
    ];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Sachbearbeitung => "Sachbearbeitung",
            Self::Registratur => "Registratur",
            Self::Archiv => "Archiv",
            Self::Redaktion => "Redaktion",
            Self::Kasse => "Kasse",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unbekannte Rolle {s:?} (erlaubt: admin, Sachbearbeitung, Registratur, Archiv, Redaktion, Kasse)"))
    }
}

/// An authenticated staff member, as resolved from a bearer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffPrincipal {
    /// Staff id.
    pub id: StaffId,
    /// Tenant the staff member belongs to.
    pub tenant: TenantId,
    /// Slug of that tenant.
    pub tenant_slug: String,
    /// Whether that tenant is a Land (its admins administer every tenant).
    pub state_level: bool,
    /// Login name.
    pub login: String,
    /// Organisationseinheit.
    pub office: String,
    /// Role.
    pub role: Role,
}

impl StaffPrincipal {
    /// The actor name written to the audit trail.
    pub fn actor(&self) -> String {
        format!("staff:{}/{}", self.tenant_slug, self.login)
    }

    /// Whether this principal may act with one of `roles` on data of `tenant`.
    /// Staff act only on their own tenant; admins of a Land administer every tenant.
    pub fn may(&self, tenant: TenantId, roles: &[Role]) -> bool {
        let own = self.tenant == tenant && (self.role == Role::Admin || roles.contains(&self.role));
        own || (self.state_level && self.role == Role::Admin)
    }
}
