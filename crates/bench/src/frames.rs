//! What the load generator puts in the frames it sends and how it reads
//! the frames it receives, cheaply.
//!
//! Latency is measured from a timestamp carried in the traffic itself, so
//! any process can compute it: the message `content` starts with
//! `nb:<unix µs> ` (send -> receive latency, read by every recipient) and
//! the `client_msg_id` starts with `<unix µs>-` (send -> `send.ok`, read
//! by the sender). With several nodes the content also names the
//! sender's node, `nb:<unix µs>@<node> `, so a recipient can tell a
//! same-node delivery from a cross-node one. Incoming frames are classified by their leading
//! `{"type":"..."` (serde writes the tag first) and the few fields needed
//! are found by substring, not by a full JSON parse: in a fan-out run the
//! load generator reads as many frames as the server writes, on the same
//! two cores, and must stay the cheaper side.

/// Marks benchmark content.
const CONTENT_PREFIX: &str = "nb:";

/// A message body of about `len` bytes carrying its send time.
pub fn content(sent_us: u64, len: usize) -> String {
    padded(format!("{CONTENT_PREFIX}{sent_us} "), len)
}

/// Like [`content`], also naming the node the sender is connected to.
pub fn content_from_node(sent_us: u64, node: usize, len: usize) -> String {
    padded(format!("{CONTENT_PREFIX}{sent_us}@{node} "), len)
}

fn padded(mut text: String, len: usize) -> String {
    while text.len() < len {
        text.push('x');
    }
    text
}

/// The sender's node named in a `message.new` frame's content (see
/// [`content_from_node`]); `None` for untagged or foreign content.
pub fn sender_node(text: &str) -> Option<usize> {
    let stamp = string_field_raw(text, "content")?.strip_prefix(CONTENT_PREFIX)?;
    let after_time = stamp.trim_start_matches(|c: char| c.is_ascii_digit());
    let node = leading_number(after_time.strip_prefix('@')?)?;
    usize::try_from(node).ok()
}

/// A `client_msg_id` unique per (worker, connection, counter), carrying
/// the send time.
pub fn client_msg_id(sent_us: u64, worker: usize, conn: usize, n: u64) -> String {
    format!("{sent_us}-{worker}-{conn}-{n}")
}

/// An incoming frame, reduced to what the statistics need.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// `message.new`: its chat and seq, and the send time if it is ours.
    MessageNew {
        chat_id: &'a str,
        seq: i64,
        sent_us: Option<u64>,
    },
    /// `send.ok`: the send time taken from its `client_msg_id`.
    SendOk {
        sent_us: Option<u64>,
    },
    /// `error`, with or without a `client_msg_id`.
    Error {
        for_send: bool,
    },
    Ready,
    Typing,
    Receipt,
    /// Anything else (presence, pong, chat events ...).
    Other,
}

/// Classifies a server text frame.
pub fn classify(text: &str) -> Incoming<'_> {
    let kind = match frame_type(text) {
        Some(kind) => kind,
        None => return Incoming::Other,
    };
    match kind {
        "message.new" => Incoming::MessageNew {
            chat_id: string_field(text, "chat_id").unwrap_or_default(),
            seq: number_field(text, "seq").unwrap_or(0),
            sent_us: string_field_raw(text, "content")
                .and_then(|content| content.strip_prefix(CONTENT_PREFIX))
                .and_then(leading_number),
        },
        "send.ok" => Incoming::SendOk {
            sent_us: string_field(text, "client_msg_id").and_then(leading_number),
        },
        "error" => Incoming::Error {
            for_send: text.contains("\"client_msg_id\":"),
        },
        "ready" => Incoming::Ready,
        "typing" => Incoming::Typing,
        "receipt" => Incoming::Receipt,
        _ => Incoming::Other,
    }
}

/// The `type` tag, when the frame starts with it (as serde writes it).
fn frame_type(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("{\"type\":\"")?;
    rest.split('"').next()
}

