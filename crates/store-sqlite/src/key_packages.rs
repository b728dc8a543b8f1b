//! [`KeyPackages`]: the MLS KeyPackage directory in `key_packages`.
//! Uploads and claims are write jobs: the writer runs one job at a time,
//! so a claim's pick-and-mark of a device's oldest unclaimed KeyPackage
//! cannot interleave with another claim's, and each ordinary KeyPackage
//! is handed out exactly once. Stocks and owners are read from the
//! readers (the last committed state).
//!
//! Also [`forget_device`], which ends a device's KeyPackages (and its
//! pinned signature key) in the write that ends its session (see
//! `sessions`).

use crate::SqliteStore;
use crate::error::{self, Db};
use async_trait::async_trait;
use natter_store::{
    ClaimedKeyPackageRow, KeyPackageOwner, KeyPackageStock, KeyPackageUpload, KeyPackages,
    NewKeyPackage, Stocked, StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, params};
use sqlx::Row;

/// The device's stock: `?1` device, `?2` now.
const STOCK: &str = "SELECT \
     (SELECT count(*) FROM key_packages WHERE device_id = ?1 AND last_resort = 0 \
      AND claimed_at IS NULL AND expires_at > ?2), \
     EXISTS (SELECT 1 FROM key_packages WHERE device_id = ?1 AND last_resort = 1 \
      AND replaced_at IS NULL AND expires_at > ?2)";

/// Deletes every KeyPackage of the device (its session ended) and its
/// pinned signature key, in the caller's write.
pub(crate) fn forget_device(conn: &Connection, device_id: &str) -> error::Result<()> {
    conn.prepare_cached("DELETE FROM key_packages WHERE device_id = ?1")?
        .execute(params![device_id])?;
    conn.prepare_cached("DELETE FROM key_package_signers WHERE device_id = ?1")?
        .execute(params![device_id])?;
    Ok(())
}

/// Forgets the KeyPackages of the user's sessions that expired (nothing
/// else ends them), in the caller's write.
fn forget_expired_devices(conn: &Connection, user_id: &str, now: i64) -> error::Result<()> {
    let expired = conn
        .prepare_cached(
            "SELECT id FROM sessions WHERE user_id = ?1 AND expires_at <= ?2 \
             AND id IN (SELECT device_id FROM key_package_signers)",
        )?
        .query_map(params![user_id, now], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for device_id in expired {
        forget_device(conn, &device_id)?;
    }
    Ok(())
}

fn stock(conn: &Connection, device_id: &str, now: i64) -> error::Result<KeyPackageStock> {
    Ok(conn
        .prepare_cached(STOCK)?
        .query_row(params![device_id, now], |row| {
            Ok(KeyPackageStock {
                count: row.get(0)?,
                last_resort: row.get(1)?,
            })
        })?)
}

/// Inserts one KeyPackage unless its reference is known; true if it did.
fn insert(
    conn: &Connection,
    upload: &KeyPackageUpload,
    key_package: &NewKeyPackage,
    last_resort: bool,
) -> error::Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO key_packages \
             (key_ref, user_id, device_id, bytes, last_resort, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key_ref) DO NOTHING",
        )?
        .execute(params![
            key_package.key_ref,
            upload.user_id,
            upload.device_id,
            key_package.bytes,
            last_resort,
            upload.now,
            key_package.expires_at
        ])?;
    Ok(inserted > 0)
}

/// Pins the device's signature key if it has none; false if it has
/// another.
fn pin_signer(conn: &Connection, upload: &KeyPackageUpload) -> error::Result<bool> {
    conn.prepare_cached(
        "INSERT INTO key_package_signers (device_id, signature_key) VALUES (?1, ?2) \
         ON CONFLICT (device_id) DO NOTHING",
    )?
    .execute(params![upload.device_id, upload.signature_key])?;
    let pinned: Vec<u8> = conn
        .prepare_cached("SELECT signature_key FROM key_package_signers WHERE device_id = ?1")?
        .query_row(params![upload.device_id], |row| row.get(0))?;
    Ok(pinned == upload.signature_key)
}

