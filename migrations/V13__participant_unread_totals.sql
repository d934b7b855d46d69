-- Each participant's unread messages summed per store and conversation type, so an unread badge is
-- a few rows of this table whatever the number of conversations: a staff member with 600 unread
-- conversations read 600 participant entries and 600 conversations before (0.4 ms a badge, on
-- every inbox page). Store 0 stands for conversations without a store. Who may see what depends
-- only on the store and the type once participation is given, so the badge filters these rows
-- the way `visible` filters conversations. Kept by triggers, in the transaction of every change.
CREATE TABLE participant_unread (
    participant_type  TEXT    NOT NULL,
    participant_id    INTEGER NOT NULL,
    store_id          INTEGER NOT NULL,
    conversation_type TEXT    NOT NULL,
    n                 INTEGER NOT NULL,
    PRIMARY KEY (participant_type, participant_id, store_id, conversation_type)
) WITHOUT ROWID;

INSERT INTO participant_unread (participant_type, participant_id, store_id, conversation_type, n)
SELECT p.participant_type, p.participant_id, coalesce(c.store_id, 0), c.conversation_type,
       sum(p.unread_count)
FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
WHERE p.unread_count > 0
GROUP BY 1, 2, 3, 4;

CREATE TRIGGER participant_unread_join AFTER INSERT ON conversation_participants
WHEN new.unread_count > 0
BEGIN
    INSERT INTO participant_unread (participant_type, participant_id, store_id, conversation_type, n)
    SELECT new.participant_type, new.participant_id, coalesce(c.store_id, 0), c.conversation_type,
           new.unread_count
    FROM conversations c WHERE c.id = new.conversation_id
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

-- The common change (a message arrives, a conversation is read): one row moves by the difference.
CREATE TRIGGER participant_unread_count AFTER UPDATE OF unread_count ON conversation_participants
WHEN old.unread_count <> new.unread_count AND old.conversation_id = new.conversation_id
  AND old.participant_type = new.participant_type AND old.participant_id = new.participant_id
BEGIN
    INSERT INTO participant_unread (participant_type, participant_id, store_id, conversation_type, n)
    SELECT new.participant_type, new.participant_id, coalesce(c.store_id, 0), c.conversation_type,
           new.unread_count - old.unread_count
    FROM conversations c WHERE c.id = new.conversation_id
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

-- A participant row that changes whom or which conversation it is about (nothing in Parley does,
-- but the totals must hold whatever changes a row).
CREATE TRIGGER participant_unread_moved
AFTER UPDATE OF conversation_id, participant_type, participant_id ON conversation_participants
WHEN old.conversation_id <> new.conversation_id OR old.participant_type <> new.participant_type
  OR old.participant_id <> new.participant_id
BEGIN
    UPDATE participant_unread SET n = n - old.unread_count
    WHERE participant_type = old.participant_type AND participant_id = old.participant_id
      AND (store_id, conversation_type) =
          (SELECT coalesce(c.store_id, 0), c.conversation_type
           FROM conversations c WHERE c.id = old.conversation_id);
    INSERT INTO participant_unread (participant_type, participant_id, store_id, conversation_type, n)
    SELECT new.participant_type, new.participant_id, coalesce(c.store_id, 0), c.conversation_type,
           new.unread_count
    FROM conversations c WHERE c.id = new.conversation_id
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

-- A participant who leaves. When the conversation itself is deleted, its participants go by
-- cascade after its row: the conversation's own trigger below has counted them out already, and
-- this one finds no conversation.
CREATE TRIGGER participant_unread_leave AFTER DELETE ON conversation_participants
WHEN old.unread_count > 0
BEGIN
    UPDATE participant_unread SET n = n - old.unread_count
    WHERE participant_type = old.participant_type AND participant_id = old.participant_id
      AND (store_id, conversation_type) =
          (SELECT coalesce(c.store_id, 0), c.conversation_type
           FROM conversations c WHERE c.id = old.conversation_id);
END;

CREATE TRIGGER participant_unread_conversation_delete BEFORE DELETE ON conversations
BEGIN
    UPDATE participant_unread SET n = n - (
        SELECT p.unread_count FROM conversation_participants p
        WHERE p.conversation_id = old.id AND p.participant_type = participant_unread.participant_type
          AND p.participant_id = participant_unread.participant_id)
    WHERE store_id = coalesce(old.store_id, 0) AND conversation_type = old.conversation_type
      AND (participant_type, participant_id) IN (
          SELECT p.participant_type, p.participant_id FROM conversation_participants p
          WHERE p.conversation_id = old.id AND p.unread_count > 0);
END;

-- A conversation moved to another store or given another type takes its participants' unread
-- messages along.
CREATE TRIGGER participant_unread_conversation_moved
AFTER UPDATE OF store_id, conversation_type ON conversations
WHEN old.store_id IS NOT new.store_id OR old.conversation_type <> new.conversation_type
BEGIN
    UPDATE participant_unread SET n = n - (
        SELECT p.unread_count FROM conversation_participants p
        WHERE p.conversation_id = new.id AND p.participant_type = participant_unread.participant_type
          AND p.participant_id = participant_unread.participant_id)
    WHERE store_id = coalesce(old.store_id, 0) AND conversation_type = old.conversation_type
      AND (participant_type, participant_id) IN (
          SELECT p.participant_type, p.participant_id FROM conversation_participants p
          WHERE p.conversation_id = new.id AND p.unread_count > 0);
    INSERT INTO participant_unread (participant_type, participant_id, store_id, conversation_type, n)
    SELECT p.participant_type, p.participant_id, coalesce(new.store_id, 0), new.conversation_type,
           p.unread_count
    FROM conversation_participants p WHERE p.conversation_id = new.id AND p.unread_count > 0
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