/// The first `"name":"value"` string value, without unescaping (callers
/// only need ids and our own ASCII prefixes).
fn string_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let value = string_field_raw(text, name)?;
    value.split('"').next()
}

/// The text right after the first `"name":"`.
fn string_field_raw<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("\"{name}\":\"");
    let at = text.find(&key)?;
    Some(&text[at + key.len()..])
}

/// The first `"name":<integer>` value.
fn number_field(text: &str, name: &str) -> Option<i64> {
    let key = format!("\"{name}\":");
    let at = text.find(&key)?;
    let rest = &text[at + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The decimal number at the start of `text`.
fn leading_number(text: &str) -> Option<u64> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_carries_the_send_time_and_has_the_asked_length() {
        let text = content(1_700_000_000_123_456, 64);
        assert_eq!(text.len(), 64);
        assert!(text.starts_with("nb:1700000000123456 "));
        assert_eq!(content(5, 0), "nb:5 ");
    }

    #[test]
    fn message_new_yields_chat_seq_and_send_time() {
        let frame = format!(
            r#"{{"type":"message.new","message":{{"message_id":"m1","chat_id":"c-9","seq":42,"sender_id":"u","type":"text","content":"{}","metadata":{{}}}}}}"#,
            content(777, 20)
        );
        assert_eq!(
            classify(&frame),
            Incoming::MessageNew {
                chat_id: "c-9",
                seq: 42,
                sent_us: Some(777)
            }
        );
    }

    #[test]
    fn tagged_content_names_the_senders_node_and_keeps_the_send_time() {
        let text = content_from_node(1_700_000_000_123_456, 2, 64);
        assert_eq!(text.len(), 64);
        assert!(text.starts_with("nb:1700000000123456@2 "), "{text}");
        let frame = format!(
            r#"{{"type":"message.new","message":{{"chat_id":"c","seq":3,"content":"{text}"}}}}"#
        );
        assert_eq!(sender_node(&frame), Some(2));
        assert_eq!(
            classify(&frame),
            Incoming::MessageNew {
                chat_id: "c",
                seq: 3,
                sent_us: Some(1_700_000_000_123_456)
            }
        );
        let untagged = format!(
            r#"{{"type":"message.new","message":{{"content":"{}"}}}}"#,
            content(5, 20)
        );
        assert_eq!(sender_node(&untagged), None);
        assert_eq!(
            sender_node(r#"{"type":"message.new","message":{"content":"a@1"}}"#),
            None
        );
    }

    #[test]
    fn foreign_content_has_no_send_time() {
        let frame = r#"{"type":"message.new","message":{"chat_id":"c","seq":1,"content":"hello"}}"#;
        assert_eq!(
            classify(frame),
            Incoming::MessageNew {
                chat_id: "c",
                seq: 1,
                sent_us: None
            }
        );
    }

    #[test]
    fn send_ok_and_errors_are_recognised() {
        let id = client_msg_id(123, 1, 2, 3);
        assert_eq!(id, "123-1-2-3");
        let ok = format!(
            r#"{{"type":"send.ok","client_msg_id":"{id}","message_id":"m","seq":1,"created_at":"x"}}"#
        );
        assert_eq!(classify(&ok), Incoming::SendOk { sent_us: Some(123) });
        let error =
            r#"{"type":"error","client_msg_id":"1-0-0-0","code":"not_found","detail":"chat"}"#;
        assert_eq!(classify(error), Incoming::Error { for_send: true });
        let other = r#"{"type":"error","code":"invalid_request","detail":"x"}"#;
        assert_eq!(classify(other), Incoming::Error { for_send: false });
    }

    #[test]
    fn other_frames_are_classified_by_type() {
        assert_eq!(classify(r#"{"type":"ready","chats":[]}"#), Incoming::Ready);
        assert_eq!(classify(r#"{"type":"typing"}"#), Incoming::Typing);
        assert_eq!(classify(r#"{"type":"receipt"}"#), Incoming::Receipt);
        assert_eq!(classify(r#"{"type":"pong"}"#), Incoming::Other);
        assert_eq!(classify("not json"), Incoming::Other);
    }
}
