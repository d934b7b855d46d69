-- A conversation's messages side by side on disk. In a rowid table messages sit in the order they
-- arrived, so the latest 50 of a conversation were 50 rows on up to 50 pages spread over the whole
-- table; keyed by (conversation, id) they fill two or three neighbouring pages, and a thread reads
-- those (measured on a million messages: 98 µs → 36 µs for a page of 50, random conversations).
-- `id` stays the message's own number, unique across the platform (assigned by the one writer as
-- the next after the largest, as a rowid table did), and what attachments refer to.
--
-- Dropping the old table with foreign keys on deletes what refers to it (attachments, through
-- ON DELETE CASCADE), so the attachment rows are kept aside and put back. The search triggers are
-- dropped with the table and created again, reading the message through the new key.

CREATE TEMP TABLE kept_attachments AS SELECT * FROM message_attachments;

CREATE TABLE messages_by_conversation (
    conversation_id   INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    id                INTEGER NOT NULL,
    sender_type       TEXT    NOT NULL CHECK (sender_type IN ('admin', 'store', 'customer')),
    sender_id         INTEGER NOT NULL,
    content           TEXT    NOT NULL,
    is_system_message INTEGER NOT NULL DEFAULT 0 CHECK (is_system_message IN (0, 1)),
    is_deleted        INTEGER NOT NULL DEFAULT 0 CHECK (is_deleted IN (0, 1)),
    deleted_at        TEXT,
    deleted_by_type   TEXT CHECK (deleted_by_type IN ('admin', 'store', 'customer')),
    deleted_by_id     INTEGER,
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    search_key        INTEGER,
    PRIMARY KEY (conversation_id, id)
) WITHOUT ROWID;

INSERT INTO messages_by_conversation
    (conversation_id, id, sender_type, sender_id, content, is_system_message, is_deleted, deleted_at,
     deleted_by_type, deleted_by_id, created_at, updated_at, search_key)
SELECT conversation_id, id, sender_type, sender_id, content, is_system_message, is_deleted, deleted_at,
       deleted_by_type, deleted_by_id, created_at, updated_at, search_key
FROM messages ORDER BY conversation_id, id;

DROP TABLE messages;
-- The triggers on conversations that read messages refer to the name `messages`; a modern rename
-- checks them while no such table exists, a legacy rename only renames.
PRAGMA legacy_alter_table = ON;
ALTER TABLE messages_by_conversation RENAME TO messages;
PRAGMA legacy_alter_table = OFF;

CREATE UNIQUE INDEX ux_messages_id ON messages (id);
CREATE INDEX ix_messages_sender ON messages (sender_id);

INSERT INTO message_attachments SELECT * FROM kept_attachments;
DROP TABLE kept_attachments;

-- As in V11, with the message found by its key.
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    UPDATE messages SET search_key = (
        SELECT CASE
                   WHEN new.conversation_id >= 134217728 THEN NULL
                   WHEN prev.key IS NULL THEN new.conversation_id << 20
                   WHEN prev.key < 0 OR prev.key & 1048575 = 1048575 THEN NULL
                   ELSE prev.key + 1
               END
        FROM (SELECT (SELECT coalesce(p.search_key, -1) FROM messages p
                      WHERE p.conversation_id = new.conversation_id AND p.id < new.id
                      ORDER BY p.id DESC LIMIT 1) AS key) AS prev)
    WHERE conversation_id = new.conversation_id AND id = new.id;
    INSERT INTO message_search (rowid, content)
    SELECT (s.scope << 47) | k.search_key, new.content
    FROM conversation_scopes s,
         (SELECT search_key FROM messages WHERE conversation_id = new.conversation_id AND id = new.id) k
    WHERE s.conversation_id = new.conversation_id AND k.search_key IS NOT NULL
      AND new.is_deleted = 0 AND new.is_system_message = 0;
END;
CREATE TRIGGER messages_search_soft_delete AFTER UPDATE OF is_deleted ON messages
WHEN old.is_deleted = 0 AND new.is_deleted = 1 AND old.is_system_message = 0
     AND old.search_key IS NOT NULL BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', (scope << 47) | old.search_key, old.content
    FROM conversation_scopes WHERE conversation_id = old.conversation_id;
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN old.is_deleted = 0 AND old.is_system_message = 0 AND old.search_key IS NOT NULL BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', (scope << 47) | old.search_key, old.content
    FROM conversation_scopes WHERE conversation_id = old.conversation_id;
END;
