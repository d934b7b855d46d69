-- Search that answers from the full-text index alone. The V4 index knew only message ids, so every
-- hit cost a visit to its message row (somewhere in the largest table) to learn its conversation,
-- and then to the conversation to learn who may see it.
--
-- Now each indexed message carries both:
--   * its rowid is (conversation_id << 32) | message_id: the conversation is `rowid >> 32`, and a
--     conversation's messages are one rowid range. Message ids stay below 2^32 (4 billion).
--   * a `scope` column of access tokens: `store<N>` when store N's staff see the conversation
--     (store_customer and admin_store conversations of store N), `admin` when platform admins do
--     (admin_store and admin_customer). A query for `scope : store3` is exactly what store 3's staff
--     may see, so counting matches needs no table at all.
-- Contentless tables (the text lives once, in messages and conversations); no per-row column
-- sizes (nothing ranks by length), so a send writes only the index itself. Removal uses the
-- 'delete' command with the indexed values, which the triggers rebuild from the same rows.

DROP TRIGGER conversations_search_insert;
DROP TRIGGER conversations_search_update;
DROP TRIGGER conversations_search_delete;
DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_soft_delete;
DROP TRIGGER messages_search_delete;
DROP TABLE conversation_search;
DROP TABLE message_search;

CREATE VIRTUAL TABLE conversation_search USING fts5(
    subject, scope, content = '', columnsize = 0, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE message_search USING fts5(
    content, scope, content = '', columnsize = 0, tokenize = 'unicode61 remove_diacritics 2'
);

-- The scope tokens of a conversation, as a view so every trigger spells them the same way (the
-- 'delete' command must be given exactly what was indexed).
CREATE VIEW conversation_scope (id, scope) AS
SELECT id,
       trim(CASE WHEN conversation_type IN ('store_customer', 'admin_store') AND store_id IS NOT NULL
                 THEN 'store' || store_id ELSE '' END
            || CASE WHEN conversation_type IN ('admin_store', 'admin_customer') THEN ' admin' ELSE '' END)
FROM conversations;

INSERT INTO conversation_search (rowid, subject, scope)
SELECT c.id, c.subject, s.scope FROM conversations c JOIN conversation_scope s ON s.id = c.id;

INSERT INTO message_search (rowid, content, scope)
SELECT (m.conversation_id << 32) | m.id, m.content, s.scope
FROM messages m JOIN conversation_scope s ON s.id = m.conversation_id
WHERE m.is_deleted = 0 AND m.is_system_message = 0;

CREATE TRIGGER conversations_search_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_search (rowid, subject, scope)
    SELECT new.id, new.subject, scope FROM conversation_scope WHERE id = new.id;
END;

-- A deleted conversation takes its messages along (ON DELETE CASCADE), after it is gone: their
-- index entries leave here, while the scope can still be read (the message trigger then finds no
-- conversation and does nothing).
CREATE TRIGGER conversations_search_delete BEFORE DELETE ON conversations BEGIN
    INSERT INTO conversation_search (conversation_search, rowid, subject, scope)
    SELECT 'delete', old.id, old.subject, scope FROM conversation_scope WHERE id = old.id;
    INSERT INTO message_search (message_search, rowid, content, scope)
    SELECT 'delete', (m.conversation_id << 32) | m.id, m.content, s.scope
    FROM messages m JOIN conversation_scope s ON s.id = m.conversation_id
    WHERE m.conversation_id = old.id AND m.is_deleted = 0 AND m.is_system_message = 0;
END;

-- The service never changes a conversation's subject, store or type; should anything else do so,
-- the conversation and its messages are indexed again under the new values.
CREATE TRIGGER conversations_search_before_update BEFORE UPDATE OF subject, store_id, conversation_type
ON conversations BEGIN
    INSERT INTO conversation_search (conversation_search, rowid, subject, scope)
    SELECT 'delete', old.id, old.subject, scope FROM conversation_scope WHERE id = old.id;
    INSERT INTO message_search (message_search, rowid, content, scope)
    SELECT 'delete', (m.conversation_id << 32) | m.id, m.content, s.scope
    FROM messages m JOIN conversation_scope s ON s.id = m.conversation_id
    WHERE m.conversation_id = old.id AND m.is_deleted = 0 AND m.is_system_message = 0;
END;
CREATE TRIGGER conversations_search_after_update AFTER UPDATE OF subject, store_id, conversation_type
ON conversations BEGIN
    INSERT INTO conversation_search (rowid, subject, scope)
    SELECT new.id, new.subject, scope FROM conversation_scope WHERE id = new.id;
    INSERT INTO message_search (rowid, content, scope)
    SELECT (m.conversation_id << 32) | m.id, m.content, s.scope
    FROM messages m JOIN conversation_scope s ON s.id = m.conversation_id
    WHERE m.conversation_id = new.id AND m.is_deleted = 0 AND m.is_system_message = 0;
END;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
WHEN new.is_deleted = 0 AND new.is_system_message = 0 BEGIN
    INSERT INTO message_search (rowid, content, scope)
    SELECT (new.conversation_id << 32) | new.id, new.content, scope
    FROM conversation_scope WHERE id = new.conversation_id;
END;
CREATE TRIGGER messages_search_soft_delete AFTER UPDATE OF is_deleted ON messages
WHEN old.is_deleted = 0 AND new.is_deleted = 1 AND old.is_system_message = 0 BEGIN
    INSERT INTO message_search (message_search, rowid, content, scope)
    SELECT 'delete', (old.conversation_id << 32) | old.id, old.content, scope
    FROM conversation_scope WHERE id = old.conversation_id;
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN old.is_deleted = 0 AND old.is_system_message = 0 BEGIN
    INSERT INTO message_search (message_search, rowid, content, scope)
    SELECT 'delete', (old.conversation_id << 32) | old.id, old.content, scope
    FROM conversation_scope WHERE id = old.conversation_id;
END;
