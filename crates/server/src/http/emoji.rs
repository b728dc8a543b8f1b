//! The emoji list of the web client's picker and `:shortcode:` completion:
//! one JSON document, `/assets/emoji.json`, made once (on first use) from
//! the `emojis` crate, which carries Unicode's list (CLDR names, groups,
//! order) and GitHub's shortcodes. [`super::web`] serves it beside the
//! embedded files, with the same caching (its bytes are part of the asset
//! version, so a versioned URL is `immutable`).
//!
//! Shape: `[{"e": "😀", "n": "grinning face", "g": "smileys", "s":
//! ["grinning"]}, ...]` in Unicode's order, one entry per emoji in its
//! default skin tone (the crate's iterator leaves the toned variants out).
//! The client loads it lazily, the first time a picker or a completion is
//! wanted; it does not search or rank here: that is the client's.
//!
//! It knows nothing of chats or users and holds no state but the bytes.

use serde::Serialize;
use std::sync::LazyLock;

/// Where the document lives below `/assets/`.
pub const PATH: &str = "emoji.json";

/// The document's bytes, made once: about 2,000 entries, some 150 KB.
pub static DOCUMENT: LazyLock<Vec<u8>> = LazyLock::new(build);

/// One emoji as the client reads it; short keys, as it is fetched whole.
#[derive(Serialize)]
struct Entry {
    /// The emoji itself (fully qualified).
    e: &'static str,
    /// Its CLDR name, e.g. "thumbs up".
    n: &'static str,
    /// Its group's key, see [`group_key`].
    g: &'static str,
    /// GitHub shortcodes without colons, e.g. `["+1", "thumbsup"]`; may be
    /// empty.
    s: Vec<&'static str>,
}

fn build() -> Vec<u8> {
    let entries: Vec<Entry> = emojis::iter()
        .map(|emoji| Entry {
            e: emoji.as_str(),
            n: emoji.name(),
            g: group_key(emoji.group()),
            s: emoji.shortcodes().collect(),
        })
        .collect();
    // Serialising borrowed strings into a Vec cannot fail.
    serde_json::to_vec(&entries).unwrap_or_default()
}

/// A short, stable key per Unicode group: the client names the tabs.
pub fn group_key(group: emojis::Group) -> &'static str {
    match group {
        emojis::Group::SmileysAndEmotion => "smileys",
        emojis::Group::PeopleAndBody => "people",
        emojis::Group::AnimalsAndNature => "animals",
        emojis::Group::FoodAndDrink => "food",
        emojis::Group::TravelAndPlaces => "travel",
        emojis::Group::Activities => "activities",
        emojis::Group::Objects => "objects",
        emojis::Group::Symbols => "symbols",
        emojis::Group::Flags => "flags",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn document() -> Vec<Value> {
        serde_json::from_slice(&DOCUMENT).expect("valid JSON")
    }

    #[test]
    fn the_document_lists_every_group_in_unicode_order() {
        let entries = document();
        assert!(entries.len() > 1_000, "{} entries", entries.len());
        assert_eq!(entries[0]["e"], "😀");
        let mut groups: Vec<&str> = entries.iter().filter_map(|e| e["g"].as_str()).collect();
        groups.dedup();
        assert_eq!(
            groups,
            [
                "smileys",
                "people",
                "animals",
                "food",
                "travel",
                "activities",
                "objects",
                "symbols",
                "flags"
            ]
        );
    }

    #[test]
    fn shortcodes_and_names_come_with_each_emoji_and_no_skin_tones() {
        let entries = document();
        let thumbs = entries
            .iter()
            .find(|entry| {
                entry["s"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s == "thumbsup")
            })
            .expect("thumbsup");
        assert_eq!(thumbs["e"], "👍");
        assert_eq!(thumbs["n"], "thumbs up");
        assert!(
            entries
                .iter()
                .all(|entry| entry["n"].as_str().is_some_and(|n| !n.is_empty()))
        );
        // A medium skin tone modifier appears in no entry.
        assert!(
            !entries
                .iter()
                .any(|entry| entry["e"].as_str().unwrap().contains('\u{1F3FD}'))
        );
    }
}
