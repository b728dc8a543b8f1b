-- Each chat knows how many members it has, kept by triggers: who hears of
-- a marker advance depends on it (every member in small chats), and the
-- chat list and the presence audience read it instead of counting the
-- members of every chat each time.
ALTER TABLE chats ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;

UPDATE chats SET member_count = (SELECT count(*) FROM members WHERE members.chat_id = chats.id);

CREATE TRIGGER members_count_insert AFTER INSERT ON members BEGIN
    UPDATE chats SET member_count = member_count + 1 WHERE id = new.chat_id;
END;

CREATE TRIGGER members_count_delete AFTER DELETE ON members BEGIN
    UPDATE chats SET member_count = member_count - 1 WHERE id = old.chat_id;
END;
