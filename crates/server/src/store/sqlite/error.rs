//! The one place where SQLite errors become [`StoreError`] variants: a
//! broken UNIQUE constraint names what conflicted, a broken foreign key
//! means the referenced row is missing, and a value the store cannot
//! decode is an internal (database) error, never a panic.

use crate::store::StoreError;
use rusqlite::ffi;

/// Every error of the writer's connection goes through here (`?` in a
/// write job): constraint violations become `Conflict` / `NotFound`,
/// anything else stays a database error.
impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(failure, message) = &err {
            match failure.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    return StoreError::Conflict(conflict_name(message.as_deref().unwrap_or("")));
                }
                // SQLite does not say which key; every foreign key of the
                // schema points at the row a call works on or refers to
                // (chat, user, message, session), so "that row does not
                // exist".
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return StoreError::NotFound,
                _ => {}
            }
        }
        StoreError::Sqlite(err)
    }
}

/// What a broken uniqueness rule means, from SQLite's message
/// `UNIQUE constraint failed: <table>.<column>[, <table>.<column>...]`.
fn conflict_name(message: &str) -> &'static str {
    let columns = message
        .rsplit_once(": ")
        .map_or(message, |(_, columns)| columns);
    match columns {
        "users.username" => "username",
        "users.id" => "user",
        "sessions.id" => "session",
        "refresh_tokens.hash" => "refresh_token",
        "chats.id" => "chat",
        "chats.direct_key" => "direct_chat",
        "members.chat_id, members.user_id" => "member",
        "messages.id" => "message",
        "messages.chat_id, messages.seq" => "seq",
        "messages.sender_id, messages.client_msg_id" => "client_msg_id",
        "reactions.message_id, reactions.user_id, reactions.emoji" => "reaction",
        _ => "unique",
    }
}

/// A stored value this code cannot read back (a schema or data bug).
pub(super) fn corrupt(what: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(what.into()))
}

/// The error each job of a failed batch gets (the batch's cause,
/// described; the errors are not `Clone`).
pub(super) fn batch_failed(reason: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(format!(
        "the write batch failed: {reason}"
    ))))
}

#[cfg(test)]
mod tests {
    use super::conflict_name;

    #[test]
    fn conflict_names_come_from_the_constraint_columns() {
        assert_eq!(
            conflict_name("UNIQUE constraint failed: users.username"),
            "username"
        );
        assert_eq!(
            conflict_name("UNIQUE constraint failed: members.chat_id, members.user_id"),
            "member"
        );
        assert_eq!(
            conflict_name("UNIQUE constraint failed: something.else"),
            "unique"
        );
    }
}
