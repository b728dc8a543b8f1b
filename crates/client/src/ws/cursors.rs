//! The resume state machine of [`RealtimeClient`](super::RealtimeClient),
//! free of I/O so it can be tested alone: per chat, the highest `seq`
//! delivered to the application, the live messages that arrived ahead
//! of a gap, and the change cursor (the chat `version` up to which edits,
//! deletes and reactions are known). It decides, for every message from
//! the socket or from a history page, whether to deliver it now, drop it
//! as a duplicate, or hold it until the gap before it is fetched.
//! Delivering strictly `delivered + 1` is what makes the output
//! exactly-once and in order; after a `ready`, [`ChatCursors::changes`]
//! names the chats whose changes must be fetched (`?changed_after=V`).

use natter_proto::events::ChatCursor;
use natter_proto::messages::Message;
use std::collections::{BTreeMap, HashMap};

/// Messages of one chat that must be fetched over REST: every message
/// with `seq > after` (`GET /chats/{chat_id}/messages?after=seq:N`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The chat.
    pub chat_id: String,
    /// The last `seq` delivered; fetch from the one after it.
    pub after: i64,
}

/// Changes of one chat to fetch over REST: every message whose `version`
/// is above `after_version` (`GET /chats/{chat_id}/messages?changed_after=V`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changes {
    /// The chat.
    pub chat_id: String,
    /// The change cursor held; fetch what changed after it.
    pub after_version: i64,
    /// The chat's `last_version` in the `ready`: once the fetch is done,
    /// the new cursor (see [`ChatCursors::changes_fetched`]).
    pub up_to: i64,
    /// The `seq` delivered when the `ready` came: only messages up to it
    /// are changes for the application; later ones are delivered (in
    /// their current state) by the gap fetch.
    pub delivered: i64,
}

/// What to do with a live `message.new`.
#[derive(Clone, Debug, PartialEq)]
pub enum Live {
    /// Deliver these now, in this order: the message and any held ones it
    /// made contiguous.
    Deliver(Vec<Message>),
    /// Delivered (or held) already: drop it.
    Duplicate,
    /// It is ahead of what was delivered: it is held, fetch this gap first.
    Gap(Gap),
}

#[derive(Debug, Default)]
struct ChatState {
    delivered: i64,
    /// Messages that arrived ahead of `delivered + 1`, by `seq`.
    early: BTreeMap<i64, Message>,
    /// Every change up to this chat version is known; `None` until a
    /// `ready` says where the chat stands.
    version: Option<i64>,
}

/// Where a chat stood for the application when its cursors were saved
/// ([`ChatCursors::snapshot`]), to resume from in a later run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedCursor {
    /// The highest `seq` delivered.
    pub seq: i64,
    /// Every change up to this chat version was delivered; `None` if not
    /// known (changes are then known from the next `ready` on).
    pub version: Option<i64>,
}

impl SavedCursor {
    /// A cursor that knows only the `seq` delivered.
    pub fn at_seq(seq: i64) -> SavedCursor {
        SavedCursor { seq, version: None }
    }
}

/// Per-chat delivery cursors.
#[derive(Debug, Default)]
pub struct ChatCursors {
    chats: HashMap<String, ChatState>,
}

impl ChatCursors {
    /// No chat known: the first `ready` decides where each chat starts.
    pub fn new() -> ChatCursors {
        ChatCursors::default()
    }

    /// Resumes from cursors saved by an earlier run: what lies beyond
    /// each `seq` is delivered, what changed after each `version` comes as
    /// changes.
    pub fn from_saved(saved: HashMap<String, SavedCursor>) -> ChatCursors {
        let chats = saved
            .into_iter()
            .map(|(chat_id, saved)| {
                let state = ChatState {
                    delivered: saved.seq,
                    version: saved.version,
                    ..ChatState::default()
                };
                (chat_id, state)
            })
            .collect();
        ChatCursors { chats }
    }

    /// The highest `seq` delivered in a chat, if the chat is known.
    pub fn delivered(&self, chat_id: &str) -> Option<i64> {
        self.chats.get(chat_id).map(|chat| chat.delivered)
    }

