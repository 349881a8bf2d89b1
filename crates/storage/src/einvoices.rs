//! Received E-Rechnungen (XRechnung): Leitweg-ID routes, reception with duplicate detection,
//! the four-eyes approval (sachlich richtig, rechnerisch richtig) and the export to the cash
//! system. Every change is audited in its own transaction; every read names the tenant.

use crate::{Blobs, Db, StorageError, audit};
use bytes::Bytes;
use rathaus_core::TenantId;
use rathaus_core::audit::NewAuditEntry;
use rathaus_core::leitweg::LeitwegPrefix;
use rathaus_core::time::now_text;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use thiserror::Error;

/// Statuses of a received invoice, in workflow order (`abgelehnt` ends it early).
pub const STATUSES: &[&str] = &[
    "eingegangen",
    "sachlich_richtig",
    "freigegeben",
    "exportiert",
    "abgelehnt",
];

/// What can go wrong with an invoice besides the database.
#[derive(Debug, Error)]
pub enum EinvoiceError {
    /// Database or blob store.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// No invoice with this id at this tenant.
    #[error("Rechnung {0} nicht gefunden")]
    NotFound(String),
    /// The same seller already sent this invoice number to this tenant.
    #[error("Rechnung {number} wurde bereits empfangen ({id})")]
    Duplicate {
        /// Id of the first invoice.
        id: String,
        /// Invoice number.
        number: String,
    },
    /// The step does not fit the current status.
    #[error("Im Status „{status}“ ist dieser Schritt nicht möglich.")]
    WrongStatus {
        /// Current status.
        status: String,
    },
    /// Both confirmations by the same person.
    #[error(
        "Vier-Augen-Prinzip: Dieselbe Person darf nicht sachlich und rechnerisch richtig zeichnen."
    )]
    FourEyes,
    /// A route's prefix or office refused by the rules; `field` names which (`prefix`, `office`).
    #[error("{message}")]
    InvalidRoute {
        /// `prefix` or `office`.
        field: &'static str,
        /// Why, in German.
        message: String,
    },
}

impl From<sqlx::Error> for EinvoiceError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}

/// Result of this module.
pub type Result<T, E = EinvoiceError> = std::result::Result<T, E>;

/// A Leitweg-ID (or its leading part) that delivers to an office of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Route {
    /// Leitweg-ID or its leading part (Grobadressierung).
    pub leitweg_prefix: String,
    /// Receiving tenant.
    pub tenant_id: String,
    /// Receiving office.
    pub office: String,
    /// When the route was created (RFC 3339, UTC).
    pub created_at: String,
}

/// What [`EinvoiceStore::put_route`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteChange {
    /// A new route.
    Created,
    /// The office of the tenant's route changed.
    Changed,
    /// The route was already there as given.
    Unchanged,
}

/// A received invoice as stored (the semantic model is read again from the XML when needed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StoredInvoice {
    /// Id (random UUIDv4: unguessable, it also lets the sender fetch the report).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Receiving office.
    pub office: String,
    /// Leitweg-ID (BT-10).
    pub leitweg_id: String,
    /// `ubl` or `cii`.
    pub syntax: String,
    /// Seller name (BT-27).
    pub seller_name: String,
    /// Seller VAT id (BT-31) or other identifier.
    pub seller_key: String,
    /// Invoice number (BT-1).
    pub invoice_number: String,
    /// Issue date (BT-2), `YYYY-MM-DD`.
    pub issue_date: Option<String>,
    /// Due date (BT-9).
    pub due_date: Option<String>,
    /// Currency (BT-5).
    pub currency: Option<String>,
    /// Amount due for payment (BT-115), decimal with a point.
    pub amount_payable: Option<String>,
    /// IBAN (BT-84).
    pub iban: Option<String>,
    /// Status.
    pub status: String,
    /// Whether the validation accepted it.
    pub valid: bool,
    /// SHA-256 of the original XML (hex).
    pub sha256: String,
    /// Size of the original XML in bytes.
    pub size: i64,
    /// Received (RFC 3339).
    pub received_at: String,
    /// Who confirmed "sachlich richtig".
    pub sachlich_by: Option<String>,
    /// When.
    pub sachlich_at: Option<String>,
    /// Who confirmed "rechnerisch richtig".
    pub rechnerisch_by: Option<String>,
    /// When.
    pub rechnerisch_at: Option<String>,
    /// Who rejected it.
    pub rejected_by: Option<String>,
    /// When.
    pub rejected_at: Option<String>,
    /// Why.
    pub reject_reason: Option<String>,
    /// Exported to the cash system.
    pub exported_at: Option<String>,
    /// Key of the XML in the blob store.
    #[serde(skip)]
    pub blob_key: String,
}

