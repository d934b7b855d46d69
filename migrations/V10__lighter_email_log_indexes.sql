-- Every notification a message sends is one email_logs row, written in the message's transaction,
-- so each index of email_logs is paid for on every send. Three of them were wider than needed:

-- (status) is the first column of ix_email_logs_due (status, next_attempt_at), which serves every
-- query by status.
DROP INDEX ix_email_logs_status;

-- Provider message ids and tracking tokens are looked up by value only, and most rows have none
-- (no id until sent; no token unless the store turned tracking on): index only the rows that do.
DROP INDEX ix_email_logs_provider_message_id;
CREATE INDEX ix_email_logs_provider_message_id ON email_logs (provider_message_id)
    WHERE provider_message_id IS NOT NULL;

DROP INDEX ix_email_logs_tracking;
CREATE UNIQUE INDEX ix_email_logs_tracking ON email_logs (tracking_token)
    WHERE tracking_token IS NOT NULL;
