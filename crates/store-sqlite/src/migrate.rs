//! Schema migrations for the SQLite store: the SQL files of
//! `migrations/`, compiled into the binary, applied in order.
//!
//! The schema version is SQLite's own `PRAGMA user_version` (0 for a new
//! file): migration `n` (1-based) is applied when `user_version < n`, and
//! all pending ones run in one transaction together with the version bump,
//! so a crash leaves either the old or the new schema, never half of one.
//! A database newer than this binary is refused rather than guessed at.

use crate::error::Db;
use natter_store::{StoreError, StoreResult};
use rusqlite::{Connection, TransactionBehavior};

/// The migrations, oldest first. Append only: never edit a released one.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_files.sql"),
    include_str!("../migrations/0003_member_marker_indexes.sql"),
    include_str!("../migrations/0004_sender_marker_per_batch.sql"),
    include_str!("../migrations/0005_member_count.sql"),
    include_str!("../migrations/0006_change_cursor.sql"),
    include_str!("../migrations/0007_secrets.sql"),
    include_str!("../migrations/0008_push.sql"),
    include_str!("../migrations/0009_user_name_words.sql"),
    include_str!("../migrations/0010_member_flags.sql"),
    include_str!("../migrations/0011_chat_profile.sql"),
    include_str!("../migrations/0012_hidden_messages.sql"),
    include_str!("../migrations/0013_link_previews.sql"),
    include_str!("../migrations/0014_retype_audio.sql"),
    include_str!("../migrations/0015_key_packages.sql"),
    include_str!("../migrations/0016_e2ee_chats.sql"),
];

/// The migration that adds `user_name_words`; its rows for existing users
/// are written here, by the same word splitting the store uses.
const NAME_WORDS_VERSION: usize = 9;

/// Every existing user's name words (migration 9).
fn backfill_name_words(conn: &Connection) -> StoreResult<()> {
    let users: Vec<(String, String)> = conn
        .prepare("SELECT id, display_name FROM users")
        .db()?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    for (id, display_name) in users {
        crate::users::write_name_words(conn, &id, &display_name).map_err(StoreError::from)?;
    }
    Ok(())
}

/// Brings the schema up to date. Runs on the writer connection before the
/// writer thread starts, so nothing else writes meanwhile.
pub(super) fn run(conn: &mut Connection) -> StoreResult<()> {
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .db()?;
    let latest = MIGRATIONS.len() as i64;
    if current > latest {
        return Err(StoreError::backend(format!(
            "the database's schema version {current} is newer than this binary's ({latest})"
        )));
    }
    if current == latest {
        return Ok(());
    }

    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .db()?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql).db()?;
        if index + 1 == NAME_WORDS_VERSION {
            backfill_name_words(&tx)?;
        }
        tracing::info!(version = index + 1, "applied SQLite migration");
    }
    tx.pragma_update(None, "user_version", latest).db()?;
    tx.commit().db()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session stored before devices existed (schema 7) becomes a
    /// device with no name, last seen when it started.
    #[test]
    fn sessions_from_before_devices_were_last_seen_when_they_started() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..7] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 7).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
                 VALUES ('ann', 'ann', 'Ann', 'hash', 1); \
             INSERT INTO sessions (id, user_id, created_at, expires_at) \
                 VALUES ('s1', 'ann', 123, 1000);",
        )
        .unwrap();
        run(&mut conn).unwrap();
        let (name, last_seen_at): (String, i64) = conn
            .query_row(
                "SELECT name, last_seen_at FROM sessions WHERE id = 's1'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!((name.as_str(), last_seen_at), ("", 123));
    }

    /// Users stored before people search by word (schema 8) are found by
    /// every word of their names, split and lower-cased as new ones are.
    #[test]
    fn existing_users_get_the_words_new_users_get() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..8] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 8).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
                 VALUES ('mj', 'mj', 'Mary-Jane \u{00D6}lund', 'hash', 1);",
        )
        .unwrap();
        run(&mut conn).unwrap();
        let words: Vec<String> = conn
            .prepare("SELECT word FROM user_name_words WHERE user_id = 'mj' ORDER BY word")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: Vec<String> = natter_store::name_words("Mary-Jane \u{00D6}lund")
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(words, expected);
        assert!(words.iter().any(|word| word == "jane"), "{words:?}");
        assert!(
            words.iter().any(|word| word.starts_with("\u{00F6}l")),
            "{words:?}"
        );
    }

    /// Audio stored before the track check (schema 13) was typed by its
    /// first bytes alone: it becomes a plain download, never a voice note
    /// nor inline audio; other files keep their types.
    #[test]
    fn audio_typed_before_the_track_check_becomes_a_download() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..13] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 13).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
                 VALUES ('ann', 'ann', 'Ann', 'hash', 1);",
        )
        .unwrap();
        let types = [
            ("audio/ogg", "application/octet-stream"),
            ("audio/mpeg", "application/octet-stream"),
            ("audio/webm", "application/octet-stream"),
            ("audio/mp4", "application/octet-stream"),
            ("audio/m4a", "application/octet-stream"),
            ("image/png", "image/png"),
            ("video/webm", "video/webm"),
            ("application/pdf", "application/pdf"),
        ];
        for (id, (mime, _)) in types.iter().enumerate() {
            conn.execute(
                "INSERT INTO files (id, owner_id, name, mime, size, sha256, created_at) \
                 VALUES (?1, 'ann', 'f', ?2, 1, 'x', 1)",
                (id.to_string(), mime),
            )
            .unwrap();
        }
        run(&mut conn).unwrap();
        for (id, (before, after)) in types.iter().enumerate() {
            let mime: String = conn
                .query_row(
                    "SELECT mime FROM files WHERE id = ?1",
                    [id.to_string()],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(mime, *after, "{before}");
        }
    }
}
