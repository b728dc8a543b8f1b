-- End-to-end encrypted chats (MLS). `e2ee` is set at creation and never
-- changes; such a chat takes only `mls` messages. `mls_epoch` is the
-- epoch of its MLS group as the server has accepted Commits: raised by
-- one by the appender, with the chat row locked, in the transaction
-- that stores each Commit, and only if the Commit was made for the epoch
-- the chat is at.
ALTER TABLE chats ADD COLUMN e2ee BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE chats ADD COLUMN mls_epoch BIGINT NOT NULL DEFAULT 0;

-- The latest GroupInfo of each encrypted chat (base64 MLSMessage), for a
-- member's new device that joins by external Commit.
CREATE TABLE mls_group_infos (
    chat_id    TEXT NOT NULL REFERENCES chats (id),
    epoch      BIGINT NOT NULL,
    group_info TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT mls_group_infos_pkey PRIMARY KEY (chat_id)
);

-- Welcomes waiting for one device each, until it acknowledges them. A
-- Welcome is written before its Commit is appended and counts only once
-- the Commit's message (`message_id`) exists: a Commit refused, or lost
-- to a crash, leaves a Welcome nobody ever reads (and the refusal
-- deletes it); an accepted one never lacks its Welcomes. The Welcome's
-- bytes (up to 512 KiB, one per Commit whatever the number of devices it
-- names) are stored once, in `mls_welcome_bodies`, and go with the last
-- device row that points at them.
CREATE TABLE mls_welcomes (
    id         TEXT NOT NULL,
    chat_id    TEXT NOT NULL REFERENCES chats (id),
    message_id TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    session_id TEXT NOT NULL REFERENCES sessions (id),
    epoch      BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT mls_welcomes_pkey PRIMARY KEY (id)
);

CREATE INDEX mls_welcomes_session ON mls_welcomes (session_id, created_at);
CREATE INDEX mls_welcomes_message ON mls_welcomes (message_id);

CREATE TABLE mls_welcome_bodies (
    message_id TEXT NOT NULL,
    welcome    TEXT NOT NULL,
    CONSTRAINT mls_welcome_bodies_pkey PRIMARY KEY (message_id)
);

-- (Two acknowledgements of a Commit's last two rows in concurrent
-- transactions may each still see the other's row and leave the body:
-- a rare leak of one Welcome, never a Welcome lost.)
CREATE FUNCTION mls_welcome_bodies_unused() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mls_welcome_bodies WHERE message_id = OLD.message_id
        AND NOT EXISTS (SELECT 1 FROM mls_welcomes WHERE message_id = OLD.message_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER mls_welcome_bodies_unused AFTER DELETE ON mls_welcomes
FOR EACH ROW EXECUTE FUNCTION mls_welcome_bodies_unused();

-- A device whose session ends (logout, removal, a reused refresh token)
-- will never process its Welcomes.
CREATE FUNCTION mls_welcomes_session_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mls_welcomes WHERE session_id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER mls_welcomes_session_ended AFTER UPDATE OF revoked ON sessions
FOR EACH ROW WHEN (NEW.revoked AND NOT OLD.revoked)
EXECUTE FUNCTION mls_welcomes_session_ended();

-- MLS messages are ciphertext: never in the search index. `search`
-- stops being generated (a catalog-only change: the stored values, all
-- of plain messages, stay right; re-adding the column would rewrite the
-- table under an exclusive lock), and every write that stores or
-- changes a message's content sets it: empty for `mls`, else
-- to_tsvector('natter_search', content) (the appender's WRITE, the edit and
-- delete UPDATEs in messages.rs).
ALTER TABLE messages ALTER COLUMN search DROP EXPRESSION;
