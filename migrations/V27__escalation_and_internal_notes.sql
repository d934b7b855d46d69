-- The platform steps into a store_customer conversation when a party asks it to (issue: marketplace
-- flows): the admin team joins as participants, and the conversation shows as escalated until an
-- admin resolves it. Inside it, staff and admins may write internal notes the customer never sees.

ALTER TABLE conversations ADD COLUMN escalated_at TEXT;
ALTER TABLE conversations ADD COLUMN escalated_by_type TEXT
    CHECK (escalated_by_type IN ('store', 'customer'));
ALTER TABLE conversations ADD COLUMN escalated_by_id INTEGER;
ALTER TABLE conversations ADD COLUMN escalation_reason TEXT CHECK (length(escalation_reason) <= 1000);
ALTER TABLE conversations ADD COLUMN resolved_at TEXT;

-- An admin's inbox holds the store_customer conversations the admin team joined: few, found
-- newest first here while the rest of the inbox comes from the type index.
CREATE INDEX ix_conversations_admin_joined ON conversations (conversation_type, last_activity_at)
    WHERE first_admin_id IS NOT NULL;

-- Internal notes: never shown to customers, nor counted in what customers see of the
-- conversation (message count, last message, activity).
ALTER TABLE messages ADD COLUMN internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1));
ALTER TABLE events ADD COLUMN internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1));

-- System messages record more events now. SQLite cannot widen a CHECK in place: the column is
-- added again with the wider one and its values moved over (DROP COLUMN rewrites the table).
ALTER TABLE messages ADD COLUMN system_event_widened TEXT
    CHECK (system_event_widened IN ('closed', 'reopened', 'escalated', 'resolved', 'assigned', 'unassigned'));
UPDATE messages SET system_event_widened = system_event WHERE system_event IS NOT NULL;
ALTER TABLE messages DROP COLUMN system_event;
ALTER TABLE messages RENAME COLUMN system_event_widened TO system_event;

-- Internal notes are indexed under the negative of their rowid (search.rs): customers' searches
-- read only positive ranges, so no note can make a conversation a hit for them.
DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_soft_delete;
DROP TRIGGER messages_search_delete;
DROP VIEW message_search_entries;

CREATE VIEW message_search_entries (conversation_id, rowid, content) AS
SELECT m.conversation_id, (CASE WHEN m.internal THEN -1 ELSE 1 END) * ((s.scope << 47) | m.search_key),
       m.content
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
    SELECT (CASE WHEN new.internal THEN -1 ELSE 1 END) * ((s.scope << 47) | k.search_key), new.content
    FROM conversation_scopes s,
         (SELECT search_key FROM messages WHERE conversation_id = new.conversation_id AND id = new.id) k
    WHERE s.conversation_id = new.conversation_id AND k.search_key IS NOT NULL
      AND new.is_deleted = 0 AND new.is_system_message = 0;
END;

CREATE TRIGGER messages_search_soft_delete AFTER UPDATE OF is_deleted ON messages
WHEN old.is_deleted = 0 AND new.is_deleted = 1 AND old.is_system_message = 0
     AND old.search_key IS NOT NULL BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', (CASE WHEN old.internal THEN -1 ELSE 1 END) * ((scope << 47) | old.search_key),
           old.content
    FROM conversation_scopes WHERE conversation_id = old.conversation_id
      AND (CASE WHEN old.internal THEN -1 ELSE 1 END) * ((scope << 47) | old.search_key)
          NOT IN (SELECT rowid FROM message_search_queue);
    DELETE FROM message_search_queue WHERE rowid IN (
        SELECT (CASE WHEN old.internal THEN -1 ELSE 1 END) * ((scope << 47) | old.search_key)
        FROM conversation_scopes WHERE conversation_id = old.conversation_id);
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN old.is_deleted = 0 AND old.is_system_message = 0 AND old.search_key IS NOT NULL BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', (CASE WHEN old.internal THEN -1 ELSE 1 END) * ((scope << 47) | old.search_key),
           old.content
    FROM conversation_scopes WHERE conversation_id = old.conversation_id
      AND (CASE WHEN old.internal THEN -1 ELSE 1 END) * ((scope << 47) | old.search_key)
          NOT IN (SELECT rowid FROM message_search_queue);
    DELETE FROM message_search_queue WHERE rowid IN (
        SELECT (CASE WHEN old.internal THEN -1 ELSE 1 END) * ((scope << 47) | old.search_key)
        FROM conversation_scopes WHERE conversation_id = old.conversation_id);
END;

-- What an admin read without taking part (oversight) names its conversation and store, so the
-- audit log can be filtered and shown by them.
ALTER TABLE audit_log ADD COLUMN conversation_id INTEGER;
ALTER TABLE audit_log ADD COLUMN store_id INTEGER;
