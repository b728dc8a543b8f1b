-- natter's PostgreSQL schema, version 1: the same data as the SQLite
-- store's migrations 1 to 6, in PostgreSQL's terms.
--
-- Times are milliseconds since the Unix epoch (BIGINT). Enumerations
-- (chat type, role, message type, marker kind) are stored as their wire
-- names. Every number is BIGINT, so that the store reads each as an i64.
-- Constraints are named: `error.rs` maps a broken UNIQUE constraint's
-- name to the conflict it means.

-- Search folds diacritics ("cafe" finds "café"): `unaccent` (a trusted
-- extension: the database's owner may create it) as a filter before the
-- `simple` dictionary, which lower-cases and keeps every word (no stop
-- words, no stemming: whole words and prefixes, as the contract says).
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION natter_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION natter_search
    ALTER MAPPING FOR asciihword, asciiword, hword, hword_asciipart, hword_part, word
    WITH unaccent, simple;

CREATE TABLE users (
    id             TEXT NOT NULL,
    -- Stored lower-cased by the store.
    username       TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    avatar_file_id TEXT,
    created_at     BIGINT NOT NULL,
    last_seen      BIGINT,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_username_key UNIQUE (username)
);

-- Prefix search on usernames (already lower-case) and lower-cased
-- display names: `text_pattern_ops` lets `LIKE 'abc%'` use the index
-- whatever the database's collation.
CREATE INDEX users_username_prefix ON users (username text_pattern_ops);
CREATE INDEX users_display_name_prefix ON users (lower(display_name) text_pattern_ops);
CREATE INDEX users_avatar ON users (avatar_file_id) WHERE avatar_file_id IS NOT NULL;

CREATE TABLE sessions (
    id         TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT sessions_pkey PRIMARY KEY (id)
);

CREATE INDEX sessions_user ON sessions (user_id);

-- Every refresh token a session ever had: the live one (not used) and the
-- dead ones, kept so that presenting a dead one is recognised as reuse.
CREATE TABLE refresh_tokens (
    hash       TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    created_at BIGINT NOT NULL,
    used       BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (hash)
);

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- The chat row is the chat's lock: every write that must be ordered with
-- the chat's appends (an append batch, a member joining or leaving, a
-- change that takes a version) locks it first, so `seq` and `version`
-- are taken one at a time and become visible in order.
CREATE TABLE chats (
    id               TEXT NOT NULL,
    type             TEXT NOT NULL,
    name             TEXT,
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       BIGINT NOT NULL,
    -- The per-chat sequence: the next message gets last_seq + 1.
    last_seq         BIGINT NOT NULL DEFAULT 0,
    -- The change cursor: the next change to a message gets last_version + 1.
    last_version     BIGINT NOT NULL DEFAULT 0,
    last_activity_at BIGINT NOT NULL,
    -- Direct chats only: "<user a>:<user b>", sorted; NULLs do not collide.
    direct_key       TEXT,
    member_count     BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT chats_pkey PRIMARY KEY (id),
    CONSTRAINT chats_direct_key_key UNIQUE (direct_key)
);

CREATE TABLE members (
    chat_id       TEXT NOT NULL REFERENCES chats (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL,
    joined_at     BIGINT NOT NULL,
    read_seq      BIGINT NOT NULL DEFAULT 0,
    delivered_seq BIGINT NOT NULL DEFAULT 0,
    -- Breaks ties in joined_at ("oldest first") by insertion order.
    added         BIGINT GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT members_pkey PRIMARY KEY (chat_id, user_id)
);

CREATE INDEX members_user ON members (user_id);
-- How many other members reached a marker (an advance's audience): a
-- range scan that stops after 2 rows, in chats of any size.
CREATE INDEX members_read ON members (chat_id, read_seq);
CREATE INDEX members_delivered ON members (chat_id, delivered_seq);

-- No foreign keys on `chat_id` and `sender_id`: the appender inserts a
-- message only with its chat row locked and its sender found among the
-- chat's members (whose rows reference both), and a key check per row
-- would cost a batch of appends almost half its insert time.
CREATE TABLE messages (
    id            TEXT NOT NULL,
    chat_id       TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    -- The chat's last_version when this message last changed.
    version       BIGINT NOT NULL,
    sender_id     TEXT NOT NULL,
    type          TEXT NOT NULL,
    -- Empty once deleted.
    content       TEXT NOT NULL,
    file_id       TEXT,
    metadata      JSONB NOT NULL DEFAULT '{}',
    client_msg_id TEXT,
    created_at    BIGINT NOT NULL,
    edited_at     BIGINT,
    deleted       BOOLEAN NOT NULL DEFAULT false,
    deleted_at    BIGINT,
    -- Follows every edit by itself; a tombstone's is empty.
    search        TSVECTOR GENERATED ALWAYS AS (to_tsvector('natter_search'::regconfig, content)) STORED,
    CONSTRAINT messages_pkey PRIMARY KEY (id),
    -- Also the index of history pages and of "last message".
    CONSTRAINT messages_chat_seq_key UNIQUE (chat_id, seq)
);

-- Idempotent sends: one message per (sender, client_msg_id). Partial, so
-- messages without a client id cost no index entry.
CREATE UNIQUE INDEX messages_client_msg_id_key
    ON messages (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
-- The change cursor: a chat's messages changed after a version.
CREATE INDEX messages_version ON messages (chat_id, version);
CREATE INDEX messages_file ON messages (file_id) WHERE file_id IS NOT NULL;
CREATE INDEX messages_search ON messages USING gin (search);

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    emoji      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Breaks ties in created_at ("oldest first") by insertion order.
    added      BIGINT GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT reactions_pkey PRIMARY KEY (message_id, user_id, emoji)
);

-- One row per marker advance: "at time `at`, this member's marker of this
-- kind moved up to `seq`". A 'read' row also stands for the delivered
-- marker (reading implies delivery). Receipts ask for the first row of a
-- member whose seq reaches a message's seq.
CREATE TABLE marker_log (
    chat_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('delivered', 'read')),
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL
);

CREATE INDEX marker_log_member ON marker_log (chat_id, user_id, kind, seq);

-- Uploaded files. The bytes live in the blob store under keys derived
-- from `id`; this row is their metadata.
CREATE TABLE files (
    id             TEXT NOT NULL,
    owner_id       TEXT NOT NULL REFERENCES users (id),
    name           TEXT NOT NULL,
    mime           TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    width          BIGINT,
    height         BIGINT,
    thumbnail_mime TEXT,
    created_at     BIGINT NOT NULL,
    CONSTRAINT files_pkey PRIMARY KEY (id)
);

CREATE INDEX files_owner ON files (owner_id);
CREATE INDEX files_created ON files (created_at);

-- Secrets the nodes of a cluster share (token signing keys...): the
-- first node to ask stores its candidate, every node reads that one.
CREATE TABLE secrets (
    name  TEXT NOT NULL,
    value BYTEA NOT NULL,
    CONSTRAINT secrets_pkey PRIMARY KEY (name)
);
