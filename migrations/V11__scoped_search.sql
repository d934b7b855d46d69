-- Search that answers from the full-text index alone, in time proportional to what the caller may
-- see. The V4 index knew only message ids: every hit cost a visit to its message row (somewhere in
-- the largest table) to learn its conversation, then to the conversation to learn who may see it,
-- and every search walked the hits of the whole platform.
--
-- Now an indexed rowid says both, high bits first:
--   scope (16 bits) | conversation id (27 bits) | message number within the conversation (20 bits)
-- A scope is who may see the conversation: 0 for platform admins (admin_store and admin_customer
-- conversations), N for store N's staff (store_customer and admin_store conversations of store N);
-- an admin_store conversation is indexed under both. One scope is one rowid range, so a search is
-- `MATCH … AND rowid BETWEEN` over the caller's range only, and a hit's conversation is read from
-- its rowid. Limits of the layout: stores 1–65,535, conversation ids below 134,217,728, and the
-- first 1,048,576 messages of a conversation are searchable.
--
-- Contentless tables (the text lives once, in messages and conversations), no per-row column
-- sizes (nothing ranks by length), so a send writes only the index itself. Removal uses the
-- 'delete' command with the indexed text, which the triggers read from the same rows.

DROP TRIGGER conversations_search_insert;
DROP TRIGGER conversations_search_update;
DROP TRIGGER conversations_search_delete;
DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_soft_delete;
DROP TRIGGER messages_search_delete;
DROP TABLE conversation_search;
DROP TABLE message_search;

CREATE VIRTUAL TABLE conversation_search USING fts5(
    subject, content = '', columnsize = 0, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE message_search USING fts5(
    content, content = '', columnsize = 0, tokenize = 'unicode61 remove_diacritics 2'
);

-- Who may see each conversation, as scope numbers (one or two rows per conversation). Triggers
-- read it for one conversation id at a time, which SQLite pushes into both halves.
CREATE VIEW conversation_scopes (conversation_id, scope) AS
SELECT id, store_id FROM conversations
WHERE conversation_type IN ('store_customer', 'admin_store') AND store_id BETWEEN 1 AND 65535
UNION ALL
SELECT id, 0 FROM conversations WHERE conversation_type IN ('admin_store', 'admin_customer');

-- A message's place in the index below its scope: conversation id and number within it. NULL when
-- it does not fit (the message is then not searchable).
ALTER TABLE messages ADD COLUMN search_key INTEGER;
UPDATE messages SET search_key = k.search_key
FROM (SELECT id,
             CASE WHEN conversation_id < 134217728 AND n < 1048576 THEN (conversation_id << 20) | n END
                 AS search_key
      FROM (SELECT id, conversation_id,
                   row_number() OVER (PARTITION BY conversation_id ORDER BY id) - 1 AS n
            FROM messages)) AS k
WHERE messages.id = k.id;

-- The backfill spells the view's two halves out: joined whole, the view would be materialized.
INSERT INTO conversation_search (rowid, subject)
SELECT (store_id << 47) | id, subject FROM conversations
WHERE conversation_type IN ('store_customer', 'admin_store') AND store_id BETWEEN 1 AND 65535
  AND id < 134217728
UNION ALL
SELECT id, subject FROM conversations
WHERE conversation_type IN ('admin_store', 'admin_customer') AND id < 134217728;

INSERT INTO message_search (rowid, content)
SELECT (c.store_id << 47) | m.search_key, m.content
FROM messages m JOIN conversations c ON c.id = m.conversation_id
WHERE c.conversation_type IN ('store_customer', 'admin_store') AND c.store_id BETWEEN 1 AND 65535
  AND m.search_key IS NOT NULL AND m.is_deleted = 0 AND m.is_system_message = 0
UNION ALL
SELECT m.search_key, m.content
FROM messages m JOIN conversations c ON c.id = m.conversation_id
WHERE c.conversation_type IN ('admin_store', 'admin_customer')
  AND m.search_key IS NOT NULL AND m.is_deleted = 0 AND m.is_system_message = 0;

CREATE TRIGGER conversations_search_insert AFTER INSERT ON conversations
WHEN new.id < 134217728 BEGIN
    INSERT INTO conversation_search (rowid, subject)
    SELECT (scope << 47) | new.id, new.subject FROM conversation_scopes WHERE conversation_id = new.id;
END;

-- A deleted conversation takes its messages along (ON DELETE CASCADE), after it is gone: their
-- index entries leave here, while the scopes can still be read (the message trigger then finds no
-- scope and does nothing).
CREATE TRIGGER conversations_search_delete BEFORE DELETE ON conversations BEGIN
    INSERT INTO conversation_search (conversation_search, rowid, subject)
    SELECT 'delete', (scope << 47) | old.id, old.subject
    FROM conversation_scopes WHERE conversation_id = old.id AND old.id < 134217728;
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', (s.scope << 47) | m.search_key, m.content
    FROM conversation_scopes s, messages m
    WHERE s.conversation_id = old.id AND m.conversation_id = old.id AND m.search_key IS NOT NULL
      AND m.is_deleted = 0 AND m.is_system_message = 0;
END;

-- The service never changes a conversation's subject, store or type; should anything else do so,
-- the conversation and its messages are indexed again under the new scopes.
CREATE TRIGGER conversations_search_before_update BEFORE UPDATE OF subject, store_id, conversation_type
ON conversations BEGIN
    INSERT INTO conversation_search (conversation_search, rowid, subject)
    SELECT 'delete', (scope << 47) | old.id, old.subject
    FROM conversation_scopes WHERE conversation_id = old.id AND old.id < 134217728;
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', (s.scope << 47) | m.search_key, m.content
    FROM conversation_scopes s, messages m
    WHERE s.conversation_id = old.id AND m.conversation_id = old.id AND m.search_key IS NOT NULL
      AND m.is_deleted = 0 AND m.is_system_message = 0;
END;
CREATE TRIGGER conversations_search_after_update AFTER UPDATE OF subject, store_id, conversation_type
ON conversations BEGIN
    INSERT INTO conversation_search (rowid, subject)
    SELECT (scope << 47) | new.id, new.subject
    FROM conversation_scopes WHERE conversation_id = new.id AND new.id < 134217728;
    INSERT INTO message_search (rowid, content)
    SELECT (s.scope << 47) | m.search_key, m.content
    FROM conversation_scopes s, messages m
    WHERE s.conversation_id = new.id AND m.conversation_id = new.id AND m.search_key IS NOT NULL
      AND m.is_deleted = 0 AND m.is_system_message = 0;
END;

-- A new message takes the number after its conversation's previous message (every message is
-- numbered, searchable or not), then enters the index under each scope.
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
    WHERE id = new.id;
    INSERT INTO message_search (rowid, content)
    SELECT (s.scope << 47) | k.search_key, new.content
    FROM conversation_scopes s, (SELECT search_key FROM messages WHERE id = new.id) k
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
