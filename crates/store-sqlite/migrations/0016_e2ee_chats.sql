-- End-to-end encrypted chats (MLS). `e2ee` is set at creation and never
-- changes; such a chat takes only `mls` messages. `mls_epoch` is the
-- epoch of its MLS group as the server has accepted Commits: raised by
-- one, in the transaction that appends each Commit, and only if the
-- Commit was made for the epoch the chat is at.
ALTER TABLE chats ADD COLUMN e2ee INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN mls_epoch INTEGER NOT NULL DEFAULT 0;

-- The latest GroupInfo of each encrypted chat (base64 MLSMessage), for a
-- member's new device that joins by external Commit.
CREATE TABLE mls_group_infos (
    chat_id    TEXT PRIMARY KEY REFERENCES chats (id),
    epoch      INTEGER NOT NULL,
    group_info TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Welcomes waiting for one device each, until it acknowledges them. A
-- Welcome is written before its Commit is appended and counts only once
-- the Commit's message (`message_id`) exists: a Commit refused, or lost
-- to a crash, leaves a Welcome nobody ever reads (and the refusal
-- deletes it); an accepted one never lacks its Welcomes. The Welcome's
-- bytes (up to 512 KiB, one per Commit whatever the number of devices it
-- names) are stored once, in `mls_welcome_bodies`, and go with the last
-- device row that points at them.
CREATE TABLE mls_welcomes (
    id         TEXT PRIMARY KEY,
    chat_id    TEXT NOT NULL REFERENCES chats (id),
    message_id TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    session_id TEXT NOT NULL REFERENCES sessions (id),
    epoch      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX mls_welcomes_session ON mls_welcomes (session_id, created_at);
CREATE INDEX mls_welcomes_message ON mls_welcomes (message_id);

CREATE TABLE mls_welcome_bodies (
    message_id TEXT PRIMARY KEY,
    welcome    TEXT NOT NULL
) STRICT;

CREATE TRIGGER mls_welcome_bodies_unused AFTER DELETE ON mls_welcomes
BEGIN
    DELETE FROM mls_welcome_bodies WHERE message_id = old.message_id
        AND NOT EXISTS (SELECT 1 FROM mls_welcomes WHERE message_id = old.message_id);
END;

-- A device whose session ends (logout, removal, a reused refresh token)
-- will never process its Welcomes.
CREATE TRIGGER mls_welcomes_session_ended AFTER UPDATE OF revoked ON sessions
WHEN new.revoked = 1
BEGIN
    DELETE FROM mls_welcomes WHERE session_id = new.id;
END;

-- MLS messages are ciphertext: they never enter the full-text index (the
-- writer's indexing skips them), so edits and deletes of them must not
-- touch it either.
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.rowid <= (SELECT indexed_rowid FROM search_progress) AND old.type <> 'mls'
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.rowid, old.content);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN old.rowid <= (SELECT indexed_rowid FROM search_progress) AND old.type <> 'mls'
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.rowid, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
END;

-- An MLS Commit (server-set metadata.mls) changes the group and says
-- nothing to a person: it does not move the chat up the list.
DROP TRIGGER messages_append;

CREATE TRIGGER messages_append AFTER INSERT ON messages BEGIN
    UPDATE chats
    SET last_seq = new.seq, last_version = new.version,
        last_activity_at = CASE WHEN new.type <> 'mls' OR json_extract(new.metadata, '$.mls') IS NULL
            THEN max(last_activity_at, new.created_at) ELSE last_activity_at END
    WHERE id = new.chat_id;
END;