/// An invoice to store.
#[derive(Clone, Debug)]
pub struct NewInvoice<'a> {
    /// Route it arrived by.
    pub tenant: TenantId,
    /// Receiving office.
    pub office: &'a str,
    /// Leitweg-ID (BT-10).
    pub leitweg_id: &'a str,
    /// `ubl` or `cii`.
    pub syntax: &'a str,
    /// Seller name.
    pub seller_name: &'a str,
    /// Seller VAT id or other identifier (duplicate key with the number).
    pub seller_key: &'a str,
    /// Invoice number.
    pub invoice_number: &'a str,
    /// Issue date.
    pub issue_date: Option<&'a str>,
    /// Due date.
    pub due_date: Option<&'a str>,
    /// Currency.
    pub currency: Option<&'a str>,
    /// Amount payable.
    pub amount_payable: Option<&'a str>,
    /// IBAN.
    pub iban: Option<&'a str>,
    /// Validation verdict: an invalid one is stored as `abgelehnt`.
    pub valid: bool,
    /// Validation report (JSON).
    pub report: &'a serde_json::Value,
    /// The original XML.
    pub xml: Bytes,
    /// Audit actor.
    pub actor: &'a str,
}

const COLUMNS: &str = "id, tenant_id, office, leitweg_id, syntax, seller_name, seller_key, invoice_number, issue_date, \
    due_date, currency, amount_payable, iban, status, valid, blob_key, sha256, size, received_at, sachlich_by, sachlich_at, \
    rechnerisch_by, rechnerisch_at, rejected_by, rejected_at, reject_reason, exported_at";

fn from_row(r: &AnyRow) -> Result<StoredInvoice, StorageError> {
    let valid: i64 = r.try_get("valid")?;
    Ok(StoredInvoice {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        office: r.try_get("office")?,
        leitweg_id: r.try_get("leitweg_id")?,
        syntax: r.try_get("syntax")?,
        seller_name: r.try_get("seller_name")?,
        seller_key: r.try_get("seller_key")?,
        invoice_number: r.try_get("invoice_number")?,
        issue_date: r.try_get("issue_date")?,
        due_date: r.try_get("due_date")?,
        currency: r.try_get("currency")?,
        amount_payable: r.try_get("amount_payable")?,
        iban: r.try_get("iban")?,
        status: r.try_get("status")?,
        valid: valid != 0,
        blob_key: r.try_get("blob_key")?,
        sha256: r.try_get("sha256")?,
        size: r.try_get("size")?,
        received_at: r.try_get("received_at")?,
        sachlich_by: r.try_get("sachlich_by")?,
        sachlich_at: r.try_get("sachlich_at")?,
        rechnerisch_by: r.try_get("rechnerisch_by")?,
        rechnerisch_at: r.try_get("rechnerisch_at")?,
        rejected_by: r.try_get("rejected_by")?,
        rejected_at: r.try_get("rejected_at")?,
        reject_reason: r.try_get("reject_reason")?,
        exported_at: r.try_get("exported_at")?,
    })
}

fn entry(
    actor: &str,
    action: &str,
    tenant: TenantId,
    id: &str,
    details: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        actor: actor.to_owned(),
        action: action.to_owned(),
        tenant: Some(tenant.to_string()),
        object_type: "einvoice".into(),
        object_id: id.to_owned(),
        details,
    }
}

/// Access to routes and received invoices.
#[derive(Clone, Debug)]
pub struct EinvoiceStore {
    db: Db,
    blobs: Blobs,
}

impl EinvoiceStore {
    /// Wraps a database and the blob store that keeps the original XML.
    pub fn new(db: Db, blobs: Blobs) -> Self {
        Self { db, blobs }
    }

