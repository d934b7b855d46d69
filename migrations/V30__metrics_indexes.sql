-- The metrics endpoint counts failed webhook deliveries at every scrape; delivered ones grow
-- without bound, so the count reads only this partial index.
CREATE INDEX ix_webhook_deliveries_failed ON webhook_deliveries (endpoint_id) WHERE state = 'failed';
