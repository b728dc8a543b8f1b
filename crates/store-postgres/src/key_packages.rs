//! [`KeyPackages`]: the MLS KeyPackage directory in `key_packages`, safe
//! for several nodes on one database. A claim takes each device's oldest
//! available KeyPackage with `FOR UPDATE SKIP LOCKED` and marks it in the
//! same statement: concurrent claims (on any node) lock different rows,
//! and a row whose claim committed meanwhile no longer matches, so each
//! ordinary KeyPackage is handed out exactly once. An upload locks its
//! session's row, which orders it with other uploads of the device (the
//! limit holds) and with the session's end (nothing is stored for a
//! device that ended).
//!
//! Also [`forget_device`], which ends a device's KeyPackages (and its
//! pinned signature key) in the transaction that ends its session (see
//! `sessions`). Whatever locks several devices' KeyPackages locks them
//! in (created_at, id) order of their sessions (claims and
//! `revoke_other_sessions`), so that none can deadlock.

use crate::PgStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{
    ClaimedKeyPackageRow, KeyPackageOwner, KeyPackageStock, KeyPackageUpload, KeyPackages,
    NewKeyPackage, Stocked, StoreError, StoreResult,
};
use sqlx::{PgConnection, Row};

/// The device's stock: `$1` device, `$2` now.
const STOCK: &str = "SELECT \
     (SELECT count(*) FROM key_packages WHERE device_id = $1 AND NOT last_resort \
      AND claimed_at IS NULL AND expires_at > $2), \
     EXISTS (SELECT 1 FROM key_packages WHERE device_id = $1 AND last_resort \
      AND replaced_at IS NULL AND expires_at > $2)";

/// Deletes every KeyPackage of the device (its session ended) and its
/// pinned signature key, in the caller's transaction.
pub(crate) async fn forget_device(tx: &mut PgConnection, device_id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM key_packages WHERE device_id = $1")
        .bind(device_id)
        .execute(&mut *tx)
        .await
        .db()?;
    sqlx::query("DELETE FROM key_package_signers WHERE device_id = $1")
        .bind(device_id)
        .execute(&mut *tx)
        .await
        .db()?;
    Ok(())
}

/// Forgets the KeyPackages of the user's sessions that expired (nothing
/// else ends them), one device at a time in (created_at, id) order, each
/// in a transaction of its own, so that it holds no lock while waiting
/// for another (see `claim_key_packages` on lock order).
async fn forget_expired_devices(store: &PgStore, user_id: &str, now: i64) -> StoreResult<()> {
    let expired: Vec<String> = sqlx::query_scalar(
        "SELECT s.id FROM sessions s JOIN key_package_signers k ON k.device_id = s.id \
         WHERE s.user_id = $1 AND s.expires_at <= $2 ORDER BY s.created_at, s.id",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(&store.pool)
    .await
    .db()?;
    for device_id in expired {
        let mut tx = store.pool.begin().await.db()?;
        forget_device(&mut tx, &device_id).await?;
        tx.commit().await.db()?;
    }
    Ok(())
}

/// Pins the device's signature key if it has none; false if it has
/// another. Under the session's row lock, so two first uploads of one
/// device cannot pin two keys.
async fn pin_signer(tx: &mut PgConnection, upload: &KeyPackageUpload) -> StoreResult<bool> {
    sqlx::query(
        "INSERT INTO key_package_signers (device_id, signature_key) VALUES ($1, $2) \
         ON CONFLICT (device_id) DO NOTHING",
    )
    .bind(&upload.device_id)
    .bind(&upload.signature_key)
    .execute(&mut *tx)
    .await
    .db()?;
    let pinned: Vec<u8> =
        sqlx::query_scalar("SELECT signature_key FROM key_package_signers WHERE device_id = $1")
            .bind(&upload.device_id)
            .fetch_one(&mut *tx)
            .await
            .db()?;
    Ok(pinned == upload.signature_key)
}

/// Forgets what the device no longer needs: unclaimed ones that expired,
/// handed-out ones claimed long ago, and handed-out ordinary ones beyond
/// the newest `keep_claimed`.
async fn forget_stale(tx: &mut PgConnection, upload: &KeyPackageUpload) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM key_packages WHERE device_id = $1 AND claimed_at IS NULL \
         AND expires_at <= $2",
    )
    .bind(&upload.device_id)
    .bind(upload.now)
    .execute(&mut *tx)
    .await
    .db()?;
    sqlx::query(
        "DELETE FROM key_packages WHERE device_id = $1 AND claimed_at < $2 \
         AND (NOT last_resort OR replaced_at IS NOT NULL)",
    )
    .bind(&upload.device_id)
    .bind(upload.forget_claimed_before)
    .execute(&mut *tx)
    .await
    .db()?;
    sqlx::query(
        "DELETE FROM key_packages WHERE key_ref IN \
         (SELECT key_ref FROM key_packages WHERE device_id = $1 AND NOT last_resort \
          AND claimed_at IS NOT NULL ORDER BY claimed_at DESC, key_ref DESC OFFSET $2)",
    )
    .bind(&upload.device_id)
    .bind(i64::from(upload.keep_claimed))
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(())
}

