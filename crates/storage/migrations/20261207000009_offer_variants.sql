-- Tenant-local variants of a service. catalog_offers stays the published state (what citizens,
-- the search, the dashboard and the federation export see); it gains the local details (office,
-- fees, note as JSON) and the tenant whose online service is re-used (Einer für Alle).
ALTER TABLE catalog_offers ADD COLUMN details TEXT;
ALTER TABLE catalog_offers ADD COLUMN provided_by TEXT;

-- Editing state per offer: a version that every change (draft, publish, re-use, withdrawal,
-- harvest) counts up (optimistic locking: ETag "version"), and the unpublished draft, seen only
-- by the tenant's staff.
CREATE TABLE catalog_offer_drafts (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    leistung_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    draft TEXT,
    draft_provided_by TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, leistung_id)
);
