//! The last step of an append batch (see `batch`): each append's answer
//! from its decision, once the batch's transaction is over. Pure logic,
//! tested without a database.
//!
//! A retry answers the message it repeats: the stored original (several
//! retries of one original in one batch all answer it), or the new
//! message of the batch it repeats. When the COMMIT failed and `settle`
//! found the batch's new messages stored anyway, only those it found are
//! answered as stored; the others (and their retries) answer the
//! COMMIT's error.

use super::decide::Decision;
use crate::error::duplicate;
use natter_store::{Appended, Conflict, MessageRow, StoreError, StoreResult};
use std::collections::{HashMap, HashSet};

/// How the batch's transaction ended.
pub(super) enum Commit<'a> {
    /// Committed: every new message is stored.
    Done,
    /// The COMMIT failed, yet these new messages (ids) were found stored
    /// afterwards; any other new message answers `error`.
    Unsure {
        stored: &'a HashSet<String>,
        error: &'a StoreError,
    },
}

impl Commit<'_> {
    /// Whether the new message `row` is stored; the error if not.
    fn stored(&self, row: &MessageRow) -> StoreResult<()> {
        match self {
            Commit::Done => Ok(()),
            Commit::Unsure { stored, .. } if stored.contains(&row.id) => Ok(()),
            Commit::Unsure { error, .. } => Err(duplicate(error)),
        }
    }
}

/// Each append's answer, in order. `originals` are the stored messages
/// that retries repeat, by id.
pub(super) fn answers(
    decisions: &[Decision],
    originals: &HashMap<String, MessageRow>,
    commit: &Commit<'_>,
) -> Vec<StoreResult<Appended>> {
    decisions
        .iter()
        .map(|decision| match decision {
            Decision::New(row) => commit.stored(row).map(|()| Appended::New(row.clone())),
            // `get`, not `remove`: the same original may be repeated by
            // several retries of the batch (a client resending quickly).
            Decision::RetryOfStored(id) => originals
                .get(id)
                .cloned()
                .map(Appended::Existing)
                .ok_or(StoreError::NotFound),
            Decision::RetryInBatch(index) => match &decisions[*index] {
                Decision::New(row) => commit.stored(row).map(|()| Appended::Existing(row.clone())),
                _ => Err(StoreError::backend("a retry of a message not stored")),
            },
            Decision::NotMember => Ok(Appended::NotMember),
            Decision::ReadOnly => Ok(Appended::ReadOnly),
            Decision::Encryption { e2ee } => Ok(Appended::Encryption { e2ee: *e2ee }),
            Decision::StaleEpoch { current } => Ok(Appended::StaleEpoch { current: *current }),
            Decision::IdTaken => Err(StoreError::Conflict(Conflict::Message)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_proto::messages::{MessageType, Metadata};
    use natter_store::Outage;

    fn row(id: &str, seq: i64) -> MessageRow {
        MessageRow {
            id: id.into(),
            chat_id: "g".into(),
            seq,
            version: seq,
            sender_id: "ann".into(),
            message_type: MessageType::Text,
            content: "hi".into(),
            file_id: None,
            metadata: Metadata::default(),
            client_msg_id: Some(format!("client-{id}")),
            created_at: 1,
            edited_at: None,
            deleted: false,
        }
    }

    /// The answers as short words: the message id of those that have one.
    fn summary(answers: &[StoreResult<Appended>]) -> Vec<String> {
        answers
            .iter()
            .map(|answer| match answer {
                Ok(Appended::New(row)) => format!("new {}", row.id),
                Ok(Appended::Existing(row)) => format!("existing {}", row.id),
                Ok(other) => format!("{other:?}"),
                Err(StoreError::Unavailable(_)) => "unavailable".into(),
                Err(StoreError::Conflict(conflict)) => format!("conflict {conflict:?}"),
                Err(err) => format!("error {err}"),
            })
            .collect()
    }

    #[test]
    fn several_retries_of_one_stored_message_all_answer_it() {
        let originals = HashMap::from([("m0".to_string(), row("m0", 1))]);
        let decisions = [
            Decision::RetryOfStored("m0".into()),
            Decision::New(row("m1", 2)),
            Decision::RetryOfStored("m0".into()),
            Decision::RetryOfStored("m0".into()),
        ];
        let answered = answers(&decisions, &originals, &Commit::Done);
        assert_eq!(
            summary(&answered),
            ["existing m0", "new m1", "existing m0", "existing m0"]
        );
    }

    #[test]
    fn retries_in_the_batch_answer_its_new_message_and_refusals_answer_themselves() {
        let decisions = [
            Decision::New(row("m1", 1)),
            Decision::RetryInBatch(0),
            Decision::RetryInBatch(0),
            Decision::NotMember,
            Decision::ReadOnly,
            Decision::IdTaken,
        ];
        let answered = answers(&decisions, &HashMap::new(), &Commit::Done);
        assert_eq!(
            summary(&answered),
            [
                "new m1",
                "existing m1",
                "existing m1",
                "NotMember",
                "ReadOnly",
                "conflict Message"
            ]
        );
    }

    #[test]
    fn after_an_unsure_commit_only_the_messages_found_stored_are_answered_as_stored() {
        let decisions = [
            Decision::New(row("m1", 1)),
            Decision::New(row("m2", 2)),
            Decision::RetryInBatch(1),
            Decision::RetryInBatch(0),
        ];
        let stored = HashSet::from(["m1".to_string()]);
        let error = StoreError::Unavailable(Outage::Unreachable("gone".into()));
        let commit = Commit::Unsure {
            stored: &stored,
            error: &error,
        };
        let answered = answers(&decisions, &HashMap::new(), &commit);
        assert_eq!(
            summary(&answered),
            ["new m1", "unavailable", "unavailable", "existing m1"]
        );
    }
}
