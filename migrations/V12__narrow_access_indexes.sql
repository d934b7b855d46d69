-- Narrow covering indexes for the reads every request makes (the session lookup, an actor's
-- visibility and unread count). Each answers from a b-tree of a few bytes per row instead of rows
-- spread over the wide tables (a conversation row carries its subject and last-message preview, a
-- customer row its email and password hash), so the pages a request touches stay few and fit the
-- readers' page caches at a million messages. Reads name them with INDEXED BY where the planner
-- would otherwise prefer the table's rowid.

-- The session lookup reads every column it needs from this index alone.
CREATE INDEX ix_sessions_lookup
    ON sessions (token_hash, expires_at, kind, user_id, customer_id, csrf_token);

-- Whether a customer is active, and their store.
CREATE INDEX ix_customers_access ON customers (id, store_id, is_active);

-- A conversation's type and store: what decides who may see it.
CREATE INDEX ix_conversations_access ON conversations (id, conversation_type, store_id);

-- An actor's conversations, without visiting the participant rows.
DROP INDEX ix_participants_participant;
CREATE INDEX ix_participants_participant
    ON conversation_participants (participant_type, participant_id, conversation_id);

-- A store's conversations newest first, with what its staff's inbox and searches filter on, so
-- walking them reads no conversation row until a page's own rows.
DROP INDEX ix_conversations_store_activity;
CREATE INDEX ix_conversations_store_activity
    ON conversations (store_id, last_activity_at, conversation_type, is_closed);

-- A conversation's participants: the unique (conversation, type, id) index already starts with the
-- conversation and covers what inbox rows read of the other participant, so the narrower one
-- only cost writes and steered the planner to the rows.
DROP INDEX ix_participants_conversation;
