//! [`Store`] for [`SqliteStore`]: each method hands over to the module
//! that owns its tables. Nothing else happens here.

use super::{
    SqliteStore, chat_list, chats, files, markers, messages, reactions, realtime, roles, search,
    sessions, users,
};
use crate::store::{
    Advance, Appending, ChatListRow, ChatRow, Cursor, FileRow, MarkerKind, MemberRow, MessageRow,
    NewChat, NewMessage, NewUser, OnStored, ReactionRow, ReceiptRow, RefreshOutcome, SearchRow,
    Store, StoreResult, UserRow,
};
use async_trait::async_trait;
use natter_proto::chats::{ChatType, Role};
use natter_proto::events::ChatCursor;
use natter_proto::messages::MessageType;

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    async fn close(&self) {
        self.shut_down().await;
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<UserRow> {
        users::create_user(self, user).await
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRow>> {
        users::user_by_id(self, id).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRow>> {
        users::user_by_username(self, username).await
    }

    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<UserRow>> {
        users::search_users(self, prefix, limit).await
    }

    async fn update_user(
        &self,
        id: &str,
        display_name: Option<String>,
        avatar_file_id: Option<String>,
    ) -> StoreResult<UserRow> {
        users::update_user(self, id, display_name, avatar_file_id).await
    }

    async fn set_last_seen(&self, id: &str, at: i64) -> StoreResult<()> {
        users::set_last_seen(self, id, at).await
    }

    async fn create_session(
        &self,
        session_id: &str,
        user_id: &str,
        refresh_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        sessions::create_session(self, session_id, user_id, refresh_hash, now, expires_at).await
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<RefreshOutcome> {
        sessions::rotate_refresh(self, old_hash, new_hash, now, expires_at).await
    }

    async fn revoke_by_refresh(&self, hash: &str) -> StoreResult<Option<String>> {
        sessions::revoke_by_refresh(self, hash).await
    }

    async fn session_active(&self, session_id: &str, now: i64) -> StoreResult<bool> {
        sessions::session_active(self, session_id, now).await
    }

    async fn create_chat(&self, chat: NewChat) -> StoreResult<(ChatRow, bool)> {
        chats::create_chat(self, chat).await
    }

    async fn chat(&self, chat_id: &str) -> StoreResult<Option<ChatRow>> {
        chats::chat(self, chat_id).await
    }

    async fn member(&self, chat_id: &str, user_id: &str) -> StoreResult<Option<MemberRow>> {
        chats::member(self, chat_id, user_id).await
    }

    async fn member_role(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<(ChatType, Role)>> {
        roles::member_role(self, chat_id, user_id).await
    }

    async fn members(&self, chat_id: &str) -> StoreResult<Vec<MemberRow>> {
        chats::members(self, chat_id).await
    }

    async fn chats_for_user(&self, user_id: &str) -> StoreResult<Vec<ChatListRow>> {
        chat_list::chats_for_user(self, user_id).await
    }

    async fn chat_for_user(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<ChatListRow>> {
        chat_list::chat_for_user(self, chat_id, user_id).await
    }

    async fn rename_chat(&self, chat_id: &str, name: &str) -> StoreResult<()> {
        chats::rename_chat(self, chat_id, name).await
    }

    async fn add_member(
        &self,
        chat_id: &str,
        user_id: &str,
        role: Role,
        now: i64,
    ) -> StoreResult<MemberRow> {
        chats::add_member(self, chat_id, user_id, role, now).await
    }

    async fn remove_member(&self, chat_id: &str, user_id: &str) -> StoreResult<bool> {
        chats::remove_member(self, chat_id, user_id).await
    }

    async fn queue_append(
        &self,
        message: NewMessage,
        on_stored: OnStored,
    ) -> StoreResult<Appending> {
        messages::queue_append(self, message, on_stored).await
    }

    async fn message(&self, message_id: &str) -> StoreResult<Option<MessageRow>> {
        messages::message(self, message_id).await
    }

    async fn list_messages(
        &self,
        chat_id: &str,
        cursor: Cursor,
        limit: u32,
        message_type: Option<MessageType>,
    ) -> StoreResult<(Vec<MessageRow>, bool)> {
        messages::list_messages(self, chat_id, cursor, limit, message_type).await
    }

    async fn edit_message(
        &self,
        message_id: &str,
        content: &str,
        now: i64,
    ) -> StoreResult<MessageRow> {
        messages::edit_message(self, message_id, content, now).await
    }

    async fn delete_message(&self, message_id: &str, now: i64) -> StoreResult<MessageRow> {
        messages::delete_message(self, message_id, now).await
    }

    async fn add_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        now: i64,
    ) -> StoreResult<bool> {
        reactions::add_reaction(self, message_id, user_id, emoji, now).await
    }

    async fn remove_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
    ) -> StoreResult<bool> {
        reactions::remove_reaction(self, message_id, user_id, emoji).await
    }

    async fn reactions(&self, message_ids: &[String]) -> StoreResult<Vec<ReactionRow>> {
        reactions::reactions(self, message_ids).await
    }

    async fn advance_marker(
        &self,
        chat_id: &str,
        user_id: &str,
        kind: MarkerKind,
        seq: i64,
        now: i64,
    ) -> StoreResult<Option<Advance>> {
        markers::advance_marker(self, chat_id, user_id, kind, seq, now).await
    }

    async fn receipts(
        &self,
        chat_id: &str,
        seq: i64,
        sender_id: &str,
    ) -> StoreResult<Vec<ReceiptRow>> {
        markers::receipts(self, chat_id, seq, sender_id).await
    }

    async fn search_messages(
        &self,
        user_id: &str,
        query: &str,
        chat_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SearchRow>> {
        search::search_messages(self, user_id, query, chat_id, limit).await
    }

    async fn chat_cursors(&self, user_id: &str) -> StoreResult<Vec<ChatCursor>> {
        realtime::chat_cursors(self, user_id).await
    }

    async fn co_members(&self, user_id: &str, max_members: u32) -> StoreResult<Vec<String>> {
        realtime::co_members(self, user_id, max_members).await
    }

    async fn create_file(&self, file: FileRow) -> StoreResult<()> {
        files::create_file(self, file).await
    }

    async fn file(&self, file_id: &str) -> StoreResult<Option<FileRow>> {
        files::file_by_id(self, file_id).await
    }

    async fn files(&self, file_ids: &[String]) -> StoreResult<Vec<FileRow>> {
        files::files_by_ids(self, file_ids).await
    }

    async fn file_visible_to(&self, file_id: &str, user_id: &str) -> StoreResult<bool> {
        files::file_visible_to(self, file_id, user_id).await
    }

    async fn storage_used(&self, owner_id: &str) -> StoreResult<i64> {
        files::storage_used(self, owner_id).await
    }

    async fn orphan_files(&self, created_before: i64, limit: u32) -> StoreResult<Vec<FileRow>> {
        files::orphan_files(self, created_before, limit).await
    }

    async fn delete_file(&self, file_id: &str) -> StoreResult<bool> {
        files::delete_file(self, file_id).await
    }

    async fn membership(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<(ChatRow, MemberRow)>> {
        chats::membership(self, chat_id, user_id).await
    }
}
