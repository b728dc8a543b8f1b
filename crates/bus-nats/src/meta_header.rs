//! An envelope's routing facts ([`Meta`]) as one compact NATS header, so
//! the payload stays the frame exactly as the publisher encoded it.
//!
//! `Natter-Meta: n 7` (a message with seq 7), `t USER` (typing),
//! `j CHAT LAST_SEQ` (joined), `l CHAT USER` (left), `s SESSION`
//! (session ended), `c USER PARTY` (a relayed call frame), `p PARTY` (for
//! one connection), `d SESSION` (for one device's connections);
//! [`Meta::Other`] has no header at all. Fields are
//! separated by one space; inside a field, `%`, `~`, spaces and every
//! byte outside printable ASCII are written `%XX`, and an empty field is
//! `~` (header values lose trailing spaces), so any id survives.

use async_nats::HeaderMap;
use natter_bus::Meta;

/// The header's name.
pub const NAME: &str = "Natter-Meta";

/// Why a received header could not be read (a foreign or corrupt
/// publisher: the envelope is dropped).
#[derive(Debug, thiserror::Error)]
#[error("unreadable {NAME} header: {0:?}")]
pub struct BadMeta(String);

/// The headers that carry `meta`, or none for [`Meta::Other`].
pub fn encode(meta: &Meta) -> Option<HeaderMap> {
    let value = match meta {
        Meta::Other => return None,
        Meta::MessageNew { seq } => format!("n {seq}"),
        Meta::Typing { user_id } => format!("t {}", escape(user_id)),
        Meta::Joined { chat_id, last_seq } => format!("j {} {last_seq}", escape(chat_id)),
        Meta::Left { chat_id, user_id } => format!("l {} {}", escape(chat_id), escape(user_id)),
        Meta::SessionEnded { session_id } => format!("s {}", escape(session_id)),
        Meta::CallRelay { user_id, party_id } => {
            format!("c {} {}", escape(user_id), escape(party_id))
        }
        Meta::ToParty { party_id } => format!("p {}", escape(party_id)),
        Meta::ToSession { session_id } => format!("d {}", escape(session_id)),
    };
    let mut headers = HeaderMap::new();
    headers.insert(NAME, value);
    Some(headers)
}

/// The meta carried by `headers` (none: [`Meta::Other`]).
pub fn decode(headers: Option<&HeaderMap>) -> Result<Meta, BadMeta> {
    let Some(value) = headers.and_then(|headers| headers.get(NAME)) else {
        return Ok(Meta::Other);
    };
    let value = value.as_str();
    let bad = || BadMeta(value.to_owned());
    let fields: Vec<&str> = value.split(' ').collect();
    let text = |index: usize| {
        fields
            .get(index)
            .and_then(|field| unescape(field))
            .ok_or_else(bad)
    };
    let number = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<i64>().ok())
            .ok_or_else(bad)
    };
    let (meta, expected_fields) = match fields.first().copied() {
        Some("n") => (Meta::MessageNew { seq: number(1)? }, 2),
        Some("t") => (Meta::Typing { user_id: text(1)? }, 2),
        Some("j") => (
            Meta::Joined {
                chat_id: text(1)?,
                last_seq: number(2)?,
            },
            3,
        ),
        Some("l") => (
            Meta::Left {
                chat_id: text(1)?,
                user_id: text(2)?,
            },
            3,
        ),
        Some("s") => (
            Meta::SessionEnded {
                session_id: text(1)?,
            },
            2,
        ),
        Some("c") => (
            Meta::CallRelay {
                user_id: text(1)?,
                party_id: text(2)?,
            },
            3,
        ),
        Some("p") => (Meta::ToParty { party_id: text(1)? }, 2),
        Some("d") => (
            Meta::ToSession {
                session_id: text(1)?,
            },
            2,
        ),
        _ => return Err(bad()),
    };
    if fields.len() != expected_fields {
        return Err(bad());
    }
    Ok(meta)
}

fn escape(field: &str) -> String {
    if field.is_empty() {
        return "~".to_owned();
    }
    let mut escaped = String::with_capacity(field.len());
    for byte in field.bytes() {
        if byte.is_ascii_graphic() && byte != b'%' && byte != b'~' {
            escaped.push(char::from(byte));
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
}

fn unescape(field: &str) -> Option<String> {
    if field == "~" {
        return Some(String::new());
    }
    if field.is_empty() {
        return None;
    }
    let mut bytes = Vec::with_capacity(field.len());
    let mut rest = field.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(meta: Meta) {
        let headers = encode(&meta);
        assert_eq!(decode(headers.as_ref()).unwrap(), meta);
    }

    #[test]
    fn every_meta_survives_the_header() {
        let awkward = [
            "u1",
            "a b",
            "100%",
            "x%20y",
            "é ü",
            "",
            "~",
            "tab\there",
            "a\r\nb",
            " ",
        ];
        round_trip(Meta::Other);
        round_trip(Meta::MessageNew { seq: 0 });
        round_trip(Meta::MessageNew { seq: i64::MAX });
        round_trip(Meta::Joined {
            chat_id: "c".into(),
            last_seq: -1,
        });
        for id in awkward {
            round_trip(Meta::Typing { user_id: id.into() });
            round_trip(Meta::SessionEnded {
                session_id: id.into(),
            });
            round_trip(Meta::ToParty {
                party_id: id.into(),
            });
            round_trip(Meta::ToSession {
                session_id: id.into(),
            });
            round_trip(Meta::Joined {
                chat_id: id.into(),
                last_seq: 42,
            });
            for other in awkward {
                round_trip(Meta::Left {
                    chat_id: id.into(),
                    user_id: other.into(),
                });
                round_trip(Meta::CallRelay {
                    user_id: id.into(),
                    party_id: other.into(),
                });
            }
        }
    }

    #[test]
    fn other_travels_without_a_header() {
        assert!(encode(&Meta::Other).is_none());
        assert_eq!(decode(None).unwrap(), Meta::Other);
    }

    #[test]
    fn a_message_header_is_a_few_bytes() {
        let headers = encode(&Meta::MessageNew { seq: 123_456 }).unwrap();
        assert_eq!(headers.get(NAME).unwrap().as_str(), "n 123456");
    }

    #[test]
    fn garbage_is_refused() {
        for value in [
            "", "x", "n", "n seven", "n 1 2", "j c", "l a", "t a b", "t %G0", "t %4", "c u", "p",
            "p a b", "d", "d a b",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(NAME, value);
            assert!(decode(Some(&headers)).is_err(), "{value:?}");
        }
    }
}
