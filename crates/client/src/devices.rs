//! The `/api/v1/devices*`, `/api/v1/push/*` and notification settings
//! calls: a user's devices (sessions), their Web Push subscriptions, and
//! what they want to be pushed.

use crate::chats::chat_path;
use crate::client::path_segment;
use crate::{Client, Result};
use natter_proto::devices::{Device, DeviceList, RemoveDevice, RenameDevice};
use natter_proto::push::{
    ActivateSubscription, ChatNotifications, MyNotifications, NewPushSubscription,
    PushSubscription, PushSubscriptionList, UpdateMyNotifications, VapidKey,
};
use reqwest::{Method, StatusCode};

fn device_path(device_id: &str) -> String {
    format!("/api/v1/devices/{}", path_segment(device_id))
}

fn subscription_path(subscription_id: &str) -> String {
    format!(
        "/api/v1/push/subscriptions/{}",
        path_segment(subscription_id)
    )
}

impl Client {
    /// `GET /api/v1/devices`: the caller's live devices, oldest first.
    pub async fn devices(&self) -> Result<Vec<Device>> {
        let builder = self.request(Method::GET, "/api/v1/devices");
        let (list, _): (DeviceList, _) = self.call(builder).await?;
        Ok(list.devices)
    }

    /// `PATCH /api/v1/devices/{device_id}`.
    pub async fn rename_device(&self, device_id: &str, name: &str) -> Result<Device> {
        let body = RenameDevice {
            name: name.to_owned(),
        };
        let builder = self
            .request(Method::PATCH, &device_path(device_id))
            .json(&body);
        Ok(self.call(builder).await?.0)
    }

    /// `DELETE /api/v1/devices/{device_id}` (204): signs that device out
    /// everywhere; needs the account's password.
    pub async fn remove_device(&self, device_id: &str, password: &str) -> Result<()> {
        let body = RemoveDevice {
            password: password.to_owned(),
        };
        let builder = self
            .request(Method::DELETE, &device_path(device_id))
            .json(&body);
        self.call_empty(builder).await
    }

    /// `GET /api/v1/push/vapid`: the server's `applicationServerKey`.
    pub async fn vapid_key(&self) -> Result<String> {
        let builder = self.request(Method::GET, "/api/v1/push/vapid");
        let (key, _): (VapidKey, _) = self.call(builder).await?;
        Ok(key.public_key)
    }

    /// `POST /api/v1/push/subscriptions`: the subscription, and whether it
    /// was new (201) rather than a known endpoint (200).
    pub async fn subscribe_push(
        &self,
        subscription: &NewPushSubscription,
    ) -> Result<(PushSubscription, bool)> {
        let builder = self
            .request(Method::POST, "/api/v1/push/subscriptions")
            .json(subscription);
        let (subscription, status) = self.call(builder).await?;
        Ok((subscription, status == StatusCode::CREATED))
    }

    /// `GET /api/v1/push/subscriptions`.
    pub async fn push_subscriptions(&self) -> Result<Vec<PushSubscription>> {
        let builder = self.request(Method::GET, "/api/v1/push/subscriptions");
        let (list, _): (PushSubscriptionList, _) = self.call(builder).await?;
        Ok(list.subscriptions)
    }

    /// `POST /api/v1/push/subscriptions/{id}/activate` (204) with the
    /// token of the subscription's activation push.
    pub async fn activate_push(&self, subscription_id: &str, token: &str) -> Result<()> {
        let path = format!("{}/activate", subscription_path(subscription_id));
        let body = ActivateSubscription {
            token: token.to_owned(),
        };
        self.call_empty(self.request(Method::POST, &path).json(&body))
            .await
    }

    /// `DELETE /api/v1/push/subscriptions/{id}` (204).
    pub async fn unsubscribe_push(&self, subscription_id: &str) -> Result<()> {
        let builder = self.request(Method::DELETE, &subscription_path(subscription_id));
        self.call_empty(builder).await
    }

    /// `GET /api/v1/chats/{chat_id}/notifications`.
    pub async fn chat_notifications(&self, chat_id: &str) -> Result<ChatNotifications> {
        let path = format!("{}/notifications", chat_path(chat_id));
        Ok(self.call(self.request(Method::GET, &path)).await?.0)
    }

    /// `PUT /api/v1/chats/{chat_id}/notifications`.
    pub async fn set_chat_notifications(
        &self,
        chat_id: &str,
        settings: &ChatNotifications,
    ) -> Result<ChatNotifications> {
        let path = format!("{}/notifications", chat_path(chat_id));
        let builder = self.request(Method::PUT, &path).json(settings);
        Ok(self.call(builder).await?.0)
    }

    /// `GET /api/v1/users/me/notifications`.
    pub async fn my_notifications(&self) -> Result<MyNotifications> {
        let builder = self.request(Method::GET, "/api/v1/users/me/notifications");
        Ok(self.call(builder).await?.0)
    }

    /// `PATCH /api/v1/users/me/notifications`.
    pub async fn update_my_notifications(
        &self,
        update: &UpdateMyNotifications,
    ) -> Result<MyNotifications> {
        let builder = self
            .request(Method::PATCH, "/api/v1/users/me/notifications")
            .json(update);
        Ok(self.call(builder).await?.0)
    }
}
