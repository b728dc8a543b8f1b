-- natter's SQLite schema, version 1.
--
-- Times are milliseconds since the Unix epoch. Enumerations (chat type,
-- role, message type, marker kind) are stored as their wire names.
-- Tables are STRICT so a wrong type is an error, not a silent conversion.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    -- Stored lower-cased; NOCASE makes uniqueness and prefix search
    -- case-insensitive even if a caller forgets.
    username       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    avatar_file_id TEXT,
    created_at     INTEGER NOT NULL,
    last_seen      INTEGER
) STRICT;

CREATE INDEX users_display_name ON users (display_name COLLATE NOCASE);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);

-- Every refresh token a session ever had: the live one (used = 0) and the
-- dead ones, kept so that presenting a dead one is recognised as reuse.
CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    created_at INTEGER NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE chats (
    id               TEXT PRIMARY KEY,
    type             TEXT NOT NULL,
    name             TEXT,
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       INTEGER NOT NULL,
    -- The per-chat sequence: the next message gets last_seq + 1.
    last_seq         INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER NOT NULL,
    -- Direct chats only: "<user a>:<user b>", sorted; NULLs do not collide.
    direct_key       TEXT UNIQUE
) STRICT;

-- A rowid table (not WITHOUT ROWID) so that "oldest first" can break
-- ties in joined_at by insertion order.
CREATE TABLE members (
    chat_id       TEXT NOT NULL REFERENCES chats (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL,
    joined_at     INTEGER NOT NULL,
    read_seq      INTEGER NOT NULL DEFAULT 0,
    delivered_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, user_id)
) STRICT;

CREATE INDEX members_user ON members (user_id);

CREATE TABLE messages (
    -- Declared so that it is stable across VACUUM: the full-text index
    -- refers to messages by this rowid.
    rowid         INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    chat_id       TEXT NOT NULL REFERENCES chats (id),
    seq           INTEGER NOT NULL,
    sender_id     TEXT NOT NULL REFERENCES users (id),
    type          TEXT NOT NULL,
    -- Empty once deleted.
    content       TEXT NOT NULL,
    file_id       TEXT,
    -- JSON of natter_proto::messages::Metadata.
    metadata      TEXT NOT NULL DEFAULT '{}',
    client_msg_id TEXT,
    created_at    INTEGER NOT NULL,
    edited_at     INTEGER,
    deleted       INTEGER NOT NULL DEFAULT 0,
    deleted_at    INTEGER,
    -- Also the index for history pages and "last message".
    UNIQUE (chat_id, seq)
) STRICT;

-- Idempotent sends: one message per (sender, client_msg_id). Partial, so
-- messages without a client id cost no index entry.
CREATE UNIQUE INDEX messages_client_msg_id
    ON messages (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL;

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    emoji      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
) STRICT;

-- One row per marker advance: "at time `at`, this member's marker of this
-- kind moved up to `seq`". A 'read' row also stands for the delivered
-- marker (reading implies delivery). Receipts ask for the first row of a
-- member whose seq reaches a message's seq.
CREATE TABLE marker_log (
    chat_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('delivered', 'read')),
    seq     INTEGER NOT NULL,
    at      INTEGER NOT NULL
) STRICT;

CREATE INDEX marker_log_member ON marker_log (chat_id, user_id, kind, seq);

-- The write paths that run most (appending, markers) are single INSERT
-- statements whose consequences follow from these triggers. One statement
-- is atomic by itself, so such a write needs no savepoint and no second
-- round trip to SQLite (see the store's `writer` module).

-- A marker advance is made by logging it: the member's markers follow the
-- log. Writers log only forward moves; max() keeps markers monotonic
-- regardless, and a read carries the delivered marker along.
CREATE TRIGGER marker_log_apply AFTER INSERT ON marker_log BEGIN
    UPDATE members
    SET read_seq = CASE WHEN new.kind = 'read' THEN max(read_seq, new.seq) ELSE read_seq END,
        delivered_seq = max(delivered_seq, new.seq)
    WHERE chat_id = new.chat_id AND user_id = new.user_id;
END;

-- A new message (whose seq the inserting statement took as the chat's
-- last_seq + 1) becomes the chat's last, and its sender has read (and
-- received) everything up to it.
CREATE TRIGGER messages_append AFTER INSERT ON messages BEGIN
    UPDATE chats
    SET last_seq = new.seq, last_activity_at = max(last_activity_at, new.created_at)
    WHERE id = new.chat_id;
    INSERT INTO marker_log (chat_id, user_id, kind, seq, at)
    SELECT chat_id, user_id, 'read', new.seq, new.created_at FROM members
    WHERE chat_id = new.chat_id AND user_id = new.sender_id AND read_seq < new.seq;
END;

-- Full-text index over message content. External content: the text lives
-- only in `messages`.
--
-- New messages are indexed once per write batch, not per insert: FTS5
-- writes its pending terms to disk whenever a savepoint opens (the
-- writer's per-job savepoints, and the statement savepoint SQLite opens
-- inside a transaction for each statement that fires triggers), so a
-- per-insert trigger would make one index segment per message and spend
-- most of an append merging them. Instead the writer, before each COMMIT,
-- indexes the messages above `search_progress.indexed_rowid` and moves
-- that mark (same transaction, so readers never see unindexed messages).
-- Edits and deletes of already indexed messages are mirrored right away
-- by the triggers below; a message edited before it is indexed is simply
-- indexed with its final content.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE search_progress (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_rowid INTEGER NOT NULL
) STRICT;

INSERT INTO search_progress (id, indexed_rowid) VALUES (1, 0);

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.rowid <= (SELECT indexed_rowid FROM search_progress)
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.rowid, old.content);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN old.rowid <= (SELECT indexed_rowid FROM search_progress)
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.rowid, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
END;
