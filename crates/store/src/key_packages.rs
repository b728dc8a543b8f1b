//! The MLS KeyPackage directory: per device, the KeyPackages others use
//! to add it to encrypted chats. Ordinary ones are handed out exactly
//! once (a claim takes one atomically, even against concurrent claims on
//! other nodes); the device's last-resort one is handed out, and kept,
//! when it has no ordinary one left. A KeyPackage is known by its
//! `KeyPackageRef` (RFC 9420 §5.2), which Welcomes name.
//!
//! The store keeps bytes and says nothing of their content: parsing and
//! validating them (signatures, ciphersuite, lifetime, identity) is the
//! caller's, which also gives each one's reference and expiry.
//!
//! A device's KeyPackages go when its session ends (revoked, logged out,
//! removed: see [`Sessions`](crate::Sessions)), claimed or not; those of
//! a user's sessions that expired (no sweep ends them) go with the next
//! claim of that user's KeyPackages. What stays of a device is bounded:
//! expired unclaimed ones go with its next upload, a handed-out ordinary
//! one keeps only its owner (no bytes), and only the newest
//! `keep_claimed` handed-out ones are kept.

use crate::StoreResult;
use async_trait::async_trait;

/// One validated KeyPackage to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewKeyPackage {
    /// Its `KeyPackageRef` (the hash the Welcome names it by); unique.
    pub key_ref: Vec<u8>,
    /// The `MLSMessage` holding it, as uploaded (handed out unchanged).
    pub bytes: Vec<u8>,
    /// Its lifetime's end (ms): it is neither counted nor handed out from
    /// then on.
    pub expires_at: i64,
}

/// An upload of one device's KeyPackages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPackageUpload {
    /// The device's user: the device must be a live session of theirs.
    pub user_id: String,
    /// The device (session) they belong to; it must be live.
    pub device_id: String,
    /// Ordinary KeyPackages; those whose reference is known already
    /// (claimed or not) are ignored.
    pub key_packages: Vec<NewKeyPackage>,
    /// Replaces the device's last-resort KeyPackage (unless it is the same).
    pub last_resort: Option<NewKeyPackage>,
    /// The most unclaimed, unexpired ordinary KeyPackages the device may
    /// have after the upload; beyond it nothing is stored.
    pub max_unclaimed: u32,
    /// The upload's time (ms): what expires by then is not counted, and
    /// the device's unclaimed ones that did are deleted by the same write.
    pub now: i64,
    /// Claimed (and replaced last-resort) KeyPackages of the device
    /// handed out before this time are forgotten by the same write: a
    /// Welcome naming them is not expected any more.
    pub forget_claimed_before: i64,
    /// The most handed-out ordinary KeyPackages of the device kept for
    /// routing Welcomes; the write forgets the oldest beyond it.
    pub keep_claimed: u32,
    /// The signature key every KeyPackage of the upload is signed with
    /// (the caller checked they agree). The device's first stored upload
    /// pins it; an upload signed with another key stores nothing.
    pub signature_key: Vec<u8>,
}

/// What a device has in the directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPackageStock {
    /// Unclaimed, unexpired ordinary KeyPackages.
    pub count: u32,
    /// Whether it has an unexpired last-resort KeyPackage.
    pub last_resort: bool,
}

/// What an upload did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stocked {
    /// Stored; the device's stock now.
    Stored(KeyPackageStock),
    /// Nothing stored: the device would have had more than
    /// `max_unclaimed`; its stock as it stays.
    Full(KeyPackageStock),
    /// Nothing stored: the device's KeyPackages are signed with another
    /// key than `signature_key` (pinned by its first upload).
    OtherSigner,
}

/// A KeyPackage a claim handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedKeyPackageRow {
    /// The device (session) it belongs to.
    pub device_id: String,
    /// The `MLSMessage` as uploaded.
    pub bytes: Vec<u8>,
    /// The device's last-resort KeyPackage (kept, may be handed out again).
    pub last_resort: bool,
}

/// A known KeyPackage's owner: `(key_ref, user_id, device_id)`.
pub type KeyPackageOwner = (Vec<u8>, String, String);

/// The MLS KeyPackage directory: what lets anyone add a device to an
/// encrypted chat while it is offline. Implementations hand each ordinary
/// KeyPackage out at most once, whatever the concurrency (several nodes
/// included), and keep a device's stock within its limit.
#[async_trait]
pub trait KeyPackages: Send + Sync {
    /// Stores an upload in one write. `NotFound` unless the device is a
    /// live session of the user (so nothing is stored for a device that
    /// ends meanwhile).
    async fn add_key_packages(&self, upload: KeyPackageUpload) -> StoreResult<Stocked>;
    /// The device's stock at `now`.
    async fn key_package_stock(&self, device_id: &str, now: i64) -> StoreResult<KeyPackageStock>;
    /// Takes one KeyPackage for each live device of the user that has
    /// one (oldest device first), `except_device` left out (a user
    /// claiming their own: the calling device is in the chat already):
    /// its oldest unclaimed, unexpired ordinary one, which no other claim
    /// ever gets, or else its last-resort one. Empty for a user without
    /// any (or unknown: the caller checks). Also forgets the KeyPackages
    /// of the user's sessions that expired.
    async fn claim_key_packages(
        &self,
        user_id: &str,
        except_device: Option<&str>,
        now: i64,
    ) -> StoreResult<Vec<ClaimedKeyPackageRow>>;
    /// The owners of the `refs` the directory knows (claimed or not, any
    /// order); unknown ones are left out. For routing Welcomes.
    async fn key_package_owners(&self, refs: &[Vec<u8>]) -> StoreResult<Vec<KeyPackageOwner>>;
    /// The signature keys pinned for the `device_ids` (by each one's
    /// first upload) as `(device_id, signature_key)`, any order; devices
    /// without one are left out. What a Commit's leaves are checked
    /// against: a KeyPackage naming a device but signed by another key is
    /// a forgery.
    async fn key_package_signers(
        &self,
        device_ids: &[String],
    ) -> StoreResult<Vec<(String, Vec<u8>)>>;
}
