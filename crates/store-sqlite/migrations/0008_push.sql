-- Devices and push notifications.
--
-- Every session is a device: a name its user gives it and when it was
-- last used (a login, a refresh, a socket). Sessions from before this
-- version were last seen when they started.
ALTER TABLE sessions ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;

-- A device's Web Push subscription, one per endpoint. Pushed only once
-- active (its owner proved it reads the pushes: `activation_hash` is the
-- SHA-256 of the token the activation push carried), and deleted with
-- its session when the session ends.
CREATE TABLE push_subscriptions (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    session_id      TEXT NOT NULL REFERENCES sessions (id),
    endpoint        TEXT NOT NULL UNIQUE,
    p256dh          TEXT NOT NULL,
    auth            TEXT NOT NULL,
    activation_hash TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_session ON push_subscriptions (session_id);

-- A member's settings for one chat; no row means the defaults. A NULL
-- level means the chat type's default.
CREATE TABLE chat_notifications (
    user_id     TEXT NOT NULL REFERENCES users (id),
    chat_id     TEXT NOT NULL REFERENCES chats (id),
    level       TEXT CHECK (level IN ('all', 'mentions', 'none')),
    muted_until INTEGER,
    PRIMARY KEY (user_id, chat_id)
) STRICT, WITHOUT ROWID;

-- A user's own settings; no row means the defaults. `keywords` is a JSON
-- array of strings.
CREATE TABLE user_notifications (
    user_id   TEXT PRIMARY KEY REFERENCES users (id),
    dnd_until INTEGER,
    keywords  TEXT NOT NULL DEFAULT '[]',
    previews  INTEGER NOT NULL DEFAULT 1
) STRICT;

-- The push queue, stage 1: a stored message that owes pushes, written by
-- the append itself (same transaction). Claimed by moving `available_at`
-- to the end of a lease; deleted when planned into deliveries. No
-- foreign keys: the append inserts it right after its message, and a
-- check per row would only slow the hot path down.
CREATE TABLE push_jobs (
    message_id   TEXT PRIMARY KEY,
    chat_id      TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    available_at INTEGER NOT NULL
) STRICT;

-- Claims take the oldest available first.
CREATE INDEX push_jobs_available ON push_jobs (available_at, message_id);

-- Stage 2: one push to one subscription, deleted once the push service
-- took it. No foreign key to the subscription: a subscription dropped
-- while its job was being planned must not fail the plan; deleting a
-- subscription deletes its deliveries, and a claim drops any delivery
-- whose subscription is gone.
CREATE TABLE push_deliveries (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    payload         BLOB NOT NULL,
    topic           TEXT,
    urgency         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    available_at    INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX push_deliveries_available ON push_deliveries (available_at, id);
CREATE INDEX push_deliveries_subscription ON push_deliveries (subscription_id);

-- Which of a chat's messages a user has notifications showing for (the
-- seqs from first_seq to last_seq), so that reading the chat can clear
-- them on the user's other devices.
CREATE TABLE push_shown (
    user_id   TEXT NOT NULL,
    chat_id   TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    PRIMARY KEY (user_id, chat_id)
) STRICT, WITHOUT ROWID;
