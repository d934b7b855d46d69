-- Where each attachment's file (and thumbnail) lives: in the data directory, or in the S3 bucket
-- of `storage.s3`. Per row, so `parley migrate-attachments` can move files one at a time and
-- resume where it stopped, and downloads work while a move is under way.
ALTER TABLE message_attachments ADD COLUMN stored_in TEXT NOT NULL DEFAULT 'local'
    CHECK (stored_in IN ('local', 's3'));
CREATE INDEX ix_attachments_stored_in ON message_attachments (stored_in, id);

-- The S3 credentials, sealed with the data directory's key like the stores' provider secrets
-- (`parley s3-credentials`). One row.
CREATE TABLE storage_credentials (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    access_key_id     TEXT    NOT NULL,
    secret_access_key BLOB    NOT NULL,
    updated_at        TEXT    NOT NULL
);
