-- Single sign-on tokens are used once: the `jti` of each accepted token is kept until the token
-- would have expired anyway, and a second use of it is refused.
CREATE TABLE sso_tokens_used (
    jti        TEXT PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 200),
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX ix_sso_tokens_used_expiry ON sso_tokens_used (expires_at);
