//! Messages, reactions, receipts and the bodies of the message calls.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a message carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    #[default]
    Text,
    Image,
    File,
    /// A recorded voice note: an audio file and `metadata.duration_ms`.
    Voice,
    /// A call's history entry, written by the server only (see
    /// [`Metadata::call`]).
    Call,
    /// An MLS message (RFC 9420) of an end-to-end encrypted chat: `content`
    /// is the base64 of an `MLSMessage` the server relays without reading
    /// (a PrivateMessage from a client, or a Commit the server stored).
    Mls,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::File => "file",
            MessageType::Call => "call",
            MessageType::Voice => "voice",
            MessageType::Mls => "mls",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "text" => Some(MessageType::Text),
            "image" => Some(MessageType::Image),
            "file" => Some(MessageType::File),
            "call" => Some(MessageType::Call),
            "voice" => Some(MessageType::Voice),
            "mls" => Some(MessageType::Mls),
            _ => None,
        }
    }
}

/// Delivery state of a message, ordered `sent < delivered < read`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Durably stored.
    Sent,
    /// Another member's device acknowledged it.
    Delivered,
    /// Another member read it.
    Read,
}

/// How deep `metadata` may nest, counting its own object as 1. The known
/// fields need 2; anything beyond the bounds is refused rather than
/// parsed and dropped (unknown fields are ignored, but a client must not
/// make the server walk arbitrary structures).
pub const METADATA_MAX_DEPTH: usize = 8;
/// Largest `metadata` object, in bytes of compact JSON.
pub const METADATA_MAX_BYTES: usize = 8 * 1024;

/// Optional structured data on a message: its known fields, bounded in
/// depth ([`METADATA_MAX_DEPTH`]) and size ([`METADATA_MAX_BYTES`]);
/// unknown fields within the bounds are ignored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Metadata {
    /// A message of the same chat this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Members of the chat this message mentions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<Vec<String>>,
    /// A voice message's length in milliseconds: required on `voice`
    /// messages, 1 to the server's `voice.max_duration_ms` (recorders
    /// such as MediaRecorder write no duration into the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// A voice message's loudness for drawing it: at most 100 values of
    /// 0 to 255, one per equal slice of the recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waveform: Option<Vec<i64>>,
    /// A `call` entry's record: how the call ended. Written by the server
    /// only; a client's message carrying it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<crate::calls::CallRecord>,
    /// On an `mls` message that is a Commit: what it was. Written by the
    /// server only; a client's message carrying it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mls: Option<crate::mls::MlsRecord>,
}

impl Metadata {
    pub fn is_empty(&self) -> bool {
        self.reply_to.is_none()
            && self.mentions.is_none()
            && self.duration_ms.is_none()
            && self.waveform.is_none()
            && self.call.is_none()
            && self.mls.is_none()
    }
}

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MetadataVisitor)
    }
}

/// Reads the known fields typed, and walks anything else within the
/// bounds, one level at a time: the walk stops at the first level too
/// deep, long before the parser's own recursion limit (which would only
/// say "not valid JSON", naming no field).
struct MetadataVisitor;

impl<'de> serde::de::Visitor<'de> for MetadataVisitor {
    type Value = Metadata;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a metadata object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Metadata, A::Error> {
        let mut metadata = Metadata::default();
        let budget = std::cell::Cell::new(METADATA_MAX_BYTES);
        while let Some(key) = map.next_key::<String>()? {
            spend::<A::Error>(&budget, key.len())?;
            match key.as_str() {
                "reply_to" => {
                    let reply_to: Option<String> = map.next_value()?;
                    spend::<A::Error>(&budget, reply_to.as_ref().map_or(0, String::len))?;
                    metadata.reply_to = reply_to;
                }
                "mentions" => {
                    let mentions: Option<Vec<String>> = map.next_value()?;
                    let size = mentions.iter().flatten().map(|id| id.len() + 1).sum();
                    spend::<A::Error>(&budget, size)?;
                    metadata.mentions = mentions;
                }
                "call" => {
                    spend::<A::Error>(&budget, 128)?;
                    metadata.call = map.next_value()?;
                }
                "mls" => {
                    spend::<A::Error>(&budget, 64)?;
                    metadata.mls = map.next_value()?;
                }
                "duration_ms" => {
                    spend::<A::Error>(&budget, 8)?;
                    metadata.duration_ms = map.next_value()?;
                }
                "waveform" => {
                    metadata.waveform = map.next_value_seed(Waveform { budget: &budget })?;
                }
                _ => map.next_value_seed(Bounded {
                    levels_left: METADATA_MAX_DEPTH - 1,
                    budget: &budget,
                })?,
            }
        }
        Ok(metadata)
    }
}

