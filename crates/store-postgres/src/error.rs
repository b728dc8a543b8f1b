//! The one place where sqlx and PostgreSQL errors become [`StoreError`]
//! variants: a broken UNIQUE constraint names what conflicted (by the
//! constraint names of the migrations), a broken foreign key means the
//! referenced row is missing, a server that cannot be reached (or is
//! shutting down, or refuses connections) is `Unavailable`, a full disk
//! is `StorageFull`, and a value the store cannot decode is a backend
//! error, never a panic. No driver type leaves this crate.

use natter_store::{Conflict, Outage, StoreError, StoreResult};
use sqlx::postgres::{PgDatabaseError, PgSeverity};

/// Turns a driver's result into the store's: `.db()?` on every call.
pub(crate) trait Db<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> Db<T> for Result<T, sqlx::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(store_error)
    }
}

/// What a failed driver call means to the store's callers.
pub(crate) fn store_error(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::PoolClosed => StoreError::Unavailable(Outage::Closed),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => unreachable(&err),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match &*code {
                // unique_violation
                "23505" => StoreError::Conflict(conflict_of(db.constraint().unwrap_or(""))),
                // foreign_key_violation: every foreign key points at the row
                // a call works on or refers to (chat, user, message, session).
                "23503" => StoreError::NotFound,
                // disk_full
                "53100" => StoreError::Unavailable(Outage::StorageFull),
                // too_many_connections, admin/crash shutdown, cannot connect
                // now (starting, recovering), a read-only standby (after a
                // failover), and the whole connection_exception class.
                "53300" | "57P01" | "57P02" | "57P03" | "25006" => unreachable(&err),
                code if code.starts_with("08") => unreachable(&err),
                // FATAL: the server ended the session or refused to start
                // one (a database not accepting connections, a failed
                // login): no statement can run until a connection works.
                _ if fatal(db.as_ref()) => unreachable(&err),
                _ => StoreError::Backend(Box::new(err)),
            }
        }
        _ => StoreError::Backend(Box::new(err)),
    }
}

fn fatal(db: &dyn sqlx::error::DatabaseError) -> bool {
    db.try_downcast_ref::<PgDatabaseError>()
        .is_some_and(|db| matches!(db.severity(), PgSeverity::Fatal | PgSeverity::Panic))
}

fn unreachable(err: &sqlx::Error) -> StoreError {
    StoreError::Unavailable(Outage::Unreachable(err.to_string()))
}

/// True for failures that say nothing about the data but that a
/// transaction lost a race (deadlock, serialization): trying again is
/// the answer.
pub(crate) fn is_transient(err: &StoreError) -> bool {
    matches!(err, StoreError::Backend(inner)
    if matches!(
        inner.downcast_ref::<sqlx::Error>(),
        Some(sqlx::Error::Database(db))
            if matches!(db.code().as_deref(), Some("40P01" | "40001"))
    ))
}

/// What a broken uniqueness rule means, from the constraint's name (see
/// the migrations: every unique constraint and index is named there).
fn conflict_of(constraint: &str) -> Conflict {
    match constraint {
        "users_username_key" => Conflict::Username,
        "users_pkey" => Conflict::User,
        "sessions_pkey" => Conflict::Session,
        "refresh_tokens_pkey" => Conflict::RefreshToken,
        "chats_pkey" => Conflict::Chat,
        "chats_direct_key_key" => Conflict::DirectChat,
        "members_pkey" => Conflict::Member,
        "messages_pkey" => Conflict::Message,
        "messages_chat_seq_key" => Conflict::Seq,
        "messages_client_msg_id_key" => Conflict::ClientMsgId,
        "reactions_pkey" => Conflict::Reaction,
        "files_pkey" => Conflict::File,
        _ => Conflict::Other,
    }
}

/// A stored value this code cannot read back (a schema or data bug).
pub(crate) fn corrupt(what: String) -> StoreError {
    StoreError::backend(what)
}

/// The error of a call made while (or after) the store closes.
pub(crate) fn closed() -> StoreError {
    StoreError::Unavailable(Outage::Closed)
}

/// The same failure again, for each of several callers (store errors are
/// not `Clone`): outages keep their kind, anything else its text.
pub(crate) fn duplicate(err: &StoreError) -> StoreError {
    match err {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(conflict) => StoreError::Conflict(*conflict),
        StoreError::Unavailable(outage) => StoreError::Unavailable(outage.clone()),
        StoreError::Backend(inner) => StoreError::backend(inner.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_are_named_by_the_constraint() {
        assert_eq!(conflict_of("users_username_key"), Conflict::Username);
        assert_eq!(conflict_of("members_pkey"), Conflict::Member);
        assert_eq!(
            conflict_of("messages_client_msg_id_key"),
            Conflict::ClientMsgId
        );
        assert_eq!(conflict_of("something_else"), Conflict::Other);
    }

    #[test]
    fn a_closed_pool_is_an_outage_not_a_bug() {
        assert!(matches!(
            store_error(sqlx::Error::PoolClosed),
            StoreError::Unavailable(Outage::Closed)
        ));
        assert!(matches!(
            store_error(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(Outage::Unreachable(_))
        ));
    }
}