    /// Every known chat's cursors (to store for the next run).
    pub fn snapshot(&self) -> HashMap<String, SavedCursor> {
        self.chats
            .iter()
            .map(|(chat_id, chat)| {
                let saved = SavedCursor {
                    seq: chat.delivered,
                    version: chat.version,
                };
                (chat_id.clone(), saved)
            })
            .collect()
    }

    /// Takes in a `ready`: chats it no longer lists are forgotten (the user
    /// left them), and every chat whose `last_seq` is beyond what was
    /// delivered has a gap to fetch. A chat seen for the first time starts
    /// `backlog` messages before its `last_seq` (0: from now on).
    pub fn on_ready(&mut self, chats: &[ChatCursor], backlog: i64) -> Vec<Gap> {
        self.chats
            .retain(|chat_id, _| chats.iter().any(|chat| chat.chat_id == *chat_id));
        let mut gaps = Vec::new();
        for cursor in chats {
            let chat = self
                .chats
                .entry(cursor.chat_id.clone())
                .or_insert_with(|| ChatState {
                    delivered: (cursor.last_seq - backlog.max(0)).max(0),
                    // What is fetched of a new chat is fetched as it is now.
                    version: Some(cursor.last_version),
                    ..ChatState::default()
                });
            // Cursors saved by an earlier run carry no version: such a
            // chat's changes are known from this `ready` on.
            chat.version.get_or_insert(cursor.last_version);
            if cursor.last_seq > chat.delivered {
                gaps.push(Gap {
                    chat_id: cursor.chat_id.clone(),
                    after: chat.delivered,
                });
            }
        }
        gaps
    }

    /// The chats of a `ready` (taken in by [`on_ready`](Self::on_ready)
    /// first, its gaps not fetched yet) whose messages changed since the
    /// version held: fetch each with `?changed_after=`, then call
    /// [`changes_fetched`](Self::changes_fetched).
    pub fn changes(&self, chats: &[ChatCursor]) -> Vec<Changes> {
        chats
            .iter()
            .filter_map(|cursor| {
                let chat = self.chats.get(&cursor.chat_id)?;
                let held = chat.version?;
                (cursor.last_version > held).then(|| Changes {
                    chat_id: cursor.chat_id.clone(),
                    after_version: held,
                    up_to: cursor.last_version,
                    delivered: chat.delivered,
                })
            })
            .collect()
    }

    /// Every change of `chat_id` up to `version` is now known.
    pub fn changes_fetched(&mut self, chat_id: &str, version: i64) {
        if let Some(chat) = self.chats.get_mut(chat_id) {
            chat.version = Some(chat.version.map_or(version, |held| held.max(version)));
        }
    }

    /// The change cursor held for a chat, if known.
    pub fn version(&self, chat_id: &str) -> Option<i64> {
        self.chats.get(chat_id)?.version
    }

    /// A chat that appeared during a session (`chat.created`): it starts
    /// at `last_seq` and `last_version`, so its later messages and changes
    /// are delivered. A known chat is left as it is.
    pub fn join(&mut self, chat_id: &str, last_seq: i64, last_version: i64) {
        self.chats
            .entry(chat_id.to_owned())
            .or_insert_with(|| ChatState {
                delivered: last_seq,
                version: Some(last_version),
                ..ChatState::default()
            });
    }

    /// The user left or was removed: forget the chat.
    pub fn leave(&mut self, chat_id: &str) {
        self.chats.remove(chat_id);
    }

    /// Decides about a live message. A message of an unknown chat starts
    /// that chat at itself.
    pub fn on_live(&mut self, message: Message) -> Live {
        let chat = self
            .chats
            .entry(message.chat_id.clone())
            .or_insert_with(|| ChatState {
                delivered: message.seq - 1,
                ..ChatState::default()
            });
        let seq = message.seq;
        if seq <= chat.delivered || chat.early.contains_key(&seq) {
            return Live::Duplicate;
        }
        if seq > chat.delivered + 1 {
            let gap = Gap {
                chat_id: message.chat_id.clone(),
                after: chat.delivered,
            };
            chat.early.insert(seq, message);
            return Live::Gap(gap);
        }
        chat.delivered = seq;
        let mut out = vec![message];
        release_early(chat, &mut out);
        Live::Deliver(out)
    }

