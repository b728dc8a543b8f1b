//! Turning store rows into the API's objects: users, messages (with their
//! reactions and status) and chat summaries. Pure functions, no I/O.

use natter_proto::Timestamp;
use natter_proto::chats::{ChatSummary, Member};
use natter_proto::messages::{FileRef, Message, MessageStatus, Reaction};
use natter_proto::users::{Presence, PresenceStatus, User};
use natter_store::{ChatListRow, MemberRow, MessageRow, ReactionRow, UserRow};

/// A user as others see them. Presence is `offline` with the stored
/// `last_seen` until a live presence source overrides it.
pub fn user(row: &UserRow) -> User {
    User {
        user_id: row.id.clone(),
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        avatar_url: None,
        presence: Presence {
            status: PresenceStatus::Offline,
            last_seen: row.last_seen.map(Timestamp),
        },
    }
}

/// The two most advanced values of one marker over a chat's members, so
/// that "most advanced over members other than the sender" costs O(1) per
/// message instead of a pass over the members.
#[derive(Clone, Debug, Default)]
struct TopTwo {
    best: Option<(i64, String)>,
    second: i64,
}

impl TopTwo {
    fn add(&mut self, seq: i64, user_id: &str) {
        match &self.best {
            Some((best, _)) if seq <= *best => self.second = self.second.max(seq),
            _ => {
                if let Some((best, _)) = self.best.take() {
                    self.second = self.second.max(best);
                }
                self.best = Some((seq, user_id.to_owned()));
            }
        }
    }

    /// The highest marker of anyone but `excluded`.
    fn excluding(&self, excluded: &str) -> i64 {
        match &self.best {
            Some((best, holder)) if holder != excluded => *best,
            Some(_) => self.second,
            None => 0,
        }
    }
}

/// Read and delivered markers of a chat's members, for message status.
#[derive(Clone, Debug, Default)]
pub struct StatusBoard {
    read: TopTwo,
    delivered: TopTwo,
}

impl StatusBoard {
    pub fn new(members: &[MemberRow]) -> Self {
        let mut board = StatusBoard::default();
        for member in members {
            board.read.add(member.read_seq, &member.user_id);
            board
                .delivered
                .add(member.delivered_seq.max(member.read_seq), &member.user_id);
        }
        board
    }

    /// `read` if another member read up to `seq`, else `delivered` if a
    /// device of another member got it, else `sent`.
    pub fn status(&self, seq: i64, sender_id: &str) -> MessageStatus {
        if self.read.excluding(sender_id) >= seq {
            MessageStatus::Read
        } else if self.delivered.excluding(sender_id) >= seq {
            MessageStatus::Delivered
        } else {
            MessageStatus::Sent
        }
    }
}

/// Groups reactions of one message by emoji, in order of first use.
pub fn reactions_of(message_id: &str, rows: &[ReactionRow]) -> Vec<Reaction> {
    let mut grouped: Vec<Reaction> = Vec::new();
    for row in rows.iter().filter(|row| row.message_id == message_id) {
        match grouped
            .iter_mut()
            .find(|reaction| reaction.emoji == row.emoji)
        {
            Some(reaction) => {
                reaction.count += 1;
                reaction.user_ids.push(row.user_id.clone());
            }
            None => grouped.push(Reaction {
                emoji: row.emoji.clone(),
                count: 1,
                user_ids: vec![row.user_id.clone()],
            }),
        }
    }
    grouped
}

/// A message object. Deleted messages carry no content, file or reactions.
pub fn message(
    row: &MessageRow,
    reactions: Vec<Reaction>,
    status: MessageStatus,
    file: Option<FileRef>,
) -> Message {
    Message {
        message_id: row.id.clone(),
        chat_id: row.chat_id.clone(),
        seq: row.seq,
        version: row.version,
        sender_id: row.sender_id.clone(),
        message_type: row.message_type,
        content: if row.deleted {
            String::new()
        } else {
            row.content.clone()
        },
        file: if row.deleted { None } else { file },
        metadata: row.metadata.clone(),
        reactions: if row.deleted { Vec::new() } else { reactions },
        status,
        created_at: Timestamp(row.created_at),
        edited_at: row.edited_at.map(Timestamp),
        deleted: row.deleted,
        client_msg_id: row.client_msg_id.clone(),
        // Per reader: set by `Core::mask_hidden`.
        hidden: false,
    }
}

/// A chat list entry. `last_message` is rendered by the caller (it needs
/// reactions and status).
pub fn chat_summary(row: &ChatListRow, last_message: Option<Message>) -> ChatSummary {
    let peer = row.peer.as_ref();
    ChatSummary {
        chat_id: row.chat.id.clone(),
        chat_type: row.chat.chat_type,
        e2ee: row.chat.e2ee,
        mls_epoch: row.chat.e2ee.then_some(row.chat.mls_epoch),
        name: row
            .chat
            .name
            .clone()
            .or_else(|| peer.map(|(_, name)| name.clone())),
        role: row.role,
        member_count: row.member_count,
        last_message,
        last_seq: row.chat.last_seq,
        last_version: row.chat.last_version,
        read_seq: row.read_seq,
        unread_count: row.unread_count,
        // The member's own marks: set by `Core::summary` (it knows the time).
        mine: None,
        created_at: Timestamp(row.chat.created_at),
        peer_id: peer.map(|(id, _)| id.clone()),
        topic: row.chat.profile.topic.clone(),
        // A signed link: set by `Core::summary` (it holds the signing key).
        avatar_url: None,
    }
}

pub fn member(row: &MemberRow) -> Member {
    Member {
        user_id: row.user_id.clone(),
        role: row.role,
        joined_at: Timestamp(row.joined_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_proto::chats::Role;

    fn member_at(user_id: &str, read_seq: i64, delivered_seq: i64) -> MemberRow {
        MemberRow {
            chat_id: "c".into(),
            user_id: user_id.into(),
            role: Role::Member,
            joined_at: 0,
            read_seq,
            delivered_seq,
        }
    }

    #[test]
    fn status_ignores_the_senders_own_markers() {
        let board = StatusBoard::new(&[member_at("alice", 10, 10), member_at("bob", 3, 7)]);
        assert_eq!(board.status(3, "alice"), MessageStatus::Read);
        assert_eq!(board.status(5, "alice"), MessageStatus::Delivered);
        assert_eq!(board.status(8, "alice"), MessageStatus::Sent);
        assert_eq!(board.status(9, "bob"), MessageStatus::Read);
    }

    #[test]
    fn status_is_the_most_advanced_over_other_members() {
        let board = StatusBoard::new(&[
            member_at("alice", 9, 9),
            member_at("bob", 0, 0),
            member_at("carol", 4, 6),
        ]);
        assert_eq!(board.status(4, "alice"), MessageStatus::Read);
        assert_eq!(board.status(6, "alice"), MessageStatus::Delivered);
        assert_eq!(board.status(7, "alice"), MessageStatus::Sent);
    }

    #[test]
    fn reactions_group_by_emoji_in_order_of_first_use() {
        let row = |emoji: &str, user: &str| ReactionRow {
            message_id: "m".into(),
            emoji: emoji.into(),
            user_id: user.into(),
            created_at: 0,
        };
        let grouped = reactions_of("m", &[row("👍", "a"), row("🎉", "b"), row("👍", "b")]);
        assert_eq!(grouped.len(), 2);
        assert_eq!((grouped[0].emoji.as_str(), grouped[0].count), ("👍", 2));
        assert_eq!(grouped[0].user_ids, vec!["a", "b"]);
        assert_eq!(grouped[1].count, 1);
    }
}
