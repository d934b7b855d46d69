-- Store email settings beyond the seed's columns, the key check, and alert de-duplication.

-- A known value sealed under the instance key: opening it at start proves the key belongs here.
CREATE TABLE secret_key_check (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    check_blob BLOB NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

ALTER TABLE store_email_settings ADD COLUMN mailgun_region TEXT NOT NULL DEFAULT 'us'
    CHECK (mailgun_region IN ('us', 'eu'));
-- Optional open pixel and click redirect for SMTP mail (off by default).
ALTER TABLE store_email_settings ADD COLUMN track_opens INTEGER NOT NULL DEFAULT 0 CHECK (track_opens IN (0, 1));
ALTER TABLE store_email_settings ADD COLUMN track_clicks INTEGER NOT NULL DEFAULT 0 CHECK (track_clicks IN (0, 1));

-- One open alert per cause: a new alert for a cause that already has an unread one is merged.
ALTER TABLE admin_notifications ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX ix_admin_notifications_open_cause ON admin_notifications (dedup_key)
    WHERE is_read = 0 AND dedup_key IS NOT NULL;
