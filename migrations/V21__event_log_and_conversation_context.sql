-- The event log: every change a client can see, appended in the transaction that makes it, in
-- commit order (one writer; AUTOINCREMENT so a pruned sequence number is never handed out again,
-- and a client's `after` stays meaningful). What a reader may see is decided at read time by the
-- conversation's visibility rule, so a row names only the conversation, who acted and on what.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type      TEXT    NOT NULL,
    conversation_id INTEGER NOT NULL,
    actor_type      TEXT    NOT NULL CHECK (actor_type IN ('admin', 'store', 'customer')),
    actor_id        INTEGER NOT NULL,
    -- The message created or deleted; for participant.added, null (the actor joined).
    message_id      INTEGER,
    created_at      TEXT    NOT NULL
);
CREATE INDEX ix_events_conversation ON events (conversation_id, seq);
CREATE INDEX ix_events_created ON events (created_at);

-- What a conversation is about, given by the platform or chosen by its creator: an order, a
-- product, an offer, a return, or anything else (custom), by the platform's id, with a label to
-- show and a link back to the platform (kept only for https hosts the admin allowed).
ALTER TABLE conversations ADD COLUMN context_type TEXT
    CHECK (context_type IN ('order', 'product', 'offer', 'return', 'custom'));
ALTER TABLE conversations ADD COLUMN context_id TEXT CHECK (length(context_id) BETWEEN 1 AND 128);
ALTER TABLE conversations ADD COLUMN context_label TEXT CHECK (length(context_label) <= 200);
ALTER TABLE conversations ADD COLUMN context_url TEXT CHECK (length(context_url) <= 2000);
CREATE INDEX ix_conversations_context ON conversations (context_type, context_id)
    WHERE context_type IS NOT NULL;