async fn stock(conn: &mut PgConnection, device_id: &str, now: i64) -> StoreResult<KeyPackageStock> {
    let row = sqlx::query(STOCK)
        .bind(device_id)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .db()?;
    Ok(KeyPackageStock {
        count: row.try_get::<i64, _>(0).db()? as u32,
        last_resort: row.try_get(1).db()?,
    })
}

/// Inserts one KeyPackage unless its reference is known; true if it did.
async fn insert(
    tx: &mut PgConnection,
    upload: &KeyPackageUpload,
    key_package: &NewKeyPackage,
    last_resort: bool,
) -> StoreResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO key_packages \
         (key_ref, user_id, device_id, bytes, last_resort, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_ref) DO NOTHING",
    )
    .bind(&key_package.key_ref)
    .bind(&upload.user_id)
    .bind(&upload.device_id)
    .bind(&key_package.bytes)
    .bind(last_resort)
    .bind(upload.now)
    .bind(key_package.expires_at)
    .execute(&mut *tx)
    .await
    .db()?
    .rows_affected();
    Ok(inserted > 0)
}

/// The device's oldest available ordinary KeyPackage, taken (its bytes
/// emptied: only its owner is kept); else its last-resort one (kept, its
/// `claimed_at` moved to now).
async fn take(
    tx: &mut PgConnection,
    device_id: &str,
    now: i64,
) -> StoreResult<Option<(Vec<u8>, bool)>> {
    // `RETURNING` sees the row as updated: the old bytes come from the
    // subquery's snapshot of the locked row.
    let ordinary: Option<Vec<u8>> = sqlx::query_scalar(
        "WITH picked AS (SELECT key_ref, bytes FROM key_packages WHERE device_id = $1 \
          AND NOT last_resort AND claimed_at IS NULL AND expires_at > $2 \
          ORDER BY created_at, key_ref LIMIT 1 FOR UPDATE SKIP LOCKED) \
         UPDATE key_packages k SET claimed_at = $2, bytes = '\\x' FROM picked \
         WHERE k.key_ref = picked.key_ref AND k.claimed_at IS NULL \
         RETURNING picked.bytes",
    )
    .bind(device_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    if let Some(bytes) = ordinary {
        return Ok(Some((bytes, false)));
    }
    let last_resort: Option<Vec<u8>> = sqlx::query_scalar(
        "UPDATE key_packages SET claimed_at = $2 WHERE device_id = $1 AND last_resort \
         AND replaced_at IS NULL AND expires_at > $2 RETURNING bytes",
    )
    .bind(device_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    Ok(last_resort.map(|bytes| (bytes, true)))
}

#[async_trait]
impl KeyPackages for PgStore {
    /// Nothing is kept of an upload over the limit: its transaction rolls
    /// back.
    async fn add_key_packages(&self, upload: KeyPackageUpload) -> StoreResult<Stocked> {
        let mut tx = self.pool.begin().await.db()?;
        let live = sqlx::query(
            "SELECT 1 FROM sessions \
             WHERE id = $1 AND user_id = $2 AND NOT revoked AND expires_at > $3 \
             FOR NO KEY UPDATE",
        )
        .bind(&upload.device_id)
        .bind(&upload.user_id)
        .bind(upload.now)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        if live.is_none() {
            return Err(StoreError::NotFound);
        }
        if !pin_signer(&mut tx, &upload).await? {
            return Ok(Stocked::OtherSigner);
        }
        forget_stale(&mut tx, &upload).await?;
        for key_package in &upload.key_packages {
            insert(&mut tx, &upload, key_package, false).await?;
        }
        if stock(&mut tx, &upload.device_id, upload.now).await?.count > upload.max_unclaimed {
            tx.rollback().await.db()?;
            let mut conn = self.pool.acquire().await.db()?;
            return Ok(Stocked::Full(
                stock(&mut conn, &upload.device_id, upload.now).await?,
            ));
        }
        if let Some(last_resort) = &upload.last_resort
            && insert(&mut tx, &upload, last_resort, true).await?
        {
            sqlx::query(
                "DELETE FROM key_packages WHERE device_id = $1 AND last_resort \
                 AND replaced_at IS NULL AND claimed_at IS NULL AND key_ref <> $2",
            )
            .bind(&upload.device_id)
            .bind(&last_resort.key_ref)
            .execute(&mut *tx)
            .await
            .db()?;
            sqlx::query(
                "UPDATE key_packages SET replaced_at = $3 WHERE device_id = $1 AND last_resort \
                 AND replaced_at IS NULL AND key_ref <> $2",
            )
            .bind(&upload.device_id)
            .bind(&last_resort.key_ref)
            .bind(upload.now)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        let after = stock(&mut tx, &upload.device_id, upload.now).await?;
        tx.commit().await.db()?;
        Ok(Stocked::Stored(after))
    }

    async fn key_package_stock(&self, device_id: &str, now: i64) -> StoreResult<KeyPackageStock> {
        let mut conn = self.pool.acquire().await.db()?;
        stock(&mut conn, device_id, now).await
    }

    /// Locks the devices' KeyPackages in (created_at, id) order of their
    /// sessions, the order `revoke_other_sessions` forgets them in, so
    /// that the two cannot deadlock.
    async fn claim_key_packages(
        &self,
        user_id: &str,
        except_device: Option<&str>,
        now: i64,
    ) -> StoreResult<Vec<ClaimedKeyPackageRow>> {
        forget_expired_devices(self, user_id, now).await?;
        let mut tx = self.pool.begin().await.db()?;
        let devices: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM sessions WHERE user_id = $1 AND NOT revoked AND expires_at > $2 \
             AND id IS DISTINCT FROM $3 ORDER BY created_at, id",
        )
        .bind(user_id)
        .bind(now)
        .bind(except_device)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        let mut claimed = Vec::new();
        for device_id in devices {
            if let Some((bytes, last_resort)) = take(&mut tx, &device_id, now).await? {
                claimed.push(ClaimedKeyPackageRow {
                    device_id,
                    bytes,
                    last_resort,
                });
            }
        }
        tx.commit().await.db()?;
        Ok(claimed)
    }

    async fn key_package_owners(&self, refs: &[Vec<u8>]) -> StoreResult<Vec<KeyPackageOwner>> {
        let rows = sqlx::query(
            "SELECT key_ref, user_id, device_id FROM key_packages WHERE key_ref = ANY($1)",
        )
        .bind(refs)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("key_ref").db()?,
                    row.try_get("user_id").db()?,
                    row.try_get("device_id").db()?,
                ))
            })
            .collect()
    }

    async fn key_package_signers(
        &self,
        device_ids: &[String],
    ) -> StoreResult<Vec<(String, Vec<u8>)>> {
        let rows = sqlx::query(
            "SELECT device_id, signature_key FROM key_package_signers WHERE device_id = ANY($1)",
        )
        .bind(device_ids)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("device_id").db()?,
                    row.try_get("signature_key").db()?,
                ))
            })
            .collect()
    }
}
