-- New messages enter the full-text index once per transaction instead of once per message. FTS5
-- writes its pending entries out as a new index segment at every savepoint (it cannot roll back
-- part of them), and a write opens savepoints per job and per statement with triggers: so every
-- message became a segment of its own and the index spent its time merging them (10 % of the
-- writer's time under sends at a million messages, 39 % of seeding). Now the triggers queue a new
-- message's entries in this table, and whoever commits indexes the queue first (the writer before
-- every commit: `db::index_queued_messages`), as one segment.
--
-- An entry leaves the queue as it leaves the index: the triggers that take a message out of the
-- index take it out of the queue if it is still there, and out of the index otherwise (a
-- contentless index must never be told to delete what it does not hold).

CREATE TABLE message_search_queue (
    rowid   INTEGER PRIMARY KEY,
    content TEXT NOT NULL
);

DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_soft_delete;
DROP TRIGGER messages_search_delete;
DROP TRIGGER conversations_search_delete;
DROP TRIGGER conversations_search_before_update;
DROP TRIGGER conversations_search_after_update;

-- Every entry of a conversation's messages under its scopes, as index rowids: what the triggers
-- below add, queue or remove.
CREATE VIEW message_search_entries (conversation_id, rowid, content) AS
SELECT m.conversation_id, (s.scope << 47) | m.search_key, m.content
FROM conversation_scopes s JOIN messages m ON m.conversation_id = s.conversation_id
WHERE m.search_key IS NOT NULL AND m.is_deleted = 0 AND m.is_system_message = 0;

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
    INSERT INTO message_search_queue (rowid, content)
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
    FROM conversation_scopes WHERE conversation_id = old.conversation_id
      AND (scope << 47) | old.search_key NOT IN (SELECT rowid FROM message_search_queue);
    DELETE FROM message_search_queue WHERE rowid IN (
        SELECT (scope << 47) | old.search_key FROM conversation_scopes
        WHERE conversation_id = old.conversation_id);
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN old.is_deleted = 0 AND old.is_system_message = 0 AND old.search_key IS NOT NULL BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', (scope << 47) | old.search_key, old.content
    FROM conversation_scopes WHERE conversation_id = old.conversation_id
      AND (scope << 47) | old.search_key NOT IN (SELECT rowid FROM message_search_queue);
    DELETE FROM message_search_queue WHERE rowid IN (
        SELECT (scope << 47) | old.search_key FROM conversation_scopes
        WHERE conversation_id = old.conversation_id);
END;

-- As in V11: a deleted conversation's entries leave while its scopes can still be read.
CREATE TRIGGER conversations_search_delete BEFORE DELETE ON conversations BEGIN
    INSERT INTO conversation_search (conversation_search, rowid, subject)
    SELECT 'delete', (scope << 47) | old.id, old.subject
    FROM conversation_scopes WHERE conversation_id = old.id AND old.id < 134217728;
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', rowid, content FROM message_search_entries
    WHERE conversation_id = old.id AND rowid NOT IN (SELECT rowid FROM message_search_queue);
    DELETE FROM message_search_queue
    WHERE rowid IN (SELECT rowid FROM message_search_entries WHERE conversation_id = old.id);
END;

CREATE TRIGGER conversations_search_before_update BEFORE UPDATE OF subject, store_id, conversation_type
ON conversations BEGIN
    INSERT INTO conversation_search (conversation_search, rowid, subject)
    SELECT 'delete', (scope << 47) | old.id, old.subject
    FROM conversation_scopes WHERE conversation_id = old.id AND old.id < 134217728;
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', rowid, content FROM message_search_entries
    WHERE conversation_id = old.id AND rowid NOT IN (SELECT rowid FROM message_search_queue);
    DELETE FROM message_search_queue
    WHERE rowid IN (SELECT rowid FROM message_search_entries WHERE conversation_id = old.id);
END;

CREATE TRIGGER conversations_search_after_update AFTER UPDATE OF subject, store_id, conversation_type
ON conversations BEGIN
    INSERT INTO conversation_search (rowid, subject)
    SELECT (scope << 47) | new.id, new.subject
    FROM conversation_scopes WHERE conversation_id = new.id AND new.id < 134217728;
    INSERT INTO message_search_queue (rowid, content)
    SELECT rowid, content FROM message_search_entries WHERE conversation_id = new.id;
END;
