-- Answering on time (issue: marketplace flows). A store_customer conversation knows whom it waits
-- for and since when: the store, from the oldest customer message its staff have not answered;
-- the customer, from the oldest staff message they have not answered. "No reply needed" stops
-- the store's clock. Each answer to a waiting customer is kept as one row, the figures per store
-- (medians, share within the target) are read from those rows.

ALTER TABLE conversations ADD COLUMN waiting_party TEXT CHECK (waiting_party IN ('store', 'customer'));
ALTER TABLE conversations ADD COLUMN waiting_since TEXT;

-- Where a store's overdue conversations are found: waiting for the store, oldest first.
CREATE INDEX ix_conversations_waiting ON conversations (store_id, waiting_party, waiting_since)
    WHERE waiting_party IS NOT NULL;

CREATE TABLE response_times (
    id              INTEGER PRIMARY KEY,
    store_id        INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The oldest customer message the answer answers, and the answer.
    waited_from     TEXT    NOT NULL,
    answered_at     TEXT    NOT NULL,
    seconds         INTEGER NOT NULL CHECK (seconds >= 0),
    -- The first answer the conversation got.
    is_first        INTEGER NOT NULL CHECK (is_first IN (0, 1))
);
CREATE INDEX ix_response_times_store ON response_times (store_id, answered_at);
CREATE INDEX ix_response_times_conversation ON response_times (conversation_id);

-- The open conversations already waiting: the newest person's message tells whom (and, close
-- enough for the figures to start from, since when).
UPDATE conversations SET (waiting_party, waiting_since) = (
    SELECT CASE m.sender_type WHEN 'customer' THEN 'store' ELSE 'customer' END, m.created_at
    FROM messages m
    WHERE m.conversation_id = conversations.id AND NOT m.is_system_message AND NOT m.internal
      AND m.sender_type IN ('store', 'customer')
    ORDER BY m.id DESC LIMIT 1)
WHERE conversation_type = 'store_customer' AND NOT is_closed;