/// Forgets what the device no longer needs: unclaimed ones that expired,
/// handed-out ones claimed long ago, and handed-out ordinary ones beyond
/// the newest `keep_claimed`.
fn forget_stale(conn: &Connection, upload: &KeyPackageUpload) -> error::Result<()> {
    conn.prepare_cached(
        "DELETE FROM key_packages WHERE device_id = ?1 AND claimed_at IS NULL \
         AND expires_at <= ?2",
    )?
    .execute(params![upload.device_id, upload.now])?;
    conn.prepare_cached(
        "DELETE FROM key_packages WHERE device_id = ?1 AND claimed_at < ?2 \
         AND (last_resort = 0 OR replaced_at IS NOT NULL)",
    )?
    .execute(params![upload.device_id, upload.forget_claimed_before])?;
    conn.prepare_cached(
        "DELETE FROM key_packages WHERE key_ref IN \
         (SELECT key_ref FROM key_packages WHERE device_id = ?1 AND last_resort = 0 \
          AND claimed_at IS NOT NULL ORDER BY claimed_at DESC, key_ref DESC LIMIT -1 OFFSET ?2)",
    )?
    .execute(params![upload.device_id, upload.keep_claimed])?;
    Ok(())
}

/// The upload's write: the device must be live and its signer the pinned
/// one; stale rows go; new ordinary ones count against the limit (and
/// are taken back if over it); a new last-resort one retires the old
/// (forgotten at once if never handed out).
fn add(conn: &Connection, upload: &KeyPackageUpload) -> error::Result<Stocked> {
    let live = conn
        .prepare_cached(
            "SELECT 1 FROM sessions \
             WHERE id = ?1 AND user_id = ?2 AND revoked = 0 AND expires_at > ?3",
        )?
        .query_row(
            params![upload.device_id, upload.user_id, upload.now],
            |_| Ok(()),
        )
        .optional()?;
    if live.is_none() {
        return Err(error::Error::Store(StoreError::NotFound));
    }
    if !pin_signer(conn, upload)? {
        return Ok(Stocked::OtherSigner);
    }
    forget_stale(conn, upload)?;
    let mut inserted = Vec::new();
    for key_package in &upload.key_packages {
        if insert(conn, upload, key_package, false)? {
            inserted.push(&key_package.key_ref);
        }
    }
    let after = stock(conn, &upload.device_id, upload.now)?;
    if after.count > upload.max_unclaimed {
        for key_ref in inserted {
            conn.prepare_cached("DELETE FROM key_packages WHERE key_ref = ?1")?
                .execute(params![key_ref])?;
        }
        return Ok(Stocked::Full(stock(conn, &upload.device_id, upload.now)?));
    }
    if let Some(last_resort) = &upload.last_resort
        && insert(conn, upload, last_resort, true)?
    {
        conn.prepare_cached(
            "DELETE FROM key_packages WHERE device_id = ?1 AND last_resort = 1 \
             AND replaced_at IS NULL AND claimed_at IS NULL AND key_ref <> ?2",
        )?
        .execute(params![upload.device_id, last_resort.key_ref])?;
        conn.prepare_cached(
            "UPDATE key_packages SET replaced_at = ?3 WHERE device_id = ?1 AND last_resort = 1 \
             AND replaced_at IS NULL AND key_ref <> ?2",
        )?
        .execute(params![upload.device_id, last_resort.key_ref, upload.now])?;
    }
    Ok(Stocked::Stored(stock(conn, &upload.device_id, upload.now)?))
}

