-- Online forms: definitions with immutable published versions, their activation by tenants
-- (Einer-für-Alle), drafts, submissions with idempotency keys and attachments.

-- A form belongs to the tenant that made or imported it (the state for templates of all).
CREATE TABLE forms (
    id TEXT PRIMARY KEY,
    owner_tenant_id TEXT NOT NULL REFERENCES tenants (id),
    -- FIM Stammdatenschema id of an imported form (re-import makes a new version of the same form).
    source_id TEXT,
    title TEXT NOT NULL,
    -- Whether other tenants may activate it (Einer-für-Alle template).
    template INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX forms_by_source ON forms (owner_tenant_id, source_id);

-- Versions: a published version is never changed again; edits make a new draft version.
CREATE TABLE form_versions (
    form_id TEXT NOT NULL REFERENCES forms (id),
    version BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    definition TEXT NOT NULL,
    json_schema TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    published_at TEXT,
    PRIMARY KEY (form_id, version)
);

-- Which tenant offers which form, with its own parameters (office, fees, destination, logo).
CREATE TABLE form_activations (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    form_id TEXT NOT NULL REFERENCES forms (id),
    params TEXT NOT NULL DEFAULT '{}',
    active INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, form_id)
);

-- Unsent applications: of an account, or of an anonymous browser (key = hash of its cookie).
CREATE TABLE form_drafts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    form_id TEXT NOT NULL REFERENCES forms (id),
    form_version BIGINT NOT NULL,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    anonymous_key TEXT,
    data TEXT NOT NULL,
    step BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX form_drafts_by_account ON form_drafts (account_id, updated_at);
CREATE INDEX form_drafts_by_anonymous ON form_drafts (anonymous_key);

CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    form_id TEXT NOT NULL REFERENCES forms (id),
    form_version BIGINT NOT NULL,
    account_id TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    idempotency_key TEXT,
    data TEXT NOT NULL,
    status TEXT NOT NULL,
    reference TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX submissions_by_idempotency ON submissions (tenant_id, form_id, idempotency_key);
CREATE INDEX submissions_by_tenant ON submissions (tenant_id, created_at);
CREATE INDEX submissions_by_account ON submissions (account_id, created_at);

-- Uploaded files: the bytes are in the blob store, checked before they get here.
CREATE TABLE submission_attachments (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    submission_id TEXT REFERENCES submissions (id),
    draft_id TEXT,
    field_path TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX submission_attachments_by_submission ON submission_attachments (submission_id);
CREATE INDEX submission_attachments_by_draft ON submission_attachments (draft_id);
