//! The calls in progress on this node, in memory: who called from which
//! connection (party), which user is called, whether and by which party
//! it was answered, and until when an unanswered invite rings. Pure state
//! under one mutex; the use cases in [`super`] decide what to announce.
//!
//! Nothing here is shared with other nodes: a call lives on the node that
//! took its invite, and ends with it. What a node keeps of calls held by
//! another is only which of its connections answered one there
//! ([`Relayed`]), so that connection closing can end it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// One connection taking part: a user, and the id the server gave that
/// connection (`party_id`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub user_id: String,
    pub party_id: String,
}

/// Where a call stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Every device of the callee rings until then.
    Ringing { until: Instant },
    /// `callee` answered at `at`; the callee's other devices are out.
    Answered { callee: String, at: Instant },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub chat_id: String,
    pub caller: Party,
    pub callee_id: String,
    pub video: bool,
    pub phase: Phase,
}

/// What one party is to a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The connection that invited.
    Caller,
    /// A device of the callee while the call rings.
    Ringing,
    /// The callee's connection that answered.
    Callee,
    /// Another device of the callee, after one answered.
    AnsweredElsewhere,
}

impl Call {
    /// What `party` is to this call; `None`: nothing (another user, or
    /// another connection of the caller).
    pub fn side(&self, party: &Party) -> Option<Side> {
        if self.caller == *party {
            return Some(Side::Caller);
        }
        if party.user_id != self.callee_id {
            return None;
        }
        Some(match &self.phase {
            Phase::Ringing { .. } => Side::Ringing,
            Phase::Answered { callee, .. } if *callee == party.party_id => Side::Callee,
            Phase::Answered { .. } => Side::AnsweredElsewhere,
        })
    }

    /// The user on the other side from `side`.
    pub fn peer_of(&self, side: Side) -> &str {
        match side {
            Side::Caller => &self.callee_id,
            _ => &self.caller.user_id,
        }
    }
}

/// Why the table refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// No such call (or it just ended).
    Unknown,
    /// Already answered (by another device).
    Answered,
    /// A call with this id exists.
    Exists,
}

/// A call held by another node that a connection of this node answered:
/// the signaling of that connection is relayed to `peer_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relayed {
    pub call_id: String,
    pub chat_id: String,
    pub peer_id: String,
}

/// The calls of this node by `call_id`.
#[derive(Default)]
pub struct CallTable {
    calls: Mutex<HashMap<String, Call>>,
    /// By party: the calls held elsewhere that the party answered.
    relayed: Mutex<HashMap<String, Vec<Relayed>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl CallTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Call>> {
        lock(&self.calls)
    }

    pub fn insert(&self, call_id: &str, call: Call) -> Result<(), Refused> {
        let mut calls = self.lock();
        if calls.contains_key(call_id) {
            return Err(Refused::Exists);
        }
        calls.insert(call_id.to_owned(), call);
        Ok(())
    }

    /// A copy of the call as it is now.
    pub fn get(&self, call_id: &str) -> Option<Call> {
        self.lock().get(call_id).cloned()
    }

    /// `party` answers: the first answer wins.
    pub fn answer(&self, call_id: &str, party_id: &str, now: Instant) -> Result<Call, Refused> {
        let mut calls = self.lock();
        let call = calls.get_mut(call_id).ok_or(Refused::Unknown)?;
        match call.phase {
            Phase::Ringing { .. } => {
                call.phase = Phase::Answered {
                    callee: party_id.to_owned(),
                    at: now,
                };
                Ok(call.clone())
            }
            Phase::Answered { .. } => Err(Refused::Answered),
        }
    }

    /// Ends a call; `None` if it had ended already (whoever removes it
    /// writes its history entry, so that is done once).
    pub fn remove(&self, call_id: &str) -> Option<Call> {
        self.lock().remove(call_id)
    }

    /// Ends and returns every invite that rang past its lifetime.
    pub fn expire(&self, now: Instant) -> Vec<(String, Call)> {
        self.take(|call| matches!(call.phase, Phase::Ringing { until } if until <= now))
    }

    /// Ends and returns the calls a connection was a party of (the caller,
    /// or the callee that answered).
    pub fn of_party(&self, party_id: &str) -> Vec<(String, Call)> {
        self.take(|call| {
            call.caller.party_id == party_id
                || matches!(&call.phase, Phase::Answered { callee, .. } if callee == party_id)
        })
    }

