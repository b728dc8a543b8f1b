//! The MLS KeyPackage directory's use cases: a device uploads its
//! KeyPackages (each checked: an `MLSMessage` holding a KeyPackage whose
//! signatures verify, of natter's ciphersuite, within its lifetime, for
//! this very device), counts them, and anyone signed in claims one per
//! device of a user to add them to an encrypted chat. Storage and the
//! exactly-once hand-out are the store's (`natter_store::KeyPackages`).

use super::wire::{self, CIPHERSUITE, invalid};
use crate::limits::UserAction;
use crate::{Caller, Core, CoreError, CoreResult, now_ms};
use natter_proto::key_packages::{
    ClaimedKeyPackage, ClaimedKeyPackages, KeyPackageCount, UploadKeyPackages,
};
use natter_store::{KeyPackageStock, KeyPackageUpload, NewKeyPackage, Stocked, StoreError};
use openmls::prelude::{KeyPackage, MlsMessageBodyIn};

/// Most KeyPackages in one upload.
pub const MAX_UPLOAD: usize = 100;
/// Most unclaimed KeyPackages a device may have stored: enough for a
/// hundred chats made while it is offline, not a way to fill the disk.
pub const MAX_UNCLAIMED: u32 = 200;
/// Largest KeyPackage (its `MLSMessage`), in bytes. A KeyPackage of
/// ciphersuite 1 with a basic credential is a few hundred bytes;
/// extensions can add some.
pub const MAX_KEY_PACKAGE_BYTES: usize = 16 * 1024;
/// Latest end of a KeyPackage's lifetime, from now, in seconds (a year
/// and a day): a client may stock up, but not for ever.
const MAX_LIFETIME_AHEAD_SECS: u64 = 366 * 24 * 60 * 60;
/// Shortest lifetime a KeyPackage must have left when uploaded, in
/// seconds (a day): one that expires sooner is of little use to others,
/// and short-lived ones would let a device store far more than
/// [`MAX_UNCLAIMED`] over time.
const MIN_LIFETIME_LEFT_SECS: u64 = 24 * 60 * 60;
/// How long a handed-out KeyPackage's owner stays known (so that a
/// Welcome naming it reaches the device): 30 days.
const KEEP_CLAIMED_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// Most handed-out KeyPackages of a device whose owner stays known (the
/// newest); older ones are forgotten by its next upload.
const KEEP_CLAIMED: u32 = 1000;

/// An upload's KeyPackages once every one is checked.
struct Checked {
    key_packages: Vec<NewKeyPackage>,
    last_resort: Option<NewKeyPackage>,
    /// The signature key they are all signed with.
    signature_key: Vec<u8>,
    /// The first field of the upload, which a refusal of the whole
    /// upload names.
    first_field: String,
}

impl Core {
    /// Stores the calling device's KeyPackages after checking every one
    /// (the first bad one is a 400 naming it; nothing is stored then).
    /// 409 if the device would have more than [`MAX_UNCLAIMED`] unclaimed.
    pub async fn upload_key_packages(
        &self,
        caller: &Caller,
        upload: UploadKeyPackages,
    ) -> CoreResult<KeyPackageCount> {
        self.limits
            .user_action(&caller.user_id, UserAction::UploadKeyPackages)?;
        if upload.key_packages.len() > MAX_UPLOAD {
            return Err(invalid(
                "key_packages",
                format!("at most {MAX_UPLOAD} per request"),
            ));
        }
        if upload.key_packages.is_empty() && upload.last_resort.is_none() {
            return Err(invalid(
                "key_packages",
                "nothing to upload: give KeyPackages, a last_resort one, or both",
            ));
        }
        // Refuse a certain 409 before verifying a hundred signatures; the
        // store checks again in its write (uploads may race).
        let stock = self
            .store
            .key_package_stock(&caller.session_id, now_ms())
            .await?;
        if stock.count as usize + upload.key_packages.len() > MAX_UNCLAIMED as usize {
            return Err(full(stock));
        }
        let who = caller.clone();
        let checked = tokio::task::spawn_blocking(move || check_upload(&upload, &who))
            .await
            .map_err(anyhow::Error::from)??;
        let now = now_ms();
        let stocked = self
            .store
            .add_key_packages(KeyPackageUpload {
                user_id: caller.user_id.clone(),
                device_id: caller.session_id.clone(),
                key_packages: checked.key_packages,
                last_resort: checked.last_resort,
                max_unclaimed: MAX_UNCLAIMED,
                now,
                forget_claimed_before: now - KEEP_CLAIMED_MS,
                keep_claimed: KEEP_CLAIMED,
                signature_key: checked.signature_key,
            })
            .await
            .map_err(|error| match error {
                StoreError::NotFound => CoreError::unauthorized("the session has ended"),
                other => other.into(),
            })?;
        match stocked {
            Stocked::Stored(stock) => Ok(count(stock)),
            Stocked::Full(stock) => Err(full(stock)),
            Stocked::OtherSigner => Err(invalid(
                &checked.first_field,
                "signed with another signature key than this device's earlier KeyPackages",
            )),
        }
    }

