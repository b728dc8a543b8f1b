//! One batch of appends in one transaction, in a fixed number of round
//! trips whatever its size (sqlx does not pipeline, so statements are few
//! and take arrays):
//!
//! 1. [`LOCK_CHATS`]: the batch's chat rows, locked in id order (two
//!    nodes' batches can never wait for each other in a cycle), with each
//!    chat's `last_seq` and `last_version`. Member removals take the same
//!    lock, so from here on no sender of these chats can be removed.
//! 2. [`CHECK`]: for each append, its sender's role now (a new statement,
//!    so it sees every removal committed before the lock was granted),
//!    the original of its `(sender, client_msg_id)` if stored, and
//!    whether its message id is taken (two index probes per append, as
//!    subqueries, so that the planner cannot choose to read the whole
//!    client-id index for a batch it guesses to be small).
//! 3. Deciding (`decide`), in queue order: not a member, may not post,
//!    the chat's encryption refuses it, a retry (of a stored message, or
//!    of one earlier in the batch), a Commit for another epoch than the
//!    locked chat's, a taken id, or a new message with its chat's next
//!    seq and version (and a Commit with its chat's next epoch).
//! 4. [`ORIGINALS`] (only if the batch has retries of stored messages).
//! 5. [`WRITE`]: the new messages, the chats' new `last_seq` /
//!    `last_version` / `last_activity_at`, and each sender's read marker
//!    up to their last message of the batch (logged for receipts), in one
//!    statement; then the push jobs of those that owe pushes (`pushes`,
//!    a statement only if there are any).
//! 6. COMMIT. Should it fail, the batch may have committed all the same
//!    (the answer was lost): `settle` looks its new messages up, and
//!    those found are answered, and reported, as new.
//! 7. The answers (`answer`).
//!
//! A failure that only one append can cause (a unique or foreign key
//! violation that the checks could not foresee: another node inserting
//! the same id at the same moment) fails the whole transaction; the
//! batch is then stored again one append at a time, so that only the
//! guilty one fails. Deadlocks and serialization failures are retried.

