-- People search by any word of the display name: the same data as the
-- SQLite store's migration 9, in PostgreSQL's terms. One row per
-- lower-cased word of a user's display name and one for the whole name
-- (spaces collapsed), written by the store with each create and rename
-- (see `natter_store::name_words`); `text_pattern_ops` lets
-- `LIKE 'abc%'` use the index whatever the database's collation.
CREATE TABLE user_name_words (
    user_id TEXT NOT NULL REFERENCES users (id),
    word    TEXT NOT NULL,
    CONSTRAINT user_name_words_pkey PRIMARY KEY (user_id, word)
);
CREATE INDEX user_name_words_prefix ON user_name_words (word text_pattern_ops);

-- Existing users, split as the store splits.
INSERT INTO user_name_words (user_id, word)
SELECT id, word FROM users, regexp_split_to_table(lower(display_name), '[^[:alnum:]]+') AS word
WHERE word <> ''
UNION
SELECT id, regexp_replace(lower(trim(display_name)), '\s+', ' ', 'g') FROM users
WHERE trim(display_name) <> ''
ON CONFLICT DO NOTHING;