/// The device's oldest available ordinary KeyPackage, taken (its bytes
/// emptied: only its owner is kept); else its last-resort one (kept, its
/// `claimed_at` moved to now).
fn take(conn: &Connection, device_id: &str, now: i64) -> error::Result<Option<(Vec<u8>, bool)>> {
    let pick = conn
        .prepare_cached(
            "SELECT key_ref, bytes FROM key_packages WHERE device_id = ?1 AND last_resort = 0 \
             AND claimed_at IS NULL AND expires_at > ?2 ORDER BY created_at, key_ref LIMIT 1",
        )?
        .query_row(params![device_id, now], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))
        })
        .optional()?;
    if let Some((key_ref, bytes)) = pick {
        conn.prepare_cached(
            "UPDATE key_packages SET claimed_at = ?2, bytes = X'' WHERE key_ref = ?1",
        )?
        .execute(params![key_ref, now])?;
        return Ok(Some((bytes, false)));
    }
    let last_resort = conn
        .prepare_cached(
            "UPDATE key_packages SET claimed_at = ?2 WHERE device_id = ?1 \
             AND last_resort = 1 AND replaced_at IS NULL AND expires_at > ?2 \
             RETURNING bytes",
        )?
        .query_row(params![device_id, now], |row| row.get::<_, Vec<u8>>(0))
        .optional()?;
    Ok(last_resort.map(|bytes| (bytes, true)))
}

/// The claim's write: the user's expired sessions' KeyPackages go; then
/// one per live device but `except_device` (see [`take`]).
fn claim(
    conn: &Connection,
    user_id: &str,
    except_device: Option<&str>,
    now: i64,
) -> error::Result<Vec<ClaimedKeyPackageRow>> {
    forget_expired_devices(conn, user_id, now)?;
    let devices = conn
        .prepare_cached(
            "SELECT id FROM sessions WHERE user_id = ?1 AND revoked = 0 AND expires_at > ?2 \
             AND id IS NOT ?3 ORDER BY created_at, id",
        )?
        .query_map(params![user_id, now, except_device], |row| {
            row.get::<_, String>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut claimed = Vec::new();
    for device_id in devices {
        if let Some((bytes, last_resort)) = take(conn, &device_id, now)? {
            claimed.push(ClaimedKeyPackageRow {
                device_id,
                bytes,
                last_resort,
            });
        }
    }
    Ok(claimed)
}

#[async_trait]
impl KeyPackages for SqliteStore {
    async fn add_key_packages(&self, upload: KeyPackageUpload) -> StoreResult<Stocked> {
        self.writer.write(move |conn| add(conn, &upload)).await
    }

    async fn key_package_stock(&self, device_id: &str, now: i64) -> StoreResult<KeyPackageStock> {
        let row = sqlx::query(STOCK)
            .bind(device_id)
            .bind(now)
            .fetch_one(&self.readers)
            .await
            .db()?;
        Ok(KeyPackageStock {
            count: row.try_get::<i64, _>(0).db()? as u32,
            last_resort: row.try_get(1).db()?,
        })
    }

    async fn claim_key_packages(
        &self,
        user_id: &str,
        except_device: Option<&str>,
        now: i64,
    ) -> StoreResult<Vec<ClaimedKeyPackageRow>> {
        let user_id = user_id.to_owned();
        let except_device = except_device.map(str::to_owned);
        self.writer
            .write(move |conn| claim(conn, &user_id, except_device.as_deref(), now))
            .await
    }

    async fn key_package_owners(&self, refs: &[Vec<u8>]) -> StoreResult<Vec<KeyPackageOwner>> {
        let mut owners = Vec::new();
        // One indexed lookup per reference: a Welcome names a handful.
        for key_ref in refs {
            let found =
                sqlx::query("SELECT user_id, device_id FROM key_packages WHERE key_ref = ?1")
                    .bind(key_ref)
                    .fetch_optional(&self.readers)
                    .await
                    .db()?;
            if let Some(row) = found {
                owners.push((
                    key_ref.clone(),
                    row.try_get("user_id").db()?,
                    row.try_get("device_id").db()?,
                ));
            }
        }
        Ok(owners)
    }

    async fn key_package_signers(
        &self,
        device_ids: &[String],
    ) -> StoreResult<Vec<(String, Vec<u8>)>> {
        let mut signers = Vec::new();
        // One primary-key lookup per device: a Commit names a handful.
        for device_id in device_ids {
            let found: Option<Vec<u8>> = sqlx::query_scalar(
                "SELECT signature_key FROM key_package_signers WHERE device_id = ?1",
            )
            .bind(device_id)
            .fetch_optional(&self.readers)
            .await
            .db()?;
            if let Some(key) = found {
                signers.push((device_id.clone(), key));
            }
        }
        Ok(signers)
    }
}
