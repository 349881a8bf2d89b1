-- Foundation schema: tenants, staff and tokens, accessibility feedback, audit trail.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Ids are UUID text, timestamps RFC 3339 text (UTC).

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('land', 'kreis', 'gemeinde')),
    ags TEXT NOT NULL UNIQUE,
    ars TEXT NOT NULL UNIQUE,
    parent_id TEXT REFERENCES tenants (id),
    display_name TEXT NOT NULL,
    primary_color TEXT NOT NULL,
    accent_color TEXT NOT NULL,
    logo_key TEXT,
    logo_content_type TEXT,
    modules TEXT NOT NULL DEFAULT '[]',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE staff_users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    login TEXT NOT NULL,
    office TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, login)
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    staff_id TEXT NOT NULL REFERENCES staff_users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE accessibility_feedback (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    page TEXT NOT NULL,
    message TEXT NOT NULL,
    contact TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX accessibility_feedback_by_tenant ON accessibility_feedback (tenant_id, created_at);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    tenant_id TEXT,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq);

-- The chain head: last sequence number and hash. Updated in the same transaction as each append;
-- its row lock serialises appenders.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
