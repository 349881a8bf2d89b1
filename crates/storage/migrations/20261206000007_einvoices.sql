-- E-Rechnung reception: Leitweg-ID routes of the tenants and received invoices with their
-- four-eyes approval (sachlich richtig, rechnerisch richtig) and export to the cash system.

-- A Leitweg-ID or its leading part (Grobadressierung) that delivers to a tenant's office.
CREATE TABLE einvoice_routes (
    leitweg_prefix TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    office TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX einvoice_routes_by_tenant ON einvoice_routes (tenant_id);

CREATE TABLE einvoices (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    office TEXT NOT NULL,
    leitweg_id TEXT NOT NULL,
    syntax TEXT NOT NULL,
    seller_name TEXT NOT NULL,
    -- VAT id of the seller, else another seller identifier; part of the duplicate key.
    seller_key TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    issue_date TEXT,
    due_date TEXT,
    currency TEXT,
    -- Decimal as text (exact), e.g. '1234.50'.
    amount_payable TEXT,
    iban TEXT,
    status TEXT NOT NULL CHECK (status IN ('eingegangen', 'abgelehnt', 'sachlich_richtig', 'freigegeben', 'exportiert')),
    valid INTEGER NOT NULL,
    blob_key TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    report TEXT NOT NULL,
    received_at TEXT NOT NULL,
    sachlich_by TEXT,
    sachlich_at TEXT,
    rechnerisch_by TEXT,
    rechnerisch_at TEXT,
    rejected_by TEXT,
    rejected_at TEXT,
    reject_reason TEXT,
    exported_at TEXT,
    updated_at TEXT NOT NULL
);
-- Duplicates: one live invoice per seller and number at a tenant (a rejected one may be re-sent).
CREATE UNIQUE INDEX einvoices_unique ON einvoices (tenant_id, seller_key, invoice_number) WHERE status <> 'abgelehnt';
CREATE INDEX einvoices_by_tenant ON einvoices (tenant_id, status, received_at);
