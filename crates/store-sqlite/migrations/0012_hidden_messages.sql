-- Messages a user hid for themselves ("delete for me"). The message stays
-- for everyone else; for this user it reads as a placeholder that keeps
-- its `seq` (so paging and gap repair stay gap-free), and search leaves
-- it out. `chat_id` and `seq` are copied from the message so that the
-- chat list can skip hidden last messages by a range of the key.
CREATE TABLE hidden_messages (
    user_id    TEXT NOT NULL REFERENCES users (id),
    chat_id    TEXT NOT NULL REFERENCES chats (id),
    seq        INTEGER NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages (id),
    hidden_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, chat_id, seq)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX hidden_messages_message ON hidden_messages (user_id, message_id);