use super::Draft;
use super::answer::{Commit, answers};
use super::decide::{ChatState, Check, Decision, decide};
use super::{pushes, settle};
use crate::error::{Db, duplicate, is_transient};
use crate::rows::{self, message_columns};
use natter_store::{Appended, MessageRow, StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Attempts of a batch that lost a race (deadlock, serialization).
const ATTEMPTS: usize = 3;

/// Each draft's outcome, in order.
pub(super) async fn store(pool: &PgPool, drafts: &[&Draft]) -> Vec<StoreResult<Appended>> {
    match store_with_retries(pool, drafts).await {
        Ok(outcomes) => outcomes,
        Err(StoreError::Conflict(_) | StoreError::NotFound) if drafts.len() > 1 => {
            let mut outcomes = Vec::with_capacity(drafts.len());
            for draft in drafts {
                match store_with_retries(pool, std::slice::from_ref(draft)).await {
                    Ok(mut one) => outcomes.append(&mut one),
                    Err(err) => outcomes.push(Err(err)),
                }
            }
            outcomes
        }
        Err(err) => drafts.iter().map(|_| Err(duplicate(&err))).collect(),
    }
}

async fn store_with_retries(
    pool: &PgPool,
    drafts: &[&Draft],
) -> StoreResult<Vec<StoreResult<Appended>>> {
    let mut attempt = 1;
    loop {
        match attempt_batch(pool, drafts).await {
            Err(err) if is_transient(&err) && attempt < ATTEMPTS => attempt += 1,
            outcome => return outcome,
        }
    }
}

async fn attempt_batch(
    pool: &PgPool,
    drafts: &[&Draft],
) -> StoreResult<Vec<StoreResult<Appended>>> {
    let mut tx = pool.begin().await.db()?;
    let mut chats = lock_chats(&mut tx, drafts).await?;
    let checks = sqlx::query(CHECK)
        .bind(column(drafts, |m| m.id.as_str()))
        .bind(column(drafts, |m| m.chat_id.as_str()))
        .bind(column(drafts, |m| m.sender_id.as_str()))
        .bind(column(drafts, |m| m.client_msg_id.as_deref()))
        .fetch_all(&mut *tx)
        .await
        .db()?;
    if checks.len() != drafts.len() {
        return Err(StoreError::backend("the append check lost rows"));
    }
    let checks = checks.iter().map(check).collect::<StoreResult<Vec<_>>>()?;
    let decisions = decide(drafts, &checks, &mut chats);
    let originals = originals(&mut tx, &decisions).await?;
    write(&mut tx, drafts, &decisions, &chats).await?;
    pushes::queue_jobs(&mut tx, drafts, &decisions).await?;
    match tx.commit().await.db() {
        Ok(()) => Ok(answers(&decisions, &originals, &Commit::Done)),
        Err(error) => settle::after_failed_commit(pool, &decisions, &originals, error).await,
    }
}

fn check(row: &PgRow) -> StoreResult<Check> {
    Ok(Check {
        role: row.try_get("role").db()?,
        original_id: row.try_get("original_id").db()?,
        id_taken: row.try_get("id_taken").db()?,
    })
}

fn column<'a, T>(
    drafts: &[&'a Draft],
    field: impl Fn(&'a natter_store::NewMessage) -> T,
) -> Vec<T> {
    drafts.iter().map(|draft| field(&draft.message)).collect()
}

/// Locks the batch's chat rows, one statement, in id order.
async fn lock_chats(
    tx: &mut PgConnection,
    drafts: &[&Draft],
) -> StoreResult<HashMap<String, ChatState>> {
    let mut ids: Vec<&str> = drafts.iter().map(|d| d.message.chat_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = sqlx::query(LOCK_CHATS)
        .bind(ids)
        .fetch_all(&mut *tx)
        .await
        .db()?;
    rows.iter()
        .map(|row| {
            let state = ChatState {
                kind: row.try_get("type").db()?,
                last_seq: row.try_get("last_seq").db()?,
                last_version: row.try_get("last_version").db()?,
                last_activity: row.try_get("last_activity_at").db()?,
                e2ee: row.try_get("e2ee").db()?,
                mls_epoch: row.try_get("mls_epoch").db()?,
            };
            Ok((row.try_get("id").db()?, state))
        })
        .collect()
}

/// Step 4: the stored originals the batch's retries return, by id.
async fn originals(
    tx: &mut PgConnection,
    decisions: &[Decision],
) -> StoreResult<HashMap<String, MessageRow>> {
    let ids: Vec<&str> = decisions
        .iter()
        .filter_map(|decision| match decision {
            Decision::RetryOfStored(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(ORIGINALS)
        .bind(ids)
        .fetch_all(&mut *tx)
        .await
        .db()?;
    rows.iter()
        .map(|row| rows::message(row).map(|message| (message.id.clone(), message)))
        .collect()
}

/// Step 5, if the batch stores anything.
async fn write(
    tx: &mut PgConnection,
    drafts: &[&Draft],
    decisions: &[Decision],
    chats: &HashMap<String, ChatState>,
) -> StoreResult<()> {
    // Each new message with its metadata as the caller encoded it.
    let new: Vec<(&MessageRow, &str)> = decisions
        .iter()
        .zip(drafts)
        .filter_map(|(decision, draft)| match decision {
            Decision::New(row) => Some((row, draft.metadata.as_str())),
            _ => None,
        })
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let touched: Vec<(&str, &ChatState)> = new
        .iter()
        .map(|(row, _)| row.chat_id.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter_map(|id| chats.get(id).map(|chat| (id, chat)))
        .collect();
    // Each sender's last message of the batch, per chat: their read
    // marker moves there (seqs grow in queue order, so the last wins).
    let mut read_up: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
    for (row, _) in &new {
        let entry = read_up
            .entry((row.chat_id.as_str(), row.sender_id.as_str()))
            .or_insert((0, i64::MIN));
        *entry = (entry.0.max(row.seq), entry.1.max(row.created_at));
    }
    sqlx::query(WRITE)
        .bind(new.iter().map(|(r, _)| r.id.as_str()).collect::<Vec<_>>())
        .bind(
            new.iter()
                .map(|(r, _)| r.chat_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(new.iter().map(|(r, _)| r.seq).collect::<Vec<_>>())
        .bind(new.iter().map(|(r, _)| r.version).collect::<Vec<_>>())
        .bind(
            new.iter()
                .map(|(r, _)| r.sender_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            new.iter()
                .map(|(r, _)| r.message_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            new.iter()
                .map(|(r, _)| r.content.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            new.iter()
                .map(|(r, _)| r.file_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            new.iter()
                .map(|(_, metadata)| *metadata)
                .collect::<Vec<_>>(),
        )
        .bind(
            new.iter()
                .map(|(r, _)| r.client_msg_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(new.iter().map(|(r, _)| r.created_at).collect::<Vec<_>>())
        .bind(touched.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .bind(touched.iter().map(|(_, c)| c.last_seq).collect::<Vec<_>>())
        .bind(
            touched
                .iter()
                .map(|(_, c)| c.last_version)
                .collect::<Vec<_>>(),
        )
        .bind(
            touched
                .iter()
                .map(|(_, c)| c.last_activity)
                .collect::<Vec<_>>(),
        )
        .bind(read_up.keys().map(|(chat, _)| *chat).collect::<Vec<_>>())
        .bind(
            read_up
                .keys()
                .map(|(_, sender)| *sender)
                .collect::<Vec<_>>(),
        )
        .bind(read_up.values().map(|(seq, _)| *seq).collect::<Vec<_>>())
        .bind(read_up.values().map(|(_, at)| *at).collect::<Vec<_>>())
        .bind(touched.iter().map(|(_, c)| c.mls_epoch).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .db()?;
    Ok(())
}

/// Step 1: `$1` the batch's chat ids.
const LOCK_CHATS: &str = "
    SELECT id, type, last_seq, last_version, last_activity_at, e2ee, mls_epoch FROM chats
    WHERE id = ANY($1) ORDER BY id FOR UPDATE";

/// Step 2: `$1..$4` each append's message id, chat, sender and client id;
/// one row per append, in order.
const CHECK: &str = "
    SELECT j.ord, mb.role,
        (SELECT original.id FROM messages original
         WHERE original.client_msg_id IS NOT NULL
           AND original.sender_id = j.sender_id AND original.client_msg_id = j.client_msg_id)
            AS original_id,
        EXISTS (SELECT 1 FROM messages taken WHERE taken.id = j.id) AS id_taken
    FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[])
        WITH ORDINALITY AS j(id, chat_id, sender_id, client_msg_id, ord)
    LEFT JOIN members mb ON mb.chat_id = j.chat_id AND mb.user_id = j.sender_id
    ORDER BY j.ord";

/// Step 4: `$1` the ids of stored originals.
const ORIGINALS: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.id = ANY($1)"
);

/// Step 5: the new messages (`$1..$11`), the chats' new positions
/// (`$12..$15` and `$20`: id, last_seq, last_version, last activity, MLS
/// epoch; the rows are locked since step 1, so an epoch decided in step 3
/// is a compare-and-set) and the
/// senders' read markers (`$16..$19`: chat, sender, seq, time), logged
/// as reads for receipts where they moved.
const WRITE: &str = "
    WITH inserted AS (
        INSERT INTO messages (id, chat_id, seq, version, sender_id, type, content, file_id,
            metadata, client_msg_id, created_at, search)
        SELECT id, chat_id, seq, version, sender_id, type, content, file_id,
            metadata::jsonb, client_msg_id, created_at,
            -- The search index (as the edit in messages.rs): never of ciphertext.
            CASE WHEN type = 'mls' THEN ''::tsvector
                 ELSE to_tsvector('natter_search'::regconfig, content) END
        FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::text[],
            $7::text[], $8::text[], $9::text[], $10::text[], $11::int8[])
            AS n(id, chat_id, seq, version, sender_id, type, content, file_id, metadata,
                client_msg_id, created_at)
    ), advanced AS (
        UPDATE chats c
        SET last_seq = a.last_seq, last_version = a.last_version,
            last_activity_at = GREATEST(c.last_activity_at, a.activity), mls_epoch = a.mls_epoch
        FROM UNNEST($12::text[], $13::int8[], $14::int8[], $15::int8[], $20::int8[])
            AS a(id, last_seq, last_version, activity, mls_epoch)
        WHERE c.id = a.id
    ), read_up AS (
        UPDATE members mb
        SET read_seq = r.seq, delivered_seq = GREATEST(mb.delivered_seq, r.seq)
        FROM UNNEST($16::text[], $17::text[], $18::int8[], $19::int8[]) AS r(chat_id, user_id, seq, at)
        WHERE mb.chat_id = r.chat_id AND mb.user_id = r.user_id AND mb.read_seq < r.seq
        RETURNING r.chat_id, r.user_id, r.seq, r.at
    )
    INSERT INTO marker_log (chat_id, user_id, kind, seq, at)
    SELECT chat_id, user_id, 'read', seq, at FROM read_up";
