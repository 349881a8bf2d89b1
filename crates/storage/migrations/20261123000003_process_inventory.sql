-- Prozessinventur: per tenant and service, how often and how long it is handled, by whom.
CREATE TABLE process_inventory (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    leistung_id BIGINT NOT NULL,
    cases_per_year BIGINT NOT NULL,
    minutes_per_case BIGINT NOT NULL,
    office TEXT NOT NULL,
    involved_offices TEXT NOT NULL,
    legal_notes TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, leistung_id)
);
