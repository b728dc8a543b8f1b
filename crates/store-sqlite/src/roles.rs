//! Who may post where, from memory: each (chat, member) pair's role and
//! the chat's type, as the send path asks for them on every message.
//!
//! Why: a send must check that the sender is a member (and, in a channel,
//! an owner or admin). Asking the database costs a hand-off to a reader
//! thread and back, more than the append itself; a profile of a durable
//! send load showed the read pool's threads at a fifth of the server's
//! time. Membership changes rarely and only through this store's writer,
//! so the answers are kept and dropped when a membership write commits.
//!
//! Consistency: a pair is forgotten after its removal commits; a lookup
//! that read the database before that (and would put the old answer
//! back) is recognised by the generation it started in and not kept.
//! Only members are remembered (a non-member's send is an error path);
//! the cache is emptied when it reaches [`MAX_ENTRIES`], bounding memory.

use crate::SqliteStore;
use crate::error::Db;
use crate::rows;
use natter_proto::chats::{ChatType, Role};
use natter_store::StoreResult;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Mutex;

/// About 200 bytes each: at most ~40 MiB.
const MAX_ENTRIES: usize = 200_000;

#[derive(Default)]
pub(crate) struct RoleCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every invalidation.
    generation: u64,
    entries: usize,
    /// chat id -> the chat's type and the roles of the members looked up.
    chats: HashMap<String, CachedChat>,
}

struct CachedChat {
    chat_type: ChatType,
    roles: HashMap<String, Role>,
}

impl RoleCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn get(&self, chat_id: &str, user_id: &str) -> Result<(ChatType, Role), u64> {
        let inner = self.lock();
        inner
            .chats
            .get(chat_id)
            .and_then(|chat| Some((chat.chat_type, *chat.roles.get(user_id)?)))
            .ok_or(inner.generation)
    }

    /// Keeps an answer read in `generation`, unless something was
    /// invalidated since.
    fn insert(
        &self,
        generation: u64,
        chat_id: &str,
        user_id: &str,
        chat_type: ChatType,
        role: Role,
    ) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries >= MAX_ENTRIES {
            inner.chats.clear();
            inner.entries = 0;
        }
        let chat = inner
            .chats
            .entry(chat_id.to_owned())
            .or_insert_with(|| CachedChat {
                chat_type,
                roles: HashMap::new(),
            });
        if chat.roles.insert(user_id.to_owned(), role).is_none() {
            inner.entries += 1;
        }
    }

    /// Forgets `user_id`'s role in `chat_id` (after it changed).
    pub(crate) fn forget(&self, chat_id: &str, user_id: &str) {
        let mut inner = self.lock();
        inner.generation += 1;
        let removed = inner
            .chats
            .get_mut(chat_id)
            .and_then(|chat| chat.roles.remove(user_id));
        if removed.is_some() {
            inner.entries -= 1;
        }
    }
}

/// `user_id`'s role in `chat_id` and the chat's type; `None` if not a
/// member. From memory when known.
pub(crate) async fn member_role(
    db: &SqliteStore,
    chat_id: &str,
    user_id: &str,
) -> StoreResult<Option<(ChatType, Role)>> {
    let generation = match db.roles.get(chat_id, user_id) {
        Ok(known) => return Ok(Some(known)),
        Err(generation) => generation,
    };
    let found = sqlx::query(
        "SELECT c.type, mb.role FROM members mb JOIN chats c ON c.id = mb.chat_id \
         WHERE mb.chat_id = ?1 AND mb.user_id = ?2",
    )
    .bind(chat_id)
    .bind(user_id)
    .fetch_optional(&db.readers)
    .await
    .db()?;
    let Some(found) = found else {
        return Ok(None);
    };
    let chat_type = rows::chat_type(found.try_get("type").db()?)?;
    let role = rows::role(found.try_get("role").db()?)?;
    db.roles
        .insert(generation, chat_id, user_id, chat_type, role);
    Ok(Some((chat_type, role)))
}

#[cfg(test)]
mod tests {
    use super::RoleCache;
    use natter_proto::chats::{ChatType, Role};

    #[test]
    fn an_answer_read_before_an_invalidation_is_not_kept() {
        let cache = RoleCache::default();
        let generation = cache.get("g", "ann").unwrap_err();
        cache.forget("g", "ann");
        cache.insert(generation, "g", "ann", ChatType::Group, Role::Member);
        assert!(cache.get("g", "ann").is_err());

        let generation = cache.get("g", "ann").unwrap_err();
        cache.insert(generation, "g", "ann", ChatType::Group, Role::Member);
        assert_eq!(cache.get("g", "ann"), Ok((ChatType::Group, Role::Member)));
        cache.forget("g", "ann");
        assert!(cache.get("g", "ann").is_err());
    }
}
