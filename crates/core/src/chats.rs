//! Chats and membership: create (direct chats idempotently), list, show,
//! rename, add and remove members, leave. Every check is against the
//! membership as it is now.

use super::{Caller, Core, CoreError, CoreResult, bounded_text, new_id, now_ms, views};
use crate::messages::LinksFor;
use natter_bus::{Envelope, Subject};
use natter_proto::chats::{Chat, ChatSummary, ChatType, CreateChat, Role};
use natter_proto::events::{ChatCursor, ServerEvent};
use natter_store::{ChatListRow, ChatRow, MemberRow, NewChat};
use std::collections::BTreeSet;

/// Most members a chat can be created with in one call.
const MAX_INITIAL_MEMBERS: usize = 10_000;

impl Core {
    /// The chat and the caller's membership; `not_found` for a chat the
    /// caller does not belong to (no existence leak).
    pub(crate) async fn membership(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> CoreResult<(ChatRow, MemberRow)> {
        self.store
            .membership(chat_id, user_id)
            .await?
            .ok_or_else(|| CoreError::not_found("chat"))
    }

    /// The caller's role in the chat and the chat's type, for the paths
    /// that need no more (typing, read markers, metadata checks): one
    /// light read of the membership as it is now. `not_found` as for
    /// [`Core::membership`].
    pub(crate) async fn role_in(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> CoreResult<(ChatType, Role)> {
        self.store
            .member_role(chat_id, user_id)
            .await?
            .ok_or_else(|| CoreError::not_found("chat"))
    }

    pub async fn create_chat(
        &self,
        caller: &Caller,
        request: CreateChat,
    ) -> CoreResult<(Chat, bool)> {
        self.limits
            .user_action(&caller.user_id, super::limits::UserAction::CreateChat)?;
        let others: BTreeSet<String> = request
            .member_ids
            .iter()
            .filter(|id| **id != caller.user_id)
            .cloned()
            .collect();
        if others.len() > MAX_INITIAL_MEMBERS {
            return Err(CoreError::invalid(format!(
                "member_ids may name at most {MAX_INITIAL_MEMBERS} users"
            )));
        }
        for id in &others {
            if self.store.user_by_id(id).await?.is_none() {
                return Err(CoreError::invalid(format!("member_ids: no user {id}")));
            }
        }
        let (name, direct_key) = match request.chat_type {
            ChatType::Direct => {
                if others.len() != 1 {
                    return Err(CoreError::invalid(
                        "member_ids: a direct chat has exactly one other member",
                    ));
                }
                let mut pair = [caller.user_id.as_str(), others.first().map_or("", |id| id)];
                pair.sort();
                // An encrypted direct chat is another chat than the plain
                // one of the same pair, found again by its own key.
                let suffix = if request.e2ee { ":e2ee" } else { "" };
                (None, Some(format!("{}{suffix}", pair.join(":"))))
            }
            ChatType::Channel if request.e2ee => {
                return Err(CoreError::invalid(
                    "e2ee: channels cannot be end-to-end encrypted (direct chats and groups can)",
                ));
            }
            ChatType::Group | ChatType::Channel => {
                let name = request.name.as_deref().unwrap_or_default();
                (Some(bounded_text("name", name, 1, 100)?), None)
            }
        };
        let mut members = vec![(caller.user_id.clone(), Role::Owner)];
        members.extend(others.iter().map(|id| (id.clone(), Role::Member)));
        let (chat, created) = self
            .store
            .create_chat(NewChat {
                e2ee: request.e2ee,
                id: new_id(),
                chat_type: request.chat_type,
                name,
                created_by: caller.user_id.clone(),
                created_at: now_ms(),
                direct_key,
                members,
            })
            .await?;
        let detail = self.chat(caller, &chat.id).await?;
        if created {
            self.announce_chat_to_members(&chat.id).await?;
        }
        Ok((detail, created))
    }

    pub async fn chats(&self, caller: &Caller) -> CoreResult<Vec<ChatSummary>> {
        let rows = self.store.chats_for_user(&caller.user_id).await?;
        let mut summaries = Vec::with_capacity(rows.len());
        for row in &rows {
            summaries.push(self.summary(row, &caller.user_id).await?);
        }
        Ok(summaries)
    }

    pub async fn chat(&self, caller: &Caller, chat_id: &str) -> CoreResult<Chat> {
        let row = self
            .store
            .chat_for_user(chat_id, &caller.user_id)
            .await?
            .ok_or_else(|| CoreError::not_found("chat"))?;
        let members = self.store.members(chat_id).await?;
        Ok(Chat {
            summary: self.summary(&row, &caller.user_id).await?,
            members: members.iter().map(views::member).collect(),
            description: row.chat.profile.description.clone(),
        })
    }

    pub async fn add_member(
        &self,
        caller: &Caller,
        chat_id: &str,
        user_id: &str,
        role: Option<Role>,
    ) -> CoreResult<Chat> {
        let (chat, member) = self.membership(chat_id, &caller.user_id).await?;
        if chat.chat_type == ChatType::Direct {
            return Err(CoreError::invalid("direct chats have exactly two members"));
        }
        if !member.role.can_manage() {
            return Err(CoreError::forbidden(
                "only the owner and admins can add members",
            ));
        }
        let role = role.unwrap_or(Role::Member);
        if role == Role::Owner {
            return Err(CoreError::invalid(
                "role: a chat has one owner; add as admin or member",
            ));
        }
        if self.store.user_by_id(user_id).await?.is_none() {
            return Err(CoreError::not_found("user"));
        }
        self.store
            .add_member(chat_id, user_id, role, now_ms())
            .await
            .map_err(|error| match error {
                natter_store::StoreError::Conflict(_) => CoreError::conflict("already a member"),
                other => other.into(),
            })?;
        self.bus.publish(Envelope::to_chat(
            chat_id,
            &ServerEvent::ChatMemberAdded {
                chat_id: chat_id.to_owned(),
                user_id: user_id.to_owned(),
            },
        ));
        self.announce_chat_to(chat_id, user_id).await?;
        self.chat(caller, chat_id).await
    }

    /// Removes `user_id`, or leaves when it is the caller. From this moment
    /// the removed user gets nothing of the chat.
    pub async fn remove_member(
        &self,
        caller: &Caller,
        chat_id: &str,
        user_id: &str,
    ) -> CoreResult<()> {
        let (chat, member) = self.membership(chat_id, &caller.user_id).await?;
        if chat.chat_type == ChatType::Direct {
            return Err(CoreError::invalid(
                "members cannot leave or be removed from a direct chat",
            ));
        }
        if user_id != caller.user_id {
            let target = self
                .store
                .member(chat_id, user_id)
                .await?
                .ok_or_else(|| CoreError::not_found("member"))?;
            let allowed = match member.role {
                Role::Owner => true,
                Role::Admin => target.role == Role::Member,
                Role::Member => false,
            };
            if !allowed {
                return Err(CoreError::forbidden("your role cannot remove this member"));
            }
        }
        if !self.store.remove_member(chat_id, user_id).await? {
            return Err(CoreError::not_found("member"));
        }
        let event = ServerEvent::ChatMemberRemoved {
            chat_id: chat_id.to_owned(),
            user_id: user_id.to_owned(),
        };
        let to_chat = Envelope::to_chat(chat_id, &event);
        self.bus
            .publish(to_chat.readdressed(Subject::User(user_id.to_owned())));
        self.bus.publish(to_chat);
        Ok(())
    }

    /// The last `seq` of each of `chat_ids` that exists, in one read: what
    /// the gateway's router compares with what reached it, to fetch what
    /// the bus lost.
    pub async fn chat_positions(&self, chat_ids: &[String]) -> CoreResult<Vec<(String, i64)>> {
        let positions = self.store.chat_positions(chat_ids).await?;
        Ok(positions
            .into_iter()
            .map(|(chat_id, last_seq, _last_version)| (chat_id, last_seq))
            .collect())
    }

    /// Every chat of `user_id` with its `last_seq` and the user's
    /// `read_seq`: the cursors of the WebSocket `ready` frame, and the
    /// membership the gateway's router reconciles with.
    pub async fn chat_cursors(&self, user_id: &str) -> CoreResult<Vec<ChatCursor>> {
        let rows = self.store.chat_cursors(user_id).await?;
        Ok(rows
            .into_iter()
            .map(|row| ChatCursor {
                chat_id: row.chat_id,
                last_seq: row.last_seq,
                read_seq: row.read_seq,
                last_version: row.last_version,
            })
            .collect())
    }

    /// `user_id`'s list entry, with its last message rendered.
    pub(crate) async fn summary(
        &self,
        row: &ChatListRow,
        user_id: &str,
    ) -> CoreResult<ChatSummary> {
        let last_message = match &row.last_message {
            Some(message) => Some(
                self.render_messages(
                    &row.chat.id,
                    std::slice::from_ref(message),
                    LinksFor::User(user_id),
                )
                .await?
                .remove(0),
            ),
            None => None,
        };
        let mut summary = views::chat_summary(row, last_message);
        summary.avatar_url = self.chat_avatar_url(&row.chat, user_id);
        summary.mine = Some(crate::chat_flags::my_flags_now(row));
        Ok(summary)
    }

    /// Tells every member that a chat now exists for them.
    async fn announce_chat_to_members(&self, chat_id: &str) -> CoreResult<()> {
        for member in self.store.members(chat_id).await? {
            self.announce_chat_to(chat_id, &member.user_id).await?;
        }
        Ok(())
    }

    /// Sends `chat.created` with `user_id`'s own view of the chat.
    async fn announce_chat_to(&self, chat_id: &str, user_id: &str) -> CoreResult<()> {
        if let Some(row) = self.store.chat_for_user(chat_id, user_id).await? {
            let chat = self.summary(&row, user_id).await?;
            self.bus.publish(Envelope::to_user(
                user_id,
                &ServerEvent::ChatCreated { chat },
            ));
        }
        Ok(())
    }
}
