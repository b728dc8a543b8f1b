//! User profiles: your own, others', and finding people by prefix.

use super::{Caller, Core, CoreError, CoreResult, bounded_text, views};
use natter_proto::users::{UpdateMe, User};
use natter_store::UserRow;

/// Most users one search returns.
pub const MAX_USER_SEARCH: u32 = 50;

impl Core {
    pub async fn me(&self, caller: &Caller) -> CoreResult<User> {
        self.user(&caller.user_id).await
    }

    pub async fn user(&self, user_id: &str) -> CoreResult<User> {
        let row = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or_else(|| CoreError::not_found("user"))?;
        Ok(self.user_view(&row).await)
    }

    pub async fn update_me(&self, caller: &Caller, update: UpdateMe) -> CoreResult<User> {
        let display_name = match &update.display_name {
            Some(name) => Some(bounded_text("display_name", name, 1, 64)?),
            None => None,
        };
        if let Some(file_id) = &update.avatar_file_id {
            let file = self.store.file(file_id).await?;
            match file {
                Some(file) if file.owner_id == caller.user_id => {
                    if file.thumbnail_mime.is_none() {
                        return Err(CoreError::invalid("avatar_file_id must name an image"));
                    }
                }
                _ => return Err(CoreError::not_found("file")),
            }
        }
        let row = self
            .store
            .update_user(&caller.user_id, display_name, update.avatar_file_id)
            .await?;
        Ok(self.user_view(&row).await)
    }

    /// A user object with live presence.
    pub(crate) async fn user_view(&self, row: &UserRow) -> User {
        self.user_views(std::slice::from_ref(row)).await.remove(0)
    }

    /// User objects with live presence, asked for all at once.
    pub(crate) async fn user_views(&self, rows: &[UserRow]) -> Vec<User> {
        let presences = self.presences_of(rows).await;
        rows.iter()
            .zip(presences)
            .map(|(row, presence)| {
                let mut user = views::user(row);
                user.presence = presence;
                user.avatar_url = row
                    .avatar_file_id
                    .as_ref()
                    // Anyone may see an avatar: issued to its owner, the link
                    // works for whoever is shown it.
                    .map(|file_id| {
                        self.files
                            .link(file_id, crate::blob::Variant::Thumb, &row.id)
                    });
                user
            })
            .collect()
    }

    /// Users whose username or display name starts with `prefix`.
    pub async fn search_users(&self, prefix: &str, limit: Option<u32>) -> CoreResult<Vec<User>> {
        let prefix = prefix.trim();
        if prefix.is_empty() {
            return Err(CoreError::invalid("q must not be empty"));
        }
        if prefix.chars().count() > 64 {
            return Err(CoreError::invalid("q must be at most 64 characters long"));
        }
        super::no_control_characters("q", prefix, false)?;
        let limit = limit.unwrap_or(20).clamp(1, MAX_USER_SEARCH);
        let rows = self
            .store
            .search_users(&prefix.to_lowercase(), limit)
            .await?;
        Ok(self.user_views(&rows).await)
    }
}
