//! Accounts: who exists, their profile, their password hash and when
//! they were last seen.

use crate::StoreResult;
use async_trait::async_trait;

#[derive(Clone, Debug)]
pub struct NewUser {
    pub id: String,
    /// Already lower-cased and validated.
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub avatar_file_id: Option<String>,
    pub created_at: i64,
    /// When the user's last connection closed; `None` if never connected.
    pub last_seen: Option<i64>,
}

#[async_trait]
pub trait Users: Send + Sync {
    /// `Conflict(Username)` if the username is taken.
    async fn create_user(&self, user: NewUser) -> StoreResult<UserRow>;
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRow>>;
    /// `username` is matched lower-cased.
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRow>>;
    /// Users whose username, display name or any word of the display name
    /// (see [`name_words`]) starts with `prefix` (case-insensitive, also
    /// beyond ASCII), ordered by username.
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<UserRow>>;
    /// Sets the given fields; `NotFound` if there is no such user.
    async fn update_user(
        &self,
        id: &str,
        display_name: Option<String>,
        avatar_file_id: Option<String>,
    ) -> StoreResult<UserRow>;
    /// Replaces the user's password hash; `NotFound` if there is no such
    /// user. Sessions are the caller's to end.
    async fn set_password_hash(&self, id: &str, password_hash: &str) -> StoreResult<()>;
    /// Unknown users are ignored.
    async fn set_last_seen(&self, id: &str, at: i64) -> StoreResult<()>;
}

/// What the people search matches a display name by, lower-cased: the
/// whole name (spaces collapsed, so "bob bu" finds "Bob Builder") and
/// each of its words, split at anything that is not a letter or digit
/// ("Mary-Jane" gives "mary" and "jane"). Distinct, in order. Both
/// backends keep these rows in a table of their own so that a word
/// prefix is an index range scan, not a scan of every user.
pub fn name_words(display_name: &str) -> Vec<String> {
    let lower = display_name.to_lowercase();
    let whole = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut words = vec![whole];
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        if !word.is_empty() && !words.iter().any(|known| known == word) {
            words.push(word.to_owned());
        }
    }
    words.retain(|word| !word.is_empty());
    words
}

/// How a search prefix is compared with [`name_words`]: lower-cased, its
/// spaces collapsed (a trailing one kept: "bob " is "bob" then more).
pub fn search_prefix(prefix: &str) -> String {
    let lower = prefix.trim_start().to_lowercase();
    let trailing = lower.ends_with(char::is_whitespace);
    let mut collapsed = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    if trailing && !collapsed.is_empty() {
        collapsed.push(' ');
    }
    collapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_found_by_its_whole_and_by_each_word() {
        assert_eq!(
            name_words("Bob  Builder"),
            ["bob builder", "bob", "builder"]
        );
        assert_eq!(
            name_words("Mary-Jane Ölund"),
            ["mary-jane ölund", "mary", "jane", "ölund"]
        );
        assert_eq!(name_words("ann"), ["ann"]);
        assert!(name_words("  ").is_empty());
    }

    #[test]
    fn search_prefixes_are_lower_cased_with_spaces_collapsed() {
        assert_eq!(search_prefix(" Bob   BU"), "bob bu");
        assert_eq!(search_prefix("Bob "), "bob ");
        assert_eq!(search_prefix("ÖL"), "öl");
    }
}