    /// Takes in a page of fetched history; returns what to deliver now,
    /// in order. Messages already delivered are dropped; messages beyond a
    /// remaining hole are held. Pages of a forgotten chat are ignored.
    pub fn on_fetched(&mut self, chat_id: &str, mut messages: Vec<Message>) -> Vec<Message> {
        let Some(chat) = self.chats.get_mut(chat_id) else {
            return Vec::new();
        };
        messages.sort_by_key(|message| message.seq);
        let mut out = Vec::new();
        for message in messages {
            if message.chat_id != chat_id || message.seq <= chat.delivered {
                continue;
            }
            if message.seq == chat.delivered + 1 {
                chat.delivered = message.seq;
                out.push(message);
                release_early(chat, &mut out);
            } else {
                chat.early.entry(message.seq).or_insert(message);
            }
        }
        out
    }

    /// The gap still open in a chat (messages are held behind it), if any.
    pub fn gap(&self, chat_id: &str) -> Option<Gap> {
        let chat = self.chats.get(chat_id)?;
        (!chat.early.is_empty()).then(|| Gap {
            chat_id: chat_id.to_owned(),
            after: chat.delivered,
        })
    }
}

/// Moves held messages that are now next in line to `out`.
fn release_early(chat: &mut ChatState, out: &mut Vec<Message>) {
    while let Some(message) = chat.early.remove(&(chat.delivered + 1)) {
        chat.delivered = message.seq;
        out.push(message);
    }
}

/// Delivered markers waiting to be sent: one `ack` per chat per burst,
/// carrying the highest `seq` delivered.
#[derive(Debug, Default)]
pub struct AckBatch {
    due: HashMap<String, i64>,
}

impl AckBatch {
    /// Notes that `seq` of `chat_id` reached the application.
    pub fn note(&mut self, chat_id: &str, seq: i64) {
        let entry = self.due.entry(chat_id.to_owned()).or_insert(seq);
        *entry = (*entry).max(seq);
    }

    /// True if nothing waits.
    pub fn is_empty(&self) -> bool {
        self.due.is_empty()
    }

