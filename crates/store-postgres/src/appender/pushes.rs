//! Step 5b of an append batch (see `batch`): the push jobs of the
//! batch's new messages that owe pushes, in the batch's transaction, so
//! that a stored message that owes pushes always has its job (the push
//! queue is in `push::queue`). One statement, and only for a batch with
//! such a message: most batches pay nothing.
//!
//! A batch stored again (after losing a race, or one append at a time)
//! starts from a rolled-back transaction, and the message id is the
//! job's key: a message never gets two jobs.

use super::Draft;
use super::decide::Decision;
use crate::error::Db;
use natter_store::{MessageRow, StoreResult};
use sqlx::PgConnection;

/// `$1..$4`: each job's message id, chat, seq and time (also when it is
/// first available).
const QUEUE_JOBS: &str = "
    INSERT INTO push_jobs (message_id, chat_id, seq, created_at, available_at)
    SELECT message_id, chat_id, seq, created_at, created_at
    FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[])
        AS j(message_id, chat_id, seq, created_at)
    ON CONFLICT (message_id) DO NOTHING";

/// Queues a job for each new message of the batch that owes pushes.
pub(super) async fn queue_jobs(
    tx: &mut PgConnection,
    drafts: &[&Draft],
    decisions: &[Decision],
) -> StoreResult<()> {
    let owing: Vec<&MessageRow> = decisions
        .iter()
        .zip(drafts)
        .filter_map(|(decision, draft)| match decision {
            Decision::New(row) if draft.message.owes_push => Some(row),
            _ => None,
        })
        .collect();
    if owing.is_empty() {
        return Ok(());
    }
    sqlx::query(QUEUE_JOBS)
        .bind(owing.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())
        .bind(owing.iter().map(|r| r.chat_id.as_str()).collect::<Vec<_>>())
        .bind(owing.iter().map(|r| r.seq).collect::<Vec<_>>())
        .bind(owing.iter().map(|r| r.created_at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .db()?;
    Ok(())
}
