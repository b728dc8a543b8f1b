//! The one place where SQLite errors become [`StoreError`] variants: a
//! broken UNIQUE constraint names what conflicted, a broken foreign key
//! means the referenced row is missing, a closed pool means the store is
//! unavailable, and a value the store cannot decode is a backend error,
//! never a panic. No driver type leaves this crate.

use natter_store::{Conflict, Outage, StoreError, StoreResult};
use rusqlite::ffi;
use std::fmt;

/// What a write job (run by the writer on its rusqlite connection) fails
/// with: SQLite's error, with constraint violations already classified
/// (so the writer can tell a refused statement, which undid itself, from
/// a failure), or a store error the job decided on.
#[derive(Debug)]
pub(crate) enum Error {
    Store(StoreError),
    Sqlite(rusqlite::Error),
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// True if the write failed for want of space.
    pub(crate) fn storage_full(&self) -> bool {
        matches!(
            self,
            Error::Store(StoreError::Unavailable(Outage::StorageFull))
        )
    }

    /// True if the failure left nothing behind: a rejected statement or a
    /// `NotFound` / `Conflict` the job reported before writing.
    pub(crate) fn undone(&self) -> bool {
        matches!(
            self,
            Error::Store(StoreError::Conflict(_) | StoreError::NotFound)
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Store(err) => err.fmt(f),
            Error::Sqlite(err) => err.fmt(f),
        }
    }
}

/// Every error of the writer's connection goes through here (`?` in a
/// write job): constraint violations become `Conflict` / `NotFound`,
/// anything else stays SQLite's.
impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(failure, message) = &err {
            match failure.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    let conflict = conflict_of(message.as_deref().unwrap_or(""));
                    return Error::Store(StoreError::Conflict(conflict));
                }
                // SQLite does not say which key; every foreign key of the
                // schema points at the row a call works on or refers to
                // (chat, user, message, session), so "that row does not
                // exist".
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return Error::Store(StoreError::NotFound),
                _ => {}
            }
            if out_of_space(failure) {
                return Error::Store(StoreError::Unavailable(Outage::StorageFull));
            }
        }
        Error::Sqlite(err)
    }
}

/// `SQLITE_FULL`, or the shared-memory index failing to grow (SQLite
/// extends that file by writing to it, which fails only for want of
/// space).
fn out_of_space(failure: &ffi::Error) -> bool {
    failure.code == rusqlite::ErrorCode::DiskFull
        || failure.extended_code == ffi::SQLITE_IOERR_SHMSIZE
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        Error::Store(err)
    }
}

impl From<Error> for StoreError {
    fn from(err: Error) -> Self {
        match err {
            Error::Store(err) => err,
            Error::Sqlite(err) => StoreError::Backend(Box::new(err)),
        }
    }
}

/// Turns a driver's result into the store's: `.db()?` on every call to
/// the read pool (sqlx) or the writer's connection (rusqlite) outside a
/// write job.
pub(crate) trait Db<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> Db<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(|err| match err {
            sqlx::Error::PoolClosed => StoreError::Unavailable(Outage::Closed),
            sqlx::Error::PoolTimedOut => {
                StoreError::Unavailable(Outage::Unreachable(err.to_string()))
            }
            other => StoreError::Backend(Box::new(other)),
        })
    }
}

impl<T> Db<T> for std::result::Result<T, rusqlite::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(|err| Error::from(err).into())
    }
}

/// What a broken uniqueness rule means, from SQLite's message
/// `UNIQUE constraint failed: <table>.<column>[, <table>.<column>...]`.
fn conflict_of(message: &str) -> Conflict {
    let columns = message
        .rsplit_once(": ")
        .map_or(message, |(_, columns)| columns);
    match columns {
        "users.username" => Conflict::Username,
        "users.id" => Conflict::User,
        "sessions.id" => Conflict::Session,
        "refresh_tokens.hash" => Conflict::RefreshToken,
        "chats.id" => Conflict::Chat,
        "chats.direct_key" => Conflict::DirectChat,
        "members.chat_id, members.user_id" => Conflict::Member,
        "messages.id" => Conflict::Message,
        "messages.chat_id, messages.seq" => Conflict::Seq,
        "messages.sender_id, messages.client_msg_id" => Conflict::ClientMsgId,
        "reactions.message_id, reactions.user_id, reactions.emoji" => Conflict::Reaction,
        "files.id" => Conflict::File,
        _ => Conflict::Other,
    }
}

/// A stored value this code cannot read back (a schema or data bug).
pub(crate) fn corrupt(what: String) -> StoreError {
    StoreError::backend(what)
}

/// Why a whole write batch failed, as each of its jobs is told (the
/// driver's errors are not `Clone`).
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) reason: String,
    /// For want of space: the callers hear `Unavailable(StorageFull)`.
    pub(crate) storage_full: bool,
}

impl Failure {
    pub(crate) fn new(reason: String, storage_full: bool) -> Failure {
        Failure {
            reason,
            storage_full,
        }
    }

    pub(crate) fn of_sqlite(err: &rusqlite::Error) -> Failure {
        let storage_full =
            matches!(err, rusqlite::Error::SqliteFailure(failure, _) if out_of_space(failure));
        Failure::new(err.to_string(), storage_full)
    }

    pub(crate) fn of_io(what: String, err: &std::io::Error) -> Failure {
        let storage_full = err.kind() == std::io::ErrorKind::StorageFull;
        Failure::new(format!("{what}: {err}"), storage_full)
    }

    /// The error a job of the failed batch answers with.
    pub(crate) fn error(&self) -> StoreError {
        if self.storage_full {
            StoreError::Unavailable(Outage::StorageFull)
        } else {
            StoreError::backend(format!("the write batch failed: {}", self.reason))
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The error of a call made while (or after) the store closes.
pub(crate) fn closed() -> StoreError {
    StoreError::Unavailable(Outage::Closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_are_named_by_the_constraint_columns() {
        assert_eq!(
            conflict_of("UNIQUE constraint failed: users.username"),
            Conflict::Username
        );
        assert_eq!(
            conflict_of("UNIQUE constraint failed: members.chat_id, members.user_id"),
            Conflict::Member
        );
        assert_eq!(
            conflict_of("UNIQUE constraint failed: something.else"),
            Conflict::Other
        );
    }
}
