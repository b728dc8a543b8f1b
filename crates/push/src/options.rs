//! How one push is to be delivered (RFC 8030 section 5): its `TTL`, its
//! `Urgency` and its `Topic`, and the rules a push service holds them to.

use std::fmt;
use std::str::FromStr;

/// The longest `Topic` RFC 8030 allows (section 5.4).
pub const MAX_TOPIC_LEN: usize = 32;

/// How soon the user agent should be woken for a push (RFC 8030 5.3):
/// push services hold back low-urgency pushes on a device that saves
/// battery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Urgency {
    VeryLow,
    Low,
    #[default]
    Normal,
    High,
}

impl Urgency {
    /// The header value: `very-low`, `low`, `normal` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::VeryLow => "very-low",
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is none of the four urgencies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an urgency (very-low, low, normal or high)")]
pub struct UnknownUrgency(pub String);

impl FromStr for Urgency {
    type Err = UnknownUrgency;

    fn from_str(text: &str) -> Result<Urgency, UnknownUrgency> {
        match text {
            "very-low" => Ok(Urgency::VeryLow),
            "low" => Ok(Urgency::Low),
            "normal" => Ok(Urgency::Normal),
            "high" => Ok(Urgency::High),
            other => Err(UnknownUrgency(other.to_owned())),
        }
    }
}

/// How one push is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOptions<'a> {
    /// How long the push service keeps the push for an offline user
    /// agent; 0 means deliver now or never.
    pub ttl_secs: u64,
    pub urgency: Urgency,
    /// Pushes with the same topic replace each other while undelivered
    /// (one per chat, so a user back online sees the latest, not twenty).
    /// At most 32 characters of the base64url alphabet: a chat id with
    /// its hyphens removed fits.
    pub topic: Option<&'a str>,
}

/// Why a topic is not one RFC 8030 allows, if it is not.
pub(crate) fn topic_problem(topic: &str) -> Option<String> {
    if topic.is_empty() {
        return Some("the topic is empty".into());
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Some(format!(
            "the topic is {} characters, more than {MAX_TOPIC_LEN}",
            topic.len()
        ));
    }
    if !topic
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    {
        return Some("the topic has characters outside the base64url alphabet".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgencies_round_trip_through_their_header_values() {
        for urgency in [
            Urgency::VeryLow,
            Urgency::Low,
            Urgency::Normal,
            Urgency::High,
        ] {
            assert_eq!(urgency.as_str().parse(), Ok(urgency));
        }
        assert_eq!("very-low".parse(), Ok(Urgency::VeryLow));
        assert!("urgent".parse::<Urgency>().is_err());
        assert!("High".parse::<Urgency>().is_err());
        assert_eq!(Urgency::default(), Urgency::Normal);
    }

    #[test]
    fn a_chat_id_without_hyphens_is_a_valid_topic() {
        let chat_id = "0190a5f2-7b3c-7d4e-8f90-123456789abc".replace('-', "");
        assert_eq!(chat_id.len(), 32);
        assert_eq!(topic_problem(&chat_id), None);
        assert_eq!(topic_problem("a-b_C9"), None);
    }

    #[test]
    fn topics_outside_the_rules_are_named() {
        assert!(topic_problem("").is_some());
        assert!(topic_problem(&"a".repeat(33)).is_some());
        assert!(topic_problem("0190a5f2-7b3c-7d4e-8f90-123456789abc").is_some());
        for bad in ["a b", "a/b", "a+b", "a=", "é"] {
            assert!(topic_problem(bad).is_some(), "{bad}");
        }
    }
}