    /// What the calling device has in the directory.
    pub async fn key_package_count(&self, caller: &Caller) -> CoreResult<KeyPackageCount> {
        let stock = self
            .store
            .key_package_stock(&caller.session_id, now_ms())
            .await?;
        Ok(count(stock))
    }

    /// One KeyPackage per live device of `user_id` that has one, the
    /// calling device left out (any signed-in user may claim: that is how
    /// encrypted chats start); each ordinary one is handed out once, the
    /// last-resort one when a device has no other. 404 for an unknown
    /// user. Limited per claimer and, lower, per claimer and user.
    pub async fn claim_key_packages(
        &self,
        caller: &Caller,
        user_id: &str,
    ) -> CoreResult<ClaimedKeyPackages> {
        self.limits
            .user_action(&caller.user_id, UserAction::ClaimKeyPackages)?;
        self.limits.key_package_claim_of(&caller.user_id, user_id)?;
        if self.store.user_by_id(user_id).await?.is_none() {
            return Err(CoreError::not_found("user"));
        }
        let rows = self
            .store
            .claim_key_packages(user_id, Some(&caller.session_id), now_ms())
            .await?;
        Ok(ClaimedKeyPackages {
            key_packages: rows
                .into_iter()
                .map(|row| ClaimedKeyPackage {
                    device_id: row.device_id,
                    key_package: wire::encode_base64(&row.bytes),
                    last_resort: row.last_resort,
                })
                .collect(),
        })
    }
}

fn count(stock: KeyPackageStock) -> KeyPackageCount {
    KeyPackageCount {
        count: stock.count,
        last_resort: stock.last_resort,
    }
}

fn full(stock: KeyPackageStock) -> CoreError {
    CoreError::conflict(format!(
        "too many KeyPackages: this device has {} unclaimed and may have at most \
         {MAX_UNCLAIMED}; nothing was stored",
        stock.count
    ))
}

/// Every KeyPackage of the upload checked (CPU work: signatures), and
/// all signed with one key.
fn check_upload(upload: &UploadKeyPackages, caller: &Caller) -> CoreResult<Checked> {
    let mut fields: Vec<(String, &str, bool)> = upload
        .key_packages
        .iter()
        .enumerate()
        .map(|(i, encoded)| (format!("key_packages[{i}]"), encoded.as_str(), false))
        .collect();
    if let Some(encoded) = &upload.last_resort {
        fields.push(("last_resort".into(), encoded, true));
    }
    let mut signature_key: Option<Vec<u8>> = None;
    let mut key_packages = Vec::new();
    let mut last_resort = None;
    for (field, encoded, is_last_resort) in &fields {
        let (checked, key) = checked(field, encoded, caller, *is_last_resort)?;
        match &signature_key {
            Some(first) if *first != key => {
                return Err(invalid(
                    field,
                    "signed with another signature key than the rest of the upload",
                ));
            }
            Some(_) => {}
            None => signature_key = Some(key),
        }
        if *is_last_resort {
            last_resort = Some(checked);
        } else {
            key_packages.push(checked);
        }
    }
    Ok(Checked {
        key_packages,
        last_resort,
        signature_key: signature_key.unwrap_or_default(),
        first_field: fields
            .first()
            .map(|(field, _, _)| field.clone())
            .unwrap_or_default(),
    })
}

