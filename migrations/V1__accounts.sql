-- Tenancy and accounts: stores, their staff and customers, platform admins,
-- login sessions and platform settings.
-- Timestamps are UTC text as rusqlite writes chrono values ("YYYY-MM-DD HH:MM:SS.fff+00:00"),
-- so the SQL defaults below use the same shape and text order is time order.

CREATE TABLE stores (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    tier        TEXT    NOT NULL DEFAULT 'essential'
                CHECK (tier IN ('essential', 'professional', 'business', 'enterprise')),
    is_active   INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

-- Platform admins (store_id NULL) and store staff (store_id set).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(email) BETWEEN 3 AND 255),
    password_hash TEXT    NOT NULL,
    full_name     TEXT    NOT NULL CHECK (length(full_name) <= 255),
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'store')),
    store_id      INTEGER REFERENCES stores (id),
    language      TEXT    NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 5),
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    CHECK ((role = 'admin') = (store_id IS NULL))
);
CREATE INDEX ix_users_store ON users (store_id, id);

-- Customers belong to one store; the same email may exist in two stores.
-- password_hash is NULL for customers created by staff who have not registered.
CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    store_id      INTEGER NOT NULL REFERENCES stores (id),
    email         TEXT    NOT NULL COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 255),
    password_hash TEXT,
    full_name     TEXT    NOT NULL CHECK (length(full_name) <= 255),
    language      TEXT    NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 5),
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (store_id, email)
);

-- Bearer tokens and cookie sessions. Only the SHA-256 of the token is stored.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB    NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('bearer', 'cookie')),
    csrf_token   TEXT,
    user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
    customer_id  INTEGER REFERENCES customers (id) ON DELETE CASCADE,
    expires_at   TEXT    NOT NULL,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    CHECK ((user_id IS NULL) <> (customer_id IS NULL)),
    CHECK ((kind = 'cookie') = (csrf_token IS NOT NULL))
);
CREATE INDEX ix_sessions_user ON sessions (user_id);
CREATE INDEX ix_sessions_customer ON sessions (customer_id);
CREATE INDEX ix_sessions_expires ON sessions (expires_at);

-- Platform settings (e.g. message_attachment_max_size_mb). Absent keys take the built-in default.
CREATE TABLE platform_settings (
    key         TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 100),
    value       TEXT NOT NULL,
    category    TEXT NOT NULL DEFAULT 'system',
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