    /// Sets the office a Leitweg-ID prefix delivers to (created, or its office changed when it
    /// is already the tenant's); audited when something changes. A prefix of another tenant is
    /// a [`StorageError::Conflict`].
    pub async fn put_route(
        &self,
        tenant: TenantId,
        prefix: &str,
        office: &str,
        actor: &str,
    ) -> Result<RouteChange> {
        let (prefix, office) = route_input(prefix, office)?;
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.pool().begin().await?;
        let change = match owner(&mut tx, &prefix).await? {
            Some((t, o)) if t == tenant.to_string() && o == office => {
                return Ok(RouteChange::Unchanged);
            }
            Some((t, _)) if t != tenant.to_string() => return Err(taken(&prefix)),
            Some(_) => {
                update_office(&mut tx, tenant, &prefix, &office).await?;
                RouteChange::Changed
            }
            None => {
                insert_route(&mut tx, tenant, &prefix, &office).await?;
                RouteChange::Created
            }
        };
        let action = match change {
            RouteChange::Created => "einvoice.route",
            _ => "einvoice.route_change",
        };
        audit::append(
            &mut tx,
            &route_entry(actor, action, tenant, &prefix, json!({"office": office})),
        )
        .await?;
        tx.commit().await?;
        Ok(change)
    }

    /// Creates a route of `tenant`; a prefix that already has a route (of this or another
    /// tenant) is a [`StorageError::Conflict`], and so is one that overlaps a route of another
    /// tenant (one is the leading part of the other): a tenant must not take over invoices
    /// addressed below another tenant's prefix, nor the free addresses around it. Audited as
    /// `einvoice.route`.
    pub async fn create_route(
        &self,
        tenant: TenantId,
        prefix: &str,
        office: &str,
        actor: &str,
    ) -> Result<Route> {
        let (prefix, office) = route_input(prefix, office)?;
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.pool().begin().await?;
        // The audit append comes first: it locks the chain head, so on PostgreSQL concurrent
        // route changes wait here and the checks below see what the others committed.
        audit::append(
            &mut tx,
            &route_entry(
                actor,
                "einvoice.route",
                tenant,
                &prefix,
                json!({"office": office}),
            ),
        )
        .await?;
        match owner(&mut tx, &prefix).await? {
            Some((t, _)) if t == tenant.to_string() => {
                return Err(StorageError::Conflict(format!(
                    "Leitweg-ID {prefix} ist diesem Mandanten bereits zugeordnet (die Dienststelle ändert PUT …/leitweg-routes/{prefix})."
                ))
                .into());
            }
            Some(_) => return Err(taken(&prefix)),
            None => {}
        }
        let overlapping = sqlx::query(
            "SELECT leitweg_prefix FROM einvoice_routes WHERE tenant_id <> $3 \
             AND (leitweg_prefix = substr($1, 1, length(leitweg_prefix)) \
                  OR substr(leitweg_prefix, 1, length($2)) = $2) \
             ORDER BY leitweg_prefix LIMIT 1",
        )
        .bind(&prefix)
        .bind(&prefix)
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = overlapping {
            let other: String = row.try_get(0)?;
            return Err(StorageError::Conflict(format!(
                "Leitweg-ID {prefix} überschneidet sich mit {other}, das einem anderen Mandanten zugeordnet ist."
            ))
            .into());
        }
        insert_route(&mut tx, tenant, &prefix, &office).await?;
        tx.commit().await?;
        self.route(tenant, &prefix).await
    }

    /// Changes the office of a route of `tenant` ([`StorageError::NotFound`] when the tenant has
    /// no route with this prefix). Audited as `einvoice.route_change` when the office changes.
    pub async fn update_route(
        &self,
        tenant: TenantId,
        prefix: &str,
        office: &str,
        actor: &str,
    ) -> Result<Route> {
        let (prefix, office) = route_input(prefix, office)?;
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.pool().begin().await?;
        match owner(&mut tx, &prefix).await? {
            Some((t, o)) if t == tenant.to_string() => {
                if o != office {
                    update_office(&mut tx, tenant, &prefix, &office).await?;
                    audit::append(
                        &mut tx,
                        &route_entry(
                            actor,
                            "einvoice.route_change",
                            tenant,
                            &prefix,
                            json!({"office": office, "previous_office": o}),
                        ),
                    )
                    .await?;
                }
            }
            _ => return Err(route_not_found(&prefix)),
        }
        tx.commit().await?;
        self.route(tenant, &prefix).await
    }

