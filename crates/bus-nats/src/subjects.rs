//! NATS subject names: one per chat and per user, plus the cluster's own
//! (heartbeats, presence, round trips). Owns the escaping that keeps a
//! hostile id from widening a subscription: an id becomes one subject
//! token, whatever it holds.

use natter_bus::Subject;

/// Every node's heartbeats and goodbyes.
pub const HEARTBEAT: &str = "natter.node.heartbeat";
/// Every node's presence changes and snapshots.
pub const PRESENCE: &str = "natter.presence";

/// The NATS subject of a bus subject: `natter.chat.<id>` /
/// `natter.user.<id>`.
pub fn of(subject: &Subject) -> String {
    match subject {
        Subject::Chat(id) => format!("natter.chat.{}", token(id)),
        Subject::User(id) => format!("natter.user.{}", token(id)),
    }
}

/// Where this node's round-trip probes come back.
pub fn round_trip(node_id: &str) -> String {
    format!("natter.node.{}.echo", token(node_id))
}

/// `id` as exactly one subject token. Ids made only of ASCII letters,
/// digits, `-` and `_` (UUIDs) are used as they are; any other id (with
/// `.`, `*`, `>`, whitespace, `~`, anything else, or empty) becomes `~`
/// and the hex of its bytes. A plain token never holds `~`, so two ids
/// never share a token.
pub fn token(id: &str) -> String {
    let plain = !id.is_empty()
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if plain {
        return id.to_owned();
    }
    let mut escaped = String::with_capacity(1 + 2 * id.len());
    escaped.push('~');
    for byte in id.bytes() {
        escaped.push_str(&format!("{byte:02x}"));
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_used_as_they_are() {
        let id = "0190c2a4-7b3e-7c41-9a55-1f2e3d4c5b6a";
        assert_eq!(of(&Subject::Chat(id.into())), format!("natter.chat.{id}"));
        assert_eq!(of(&Subject::User(id.into())), format!("natter.user.{id}"));
    }

    #[test]
    fn hostile_ids_stay_one_token() {
        for id in [
            "a.b", "*", ">", "a b", "a\tb", "", "x.>", "~61", "é", "a\r\nb",
        ] {
            let token = token(id);
            assert!(token.starts_with('~'), "{id:?} -> {token}");
            assert!(
                token[1..].bytes().all(|byte| byte.is_ascii_hexdigit()),
                "{id:?} -> {token}"
            );
            let subject = of(&Subject::Chat(id.into()));
            assert_eq!(subject.split('.').count(), 3, "{id:?} -> {subject}");
        }
    }

    #[test]
    fn different_ids_get_different_tokens() {
        let ids = ["a", "~61", "a.", "a..", "", "~", "A", "a-b", "a_b"];
        let tokens: std::collections::HashSet<String> = ids.iter().map(|id| token(id)).collect();
        assert_eq!(tokens.len(), ids.len());
    }
}
