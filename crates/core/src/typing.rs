//! Typing indications: announced to a chat's members, never stored, and
//! ended by the server itself when not renewed within the TTL (a client
//! that vanishes mid-sentence does not leave "typing..." forever).

use super::{Caller, Core, CoreResult};
use natter_bus::Envelope;
use natter_proto::events::ServerEvent;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Who is typing where, until when.
pub struct TypingTracker {
    ttl: Duration,
    active: Mutex<HashMap<(String, String), Typing>>,
}

struct Typing {
    expires: Instant,
    announced: Instant,
}

impl TypingTracker {
    pub fn new(ttl: Duration) -> Self {
        TypingTracker {
            ttl,
            active: Mutex::new(HashMap::new()),
        }
    }

    /// Records a renewal; true if it must be announced (it is new, or the
    /// last announcement is half a TTL old, so watchers' timers are fed).
    fn start(&self, chat_id: &str, user_id: &str, now: Instant) -> bool {
        let mut active = self
            .active
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let key = (chat_id.to_owned(), user_id.to_owned());
        match active.get_mut(&key) {
            Some(typing) => {
                typing.expires = now + self.ttl;
                if now.duration_since(typing.announced) >= self.ttl / 2 {
                    typing.announced = now;
                    return true;
                }
                false
            }
            None => {
                active.insert(
                    key,
                    Typing {
                        expires: now + self.ttl,
                        announced: now,
                    },
                );
                true
            }
        }
    }

    /// Forgets one; true if it was active.
    fn stop(&self, chat_id: &str, user_id: &str) -> bool {
        let mut active = self
            .active
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        active
            .remove(&(chat_id.to_owned(), user_id.to_owned()))
            .is_some()
    }

    /// Removes and returns every indication past its expiry.
    fn expire(&self, now: Instant) -> Vec<(String, String)> {
        let mut active = self
            .active
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let expired: Vec<(String, String)> = active
            .iter()
            .filter(|(_, typing)| typing.expires <= now)
            .map(|(key, _)| key.clone())
            .collect();
        for key in &expired {
            active.remove(key);
        }
        expired
    }
}

impl Core {
    /// `active: true` starts or renews, `false` ends an indication.
    pub async fn typing(&self, caller: &Caller, chat_id: &str, active: bool) -> CoreResult<()> {
        self.role_in(chat_id, &caller.user_id).await?;
        let announce = if active {
            self.typing.start(chat_id, &caller.user_id, Instant::now())
        } else {
            self.typing.stop(chat_id, &caller.user_id)
        };
        if announce {
            self.announce_typing(chat_id, &caller.user_id, active);
        }
        Ok(())
    }

    /// A message from someone ends their typing in that chat.
    pub(crate) fn typing_ended_by_message(&self, chat_id: &str, user_id: &str) {
        if self.typing.stop(chat_id, user_id) {
            self.announce_typing(chat_id, user_id, false);
        }
    }

    /// Ends every indication that was not renewed in time.
    pub fn expire_typing(&self) {
        for (chat_id, user_id) in self.typing.expire(Instant::now()) {
            self.announce_typing(&chat_id, &user_id, false);
        }
    }

    fn announce_typing(&self, chat_id: &str, user_id: &str, active: bool) {
        self.bus.publish(Envelope::to_chat(
            chat_id,
            &ServerEvent::Typing {
                chat_id: chat_id.to_owned(),
                user_id: user_id.to_owned(),
                active,
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewals_are_announced_at_most_every_half_ttl_and_expire() {
        let tracker = TypingTracker::new(Duration::from_secs(6));
        let start = Instant::now();
        assert!(tracker.start("c", "u", start));
        assert!(!tracker.start("c", "u", start + Duration::from_secs(1)));
        assert!(tracker.start("c", "u", start + Duration::from_secs(4)));
        assert!(tracker.expire(start + Duration::from_secs(9)).is_empty());
        let expired = tracker.expire(start + Duration::from_secs(11));
        assert_eq!(expired, vec![("c".to_owned(), "u".to_owned())]);
        assert!(!tracker.stop("c", "u"));
    }
}
