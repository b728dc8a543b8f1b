-- Sending a message still means its sender has read the chat up to it,
-- but that advance is no longer made by the insert's trigger, message by
-- message (a marker_log row, its index, the members row and its two
-- marker indexes: five of the eleven b-tree entries an append wrote). The
-- writer makes it once per (chat, sender) per write batch, in the batch's
-- end-of-batch SQL (store/sqlite/messages.rs, SENDERS_READ_THEIR_MESSAGES),
-- in the same transaction: readers see the same state as before.
DROP TRIGGER messages_append;

CREATE TRIGGER messages_append AFTER INSERT ON messages BEGIN
    UPDATE chats
    SET last_seq = new.seq, last_activity_at = max(last_activity_at, new.created_at)
    WHERE id = new.chat_id;
END;
