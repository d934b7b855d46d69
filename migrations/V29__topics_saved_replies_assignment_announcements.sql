-- Working a busy inbox (issue: marketplace flows): topics the operator manages, saved replies,
-- one staff member a store conversation is assigned to, and announcements to many stores.

-- A topic's names by language (JSON object, "en" required) and the roles that may choose it
-- (space-separated: customer, store, admin). Topics in use are retired, never deleted.
CREATE TABLE topics (
    id         INTEGER PRIMARY KEY,
    names      TEXT    NOT NULL CHECK (json_valid(names) AND json_type(names, '$.en') = 'text'),
    roles      TEXT    NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0,
    is_active  INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

ALTER TABLE conversations ADD COLUMN topic_id INTEGER REFERENCES topics (id);
CREATE INDEX ix_conversations_topic ON conversations (topic_id, store_id) WHERE topic_id IS NOT NULL;

-- A store's saved replies (store_id) or the platform's (NULL), which it may offer to stores.
-- The body is a template in the store email templates' dialect.
CREATE TABLE saved_replies (
    id                 INTEGER PRIMARY KEY,
    store_id           INTEGER REFERENCES stores (id),
    title              TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    body               TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    shared_with_stores INTEGER NOT NULL DEFAULT 0 CHECK (shared_with_stores IN (0, 1)),
    created_by         INTEGER NOT NULL REFERENCES users (id),
    created_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    CHECK (store_id IS NULL OR shared_with_stores = 0)
);
CREATE INDEX ix_saved_replies_store ON saved_replies (store_id);

-- The staff member a store conversation is assigned to.
ALTER TABLE conversations ADD COLUMN assignee_id INTEGER REFERENCES users (id);
CREATE INDEX ix_conversations_assignee ON conversations (store_id, assignee_id, last_activity_at)
    WHERE assignee_id IS NOT NULL;

-- An admin's message to many stores: each store gets it as its own admin_store conversation.
CREATE TABLE announcements (
    id         INTEGER PRIMARY KEY,
    subject    TEXT    NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
    message    TEXT    NOT NULL,
    -- JSON: "all", {"tier": …} or [store ids].
    audience   TEXT    NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
ALTER TABLE conversations ADD COLUMN announcement_id INTEGER REFERENCES announcements (id);
CREATE INDEX ix_conversations_announcement ON conversations (announcement_id)
    WHERE announcement_id IS NOT NULL;
