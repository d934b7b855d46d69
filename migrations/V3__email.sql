-- Email (seed data model: EmailTemplate, StoreEmailTemplate, EmailLog, StoreEmailSettings,
-- AdminNotification).

CREATE TABLE email_templates (
    id                 INTEGER PRIMARY KEY,
    code               TEXT    NOT NULL CHECK (length(code) BETWEEN 1 AND 100),
    language           TEXT    NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 5),
    name               TEXT    NOT NULL CHECK (length(name) <= 255),
    description        TEXT,
    category           TEXT    NOT NULL DEFAULT 'system'
                       CHECK (category IN ('auth', 'orders', 'billing', 'system', 'marketing')),
    subject            TEXT    NOT NULL CHECK (length(subject) <= 500),
    body_html          TEXT    NOT NULL,
    body_text          TEXT,
    variables          TEXT,   -- JSON list of expected variables
    required_variables TEXT,   -- JSON list of mandatory variables
    is_active          INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    is_platform_only   INTEGER NOT NULL DEFAULT 0 CHECK (is_platform_only IN (0, 1)),
    created_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (code, language)
);
CREATE INDEX ix_email_templates_code ON email_templates (code);
CREATE INDEX ix_email_templates_category ON email_templates (category);

CREATE TABLE store_email_templates (
    id            INTEGER PRIMARY KEY,
    store_id      INTEGER NOT NULL REFERENCES stores (id),
    template_code TEXT    NOT NULL CHECK (length(template_code) BETWEEN 1 AND 100),
    language      TEXT    NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 5),
    name          TEXT CHECK (length(name) <= 255),
    subject       TEXT    NOT NULL CHECK (length(subject) <= 500),
    body_html     TEXT    NOT NULL,
    body_text     TEXT,
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (store_id, template_code, language)
);
CREATE INDEX ix_store_email_templates_store ON store_email_templates (store_id);
CREATE INDEX ix_store_email_templates_code ON store_email_templates (template_code);

CREATE TABLE email_logs (
    id                  INTEGER PRIMARY KEY,
    template_code       TEXT CHECK (length(template_code) <= 100),
    template_id         INTEGER REFERENCES email_templates (id) ON DELETE SET NULL,
    recipient_email     TEXT    NOT NULL CHECK (length(recipient_email) <= 255),
    recipient_name      TEXT CHECK (length(recipient_name) <= 255),
    subject             TEXT    NOT NULL CHECK (length(subject) <= 500),
    body_html           TEXT,
    body_text           TEXT,
    from_email          TEXT    NOT NULL CHECK (length(from_email) <= 255),
    from_name           TEXT CHECK (length(from_name) <= 255),
    reply_to            TEXT CHECK (length(reply_to) <= 255),
    status              TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sent', 'failed', 'bounced', 'delivered', 'opened', 'clicked')),
    sent_at             TEXT,
    delivered_at        TEXT,
    opened_at           TEXT,
    clicked_at          TEXT,
    error_message       TEXT,
    retry_count         INTEGER NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    provider            TEXT CHECK (provider IN ('smtp', 'sendgrid', 'mailgun', 'ses')),
    provider_message_id TEXT CHECK (length(provider_message_id) <= 255),
    store_id            INTEGER REFERENCES stores (id),
    user_id             INTEGER REFERENCES users (id),
    related_type        TEXT CHECK (length(related_type) <= 50),
    related_id          INTEGER,
    extra_data          TEXT,   -- JSON additional context
    created_at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX ix_email_logs_template_code ON email_logs (template_code);
CREATE INDEX ix_email_logs_recipient ON email_logs (recipient_email);
CREATE INDEX ix_email_logs_status ON email_logs (status);
CREATE INDEX ix_email_logs_provider_message_id ON email_logs (provider_message_id);
CREATE INDEX ix_email_logs_store ON email_logs (store_id);
CREATE INDEX ix_email_logs_user ON email_logs (user_id);

CREATE TABLE store_email_settings (
    id                    INTEGER PRIMARY KEY,
    store_id              INTEGER NOT NULL UNIQUE REFERENCES stores (id),
    from_email            TEXT    NOT NULL CHECK (length(from_email) <= 255),
    from_name             TEXT    NOT NULL CHECK (length(from_name) <= 100),
    reply_to_email        TEXT CHECK (length(reply_to_email) <= 255),
    signature_text        TEXT,
    signature_html        TEXT,
    provider              TEXT    NOT NULL DEFAULT 'smtp'
                          CHECK (provider IN ('smtp', 'sendgrid', 'mailgun', 'ses')),
    smtp_host             TEXT CHECK (length(smtp_host) <= 255),
    smtp_port             INTEGER DEFAULT 587 CHECK (smtp_port BETWEEN 1 AND 65535),
    smtp_username         TEXT CHECK (length(smtp_username) <= 255),
    smtp_password         BLOB,   -- sealed (XChaCha20-Poly1305)
    smtp_use_tls          INTEGER NOT NULL DEFAULT 1 CHECK (smtp_use_tls IN (0, 1)),
    smtp_use_ssl          INTEGER NOT NULL DEFAULT 0 CHECK (smtp_use_ssl IN (0, 1)),
    sendgrid_api_key      BLOB,   -- sealed
    mailgun_api_key       BLOB,   -- sealed
    mailgun_domain        TEXT CHECK (length(mailgun_domain) <= 255),
    ses_access_key_id     TEXT CHECK (length(ses_access_key_id) <= 100),
    ses_secret_access_key BLOB,   -- sealed
    ses_region            TEXT DEFAULT 'eu-west-1' CHECK (length(ses_region) <= 50),
    is_configured         INTEGER NOT NULL DEFAULT 0 CHECK (is_configured IN (0, 1)),
    is_verified           INTEGER NOT NULL DEFAULT 0 CHECK (is_verified IN (0, 1)),
    last_verified_at      TEXT,
    verification_error    TEXT,
    created_at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX ix_store_email_settings_configured ON store_email_settings (store_id, is_configured);

CREATE TABLE admin_notifications (
    id                    INTEGER PRIMARY KEY,
    type                  TEXT    NOT NULL CHECK (length(type) BETWEEN 1 AND 50),
    priority              TEXT    NOT NULL DEFAULT 'normal'
                          CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    title                 TEXT    NOT NULL CHECK (length(title) <= 200),
    message               TEXT    NOT NULL,
    is_read               INTEGER NOT NULL DEFAULT 0 CHECK (is_read IN (0, 1)),
    read_at               TEXT,
    read_by_user_id       INTEGER REFERENCES users (id),
    action_required       INTEGER NOT NULL DEFAULT 0 CHECK (action_required IN (0, 1)),
    action_url            TEXT CHECK (length(action_url) <= 500),
    notification_metadata TEXT,   -- JSON
    created_at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX ix_admin_notifications_type ON admin_notifications (type);
CREATE INDEX ix_admin_notifications_priority ON admin_notifications (priority);
CREATE INDEX ix_admin_notifications_is_read ON admin_notifications (is_read);
CREATE INDEX ix_admin_notifications_action_required ON admin_notifications (action_required);
