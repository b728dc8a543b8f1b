-- A member's own marks on a chat: the same data as the SQLite store's
-- migration 10, in PostgreSQL's terms. Pinned (on top), archived (under
-- "Archived", staying there when new messages arrive) and marked unread
-- (cleared by the store when the read marker moves), next to the read
-- marker so the chat list reads them with the membership it already
-- reads. Adding a column with a constant default rewrites nothing.
ALTER TABLE members ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE members ADD COLUMN archived BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE members ADD COLUMN marked_unread BOOLEAN NOT NULL DEFAULT false;
