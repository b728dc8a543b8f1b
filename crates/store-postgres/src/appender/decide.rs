//! Step 3 of an append batch (see `batch`): what becomes of each append,
//! decided in queue order from the locked chats and the checks read under
//! their lock. Pure logic, so that the rules are tested without a
//! database: membership first (a removed member learns that the chat is
//! gone, not what they once sent there), then the right to post, then a
//! chat's encryption (an `e2ee` chat takes only `mls` messages and the
//! server's `call` entries, a plain one no `mls` message), then a retry
//! (of a stored message, or of one earlier in the batch), then a Commit's
//! epoch precondition (checked against the epoch as the batch leaves it,
//! so of two Commits for one epoch in one batch the first wins), then a
//! taken id; anything else is new and takes its chat's next seq and
//! version (and a Commit its chat's next epoch).

use natter_store::{MessageRow, NewMessage, fits_encryption};
use std::collections::{HashMap, HashSet};

use super::Draft;

/// A chat's row as the batch found it, then as the batch leaves it.
pub(super) struct ChatState {
    pub(super) kind: String,
    pub(super) last_seq: i64,
    pub(super) last_version: i64,
    pub(super) last_activity: i64,
    pub(super) e2ee: bool,
    pub(super) mls_epoch: i64,
}

/// What step 3 decided for one append. (Nearly every one is `New`: the
/// size of its row is what the others take too, and no allocation.)
#[allow(clippy::large_enum_variant)]
pub(super) enum Decision {
    New(MessageRow),
    /// A retry of the stored message with this id.
    RetryOfStored(String),
    /// A retry of the new message at this index of the batch.
    RetryInBatch(usize),
    NotMember,
    ReadOnly,
    /// The kind does not fit the chat's encryption (`e2ee` is the chat's).
    Encryption {
        e2ee: bool,
    },
    /// A Commit for another epoch than the chat's (`current`).
    StaleEpoch {
        current: i64,
    },
    IdTaken,
}

/// What the batch's check statement read for one append.
pub(super) struct Check {
    /// The sender's role in the chat now; `None` if not a member.
    pub(super) role: Option<String>,
    /// The stored message with the append's `(sender, client_msg_id)`.
    pub(super) original_id: Option<String>,
    /// Whether a stored message has the append's id.
    pub(super) id_taken: bool,
}

/// Step 3: each append's fate, in queue order, taking seqs and versions
/// from `chats` as it goes.
pub(super) fn decide(
    drafts: &[&Draft],
    checks: &[Check],
    chats: &mut HashMap<String, ChatState>,
) -> Vec<Decision> {
    let mut decisions = Vec::with_capacity(drafts.len());
    let mut sent_in_batch: HashMap<(&str, &str), usize> = HashMap::new();
    let mut ids_in_batch: HashSet<&str> = HashSet::new();
    for (index, (draft, check)) in drafts.iter().zip(checks).enumerate() {
        let new = &draft.message;
        let chat = chats.get_mut(&new.chat_id);
        let decision = match (chat, &check.role) {
            (None, _) | (_, None) => Decision::NotMember,
            (Some(chat), Some(role)) if chat.kind == "channel" && role == "member" => {
                Decision::ReadOnly
            }
            (Some(chat), Some(_)) if !fits_encryption(chat.e2ee, new.message_type) => {
                Decision::Encryption { e2ee: chat.e2ee }
            }
            (Some(chat), Some(_)) => {
                let key = new
                    .client_msg_id
                    .as_deref()
                    .map(|client_msg_id| (new.sender_id.as_str(), client_msg_id));
                let earlier = key.and_then(|key| sent_in_batch.get(&key).copied());
                if let Some(original) = &check.original_id {
                    Decision::RetryOfStored(original.clone())
                } else if let Some(earlier) = earlier {
                    Decision::RetryInBatch(earlier)
                } else if new.mls_epoch.is_some_and(|wanted| wanted != chat.mls_epoch) {
                    Decision::StaleEpoch {
                        current: chat.mls_epoch,
                    }
                } else if check.id_taken || !ids_in_batch.insert(new.id.as_str()) {
                    Decision::IdTaken
                } else {
                    if let Some(key) = key {
                        sent_in_batch.insert(key, index);
                    }
                    chat.last_seq += 1;
                    chat.last_version += 1;
                    // A Commit changes the group and says nothing to a
                    // person: it does not move the chat up the list.
                    if new.mls_epoch.is_some() {
                        chat.mls_epoch += 1;
                    } else {
                        chat.last_activity = chat.last_activity.max(new.created_at);
                    }
                    Decision::New(new_row(new, chat.last_seq, chat.last_version))
                }
            }
        };
        decisions.push(decision);
    }
    decisions
}

