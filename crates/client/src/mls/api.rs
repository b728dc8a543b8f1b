//! The HTTP calls of the MLS endpoints (docs/API.md, "End-to-end
//! encryption"): the KeyPackage directory, Commits with their Welcome and
//! GroupInfo, a device's pending Welcomes, a chat's GroupInfo. Plain
//! calls with the wire types of `natter-proto`; what to do with the
//! answers is `session.rs`'s business.

use crate::chats::chat_path;
use crate::client::path_segment;
use crate::{Client, Result};
use natter_proto::key_packages::{ClaimedKeyPackages, KeyPackageCount, UploadKeyPackages};
use natter_proto::mls::{CommitAccepted, GroupInfo, PostCommit, WelcomeList};
use reqwest::Method;

impl Client {
    /// `POST /api/v1/mls/key-packages` (201): KeyPackages of the calling
    /// device; its unclaimed count after.
    pub async fn upload_key_packages(&self, upload: &UploadKeyPackages) -> Result<KeyPackageCount> {
        let builder = self
            .request(Method::POST, "/api/v1/mls/key-packages")
            .json(upload);
        Ok(self.call(builder).await?.0)
    }

    /// `GET /api/v1/mls/key-packages`: the calling device's unclaimed
    /// count and whether it has a last-resort KeyPackage.
    pub async fn key_package_count(&self) -> Result<KeyPackageCount> {
        let builder = self.request(Method::GET, "/api/v1/mls/key-packages");
        Ok(self.call(builder).await?.0)
    }

    /// `POST /api/v1/users/{user_id}/key-packages/claim`: one KeyPackage
    /// per device of the user that has one (each ordinary one is handed
    /// out once only).
    pub async fn claim_key_packages(&self, user_id: &str) -> Result<ClaimedKeyPackages> {
        let path = format!("/api/v1/users/{}/key-packages/claim", path_segment(user_id));
        Ok(self.call(self.request(Method::POST, &path)).await?.0)
    }

    /// `POST /api/v1/chats/{chat_id}/mls/commits` (201); 409 when the
    /// Commit is not for the chat's current epoch.
    pub async fn post_commit(&self, chat_id: &str, commit: &PostCommit) -> Result<CommitAccepted> {
        let path = format!("{}/mls/commits", chat_path(chat_id));
        let builder = self.request(Method::POST, &path).json(commit);
        Ok(self.call(builder).await?.0)
    }

    /// `GET /api/v1/mls/welcomes`: Welcomes waiting for the calling device.
    pub async fn welcomes(&self) -> Result<WelcomeList> {
        let builder = self.request(Method::GET, "/api/v1/mls/welcomes");
        Ok(self.call(builder).await?.0)
    }

    /// `DELETE /api/v1/mls/welcomes/{welcome_id}` (204): processed.
    pub async fn delete_welcome(&self, welcome_id: &str) -> Result<()> {
        let path = format!("/api/v1/mls/welcomes/{}", path_segment(welcome_id));
        self.call_empty(self.request(Method::DELETE, &path)).await
    }

    /// `GET /api/v1/chats/{chat_id}/mls/group-info`: the latest GroupInfo
    /// (404 before any was posted).
    pub async fn group_info(&self, chat_id: &str) -> Result<GroupInfo> {
        let path = format!("{}/mls/group-info", chat_path(chat_id));
        Ok(self.call(self.request(Method::GET, &path)).await?.0)
    }
}
