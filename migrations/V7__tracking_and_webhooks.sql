-- Delivery tracking: provider webhook keys per store, and tokens for the SMTP open pixel and click
-- redirect.
ALTER TABLE store_email_settings ADD COLUMN sendgrid_webhook_public_key TEXT;  -- public: verifies signatures
ALTER TABLE store_email_settings ADD COLUMN mailgun_webhook_signing_key BLOB;   -- sealed
ALTER TABLE email_logs ADD COLUMN tracking_token TEXT;
CREATE UNIQUE INDEX ix_email_logs_tracking ON email_logs (tracking_token);
