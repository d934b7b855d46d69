-- Single-use tokens sent by email: a password reset, or the check of a self-registered
-- customer's address. Only the SHA-256 of a token is kept; it expires, and is spent on use.
CREATE TABLE account_tokens (
    token_hash     BLOB PRIMARY KEY,
    purpose        TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
    principal_type TEXT NOT NULL CHECK (principal_type IN ('user', 'customer')),
    principal_id   INTEGER NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
) WITHOUT ROWID;
CREATE INDEX ix_account_tokens_principal ON account_tokens (principal_type, principal_id, purpose);
CREATE INDEX ix_account_tokens_expiry ON account_tokens (expires_at);

-- Set when a customer registered while the platform asks for an email check, until they follow
-- the link sent to them (or reset their password, which proves the same).
ALTER TABLE customers ADD COLUMN email_unverified INTEGER NOT NULL DEFAULT 0
    CHECK (email_unverified IN (0, 1));
