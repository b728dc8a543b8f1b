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

-- Existing users get their words from the store's own splitting, in the
-- same transaction (`migrate.rs`): SQL's `lower()` is ASCII only.
