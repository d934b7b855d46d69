-- A delivery refused for as long as an endpoint may fail is given up (`failed`), so one event a
-- receiver never accepts does not hold back the rest of its conversation for ever. SQLite cannot
-- change a CHECK in place: the table is built again with the same rows.
CREATE TABLE webhook_deliveries_new (
    id              INTEGER PRIMARY KEY,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_seq       INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_attempt_at TEXT,
    last_status     INTEGER,
    last_response   TEXT,
    last_error      TEXT,
    delivered_at    TEXT,
    created_at      TEXT    NOT NULL,
    UNIQUE (endpoint_id, event_seq)
);
INSERT INTO webhook_deliveries_new SELECT * FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX ix_webhook_deliveries_order ON webhook_deliveries (endpoint_id, conversation_id, event_seq)
    WHERE state = 'pending';
CREATE INDEX ix_webhook_deliveries_log ON webhook_deliveries (endpoint_id, id);
