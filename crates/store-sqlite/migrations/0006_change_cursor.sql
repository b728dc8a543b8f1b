-- The change cursor: every change to a chat's messages (a new message, an
-- edit, a tombstone, a reaction added or removed) takes the chat's next
-- version, `chats.last_version + 1`, so that a client can ask for the
-- messages changed since the version it holds.
--
-- Two columns, so that appending costs no index entry: `version` is
-- taken when a message is appended and never changes (it grows with
-- `seq`, so the `(chat_id, seq)` index finds the messages appended after
-- a version, by a binary search on `seq`); `changed_version` is taken by
-- each later change, and only changed messages are in `messages_changed`.
-- A message's version is `coalesce(changed_version, version)`. An index
-- on every message's version cost a fifth of the durable send rate (one
-- more leaf page per chat per write batch).
--
-- Existing messages start at their seq, chats at their last_seq.
ALTER TABLE chats ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN changed_version INTEGER;
UPDATE messages SET version = seq;
UPDATE chats SET last_version = last_seq;

CREATE INDEX messages_changed ON messages (chat_id, changed_version)
    WHERE changed_version IS NOT NULL;

-- A new message takes its version in the inserting statement (as it takes
-- its seq); this makes it the chat's last in both.
DROP TRIGGER messages_append;

CREATE TRIGGER messages_append AFTER INSERT ON messages BEGIN
    UPDATE chats
    SET last_seq = new.seq, last_version = new.version,
        last_activity_at = max(last_activity_at, new.created_at)
    WHERE id = new.chat_id;
END;

-- A change (an edit or a deletion, which set changed_version to the
-- chat's last_version + 1, or a reaction, below) makes that the chat's
-- last_version.
CREATE TRIGGER messages_versioned AFTER UPDATE OF changed_version ON messages BEGIN
    UPDATE chats SET last_version = new.changed_version WHERE id = new.chat_id;
END;

CREATE TRIGGER reactions_added AFTER INSERT ON reactions BEGIN
    UPDATE messages
    SET changed_version = (SELECT c.last_version + 1 FROM chats c WHERE c.id = messages.chat_id)
    WHERE id = new.message_id;
END;

CREATE TRIGGER reactions_removed AFTER DELETE ON reactions BEGIN
    UPDATE messages
    SET changed_version = (SELECT c.last_version + 1 FROM chats c WHERE c.id = messages.chat_id)
    WHERE id = old.message_id;
END;