fn new_row(new: &NewMessage, seq: i64, version: i64) -> MessageRow {
    MessageRow {
        id: new.id.clone(),
        chat_id: new.chat_id.clone(),
        seq,
        version,
        sender_id: new.sender_id.clone(),
        message_type: new.message_type,
        content: new.content.clone(),
        file_id: new.file_id.clone(),
        metadata: new.metadata.clone(),
        client_msg_id: new.client_msg_id.clone(),
        created_at: new.created_at,
        edited_at: None,
        deleted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_proto::messages::{MessageType, Metadata};

    fn draft(id: &str, chat: &str, sender: &str, client_msg_id: Option<&str>) -> Draft {
        Draft {
            message: NewMessage {
                id: id.into(),
                chat_id: chat.into(),
                sender_id: sender.into(),
                message_type: MessageType::Text,
                content: "hi".into(),
                file_id: None,
                metadata: Metadata::default(),
                client_msg_id: client_msg_id.map(str::to_owned),
                created_at: 7,
                owes_push: false,
                mls_epoch: None,
            },
            metadata: "{}".into(),
        }
    }

    fn member(role: &str) -> Check {
        Check {
            role: Some(role.into()),
            original_id: None,
            id_taken: false,
        }
    }

    fn chats(kinds: &[(&str, &str, i64)]) -> HashMap<String, ChatState> {
        kinds
            .iter()
            .map(|(id, kind, last_seq)| {
                let state = ChatState {
                    kind: kind.to_string(),
                    last_seq: *last_seq,
                    last_version: *last_seq + 10,
                    last_activity: 1,
                    e2ee: false,
                    mls_epoch: 0,
                };
                (id.to_string(), state)
            })
            .collect()
    }

    /// The decisions as short words, with the seq and version of new ones.
    fn summary(decisions: &[Decision]) -> Vec<String> {
        decisions
            .iter()
            .map(|decision| match decision {
                Decision::New(row) => format!("new {} {}", row.seq, row.version),
                Decision::RetryOfStored(id) => format!("retry of {id}"),
                Decision::RetryInBatch(index) => format!("retry of #{index}"),
                Decision::NotMember => "not a member".into(),
                Decision::ReadOnly => "read-only".into(),
                Decision::IdTaken => "id taken".into(),
                Decision::Encryption { e2ee } => format!("encryption {e2ee}"),
                Decision::StaleEpoch { current } => format!("stale, at {current}"),
            })
            .collect()
    }

    #[test]
    fn new_messages_take_their_chats_next_seqs_in_queue_order() {
        let drafts = [
            draft("a", "g", "ann", None),
            draft("b", "h", "ann", None),
            draft("c", "g", "bob", None),
        ];
        let refs: Vec<&Draft> = drafts.iter().collect();
        let mut chats = chats(&[("g", "group", 4), ("h", "direct", 0)]);
        let checks = [member("member"), member("owner"), member("member")];
        let decided = decide(&refs, &checks, &mut chats);
        assert_eq!(summary(&decided), ["new 5 15", "new 1 11", "new 6 16"]);
        assert_eq!((chats["g"].last_seq, chats["g"].last_version), (6, 16));
        assert_eq!(chats["g"].last_activity, 7);
    }

    #[test]
    fn refusals_take_no_seq_and_membership_comes_before_retries() {
        let drafts = [
            draft("a", "g", "cat", Some("c1")),
            draft("b", "news", "bob", None),
            draft("c", "missing", "ann", None),
            draft("d", "g", "ann", None),
        ];
        let refs: Vec<&Draft> = drafts.iter().collect();
        let mut chats = chats(&[("g", "group", 0), ("news", "channel", 0)]);
        let not_member = Check {
            role: None,
            original_id: Some("old".into()),
            id_taken: false,
        };
        let checks = [
            not_member,
            member("member"),
            member("owner"),
            member("owner"),
        ];
        let decided = decide(&refs, &checks, &mut chats);
        assert_eq!(
            summary(&decided),
            ["not a member", "read-only", "not a member", "new 1 11"]
        );
    }

    #[test]
    fn retries_find_stored_messages_and_earlier_ones_of_the_batch() {
        let drafts = [
            draft("a", "g", "ann", Some("stored")),
            draft("b", "g", "ann", Some("fresh")),
            draft("c", "g", "ann", Some("fresh")),
            draft("d", "g", "bob", Some("fresh")),
            draft("b", "g", "bob", None),
            draft("e", "g", "bob", None),
        ];
        let refs: Vec<&Draft> = drafts.iter().collect();
        let mut chats = chats(&[("g", "group", 0)]);
        let stored = Check {
            original_id: Some("m0".into()),
            ..member("member")
        };
        let taken = Check {
            id_taken: true,
            ..member("member")
        };
        let checks = [
            stored,
            member("member"),
            member("member"),
            member("member"),
            member("member"),
            taken,
        ];
        let decided = decide(&refs, &checks, &mut chats);
        assert_eq!(
            summary(&decided),
            [
                "retry of m0",
                "new 1 11",
                "retry of #1",
                "new 2 12",
                "id taken",
                "id taken"
            ],
            "another sender's equal client id is another message; an id is taken once"
        );
    }

    #[test]
    fn encryption_and_the_epoch_precondition_refuse_without_taking_a_seq() {
        let commit = |id: &str, epoch: i64| Draft {
            message: NewMessage {
                message_type: MessageType::Mls,
                mls_epoch: Some(epoch),
                ..draft(id, "s", "ann", None).message
            },
            metadata: "{}".into(),
        };
        let drafts = [
            draft("t", "s", "ann", None),
            commit("c1", 3),
            commit("c2", 3),
            commit("c3", 4),
            commit("p", 0),
        ];
        let refs: Vec<&Draft> = drafts.iter().collect();
        let mut chats = chats(&[("s", "group", 0), ("plain", "group", 0)]);
        let secret = chats.get_mut("s").unwrap();
        secret.e2ee = true;
        secret.mls_epoch = 3;
        let mut drafts_plain = refs.clone();
        let plain_commit = Draft {
            message: NewMessage {
                chat_id: "plain".into(),
                ..commit("p", 0).message
            },
            metadata: "{}".into(),
        };
        drafts_plain[4] = &plain_commit;
        let checks: Vec<Check> = (0..5).map(|_| member("member")).collect();
        let decided = decide(&drafts_plain, &checks, &mut chats);
        assert_eq!(
            summary(&decided),
            [
                "encryption true",
                "new 1 11",
                "stale, at 4",
                "new 2 12",
                "encryption false"
            ]
        );
        assert_eq!(chats["s"].mls_epoch, 5);
    }
}
