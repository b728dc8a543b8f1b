//! The table of live peers, as pure logic over instants: who was heard
//! when, who has been silent too long, whether this node has listened
//! long enough to know everyone. The liveness task feeds it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What a peer says in each heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Beat {
    /// How often it beats (its silence is judged by its own interval).
    pub interval: Duration,
    /// Its publications that may have been lost so far (cumulative).
    pub lost_publications: u64,
}

/// What hearing a peer changed.
#[derive(Debug, PartialEq, Eq)]
pub struct Heard {
    /// The peer was not alive here before.
    pub joined: bool,
    /// How many more publications it lost since its last heartbeat.
    pub newly_lost: u64,
}

struct Peer {
    last_heard: Instant,
    beat: Beat,
}

pub struct PeerTable {
    peers: HashMap<String, Peer>,
    /// Since when this node is connected to NATS (none while it is not).
    connected_since: Option<Instant>,
}

impl PeerTable {
    pub fn new(connected_since: Instant) -> Self {
        PeerTable {
            peers: HashMap::new(),
            connected_since: Some(connected_since),
        }
    }

    pub fn heard(&mut self, node_id: &str, beat: Beat, now: Instant) -> Heard {
        match self.peers.get_mut(node_id) {
            Some(peer) => {
                let newly_lost = beat
                    .lost_publications
                    .saturating_sub(peer.beat.lost_publications);
                *peer = Peer {
                    last_heard: now,
                    beat,
                };
                Heard {
                    joined: false,
                    newly_lost,
                }
            }
            None => {
                let peer = Peer {
                    last_heard: now,
                    beat,
                };
                self.peers.insert(node_id.to_owned(), peer);
                Heard {
                    joined: true,
                    newly_lost: 0,
                }
            }
        }
    }

    /// A peer said goodbye, with its final count of lost publications;
    /// if it was alive, how many more it lost since its last heartbeat.
    pub fn left(&mut self, node_id: &str, lost_publications: u64) -> Option<u64> {
        let peer = self.peers.remove(node_id)?;
        Some(lost_publications.saturating_sub(peer.beat.lost_publications))
    }

    /// Removes and returns the peers silent for longer than
    /// `silence_allowed(their interval)`. Nobody is judged while this
    /// node itself is cut off: their silence is ours.
    pub fn expire(
        &mut self,
        now: Instant,
        silence_allowed: impl Fn(Duration) -> Duration,
    ) -> Vec<String> {
        if self.connected_since.is_none() {
            return Vec::new();
        }
        let dead: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, peer)| {
                now.duration_since(peer.last_heard) > silence_allowed(peer.beat.interval)
            })
            .map(|(node_id, _)| node_id.clone())
            .collect();
        for node_id in &dead {
            self.peers.remove(node_id);
        }
        dead
    }

    pub fn disconnected(&mut self) {
        self.connected_since = None;
    }

    /// Back on NATS: every peer gets a fresh window to be heard again.
    pub fn connected(&mut self, now: Instant) {
        self.connected_since = Some(now);
        for peer in self.peers.values_mut() {
            peer.last_heard = now;
        }
    }

    pub fn is_connected(&self) -> bool {
        self.connected_since.is_some()
    }

    pub fn connected_since(&self) -> Option<Instant> {
        self.connected_since
    }

    /// True once this node has been connected for `window`: long enough
    /// to have heard every live peer (so it may act as if it knew them
    /// all).
    pub fn knows_everyone(&self, now: Instant, window: Duration) -> bool {
        self.connected_since
            .is_some_and(|since| now.duration_since(since) >= window)
    }

    pub fn is_alive(&self, node_id: &str) -> bool {
        self.peers.contains_key(node_id)
    }

    pub fn alive(&self) -> Vec<String> {
        self.peers.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn beat(lost_publications: u64) -> Beat {
        Beat {
            interval: SECOND,
            lost_publications,
        }
    }

    fn three_beats(interval: Duration) -> Duration {
        interval * 3
    }

    #[test]
    fn a_peer_is_alive_until_silent_for_three_of_its_intervals() {
        let start = Instant::now();
        let mut table = PeerTable::new(start);
        assert!(table.heard("b", beat(0), start).joined);
        assert!(!table.heard("b", beat(0), start + SECOND).joined);
        assert!(table.expire(start + 4 * SECOND, three_beats).is_empty());
        assert_eq!(table.expire(start + 5 * SECOND, three_beats), ["b"]);
        assert!(!table.is_alive("b"));
        assert!(
            table.heard("b", beat(0), start + 6 * SECOND).joined,
            "back again"
        );
    }

    #[test]
    fn nobody_dies_while_this_node_is_cut_off() {
        let start = Instant::now();
        let mut table = PeerTable::new(start);
        table.heard("b", beat(0), start);
        table.disconnected();
        assert!(table.expire(start + 60 * SECOND, three_beats).is_empty());
        table.connected(start + 60 * SECOND);
        assert!(table.expire(start + 62 * SECOND, three_beats).is_empty());
        assert_eq!(table.expire(start + 64 * SECOND, three_beats), ["b"]);
    }

    #[test]
    fn a_goodbye_ends_a_peer_at_once() {
        let start = Instant::now();
        let mut table = PeerTable::new(start);
        table.heard("b", beat(0), start);
        assert_eq!(table.left("b", 0), Some(0));
        assert_eq!(table.left("b", 0), None);
        assert!(table.alive().is_empty());
    }

    #[test]
    fn a_goodbye_tells_what_the_peer_lost_since_its_last_beat() {
        let start = Instant::now();
        let mut table = PeerTable::new(start);
        table.heard("b", beat(5), start);
        assert_eq!(table.left("b", 8), Some(3));
    }

    #[test]
    fn a_peer_s_growing_losses_are_noticed() {
        let start = Instant::now();
        let mut table = PeerTable::new(start);
        assert_eq!(table.heard("b", beat(5), start).newly_lost, 0, "history");
        assert_eq!(table.heard("b", beat(5), start).newly_lost, 0);
        assert_eq!(table.heard("b", beat(7), start).newly_lost, 2);
    }

    #[test]
    fn everyone_is_known_after_a_full_window_connected() {
        let start = Instant::now();
        let mut table = PeerTable::new(start);
        assert!(!table.knows_everyone(start + SECOND, 3 * SECOND));
        assert!(table.knows_everyone(start + 3 * SECOND, 3 * SECOND));
        table.disconnected();
        assert!(!table.knows_everyone(start + 9 * SECOND, 3 * SECOND));
        table.connected(start + 9 * SECOND);
        assert!(!table.knows_everyone(start + 10 * SECOND, 3 * SECOND));
    }
}
