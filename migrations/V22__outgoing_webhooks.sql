-- Outgoing webhooks: endpoints registered by an admin (every event) or by a store's staff (their
-- store's events), fed from the event log. Each endpoint keeps a cursor in the log; the delivery
-- job turns the events after it into deliveries (the durable queue), so nothing is added to the
-- transactions that make the changes, and a restart resumes where the cursor and queue stand.
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY,
    -- NULL: the platform's (an admin's) endpoint; else the store whose events it receives.
    store_id        INTEGER REFERENCES stores (id),
    url             TEXT    NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    description     TEXT    CHECK (length(description) <= 200),
    -- JSON array of event types; NULL: all.
    event_types     TEXT,
    -- The signing secret (whsec_…), sealed like provider credentials.
    secret_sealed   BLOB    NOT NULL,
    created_by      TEXT    NOT NULL,
    -- The last event-log sequence number turned into deliveries for this endpoint.
    cursor_seq      INTEGER NOT NULL,
    is_active       INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    -- Since when every attempt has failed (NULL while deliveries succeed).
    failing_since   TEXT,
    disabled_at     TEXT,
    disabled_reason TEXT,
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX ix_webhook_endpoints_store ON webhook_endpoints (store_id);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_seq       INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    -- The body, fixed when the delivery is made, so every attempt sends the same bytes.
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_attempt_at TEXT,
    -- What the receiver answered last: its status (NULL when it could not be reached), the start
    -- of its body, or why there was no answer.
    last_status     INTEGER,
    last_response   TEXT,
    last_error      TEXT,
    delivered_at    TEXT,
    created_at      TEXT    NOT NULL,
    UNIQUE (endpoint_id, event_seq)
);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- The older pending delivery of the same conversation that holds a later one back.
CREATE INDEX ix_webhook_deliveries_order ON webhook_deliveries (endpoint_id, conversation_id, event_seq)
    WHERE state = 'pending';
CREATE INDEX ix_webhook_deliveries_log ON webhook_deliveries (endpoint_id, id);
