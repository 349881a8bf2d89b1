//! Audit entries of the identity context (never with secrets).

use rathaus_core::audit::NewAuditEntry;
use serde_json::Value;

/// An installation-wide audit entry about an account or client.
pub(crate) fn entry(
    actor: &str,
    action: &str,
    object_type: &str,
    object_id: &str,
    details: Value,
) -> NewAuditEntry {
    NewAuditEntry {
        actor: actor.to_owned(),
        action: action.to_owned(),
        tenant: None,
        object_type: object_type.to_owned(),
        object_id: object_id.to_owned(),
        details,
    }
}
