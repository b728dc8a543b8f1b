//! The `/api/v1/users*` calls: the caller's profile, other users, search
//! by prefix.

use crate::client::path_segment;
use crate::{Client, Result};
use natter_proto::users::{UpdateMe, User, UserList};
use reqwest::Method;

impl Client {
    /// `GET /api/v1/users/me`.
    pub async fn me(&self) -> Result<User> {
        let builder = self.request(Method::GET, "/api/v1/users/me");
        Ok(self.call(builder).await?.0)
    }

    /// `PATCH /api/v1/users/me`: sets the given fields, returns the profile.
    pub async fn update_me(&self, update: &UpdateMe) -> Result<User> {
        let builder = self.request(Method::PATCH, "/api/v1/users/me").json(update);
        Ok(self.call(builder).await?.0)
    }

    /// `GET /api/v1/users/{user_id}`.
    pub async fn user(&self, user_id: &str) -> Result<User> {
        let path = format!("/api/v1/users/{}", path_segment(user_id));
        Ok(self.call(self.request(Method::GET, &path)).await?.0)
    }

    /// `GET /api/v1/users?q=prefix&limit=`: users whose username or display
    /// name starts with `prefix`; `limit` defaults server-side (20).
    pub async fn search_users(&self, prefix: &str, limit: Option<u32>) -> Result<UserList> {
        let mut query = vec![("q", prefix.to_owned())];
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        let builder = self.request(Method::GET, "/api/v1/users").query(&query);
        Ok(self.call(builder).await?.0)
    }
}
