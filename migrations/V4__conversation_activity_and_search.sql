-- Inbox ordering and full-text search.

-- Newest activity first: the time of the last message, or of creation before any message.
-- A real column (kept by the service in the same transaction as the message) so inbox pages
-- walk an index instead of sorting every conversation of a store.
ALTER TABLE conversations ADD COLUMN last_activity_at TEXT;
UPDATE conversations SET last_activity_at = coalesce(last_message_at, created_at);
CREATE INDEX ix_conversations_store_activity ON conversations (store_id, last_activity_at);
CREATE INDEX ix_conversations_type_activity ON conversations (conversation_type, last_activity_at);

-- Message pages walk (conversation_id, id) with the `before` cursor.
CREATE INDEX ix_messages_conversation_id ON messages (conversation_id, id);

-- Full-text search over subjects and message text (FTS5, unicode61 without diacritics, so
-- "cafe" finds "Café"). External-content tables: the text lives once, in the base tables;
-- triggers keep the index in the same transaction as every change, and soft-deleted messages
-- leave the index.
CREATE VIRTUAL TABLE conversation_search USING fts5(
    subject, content = 'conversations', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE message_search USING fts5(
    content, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER conversations_search_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_search (rowid, subject) VALUES (new.id, new.subject);
END;
CREATE TRIGGER conversations_search_update AFTER UPDATE OF subject ON conversations BEGIN
    INSERT INTO conversation_search (conversation_search, rowid, subject) VALUES ('delete', old.id, old.subject);
    INSERT INTO conversation_search (rowid, subject) VALUES (new.id, new.subject);
END;
CREATE TRIGGER conversations_search_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO conversation_search (conversation_search, rowid, subject) VALUES ('delete', old.id, old.subject);
END;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages WHEN new.is_deleted = 0 AND new.is_system_message = 0 BEGIN
    INSERT INTO message_search (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_search_soft_delete AFTER UPDATE OF is_deleted ON messages
WHEN old.is_deleted = 0 AND new.is_deleted = 1 AND old.is_system_message = 0 BEGIN
    INSERT INTO message_search (message_search, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages WHEN old.is_deleted = 0 AND old.is_system_message = 0 BEGIN
    INSERT INTO message_search (message_search, rowid, content) VALUES ('delete', old.id, old.content);
END;
