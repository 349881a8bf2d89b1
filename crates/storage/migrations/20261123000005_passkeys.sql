-- Servicekonto: WebAuthn passkeys as a second factor, and the state of running WebAuthn
-- ceremonies (registration, authentication). A passkey row holds only the public key and its
-- counter (the credential as webauthn-rs serialises it); a ceremony row holds the challenge
-- for one answer, is used once and expires after minutes. Both go with their account.

CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    credential TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX passkeys_by_account ON passkeys (account_id);

CREATE TABLE passkey_ceremonies (
    id_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('register', 'authenticate')),
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX passkey_ceremonies_by_account ON passkey_ceremonies (account_id);
