-- What an inbox page shows without visiting other tables: kept in the same transaction as every
-- change, so they are never stale.

-- The newest message's first 140 characters (NULL once it is deleted), so an inbox row does not
-- read a message row from anywhere in the messages table. Kept by the service with the message
-- counters (`insert_message`, `delete`).
ALTER TABLE conversations ADD COLUMN last_message_preview TEXT;
UPDATE conversations SET last_message_preview = (
    SELECT CASE WHEN m.is_deleted THEN NULL ELSE substr(m.content, 1, 140) END
    FROM messages m WHERE m.conversation_id = conversations.id ORDER BY m.id DESC LIMIT 1);

-- How many conversations each store has per type and state (store 0: conversations without a
-- store), so an inbox's `total` is a few rows instead of a count over every conversation of a
-- store. Kept by triggers, whatever changes a conversation.
CREATE TABLE conversation_counts (
    store_id          INTEGER NOT NULL,
    conversation_type TEXT    NOT NULL,
    is_closed         INTEGER NOT NULL,
    n                 INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (conversation_type, store_id, is_closed)
) WITHOUT ROWID;

INSERT INTO conversation_counts (store_id, conversation_type, is_closed, n)
SELECT coalesce(store_id, 0), conversation_type, is_closed, count(*)
FROM conversations GROUP BY 1, 2, 3;

CREATE TRIGGER conversation_counts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_counts (store_id, conversation_type, is_closed, n)
    VALUES (coalesce(new.store_id, 0), new.conversation_type, new.is_closed, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER conversation_counts_delete AFTER DELETE ON conversations BEGIN
    UPDATE conversation_counts SET n = n - 1
    WHERE store_id = coalesce(old.store_id, 0) AND conversation_type = old.conversation_type
      AND is_closed = old.is_closed;
END;

CREATE TRIGGER conversation_counts_update AFTER UPDATE OF store_id, conversation_type, is_closed
ON conversations
WHEN old.store_id IS NOT new.store_id OR old.conversation_type <> new.conversation_type
  OR old.is_closed <> new.is_closed
BEGIN
    UPDATE conversation_counts SET n = n - 1
    WHERE store_id = coalesce(old.store_id, 0) AND conversation_type = old.conversation_type
      AND is_closed = old.is_closed;
    INSERT INTO conversation_counts (store_id, conversation_type, is_closed, n)
    VALUES (coalesce(new.store_id, 0), new.conversation_type, new.is_closed, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- A participant's unread conversations only: the unread badge and the inbox rows read this small
-- index instead of every participant row of a busy staff member.
CREATE INDEX ix_participants_unread
    ON conversation_participants (participant_type, participant_id, conversation_id, unread_count)
    WHERE unread_count > 0;

-- Messages of a conversation are read in id order, through ix_messages_conversation_id
-- (conversation_id, id), which gives the same order as (conversation_id, created_at) (ids grow
-- with time) in a third of the space. The older index only cost every send an insert at a random
-- place in a large b-tree.
DROP INDEX ix_messages_conversation_created;
