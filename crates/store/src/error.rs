//! Why a store call failed, in terms every backend can use: callers
//! (`core`) decide what each case means for the API; a backend maps its
//! driver's errors here in one place and never lets a driver type out.

use std::fmt;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row the call works on (or refers to) does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the variant says which.
    #[error("conflict: {0} already exists")]
    Conflict(Conflict),
    /// The store cannot take the call now; the caller may try again
    /// later. The [`Outage`] says why.
    #[error("store unavailable: {0}")]
    Unavailable(Outage),
    /// Anything else the backend reports: a bug, corrupt data, a failed
    /// disk. Logged by the caller, never shown to a client.
    #[error("store backend error: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A backend failure described in words (for errors that are not
    /// `std::error::Error` values, e.g. a whole write batch failing).
    pub fn backend(reason: impl Into<String>) -> StoreError {
        StoreError::Backend(reason.into().into())
    }
}

/// Why a store is unavailable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outage {
    /// The store is closing or closed (the server is shutting down).
    Closed,
    /// The disk (or the database's quota) is full: nothing can be written
    /// until space is freed; reads still work.
    StorageFull,
    /// The database cannot be reached; the text is the driver's reason.
    Unreachable(String),
}

impl fmt::Display for Outage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outage::Closed => f.write_str("the store is shutting down"),
            Outage::StorageFull => f.write_str("storage is full"),
            Outage::Unreachable(reason) => write!(f, "the database cannot be reached: {reason}"),
        }
    }
}

/// Which uniqueness rule a write broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// The username is taken (case-insensitively).
    Username,
    /// A user with this id exists.
    User,
    /// A session with this id exists.
    Session,
    /// This refresh token hash exists.
    RefreshToken,
    /// A chat with this id exists.
    Chat,
    /// The pair already has a direct chat.
    DirectChat,
    /// The user is already a member of the chat.
    Member,
    /// A message with this id exists.
    Message,
    /// The chat already has a message with this `seq`.
    Seq,
    /// The sender already sent this `client_msg_id`.
    ClientMsgId,
    /// The user already reacted with this emoji.
    Reaction,
    /// A file with this id exists.
    File,
    /// A rule the backend could not name.
    Other,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Conflict::Username => "username",
            Conflict::User => "user",
            Conflict::Session => "session",
            Conflict::RefreshToken => "refresh_token",
            Conflict::Chat => "chat",
            Conflict::DirectChat => "direct_chat",
            Conflict::Member => "member",
            Conflict::Message => "message",
            Conflict::Seq => "seq",
            Conflict::ClientMsgId => "client_msg_id",
            Conflict::Reaction => "reaction",
            Conflict::File => "file",
            Conflict::Other => "unique value",
        })
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
