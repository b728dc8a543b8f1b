-- Uploaded files. The bytes live in the blob store under keys derived
-- from `id`; this row is their metadata. A file is readable by its owner
-- and by the members of every chat where a live message refers to it
-- (messages.file_id; a deleted message has none).
CREATE TABLE files (
    id             TEXT PRIMARY KEY,
    owner_id       TEXT NOT NULL REFERENCES users (id),
    -- Sanitised client file name: metadata only, never a storage key.
    name           TEXT NOT NULL,
    -- Decided from the bytes (for images: the re-encoded type).
    mime           TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    width          INTEGER,
    height         INTEGER,
    -- Set when a thumbnail exists (images).
    thumbnail_mime TEXT,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX files_owner ON files (owner_id);
CREATE INDEX files_created ON files (created_at);
CREATE INDEX messages_file ON messages (file_id) WHERE file_id IS NOT NULL;
CREATE INDEX users_avatar ON users (avatar_file_id) WHERE avatar_file_id IS NOT NULL;