/// Most values of `metadata.waveform`.
pub const WAVEFORM_MAX_VALUES: usize = 100;

/// `metadata.waveform` (`null` or an array of integers), read one value at
/// a time: the budget is charged for each as it is read, and at most one
/// value beyond [`WAVEFORM_MAX_VALUES`] is kept (the rest are read and
/// dropped), so the message's checks can still refuse it, after the
/// sender's membership (an outsider learns nothing), without the server
/// ever holding more.
struct Waveform<'b> {
    budget: &'b std::cell::Cell<usize>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Waveform<'_> {
    type Value = Option<Vec<i64>>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Waveform<'_> {
    type Value = Option<Vec<i64>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of integers")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut values =
            Vec::with_capacity(seq.size_hint().unwrap_or(0).min(WAVEFORM_MAX_VALUES + 1));
        while let Some(value) = seq.next_element::<i64>()? {
            spend::<A::Error>(self.budget, 4)?;
            if values.len() <= WAVEFORM_MAX_VALUES {
                values.push(value);
            }
        }
        Ok(Some(values))
    }
}

/// Takes `size` from what metadata may still hold.
fn spend<E: serde::de::Error>(budget: &std::cell::Cell<usize>, size: usize) -> Result<(), E> {
    match budget.get().checked_sub(size) {
        Some(left) => {
            budget.set(left);
            Ok(())
        }
        None => Err(E::custom(format!(
            "metadata is larger than {METADATA_MAX_BYTES} bytes"
        ))),
    }
}

/// An unknown value inside metadata: walked (and dropped) within
/// `levels_left` more levels of nesting and what is left of `budget`.
struct Bounded<'b> {
    levels_left: usize,
    budget: &'b std::cell::Cell<usize>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Bounded<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Bounded<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        spend(self.budget, 8)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        spend(self.budget, 8)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        spend(self.budget, 8)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        spend(self.budget, 8)
    }
    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<(), E> {
        spend(self.budget, text.len() + 2)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        spend(self.budget, 4)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.nested::<A::Error>()?;
        while seq.next_element_seed(inner.again())?.is_some() {}
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.nested::<A::Error>()?;
        while let Some(key) = map.next_key::<String>()? {
            spend::<A::Error>(self.budget, key.len() + 2)?;
            map.next_value_seed(inner.again())?;
        }
        Ok(())
    }
}

impl<'b> Bounded<'b> {
    /// The seed for the values one level down; an error if there is none.
    fn nested<E: serde::de::Error>(&self) -> Result<Bounded<'b>, E> {
        spend::<E>(self.budget, 2)?;
        match self.levels_left.checked_sub(1) {
            Some(levels_left) => Ok(Bounded {
                levels_left,
                budget: self.budget,
            }),
            None => Err(E::custom(format!(
                "metadata nests deeper than {METADATA_MAX_DEPTH} levels"
            ))),
        }
    }

    fn again(&self) -> Bounded<'b> {
        Bounded {
            levels_left: self.levels_left,
            budget: self.budget,
        }
    }
}

/// `POST /api/v1/messages`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SendMessage {
    pub chat_id: String,
    #[serde(default)]
    pub content: String,
    #[serde(rename = "type", default)]
    pub message_type: MessageType,
    /// Idempotency key chosen by the client, unique per sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// If given, must be the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
}

/// Answer of a send: the message is durably stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SendAck {
    pub message_id: String,
    pub chat_id: String,
    pub seq: i64,
    pub status: MessageStatus,
    pub created_at: Timestamp,
}

/// A file attached to a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileRef {
    pub file_id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

/// Answer of `POST /api/v1/files`: the stored file. `size` and `sha256`
/// describe the bytes served (re-encoded for images).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileInfo {
    pub file_id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    /// Hex SHA-256 of the stored bytes.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

/// Reactions with one emoji on one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    pub emoji: String,
    pub count: u32,
    pub user_ids: Vec<String>,
}

