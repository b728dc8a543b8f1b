-- People search by any word of the display name ("build" finds "Bob
-- Builder"), kept indexed: one row per lower-cased word of a user's
-- display name, and one for the whole name (spaces collapsed), written
-- by the store with each create and rename (see `natter_store::name_words`,
-- which lower-cases all of Unicode and splits at anything that is not a
-- letter or digit). A prefix is then a range scan of the primary key.
--
-- Chosen over FTS5: the words are few and short, the match is a plain
-- prefix, and a table of our own keeps both backends alike.
CREATE TABLE user_name_words (
    word    TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (word, user_id)
) WITHOUT ROWID;

-- A rename replaces the user's rows.
CREATE INDEX user_name_words_user ON user_name_words (user_id);

-- Existing users: SQL's `lower()` is ASCII only and this splits at spaces
-- only (and collapses runs of up to eight spaces in the whole name); a
-- rename writes the store's own words.
WITH RECURSIVE split (user_id, word, rest) AS (
    SELECT id, '', lower(trim(display_name)) || ' ' FROM users
    UNION ALL
    SELECT user_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
    FROM split WHERE rest <> ''
)
INSERT OR IGNORE INTO user_name_words (word, user_id)
SELECT word, user_id FROM split WHERE word <> ''
UNION
SELECT replace(replace(replace(lower(trim(display_name)), '    ', ' '), '  ', ' '), '  ', ' '), id
FROM users WHERE trim(display_name) <> '';
