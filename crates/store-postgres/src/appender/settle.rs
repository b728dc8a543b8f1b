//! A batch whose COMMIT failed: did it commit anyway? A COMMIT cut off
//! (the connection dropped, the server process was ended while it
//! waited for a standby) may have committed on the server before the
//! answer was lost. Answering `Unavailable` then would leave stored
//! messages that were never announced (a client's retry would find them
//! as `Existing`, and only new messages are announced), so the batch's
//! new messages are looked up instead.
//!
//! The lookup runs on a fresh transaction (the pool replaces a broken
//! connection) that first takes a share lock on the batch's chat rows:
//! the batch's transaction held them for update, so the lock waits until
//! the server has finished with it, committed or rolled back (on a
//! dropped network that can take until the server notices; `LOCK_WAIT`
//! bounds each try). Its reads come after, in a statement of their own,
//! so that they see that outcome. It writes nothing and rolls back.
//!
//! While the database cannot be reached the lookup is tried again, with
//! growing pauses, for up to `SETTLE_WITHIN`; then the batch's outcome
//! stays unknown: logged, and answered with the COMMIT's error.

use super::answer::{Commit, answers};
use super::decide::Decision;
use crate::error::Db;
use natter_store::{Appended, MessageRow, StoreError, StoreResult};
use sqlx::{PgPool, Row};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout_at};

/// How long the appender keeps trying to learn a batch's outcome. It
/// stores nothing meanwhile: appends queued behind wait (the database
/// they need is unreachable anyway, or still busy with the batch).
const SETTLE_WITHIN: Duration = Duration::from_secs(15);
/// The longest one try waits for the batch's chat rows (PostgreSQL's
/// `lock_timeout` syntax).
const LOCK_WAIT: &str = "5s";
/// The first pause between tries; each one doubles, up to `LONGEST_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// The batch's answers after its COMMIT failed with `error`: as decided
/// if it wrote nothing (what it read stands) or if its new messages are
/// found stored (those found are answered and reported as new), else
/// `error` for the whole batch.
pub(super) async fn after_failed_commit(
    pool: &PgPool,
    decisions: &[Decision],
    originals: &HashMap<String, MessageRow>,
    error: StoreError,
) -> StoreResult<Vec<StoreResult<Appended>>> {
    let new: Vec<&MessageRow> = decisions
        .iter()
        .filter_map(|decision| match decision {
            Decision::New(row) => Some(row),
            _ => None,
        })
        .collect();
    if new.is_empty() {
        return Ok(answers(decisions, originals, &Commit::Done));
    }
    match stored(pool, &new).await {
        Some(stored) if !stored.is_empty() => {
            tracing::warn!(
                found = stored.len(),
                of = new.len(),
                %error,
                "an append batch's COMMIT failed, but it committed"
            );
            let commit = Commit::Unsure {
                stored: &stored,
                error: &error,
            };
            Ok(answers(decisions, originals, &commit))
        }
        _ => Err(error),
    }
}

/// The ids of the batch's new messages (`new`) found stored as the batch
/// wrote them; `None` if that could not be learned in time.
async fn stored(pool: &PgPool, new: &[&MessageRow]) -> Option<HashSet<String>> {
    let deadline = Instant::now() + SETTLE_WITHIN;
    let mut pause = FIRST_PAUSE;
    loop {
        let failure = match timeout_at(deadline, look_up(pool, new)).await {
            Ok(Ok(found)) => return Some(ours(new, &found)),
            Ok(Err(err)) => err.to_string(),
            Err(_) => "no answer in time".to_owned(),
        };
        if Instant::now() + pause >= deadline {
            tracing::error!(
                messages = ?new.iter().map(|row| row.id.as_str()).collect::<Vec<_>>(),
                %failure,
                "an append batch's COMMIT failed and whether it committed is unknown: \
                 its messages may be stored without being announced"
            );
            return None;
        }
        tracing::warn!(%failure, "looking up an append batch whose COMMIT failed, again");
        sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Each stored message among `new`'s ids: (id, chat, seq).
async fn look_up(pool: &PgPool, new: &[&MessageRow]) -> StoreResult<Vec<(String, String, i64)>> {
    let mut chats: Vec<&str> = new.iter().map(|row| row.chat_id.as_str()).collect();
    chats.sort_unstable();
    chats.dedup();
    let ids: Vec<&str> = new.iter().map(|row| row.id.as_str()).collect();
    let mut tx = pool.begin().await.db()?;
    sqlx::query("SELECT set_config('lock_timeout', $1, true)")
        .bind(LOCK_WAIT)
        .execute(&mut *tx)
        .await
        .db()?;
    sqlx::query("SELECT id FROM chats WHERE id = ANY($1) ORDER BY id FOR SHARE")
        .bind(chats)
        .execute(&mut *tx)
        .await
        .db()?;
    let found = sqlx::query("SELECT id, chat_id, seq FROM messages WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(&mut *tx)
        .await
        .db()?;
    tx.rollback().await.db()?;
    found
        .iter()
        .map(|row| {
            Ok((
                row.try_get(0).db()?,
                row.try_get(1).db()?,
                row.try_get(2).db()?,
            ))
        })
        .collect()
}

/// The ids of `new` found as the batch wrote them: same id, chat and
/// seq (a message of another id's owner, were ids ever reused, is not
/// the batch's).
fn ours(new: &[&MessageRow], found: &[(String, String, i64)]) -> HashSet<String> {
    let found: HashSet<(&str, &str, i64)> = found
        .iter()
        .map(|(id, chat, seq)| (id.as_str(), chat.as_str(), *seq))
        .collect();
    new.iter()
        .filter(|row| found.contains(&(row.id.as_str(), row.chat_id.as_str(), row.seq)))
        .map(|row| row.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_proto::messages::{MessageType, Metadata};

    fn row(id: &str, chat: &str, seq: i64) -> MessageRow {
        MessageRow {
            id: id.into(),
            chat_id: chat.into(),
            seq,
            version: seq,
            sender_id: "ann".into(),
            message_type: MessageType::Text,
            content: "hi".into(),
            file_id: None,
            metadata: Metadata::default(),
            client_msg_id: None,
            created_at: 1,
            edited_at: None,
            deleted: false,
        }
    }

    fn found(rows: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
        rows.iter()
            .map(|(id, chat, seq)| (id.to_string(), chat.to_string(), *seq))
            .collect()
    }

    #[test]
    fn messages_found_as_written_are_the_batchs() {
        let (a, b, c) = (row("a", "g", 1), row("b", "g", 2), row("c", "h", 1));
        let new = [&a, &b, &c];
        let all = ours(&new, &found(&[("c", "h", 1), ("a", "g", 1), ("b", "g", 2)]));
        assert_eq!(all.len(), 3);
        assert!(ours(&new, &[]).is_empty(), "rolled back: none found");
    }

    #[test]
    fn a_message_with_the_id_but_another_place_is_not_the_batchs() {
        let (a, b) = (row("a", "g", 1), row("b", "g", 2));
        let new = [&a, &b];
        let some = ours(&new, &found(&[("a", "g", 1), ("b", "other", 2)]));
        assert_eq!(some, HashSet::from(["a".to_string()]));
        assert!(ours(&new, &found(&[("a", "g", 7)])).is_empty());
    }
}