/// A message as stored, with its reactions and status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub message_id: String,
    pub chat_id: String,
    pub seq: i64,
    /// The chat's version at this message's last change (its creation, an
    /// edit, its deletion or a reaction): the change cursor.
    #[serde(default)]
    pub version: i64,
    pub sender_id: String,
    #[serde(rename = "type")]
    pub message_type: MessageType,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    pub metadata: Metadata,
    pub reactions: Vec<Reaction>,
    pub status: MessageStatus,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// True if the reader hid this message for themselves ("delete for
    /// me"): then it comes as a tombstone (`deleted`, empty content) that
    /// keeps its `seq`, so paging and gap repair stay gap-free.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

/// `GET /api/v1/chats/{chat_id}/messages`: ascending by `seq`, or by
/// `version` when asked with `changed_after`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// More messages lie beyond this page in the direction of paging.
    pub has_more: bool,
}

/// `PATCH /api/v1/messages/{message_id}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EditMessage {
    pub content: String,
}

/// One member's receipt for a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Timestamp>,
}

/// `GET /api/v1/messages/{message_id}/receipts`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptList {
    pub receipts: Vec<Receipt>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keeps_its_known_fields_and_ignores_small_extras() {
        let parsed: Metadata =
            serde_json::from_str(r#"{"reply_to":"m1","mentions":["u1"],"client":{"v":[1,2]}}"#)
                .unwrap();
        assert_eq!(parsed.reply_to.as_deref(), Some("m1"));
        assert_eq!(parsed.mentions, Some(vec!["u1".to_owned()]));
        assert_eq!(
            serde_json::from_str::<Metadata>("{}").unwrap(),
            Metadata::default()
        );
    }

    #[test]
    fn voice_fields_are_kept_and_left_out_when_absent() {
        let parsed: Metadata =
            serde_json::from_str(r#"{"duration_ms":7000,"waveform":[0,128,255]}"#).unwrap();
        assert_eq!(parsed.duration_ms, Some(7000));
        assert_eq!(parsed.waveform, Some(vec![0, 128, 255]));
        assert!(!parsed.is_empty());
        let written = serde_json::to_string(&Metadata::default()).unwrap();
        assert_eq!(written, "{}");
    }

    #[test]
    fn deep_large_or_ill_typed_metadata_is_refused_with_a_reason() {
        let nested =
            |levels: usize| format!("{{\"x\":{}{}}}", "[".repeat(levels), "]".repeat(levels));
        assert!(serde_json::from_str::<Metadata>(&nested(METADATA_MAX_DEPTH - 1)).is_ok());
        let deep = serde_json::from_str::<Metadata>(&nested(METADATA_MAX_DEPTH)).unwrap_err();
        assert!(deep.to_string().contains("deeper"), "{deep}");
        assert!(serde_json::from_str::<Metadata>(&nested(100_000)).is_err());
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(METADATA_MAX_BYTES));
        assert!(
            serde_json::from_str::<Metadata>(&big)
                .unwrap_err()
                .to_string()
                .contains("larger")
        );
        assert!(serde_json::from_str::<Metadata>(r#"{"mentions":"u1"}"#).is_err());
        assert!(serde_json::from_str::<Metadata>(r#"{"duration_ms":1.5}"#).is_err());
        let long = format!(
            "{{\"waveform\":[{}0]}}",
            "0,".repeat(METADATA_MAX_BYTES / 4)
        );
        assert!(serde_json::from_str::<Metadata>(&long).is_err());
        assert!(serde_json::from_str::<Metadata>(r#"{"waveform":[1,"a"]}"#).is_err());
        assert!(serde_json::from_str::<Metadata>(r#"{"waveform":7}"#).is_err());
    }

    #[test]
    fn a_waveform_is_read_keeping_at_most_one_value_too_many() {
        let values = |count: usize| {
            let json = format!("{{\"waveform\":[{}]}}", vec!["9"; count].join(","));
            serde_json::from_str::<Metadata>(&json)
                .unwrap()
                .waveform
                .map(|waveform| waveform.len())
        };
        assert_eq!(values(WAVEFORM_MAX_VALUES), Some(WAVEFORM_MAX_VALUES));
        // One more is kept, for the check to refuse; more are not held.
        assert_eq!(
            values(WAVEFORM_MAX_VALUES + 1),
            Some(WAVEFORM_MAX_VALUES + 1)
        );
        assert_eq!(values(1_000), Some(WAVEFORM_MAX_VALUES + 1));
        let null: Metadata = serde_json::from_str(r#"{"waveform":null}"#).unwrap();
        assert_eq!(null.waveform, None);
        assert!(serde_json::from_str::<Metadata>("[]").is_err());
    }
}
