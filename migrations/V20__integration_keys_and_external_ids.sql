-- Plugging into a marketplace: the platform's backend acts through API keys, and the platform's
-- own ids for stores, staff and customers are kept beside ours so it can create-or-update by them.

-- A key is shown once; only its SHA-256 is kept (it carries 256 random bits, so a fast hash is
-- enough, as for session tokens). `key_prefix` is what lists show to tell keys apart.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    key_hash     BLOB    NOT NULL UNIQUE,
    key_prefix   TEXT    NOT NULL,
    -- Space-separated: provision, conversations, events, sso.
    scopes       TEXT    NOT NULL,
    created_by   INTEGER NOT NULL REFERENCES users (id),
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    last_used_at TEXT,
    revoked_at   TEXT
);

-- The platform's ids. A store's is unique; a staff member's and a customer's are unique within
-- their store (admins, without a store, among admins).
ALTER TABLE stores ADD COLUMN external_id TEXT CHECK (length(external_id) BETWEEN 1 AND 128);
CREATE UNIQUE INDEX ux_stores_external_id ON stores (external_id) WHERE external_id IS NOT NULL;
ALTER TABLE users ADD COLUMN external_id TEXT CHECK (length(external_id) BETWEEN 1 AND 128);
CREATE UNIQUE INDEX ux_users_external_id ON users (coalesce(store_id, 0), external_id)
    WHERE external_id IS NOT NULL;
ALTER TABLE customers ADD COLUMN external_id TEXT CHECK (length(external_id) BETWEEN 1 AND 128);
CREATE UNIQUE INDEX ux_customers_external_id ON customers (store_id, external_id)
    WHERE external_id IS NOT NULL;

-- Who did what, for actions taken by something other than a signed-in person (an API key now;
-- an admin reading a conversation they are not part of, later): `actor` is "key:3", `target`
-- "customer:17".
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL
);
CREATE INDEX ix_audit_log_actor ON audit_log (actor, id);
