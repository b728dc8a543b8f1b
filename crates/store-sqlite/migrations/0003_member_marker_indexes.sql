-- Who hears of a marker advance depends on how many other members of the
-- chat already have that marker at or past the new seq (at most 2 are
-- counted). Without these indexes that count walks the chat's members in
-- user order until it finds 2, which in a chat of thousands where few
-- have caught up is most of the chat, for every ack. With them it is a
-- range scan that stops after 2 rows (plus the advancing member's own).
-- The price is one more index entry to move per marker advance.
CREATE INDEX members_read ON members (chat_id, read_seq);
CREATE INDEX members_delivered ON members (chat_id, delivered_seq);