    /// `party_id` (a connection of this node) answered a call held by
    /// another node.
    pub fn answered_elsewhere(&self, party_id: &str, relayed: Relayed) {
        let mut parties = lock(&self.relayed);
        let calls = parties.entry(party_id.to_owned()).or_default();
        if !calls.contains(&relayed) {
            calls.push(relayed);
        }
    }

    /// `party_id` left a call held by another node (hung up, declined).
    pub fn left_elsewhere(&self, party_id: &str, call_id: &str) {
        let mut parties = lock(&self.relayed);
        if let Some(calls) = parties.get_mut(party_id) {
            calls.retain(|relayed| relayed.call_id != call_id);
            if calls.is_empty() {
                parties.remove(party_id);
            }
        }
    }

    /// The calls held by other nodes that `party_id` answered, forgotten:
    /// its connection closed.
    pub fn take_relayed(&self, party_id: &str) -> Vec<Relayed> {
        lock(&self.relayed).remove(party_id).unwrap_or_default()
    }

    fn take(&self, matches: impl Fn(&Call) -> bool) -> Vec<(String, Call)> {
        let mut calls = self.lock();
        let ids: Vec<String> = calls
            .iter()
            .filter(|(_, call)| matches(call))
            .map(|(id, _)| id.clone())
            .collect();
        ids.into_iter()
            .filter_map(|id| calls.remove(&id).map(|call| (id, call)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn party(user_id: &str, party_id: &str) -> Party {
        Party {
            user_id: user_id.into(),
            party_id: party_id.into(),
        }
    }

    fn ringing(until: Instant) -> Call {
        Call {
            chat_id: "c".into(),
            caller: party("alice", "a1"),
            callee_id: "bob".into(),
            video: false,
            phase: Phase::Ringing { until },
        }
    }

    #[test]
    fn the_first_answer_wins_and_the_other_devices_are_out() {
        let now = Instant::now();
        let table = CallTable::default();
        table.insert("k", ringing(now)).unwrap();
        assert_eq!(table.insert("k", ringing(now)), Err(Refused::Exists));
        let call = table.get("k").unwrap();
        assert_eq!(call.side(&party("bob", "b2")), Some(Side::Ringing));
        assert_eq!(call.side(&party("alice", "a2")), None);
        assert_eq!(call.side(&party("carol", "c1")), None);
        let answered = table.answer("k", "b1", now).unwrap();
        assert_eq!(answered.side(&party("bob", "b1")), Some(Side::Callee));
        assert_eq!(
            answered.side(&party("bob", "b2")),
            Some(Side::AnsweredElsewhere)
        );
        assert_eq!(answered.peer_of(Side::Callee), "alice");
        assert_eq!(answered.peer_of(Side::Caller), "bob");
        assert_eq!(table.answer("k", "b2", now), Err(Refused::Answered));
        assert!(table.remove("k").is_some());
        assert!(table.remove("k").is_none(), "a call ends once");
    }

    #[test]
    fn invites_expire_and_a_partys_calls_end_with_its_connection() {
        let now = Instant::now();
        let table = CallTable::default();
        table
            .insert("late", ringing(now + Duration::from_secs(5)))
            .unwrap();
        table.insert("due", ringing(now)).unwrap();
        let expired = table.expire(now);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].0, "due");
        table.answer("late", "b1", now).unwrap();
        assert!(table.expire(now + Duration::from_secs(10)).is_empty());
        assert!(table.of_party("b2").is_empty());
        assert_eq!(table.of_party("b1").len(), 1);
        assert!(table.get("late").is_none());
    }

    #[test]
    fn a_connection_remembers_the_calls_it_answered_on_other_nodes_until_it_leaves_them() {
        let table = CallTable::default();
        let relayed = |call_id: &str| Relayed {
            call_id: call_id.into(),
            chat_id: "c".into(),
            peer_id: "alice".into(),
        };
        table.answered_elsewhere("b1", relayed("k1"));
        table.answered_elsewhere("b1", relayed("k1"));
        table.answered_elsewhere("b1", relayed("k2"));
        table.left_elsewhere("b1", "k2");
        table.left_elsewhere("b2", "k1");
        assert_eq!(table.take_relayed("b1"), vec![relayed("k1")]);
        assert!(table.take_relayed("b1").is_empty(), "taken once");
    }
}