    /// Removes a route of `tenant` ([`StorageError::NotFound`] when it has none with this
    /// prefix). Audited as `einvoice.route_remove`.
    pub async fn remove_route(&self, tenant: TenantId, prefix: &str, actor: &str) -> Result<()> {
        let prefix = LeitwegPrefix::parse(prefix).map_err(|_| route_not_found(prefix.trim()))?;
        let prefix = prefix.as_str();
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.pool().begin().await?;
        let row = sqlx::query(
            "SELECT office FROM einvoice_routes WHERE leitweg_prefix = $1 AND tenant_id = $2",
        )
        .bind(prefix)
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(route_not_found(prefix));
        };
        let office: String = row.try_get(0)?;
        sqlx::query("DELETE FROM einvoice_routes WHERE leitweg_prefix = $1 AND tenant_id = $2")
            .bind(prefix)
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &route_entry(
                actor,
                "einvoice.route_remove",
                tenant,
                prefix,
                json!({"office": office}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One route of `tenant` ([`StorageError::NotFound`] when it has none with this prefix).
    pub async fn route(&self, tenant: TenantId, prefix: &str) -> Result<Route> {
        let row = sqlx::query(
            "SELECT leitweg_prefix, tenant_id, office, created_at FROM einvoice_routes \
             WHERE leitweg_prefix = $1 AND tenant_id = $2",
        )
        .bind(prefix.trim().to_ascii_uppercase())
        .bind(tenant.to_string())
        .fetch_optional(self.db.pool())
        .await?;
        match row {
            Some(r) => route_from_row(&r),
            None => Err(route_not_found(prefix.trim())),
        }
    }

    /// The routes of `tenant`.
    pub async fn routes(&self, tenant: TenantId) -> Result<Vec<Route>> {
        let rows = sqlx::query(
            "SELECT leitweg_prefix, tenant_id, office, created_at FROM einvoice_routes WHERE tenant_id = $1 ORDER BY leitweg_prefix",
        )
        .bind(tenant.to_string())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(route_from_row).collect()
    }

    /// The route with the longest prefix of `leitweg_id` (the receiving tenant is not known yet:
    /// this lookup is by the address alone).
    pub async fn route_for(&self, leitweg_id: &str) -> Result<Option<Route>> {
        let row = sqlx::query(
            "SELECT leitweg_prefix, tenant_id, office, created_at FROM einvoice_routes \
             WHERE leitweg_prefix = substr($1, 1, length(leitweg_prefix)) \
             ORDER BY length(leitweg_prefix) DESC LIMIT 1",
        )
        .bind(leitweg_id.trim().to_ascii_uppercase())
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(route_from_row).transpose()
    }

    /// Stores a received invoice (XML to the blob store first); a live invoice with the same
    /// seller and number at the tenant is [`EinvoiceError::Duplicate`].
    pub async fn receive(&self, new: &NewInvoice<'_>) -> Result<StoredInvoice> {
        if new.valid
            && let Some(id) = self.live_duplicate(new).await?
        {
            return Err(EinvoiceError::Duplicate {
                id,
                number: new.invoice_number.to_owned(),
            });
        }
        let id = uuid::Uuid::new_v4().to_string();
        let sha256 = hex::encode(Sha256::digest(&new.xml));
        let blob_key = format!("einvoices/{}/{id}.xml", new.tenant);
        let size = i64::try_from(new.xml.len()).unwrap_or(i64::MAX);
        self.blobs.put(&blob_key, new.xml.clone()).await?;
        let status = if new.valid {
            "eingegangen"
        } else {
            "abgelehnt"
        };
        let now = now_text();
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO einvoices (id, tenant_id, office, leitweg_id, syntax, seller_name, seller_key, invoice_number, \
             issue_date, due_date, currency, amount_payable, iban, status, valid, blob_key, sha256, size, report, \
             received_at, rejected_by, rejected_at, reject_reason, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $20)",
        )
        .bind(&id)
        .bind(new.tenant.to_string())
        .bind(new.office)
        .bind(new.leitweg_id)
        .bind(new.syntax)
        .bind(new.seller_name)
        .bind(new.seller_key)
        .bind(new.invoice_number)
        .bind(new.issue_date)
        .bind(new.due_date)
        .bind(new.currency)
        .bind(new.amount_payable)
        .bind(new.iban)
        .bind(status)
        .bind(i64::from(new.valid))
        .bind(&blob_key)
        .bind(&sha256)
        .bind(size)
        .bind(new.report.to_string())
        .bind(&now)
        .bind((!new.valid).then_some("system:validierung"))
        .bind((!new.valid).then_some(now.as_str()))
        .bind((!new.valid).then_some("Validierung nicht bestanden"))
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            drop(tx);
            let _ = self.blobs.delete(&blob_key).await;
            let e = StorageError::from_write(e, "Rechnung");
            if matches!(e, StorageError::Conflict(_))
                && let Some(first) = self.live_duplicate(new).await?
            {
                return Err(EinvoiceError::Duplicate {
                    id: first,
                    number: new.invoice_number.to_owned(),
                });
            }
            return Err(e.into());
        }
        audit::append(
            &mut tx,
            &entry(
                new.actor,
                "einvoice.receive",
                new.tenant,
                &id,
                json!({"leitweg_id": new.leitweg_id, "invoice_number": new.invoice_number, "seller": new.seller_key,
                       "status": status, "sha256": sha256}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.get(new.tenant, &id).await
    }

    async fn live_duplicate(&self, new: &NewInvoice<'_>) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM einvoices WHERE tenant_id = $1 AND seller_key = $2 AND invoice_number = $3 \
             AND status <> 'abgelehnt' ORDER BY received_at LIMIT 1",
        )
        .bind(new.tenant.to_string())
        .bind(new.seller_key)
        .bind(new.invoice_number)
        .fetch_optional(self.db.pool())
        .await?)
    }

    /// An invoice of `tenant`.
    pub async fn get(&self, tenant: TenantId, id: &str) -> Result<StoredInvoice> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM einvoices WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.to_string())
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        match row {
            Some(r) => Ok(from_row(&r)?),
            None => Err(EinvoiceError::NotFound(id.to_owned())),
        }
    }

    /// The tenant and validation report (JSON) of an invoice, by its id alone: for the sender,
    /// who knows the id from the reception answer.
    pub async fn report_by_id(&self, id: &str) -> Result<(String, serde_json::Value)> {
        let row = sqlx::query("SELECT tenant_id, report FROM einvoices WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or_else(|| EinvoiceError::NotFound(id.to_owned()))?;
        let report: String = row.try_get(1)?;
        let report =
            serde_json::from_str(&report).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        Ok((row.try_get(0)?, report))
    }

    /// The validation report (JSON) of an invoice of `tenant`.
    pub async fn report(&self, tenant: TenantId, id: &str) -> Result<serde_json::Value> {
        let report: Option<String> =
            sqlx::query_scalar("SELECT report FROM einvoices WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.to_string())
                .bind(id)
                .fetch_optional(self.db.pool())
                .await?;
        let report = report.ok_or_else(|| EinvoiceError::NotFound(id.to_owned()))?;
        Ok(serde_json::from_str(&report).map_err(|e| StorageError::Corrupt(e.to_string()))?)
    }

    /// The original XML of an invoice.
    pub async fn xml(&self, invoice: &StoredInvoice) -> Result<Bytes> {
        Ok(self.blobs.get(&invoice.blob_key).await?)
    }

    /// Invoices of `tenant`, newest first, optionally of one status.
    pub async fn list(
        &self,
        tenant: TenantId,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredInvoice>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM einvoices WHERE tenant_id = $1 AND ($2 = '' OR status = $2) \
             ORDER BY received_at DESC, id DESC LIMIT $3"
        )))
        .bind(tenant.to_string())
        .bind(status.unwrap_or(""))
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// Confirms "sachlich richtig" (factually correct): `eingegangen` → `sachlich_richtig`.
    pub async fn confirm_factual(
        &self,
        tenant: TenantId,
        id: &str,
        actor: &str,
    ) -> Result<StoredInvoice> {
        self.step(tenant, id, actor, Step::Factual).await
    }

    /// Confirms "rechnerisch richtig" (arithmetically correct) by another person:
    /// `sachlich_richtig` → `freigegeben`.
    pub async fn confirm_arithmetic(
        &self,
        tenant: TenantId,
        id: &str,
        actor: &str,
    ) -> Result<StoredInvoice> {
        self.step(tenant, id, actor, Step::Arithmetic).await
    }

    /// Rejects an invoice that is not approved yet, with a reason.
    pub async fn reject(
        &self,
        tenant: TenantId,
        id: &str,
        actor: &str,
        reason: &str,
    ) -> Result<StoredInvoice> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 2000 {
            return Err(StorageError::Invalid(
                "Bitte einen Grund (bis 2000 Zeichen) angeben.".into(),
            )
            .into());
        }
        self.step(tenant, id, actor, Step::Reject(reason)).await
    }

    async fn step(
        &self,
        tenant: TenantId,
        id: &str,
        actor: &str,
        step: Step<'_>,
    ) -> Result<StoredInvoice> {
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.pool().begin().await?;
        let row = sqlx::query(
            "SELECT status, sachlich_by FROM einvoices WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_string())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| EinvoiceError::NotFound(id.to_owned()))?;
        let status: String = row.try_get(0)?;
        let factual_by: Option<String> = row.try_get(1)?;
        let now = now_text();
        let (from, sql, action, details) = match step {
            Step::Factual => (
                &["eingegangen"][..],
                "UPDATE einvoices SET status = 'sachlich_richtig', sachlich_by = $1, sachlich_at = $2, updated_at = $2 \
                 WHERE tenant_id = $3 AND id = $4 AND status = $5",
                "einvoice.sachlich_richtig",
                json!({"status": "sachlich_richtig"}),
            ),
            Step::Arithmetic => {
                if factual_by.as_deref() == Some(actor) {
                    return Err(EinvoiceError::FourEyes);
                }
                (
                    &["sachlich_richtig"][..],
                    "UPDATE einvoices SET status = 'freigegeben', rechnerisch_by = $1, rechnerisch_at = $2, updated_at = $2 \
                     WHERE tenant_id = $3 AND id = $4 AND status = $5",
                    "einvoice.rechnerisch_richtig",
                    json!({"status": "freigegeben", "sachlich_by": factual_by}),
                )
            }
            Step::Reject(reason) => (
                &["eingegangen", "sachlich_richtig"][..],
                "UPDATE einvoices SET status = 'abgelehnt', rejected_by = $1, rejected_at = $2, updated_at = $2, \
                 reject_reason = $6 WHERE tenant_id = $3 AND id = $4 AND status = $5",
                "einvoice.ablehnen",
                json!({"status": "abgelehnt", "reason": reason}),
            ),
        };
        if !from.contains(&status.as_str()) {
            return Err(EinvoiceError::WrongStatus { status });
        }
        let mut q = sqlx::query(sql)
            .bind(actor)
            .bind(&now)
            .bind(tenant.to_string())
            .bind(id)
            .bind(&status);
        if let Step::Reject(reason) = step {
            q = q.bind(reason);
        }
        let n = q.execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(EinvoiceError::WrongStatus { status });
        }
        audit::append(&mut tx, &entry(actor, action, tenant, id, details)).await?;
        tx.commit().await?;
        self.get(tenant, id).await
    }

    /// Takes the approved, not yet exported invoices of `tenant` for the cash system and marks
    /// them `exportiert` in the same transaction (oldest first).
    pub async fn export_approved(
        &self,
        tenant: TenantId,
        actor: &str,
    ) -> Result<Vec<StoredInvoice>> {
        let _gate = self.db.write_gate().await;
        let mut tx = self.db.pool().begin().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM einvoices WHERE tenant_id = $1 AND status = 'freigegeben' ORDER BY received_at, id"
        )))
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        let now = now_text();
        for inv in &mut items {
            let n = sqlx::query(
                "UPDATE einvoices SET status = 'exportiert', exported_at = $1, updated_at = $1 \
                 WHERE tenant_id = $2 AND id = $3 AND status = 'freigegeben'",
            )
            .bind(&now)
            .bind(tenant.to_string())
            .bind(&inv.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(EinvoiceError::WrongStatus {
                    status: inv.status.clone(),
                });
            }
            inv.status = "exportiert".into();
            inv.exported_at = Some(now.clone());
        }
        if !items.is_empty() {
            let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
            audit::append(
                &mut tx,
                &NewAuditEntry {
                    actor: actor.to_owned(),
                    action: "einvoice.hkr_export".into(),
                    tenant: Some(tenant.to_string()),
                    object_type: "einvoice".into(),
                    object_id: "hkr-export".into(),
                    details: json!({"count": ids.len(), "ids": ids}),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(items)
    }

    /// The audit entries of one invoice (status history), oldest first.
    pub async fn history(&self, tenant: TenantId, id: &str) -> Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT at, actor, action, details FROM audit_log WHERE tenant_id = $1 AND object_type = 'einvoice' \
             AND object_id = $2 ORDER BY seq",
        )
        .bind(tenant.to_string())
        .bind(id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let details: String = r.try_get(3)?;
                Ok(HistoryEntry {
                    at: r.try_get(0)?,
                    actor: r.try_get(1)?,
                    action: r.try_get(2)?,
                    details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }
}

/// One step of an invoice's history.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What (`einvoice.receive`, `einvoice.sachlich_richtig`, …).
    pub action: String,
    /// Details.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Factual,
    Arithmetic,
    Reject(&'a str),
}

/// Longest office name of a route.
const MAX_OFFICE: usize = 200;

/// Checks a route's prefix (see [`LeitwegPrefix`]) and office name.
fn route_input(prefix: &str, office: &str) -> Result<(String, String)> {
    let prefix = LeitwegPrefix::parse(prefix).map_err(|e| EinvoiceError::InvalidRoute {
        field: "prefix",
        message: e.to_string(),
    })?;
    let office = office.trim();
    if office.is_empty() || office.chars().count() > MAX_OFFICE {
        return Err(EinvoiceError::InvalidRoute {
            field: "office",
            message: format!("Die Dienststelle muss 1 bis {MAX_OFFICE} Zeichen lang sein."),
        });
    }
    Ok((prefix.to_string(), office.to_owned()))
}

fn route_not_found(prefix: &str) -> EinvoiceError {
    StorageError::NotFound(format!("Leitweg-Route {prefix}")).into()
}

fn taken(prefix: &str) -> EinvoiceError {
    StorageError::Conflict(format!(
        "Leitweg-ID {prefix} ist bereits einem anderen Mandanten zugeordnet."
    ))
    .into()
}

fn route_from_row(r: &AnyRow) -> Result<Route> {
    Ok(Route {
        leitweg_prefix: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        office: r.try_get(2)?,
        created_at: r.try_get(3)?,
    })
}

/// Tenant and office of the route with exactly this prefix.
async fn owner(tx: &mut Transaction<'_, Any>, prefix: &str) -> Result<Option<(String, String)>> {
    let row =
        sqlx::query("SELECT tenant_id, office FROM einvoice_routes WHERE leitweg_prefix = $1")
            .bind(prefix)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

async fn insert_route(
    tx: &mut Transaction<'_, Any>,
    tenant: TenantId,
    prefix: &str,
    office: &str,
) -> Result<()> {
    // Two tenants creating the same prefix at once: the primary key decides (409 for the second).
    sqlx::query(
        "INSERT INTO einvoice_routes (leitweg_prefix, tenant_id, office, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(prefix)
    .bind(tenant.to_string())
    .bind(office)
    .bind(now_text())
    .execute(&mut **tx)
    .await
    .map_err(|e| {
        StorageError::from_write(
            e,
            &format!("Leitweg-ID {prefix} ist bereits einem Empfänger zugeordnet."),
        )
    })?;
    Ok(())
}

async fn update_office(
    tx: &mut Transaction<'_, Any>,
    tenant: TenantId,
    prefix: &str,
    office: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE einvoice_routes SET office = $1 WHERE leitweg_prefix = $2 AND tenant_id = $3",
    )
    .bind(office)
    .bind(prefix)
    .bind(tenant.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn route_entry(
    actor: &str,
    action: &str,
    tenant: TenantId,
    prefix: &str,
    details: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        actor: actor.to_owned(),
        action: action.to_owned(),
        tenant: Some(tenant.to_string()),
        object_type: "einvoice_route".into(),
        object_id: prefix.to_owned(),
        details,
    }
}
