-- Messaging (seed data model: Conversation, ConversationParticipant, Message, MessageAttachment).

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    conversation_type TEXT    NOT NULL
                      CHECK (conversation_type IN ('admin_store', 'store_customer', 'admin_customer')),
    subject           TEXT    NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
    store_id          INTEGER REFERENCES stores (id),
    is_closed         INTEGER NOT NULL DEFAULT 0 CHECK (is_closed IN (0, 1)),
    closed_at         TEXT,
    closed_by_type    TEXT CHECK (closed_by_type IN ('admin', 'store', 'customer')),
    closed_by_id      INTEGER,
    last_message_at   TEXT,
    message_count     INTEGER NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    -- store_customer and admin_store always belong to a store (tenant isolation).
    CHECK (conversation_type = 'admin_customer' OR store_id IS NOT NULL)
);
CREATE INDEX ix_conversations_type_store ON conversations (conversation_type, store_id);
CREATE INDEX ix_conversations_last_message ON conversations (last_message_at);

CREATE TABLE conversation_participants (
    id                  INTEGER PRIMARY KEY,
    conversation_id     INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    participant_type    TEXT    NOT NULL CHECK (participant_type IN ('admin', 'store', 'customer')),
    participant_id      INTEGER NOT NULL,
    store_id            INTEGER REFERENCES stores (id),
    unread_count        INTEGER NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    last_read_at        TEXT,
    email_notifications INTEGER NOT NULL DEFAULT 1 CHECK (email_notifications IN (0, 1)),
    muted               INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1)),
    created_at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    UNIQUE (conversation_id, participant_type, participant_id)
);
CREATE INDEX ix_participants_conversation ON conversation_participants (conversation_id);
CREATE INDEX ix_participants_participant ON conversation_participants (participant_type, participant_id);

CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    conversation_id   INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sender_type       TEXT    NOT NULL CHECK (sender_type IN ('admin', 'store', 'customer')),
    sender_id         INTEGER NOT NULL,
    content           TEXT    NOT NULL,
    is_system_message INTEGER NOT NULL DEFAULT 0 CHECK (is_system_message IN (0, 1)),
    is_deleted        INTEGER NOT NULL DEFAULT 0 CHECK (is_deleted IN (0, 1)),
    deleted_at        TEXT,
    deleted_by_type   TEXT CHECK (deleted_by_type IN ('admin', 'store', 'customer')),
    deleted_by_id     INTEGER,
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX ix_messages_conversation_created ON messages (conversation_id, created_at);
CREATE INDEX ix_messages_sender ON messages (sender_id);

CREATE TABLE message_attachments (
    id                INTEGER PRIMARY KEY,
    message_id        INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    filename          TEXT    NOT NULL CHECK (length(filename) <= 255),
    original_filename TEXT    NOT NULL CHECK (length(original_filename) <= 255),
    file_path         TEXT    NOT NULL CHECK (length(file_path) <= 1000),
    file_size         INTEGER NOT NULL CHECK (file_size >= 0),
    mime_type         TEXT    NOT NULL CHECK (length(mime_type) <= 100),
    is_image          INTEGER NOT NULL DEFAULT 0 CHECK (is_image IN (0, 1)),
    image_width       INTEGER,
    image_height      INTEGER,
    thumbnail_path    TEXT CHECK (length(thumbnail_path) <= 1000),
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX ix_attachments_message ON message_attachments (message_id);