/// The base64 field `field` checked as a KeyPackage of the caller's
/// device (a last-resort one if `last_resort`), ready to store, with the
/// signature key it is signed with.
fn checked(
    field: &str,
    encoded: &str,
    caller: &Caller,
    last_resort: bool,
) -> CoreResult<(NewKeyPackage, Vec<u8>)> {
    let bytes = wire::decode_base64(field, encoded, MAX_KEY_PACKAGE_BYTES)?;
    let (key_package, key_ref) = validate(field, &bytes, caller, last_resort)?;
    let not_after_ms = key_package.life_time().not_after().saturating_mul(1000);
    let signature_key = key_package.leaf_node().signature_key().as_slice().to_vec();
    Ok((
        NewKeyPackage {
            key_ref: key_ref.as_slice().to_vec(),
            bytes,
            expires_at: i64::try_from(not_after_ms).unwrap_or(i64::MAX),
        },
        signature_key,
    ))
}

/// The KeyPackage in the `MLSMessage` `bytes`, with its reference, once
/// every check passed; else a 400 naming `field` and the first check
/// that failed.
pub(crate) fn validate(
    field: &str,
    bytes: &[u8],
    caller: &Caller,
    last_resort: bool,
) -> CoreResult<(KeyPackage, openmls::prelude::KeyPackageRef)> {
    // Read before parsing: a suite openmls does not know would otherwise
    // be reported as undecodable. (`verified_key_package` checks the
    // suite again, a safeguard for suites openmls does know.)
    if let Some(suite) = key_package_suite(bytes)
        && suite != u16::from(CIPHERSUITE)
    {
        return Err(invalid(field, wire::wrong_suite(suite)));
    }
    let MlsMessageBodyIn::KeyPackage(key_package) = wire::parse_message(field, bytes)?.extract()
    else {
        return Err(invalid(
            field,
            "not a KeyPackage (an MLSMessage of wire format mls_key_package)",
        ));
    };
    let (key_package, key_ref) = wire::verified_key_package(field, key_package)?;
    let now_secs = u64::try_from(now_ms() / 1000).unwrap_or(0);
    let not_after = key_package.life_time().not_after();
    if not_after > now_secs + MAX_LIFETIME_AHEAD_SECS {
        return Err(invalid(
            field,
            "its lifetime ends more than a year from now",
        ));
    }
    if not_after < now_secs + MIN_LIFETIME_LEFT_SECS {
        return Err(invalid(
            field,
            "its lifetime ends in less than a day: upload KeyPackages valid for longer",
        ));
    }
    let identity = wire::credential_device(key_package.leaf_node().credential());
    if identity
        .as_ref()
        .map(|(user, device)| (user.as_str(), device.as_str()))
        != Some((caller.user_id.as_str(), caller.session_id.as_str()))
    {
        return Err(invalid(
            field,
            format!(
                "the credential is not this device's: it must be a BasicCredential \
                 with identity \"{}:{}\"",
                caller.user_id, caller.session_id
            ),
        ));
    }
    match (last_resort, key_package.last_resort()) {
        (true, false) => Err(invalid(field, "it lacks the last_resort extension")),
        (false, true) => Err(invalid(
            field,
            "it carries the last_resort extension: upload it as last_resort",
        )),
        _ => Ok((key_package, key_ref)),
    }
}

/// The ciphersuite of an `MLSMessage` holding a KeyPackage, read from its
/// first bytes (version, wire format 5, the KeyPackage's version, then
/// its suite); `None` if the bytes are no such message.
fn key_package_suite(bytes: &[u8]) -> Option<u16> {
    match bytes {
        [_, _, 0, 5, _, _, high, low, ..] => Some(u16::from_be_bytes([*high, *low])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suite_is_read_from_a_key_package_message_only() {
        assert_eq!(key_package_suite(&[0, 1, 0, 5, 0, 1, 0, 2, 9]), Some(2));
        assert_eq!(key_package_suite(&[0, 1, 0, 3, 0, 1, 0, 2, 9]), None);
        assert_eq!(key_package_suite(&[0, 1, 0, 5]), None);
    }
}
