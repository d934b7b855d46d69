-- The email log doubles as a durable outbox: rows are inserted `pending` in the transaction that
-- causes them and claimed by the delivery job with a lease.
ALTER TABLE email_logs ADD COLUMN next_attempt_at TEXT;
ALTER TABLE email_logs ADD COLUMN locked_until TEXT;
-- Set while an attempt is in flight; a lease that expires with it set means the process died
-- mid-send (see the delivery policy in the README).
ALTER TABLE email_logs ADD COLUMN attempt_started_at TEXT;
-- The RFC 5322 Message-ID, fixed at enqueue so every attempt carries the same one.
ALTER TABLE email_logs ADD COLUMN message_id TEXT;
ALTER TABLE email_logs ADD COLUMN language TEXT;
CREATE INDEX ix_email_logs_due ON email_logs (status, next_attempt_at);
CREATE INDEX ix_email_logs_related ON email_logs (related_type, related_id, recipient_email, created_at);
CREATE INDEX ix_email_logs_created ON email_logs (created_at);

-- One-click unsubscribe from one conversation's emails.
ALTER TABLE conversation_participants ADD COLUMN unsubscribe_token TEXT;
CREATE UNIQUE INDEX ix_participants_unsubscribe ON conversation_participants (unsubscribe_token);

-- Addresses that hard-bounced: no more mail to them for that store (store_id NULL: platform mail).
CREATE TABLE email_suppressions (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER REFERENCES stores (id),
    email      TEXT NOT NULL COLLATE NOCASE,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE UNIQUE INDEX ix_email_suppressions ON email_suppressions (coalesce(store_id, 0), email);