    /// Takes the acks to send, one per chat.
    pub fn take(&mut self) -> Vec<(String, i64)> {
        let mut acks: Vec<(String, i64)> = std::mem::take(&mut self.due).into_iter().collect();
        acks.sort();
        acks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_proto::Timestamp;
    use natter_proto::messages::{MessageStatus, MessageType, Metadata};

    fn message(chat_id: &str, seq: i64) -> Message {
        Message {
            message_id: format!("{chat_id}-{seq}"),
            chat_id: chat_id.to_owned(),
            seq,
            version: seq,
            sender_id: "someone".into(),
            message_type: MessageType::Text,
            content: format!("message {seq}"),
            file: None,
            metadata: Metadata::default(),
            reactions: Vec::new(),
            status: MessageStatus::Sent,
            created_at: Timestamp(0),
            edited_at: None,
            deleted: false,
            client_msg_id: None,
            hidden: false,
        }
    }

    fn cursor(chat_id: &str, last_seq: i64) -> ChatCursor {
        versioned(chat_id, last_seq, last_seq)
    }

    fn versioned(chat_id: &str, last_seq: i64, last_version: i64) -> ChatCursor {
        ChatCursor {
            chat_id: chat_id.to_owned(),
            last_seq,
            read_seq: 0,
            last_version,
        }
    }

    fn seqs(live: &Live) -> Vec<i64> {
        match live {
            Live::Deliver(messages) => messages.iter().map(|m| m.seq).collect(),
            other => panic!("expected a delivery, got {other:?}"),
        }
    }

    fn page(chat_id: &str, range: std::ops::RangeInclusive<i64>) -> Vec<Message> {
        range.map(|seq| message(chat_id, seq)).collect()
    }

    #[test]
    fn in_order_live_messages_are_delivered_and_repeats_dropped() {
        let mut cursors = ChatCursors::new();
        assert!(cursors.on_ready(&[cursor("c", 0)], 0).is_empty());
        assert_eq!(seqs(&cursors.on_live(message("c", 1))), [1]);
        assert_eq!(seqs(&cursors.on_live(message("c", 2))), [2]);
        assert_eq!(cursors.on_live(message("c", 2)), Live::Duplicate);
        assert_eq!(cursors.on_live(message("c", 1)), Live::Duplicate);
        assert_eq!(cursors.delivered("c"), Some(2));
    }

    #[test]
    fn a_message_ahead_is_held_until_the_fetched_gap_releases_it() {
        let mut cursors =
            ChatCursors::from_saved(HashMap::from([("c".into(), SavedCursor::at_seq(3))]));
        let gap = Gap {
            chat_id: "c".into(),
            after: 3,
        };
        assert_eq!(cursors.on_live(message("c", 6)), Live::Gap(gap.clone()));
        assert_eq!(
            cursors.on_live(message("c", 6)),
            Live::Duplicate,
            "held counts as seen"
        );
        assert_eq!(cursors.gap("c"), Some(gap));
        // The fetch returns 4..=6 (the server already has 6): 6 comes once.
        let out = cursors.on_fetched("c", page("c", 4..=6));
        assert_eq!(out.iter().map(|m| m.seq).collect::<Vec<_>>(), [4, 5, 6]);
        assert_eq!(cursors.gap("c"), None);
        assert_eq!(cursors.on_live(message("c", 5)), Live::Duplicate);
        assert_eq!(seqs(&cursors.on_live(message("c", 7))), [7]);
    }

    #[test]
    fn a_short_fetch_delivers_what_is_contiguous_and_keeps_the_gap_open() {
        let mut cursors =
            ChatCursors::from_saved(HashMap::from([("c".into(), SavedCursor::at_seq(0))]));
        assert!(matches!(cursors.on_live(message("c", 5)), Live::Gap(_)));
        let out = cursors.on_fetched("c", page("c", 1..=2));
        assert_eq!(out.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(
            cursors.gap("c"),
            Some(Gap {
                chat_id: "c".into(),
                after: 2
            })
        );
        // A live 3 and 4 close it and release the held 5.
        assert_eq!(seqs(&cursors.on_live(message("c", 3))), [3]);
        assert_eq!(seqs(&cursors.on_live(message("c", 4))), [4, 5]);
        assert_eq!(cursors.gap("c"), None);
    }

    #[test]
    fn fetched_pages_drop_what_was_delivered_and_survive_disorder() {
        let mut cursors =
            ChatCursors::from_saved(HashMap::from([("c".into(), SavedCursor::at_seq(2))]));
        let mut messages = page("c", 1..=5);
        messages.reverse();
        let out = cursors.on_fetched("c", messages);
        assert_eq!(out.iter().map(|m| m.seq).collect::<Vec<_>>(), [3, 4, 5]);
        assert!(cursors.on_fetched("c", page("c", 1..=5)).is_empty());
        assert!(
            cursors.on_fetched("other", page("other", 1..=2)).is_empty(),
            "unknown chat"
        );
    }

    #[test]
    fn ready_yields_gaps_for_chats_that_moved_and_forgets_chats_left() {
        let saved = HashMap::from([
            ("a".into(), SavedCursor::at_seq(5)),
            ("b".into(), SavedCursor::at_seq(7)),
            ("gone".into(), SavedCursor::at_seq(1)),
        ]);
        let mut cursors = ChatCursors::from_saved(saved);
        let gaps = cursors.on_ready(&[cursor("a", 9), cursor("b", 7)], 0);
        assert_eq!(
            gaps,
            [Gap {
                chat_id: "a".into(),
                after: 5
            }]
        );
        assert_eq!(cursors.delivered("gone"), None);
    }

    #[test]
    fn chats_first_seen_in_ready_start_a_backlog_before_their_last_seq() {
        let mut cursors = ChatCursors::new();
        let gaps = cursors.on_ready(&[cursor("old", 100), cursor("new", 3)], 50);
        assert_eq!(
            gaps,
            [
                Gap {
                    chat_id: "old".into(),
                    after: 50
                },
                Gap {
                    chat_id: "new".into(),
                    after: 0
                }
            ]
        );
        let mut from_now = ChatCursors::new();
        assert!(from_now.on_ready(&[cursor("old", 100)], 0).is_empty());
        assert_eq!(from_now.delivered("old"), Some(100));
    }

    #[test]
    fn joined_chats_start_at_their_last_seq_and_unknown_chats_at_the_first_message() {
        let mut cursors = ChatCursors::new();
        cursors.join("joined", 4, 6);
        cursors.join("joined", 0, 0);
        assert_eq!(cursors.delivered("joined"), Some(4), "join does not rewind");
        assert_eq!(
            cursors.version("joined"),
            Some(6),
            "changes count from the join"
        );
        assert_eq!(seqs(&cursors.on_live(message("joined", 5))), [5]);
        assert_eq!(seqs(&cursors.on_live(message("stranger", 12))), [12]);
        cursors.leave("joined");
        assert_eq!(cursors.delivered("joined"), None);
        assert_eq!(
            cursors.snapshot(),
            HashMap::from([("stranger".into(), SavedCursor::at_seq(12))])
        );
    }

    #[test]
    fn a_ready_names_the_chats_changed_since_the_version_held() {
        let mut cursors = ChatCursors::new();
        let first = [versioned("a", 3, 5), versioned("b", 2, 2)];
        cursors.on_ready(&first, 0);
        assert!(
            cursors.changes(&first).is_empty(),
            "first seen: known as it is"
        );

        let again = [
            versioned("a", 3, 9),
            versioned("b", 2, 2),
            versioned("c", 1, 4),
        ];
        cursors.on_ready(&again, 0);
        let changes = cursors.changes(&again);
        assert_eq!(
            changes,
            [Changes {
                chat_id: "a".into(),
                after_version: 5,
                up_to: 9,
                delivered: 3
            }]
        );
        assert_eq!(
            cursors.changes(&again),
            changes,
            "asked again until the fetch is done"
        );
        cursors.changes_fetched("a", 9);
        assert!(cursors.changes(&again).is_empty());
        cursors.changes_fetched("a", 7);
        assert_eq!(cursors.version("a"), Some(9), "never back");
    }

    #[test]
    fn saved_cursors_learn_their_version_from_the_first_ready() {
        let mut cursors =
            ChatCursors::from_saved(HashMap::from([("a".into(), SavedCursor::at_seq(3))]));
        assert_eq!(cursors.version("a"), None);
        let ready = [versioned("a", 5, 8)];
        cursors.on_ready(&ready, 0);
        assert_eq!(cursors.version("a"), Some(8));
        assert!(cursors.changes(&ready).is_empty());
    }

    #[test]
    fn a_saved_version_survives_the_restart_and_names_the_changes_since() {
        let mut before = ChatCursors::new();
        before.on_ready(&[versioned("a", 3, 5)], 0);
        let saved = before.snapshot();
        assert_eq!(
            saved["a"],
            SavedCursor {
                seq: 3,
                version: Some(5)
            }
        );

        let mut after = ChatCursors::from_saved(saved);
        let ready = [versioned("a", 3, 7)];
        assert!(after.on_ready(&ready, 0).is_empty(), "no new message");
        assert_eq!(
            after.changes(&ready),
            [Changes {
                chat_id: "a".into(),
                after_version: 5,
                up_to: 7,
                delivered: 3
            }]
        );
    }

    #[test]
    fn acks_are_batched_to_one_per_chat_with_the_highest_seq() {
        let mut acks = AckBatch::default();
        assert!(acks.is_empty());
        for (chat, seq) in [("b", 1), ("a", 3), ("a", 5), ("a", 4), ("b", 2)] {
            acks.note(chat, seq);
        }
        assert_eq!(acks.take(), [("a".to_owned(), 5), ("b".to_owned(), 2)]);
        assert!(acks.is_empty());
    }
}
