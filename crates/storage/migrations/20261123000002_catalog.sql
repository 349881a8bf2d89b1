-- Service catalogue: defined by a Land (tenant_id = the Land tenant), offered by its tenants.

CREATE TABLE catalog_themenfelder (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE catalog_lebenslagen (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id BIGINT NOT NULL,
    themenfeld_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE catalog_ozg_leistungen (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id BIGINT NOT NULL,
    ozg_id TEXT NOT NULL,
    name TEXT NOT NULL,
    lebenslage_id BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    status BIGINT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE catalog_leistungen (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id BIGINT NOT NULL,
    leika TEXT,
    name TEXT NOT NULL,
    typ TEXT NOT NULL,
    ozg_leistung_id BIGINT,
    legal_basis TEXT NOT NULL,
    laws TEXT NOT NULL,
    law_shortcuts TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX catalog_leistungen_by_leika ON catalog_leistungen (tenant_id, leika);

-- What a tenant offers: one row per service it offers (online or on site). Survives re-imports
-- of the catalogue because it refers to the service by its stable source id.
CREATE TABLE catalog_offers (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    leistung_id BIGINT NOT NULL,
    online BIGINT NOT NULL DEFAULT 0,
    url TEXT,
    maturity BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, leistung_id)
);
