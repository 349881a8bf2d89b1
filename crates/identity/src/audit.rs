//! Audit entries of the identity context (never with secrets).

use rathaus_core::audit::NewAuditEntry;
use rathaus_storage::audit;
use serde_json::Value;
use sqlx::AnyConnection;

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

/// Appends an entry about the account `account_id` inside the caller's transaction.
pub(crate) async fn account_event(
    conn: &mut AnyConnection,
    actor: &str,
    action: &str,
    account_id: &str,
    details: Value,
) -> crate::Result<()> {
    audit::append(conn, &entry(actor, action, "account", account_id, details)).await?;
    Ok(())
}
