-- A system message says what happened as a code, so each reader's page can say it in their own
-- language: `content` keeps the English sentence the API has always returned. The inbox row keeps
-- the code of its newest message beside the preview for the same reason.

ALTER TABLE messages ADD COLUMN system_event TEXT CHECK (system_event IN ('closed', 'reopened'));
ALTER TABLE conversations ADD COLUMN last_message_event TEXT;

UPDATE messages SET system_event = 'closed'
WHERE is_system_message = 1 AND content LIKE 'Conversation closed by %';
UPDATE messages SET system_event = 'reopened'
WHERE is_system_message = 1 AND content LIKE 'Conversation reopened by %';

UPDATE conversations SET last_message_event = (
    SELECT m.system_event FROM messages m WHERE m.conversation_id = conversations.id
    ORDER BY m.id DESC LIMIT 1)
WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id AND m.system_event IS NOT NULL);
