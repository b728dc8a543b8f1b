//! The `/api/v1/chats*` calls: creating and listing chats, renaming,
//! membership, and read markers.

use crate::client::path_segment;
use crate::{Client, Result};
use natter_proto::chats::{
    AddMember, Chat, ChatList, ChatSummary, CreateChat, ReadMarker, RenameChat, UpdateChat,
    UpdateMyChat,
};
use reqwest::{Method, StatusCode};

impl Client {
    /// `POST /api/v1/chats`: the new chat with its members.
    pub async fn create_chat(&self, request: &CreateChat) -> Result<Chat> {
        Ok(self.create_chat_full(request).await?.0)
    }

    /// Like [`Client::create_chat`], also telling whether the chat was
    /// created (201) or an existing direct chat was returned (200).
    pub async fn create_chat_full(&self, request: &CreateChat) -> Result<(Chat, bool)> {
        let builder = self.request(Method::POST, "/api/v1/chats").json(request);
        let (chat, status) = self.call(builder).await?;
        Ok((chat, status == StatusCode::CREATED))
    }

    /// `GET /api/v1/chats`: the caller's chats, most recently active first.
    pub async fn chats(&self) -> Result<ChatList> {
        Ok(self
            .call(self.request(Method::GET, "/api/v1/chats"))
            .await?
            .0)
    }

    /// `GET /api/v1/chats/{chat_id}`: the chat with its members.
    pub async fn chat(&self, chat_id: &str) -> Result<Chat> {
        let builder = self.request(Method::GET, &chat_path(chat_id));
        Ok(self.call(builder).await?.0)
    }

    /// `PATCH /api/v1/chats/{chat_id}` (owner/admin). The answer body, if
    /// any, is not part of the contract and is ignored.
    pub async fn rename_chat(&self, chat_id: &str, name: &str) -> Result<()> {
        let body = RenameChat {
            name: name.to_owned(),
        };
        let builder = self.request(Method::PATCH, &chat_path(chat_id)).json(&body);
        self.call_empty(builder).await
    }

    /// `PATCH /api/v1/chats/{chat_id}` with any of name, topic,
    /// description and avatar (owner/admin): the chat as the caller sees
    /// it after the change.
    pub async fn update_chat(&self, chat_id: &str, update: &UpdateChat) -> Result<Chat> {
        let builder = self
            .request(Method::PATCH, &chat_path(chat_id))
            .json(update);
        Ok(self.call(builder).await?.0)
    }

    /// `PATCH /api/v1/chats/{chat_id}/me`: the caller's own marks
    /// (pinned, archived, marked unread); the caller's summary after it.
    pub async fn update_my_chat(&self, chat_id: &str, marks: &UpdateMyChat) -> Result<ChatSummary> {
        let path = format!("{}/me", chat_path(chat_id));
        let builder = self.request(Method::PATCH, &path).json(marks);
        Ok(self.call(builder).await?.0)
    }

    /// `POST /api/v1/chats/{chat_id}/members` (owner/admin).
    pub async fn add_member(&self, chat_id: &str, request: &AddMember) -> Result<()> {
        let path = format!("{}/members", chat_path(chat_id));
        let builder = self.request(Method::POST, &path).json(request);
        self.call_empty(builder).await
    }

    /// `DELETE /api/v1/chats/{chat_id}/members/{user_id}` (owner/admin, or
    /// the member themself to leave).
    pub async fn remove_member(&self, chat_id: &str, user_id: &str) -> Result<()> {
        let path = format!("{}/members/{}", chat_path(chat_id), path_segment(user_id));
        self.call_empty(self.request(Method::DELETE, &path)).await
    }

    /// `POST /api/v1/chats/{chat_id}/read` (204): everything up to `seq`
    /// is read by the caller.
    pub async fn mark_read(&self, chat_id: &str, seq: i64) -> Result<()> {
        let path = format!("{}/read", chat_path(chat_id));
        let builder = self.request(Method::POST, &path).json(&ReadMarker { seq });
        self.call_empty(builder).await
    }
}

pub(crate) fn chat_path(chat_id: &str) -> String {
    format!("/api/v1/chats/{}", path_segment(chat_id))
}
