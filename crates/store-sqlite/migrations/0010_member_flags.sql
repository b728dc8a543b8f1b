-- A member's own marks on a chat, kept next to their read marker so that
-- every device of theirs shows the same list: pinned (on top), archived
-- (under "Archived", staying there when new messages arrive) and marked
-- unread (cleared by the store when the read marker moves). Columns of
-- `members`, so the chat list reads them with the membership it already
-- reads: no join, no extra index.
ALTER TABLE members ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN marked_unread INTEGER NOT NULL DEFAULT 0;
