-- Refresh tokens as one row per family (one login's chain of rotations). A refresh token names
-- its family (`rrt_<family_id>.<secret>`), and the row keeps the hash of the family's current
-- token only: a rotation is one UPDATE of that row (before, it marked one row used and inserted
-- another with entries in three indexes: five pages written per refresh, now one). Reuse
-- detection stays exact for everyone who cannot forge a family id: a token that names a family
-- but is not its current token is an earlier one of that family (or made up by someone who held
-- one), and revokes the family.
--
-- Refresh tokens issued before this migration are not carried over (their text does not name a
-- family); clients log in again once.
CREATE TABLE oidc_refresh_families (
    family_id TEXT PRIMARY KEY,
    current_hash TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES oidc_clients (client_id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    sid TEXT NOT NULL,
    scope TEXT NOT NULL,
    level TEXT NOT NULL,
    amr TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    rotated_at TEXT,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX oidc_refresh_families_by_account ON oidc_refresh_families (account_id);

DROP TABLE oidc_refresh_tokens;
