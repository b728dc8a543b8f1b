//! The contract every [`Bus`] and [`Presence`] implementation must keep,
//! as test functions: a backend's tests call each of them on a fresh
//! instance (the in-process ones do so below; the NATS bus runs the
//! same functions against a real `nats-server`). Each function panics on
//! a breach. Waits are bounded: an envelope that does not arrive within
//! [`PATIENCE`] fails the test instead of hanging it.

use crate::{Bus, Envelope, Feed, Meta, Presence, Received, Subject};
use bytes::Bytes;
use natter_proto::users::PresenceStatus;
use std::time::Duration;

/// How long an expected envelope may take (generous: shared machines).
pub const PATIENCE: Duration = Duration::from_secs(10);
/// How long an envelope that must not arrive is waited for.
pub const SILENCE: Duration = Duration::from_millis(300);

fn envelope(subject: Subject, text: &str) -> Envelope {
    Envelope {
        subject,
        meta: Meta::Other,
        frame: Bytes::from(format!("{{\"type\":\"pong\",\"n\":\"{text}\"}}")),
    }
}

async fn next(feed: &mut dyn Feed) -> Envelope {
    match tokio::time::timeout(PATIENCE, feed.recv()).await {
        Ok(Some(Received::Envelope(envelope))) => envelope,
        Ok(other) => panic!("expected an envelope, got {other:?}"),
        Err(_) => panic!("no envelope within {PATIENCE:?}"),
    }
}

async fn nothing(feed: &mut dyn Feed) {
    if let Ok(received) = tokio::time::timeout(SILENCE, feed.recv()).await {
        panic!("expected nothing, got {received:?}");
    }
}

/// Envelopes reach the feed only for subjects with interest, from the
/// moment the interest is confirmed, with their frame and meta intact.
pub async fn envelopes_reach_the_feed_only_for_subjects_of_interest(bus: &dyn Bus) {
    let mut feed = bus.feed();
    let chat = Subject::Chat("c1".into());
    let other = Subject::Chat("c2".into());
    bus.publish(envelope(chat.clone(), "before"));
    bus.interest(&chat, true).await;
    bus.publish(envelope(other.clone(), "elsewhere"));
    let sent = Envelope {
        meta: Meta::MessageNew { seq: 7 },
        ..envelope(chat.clone(), "after")
    };
    bus.publish(sent.clone());
    assert_eq!(next(feed.as_mut()).await, sent);
    nothing(feed.as_mut()).await;
}

/// Chat and user subjects with the same id are different subjects.
pub async fn chat_and_user_subjects_are_apart(bus: &dyn Bus) {
    let mut feed = bus.feed();
    bus.interest(&Subject::User("x".into()), true).await;
    bus.publish(envelope(Subject::Chat("x".into()), "chat"));
    let to_user = envelope(Subject::User("x".into()), "user");
    bus.publish(to_user.clone());
    assert_eq!(next(feed.as_mut()).await, to_user);
}

/// After interest is turned off, envelopes of the subject stop; turning
/// it on twice and off once ends it (interest is on or off, not counted).
pub async fn interest_turned_off_stops_the_envelopes(bus: &dyn Bus) {
    let mut feed = bus.feed();
    let chat = Subject::Chat("c1".into());
    bus.interest(&chat, true).await;
    bus.interest(&chat, true).await;
    bus.publish(envelope(chat.clone(), "one"));
    assert_eq!(next(feed.as_mut()).await.subject, chat);
    bus.interest(&chat, false).await;
    bus.publish(envelope(chat.clone(), "two"));
    nothing(feed.as_mut()).await;
}

/// Envelopes from one publisher arrive in the order published.
pub async fn envelopes_of_one_publisher_keep_their_order(bus: &dyn Bus) {
    let mut feed = bus.feed();
    let chat = Subject::Chat("c1".into());
    let user = Subject::User("u1".into());
    bus.interest(&chat, true).await;
    bus.interest(&user, true).await;
    let sent: Vec<Envelope> = (0..200)
        .map(|i| {
            let subject = if i % 3 == 0 { &user } else { &chat };
            envelope(subject.clone(), &i.to_string())
        })
        .collect();
    for envelope in &sent {
        bus.publish(envelope.clone());
    }
    for expected in &sent {
        assert_eq!(&next(feed.as_mut()).await, expected);
    }
}

/// Presence: online while a connection is open and not away, away when
/// all open ones are, offline when none is; changes are reported with the
/// status before and after; lookups answer many users in order.
pub async fn presence_follows_the_connections(presence: &dyn Presence) {
    use PresenceStatus::{Away, Offline, Online};
    let change = presence.connected("ann").await;
    assert_eq!((change.before, change.after), (Offline, Online));
    assert!(!presence.connected("ann").await.changed(), "second device");
    assert!(
        !presence.set_away("ann", true).await.changed(),
        "one still online"
    );
    let change = presence.set_away("ann", true).await;
    assert_eq!((change.before, change.after), (Online, Away));
    let users = ["bob".to_owned(), "ann".to_owned(), "cat".to_owned()];
    assert_eq!(presence.statuses(&users).await, [Offline, Away, Offline]);
    assert!(!presence.disconnected("ann", true).await.changed());
    let change = presence.disconnected("ann", true).await;
    assert_eq!((change.before, change.after), (Away, Offline));
    assert_eq!(presence.statuses(&users).await, [Offline; 3]);
    assert!(
        !presence.disconnected("ann", false).await.changed(),
        "closing more than was opened changes nothing"
    );
    presence.connected("bob").await;
    assert_eq!(presence.statuses(&users).await, [Online, Offline, Offline]);
}

/// Presence: the receiver of departures is handed out at most once (a
/// second reader would split the changes between two announcers).
pub fn departures_are_handed_out_once(presence: &dyn Presence) {
    let _first = presence.departures();
    assert!(
        presence.departures().is_none(),
        "departures handed out twice"
    );
}
