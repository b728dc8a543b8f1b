use super::*;
use PresenceStatus::{Away, Offline, Online};

const GRACE: Duration = Duration::from_secs(5);

fn part(round: u64, part: u32, parts: u32, users: &[(&str, PresenceStatus)]) -> SnapshotPart {
    SnapshotPart {
        round,
        part,
        parts,
        users: users
            .iter()
            .map(|(user_id, status)| (user_id.to_string(), *status))
            .collect(),
    }
}

fn change(before: PresenceStatus, after: PresenceStatus) -> PresenceChange {
    PresenceChange { before, after }
}

#[test]
fn local_connections_are_counted_as_one_process_does() {
    let mut view = PresenceView::default();
    let first = view.connected("ann");
    assert_eq!(first.cluster, change(Offline, Online));
    assert_eq!(first.node_status, Some(Online));
    let second = view.connected("ann");
    assert_eq!(second.cluster, change(Online, Online));
    assert_eq!(second.node_status, None, "nothing to replicate");
    view.set_away("ann", true);
    assert_eq!(view.set_away("ann", true).node_status, Some(Away));
    assert_eq!(view.disconnected("ann", true).node_status, None);
    let last = view.disconnected("ann", true);
    assert_eq!(last.cluster, change(Away, Offline));
    assert_eq!(last.node_status, Some(Offline));
    assert!(view.local_statuses().is_empty());
}

#[test]
fn a_user_online_elsewhere_does_not_go_offline_here() {
    let mut view = PresenceView::default();
    view.remote_change("b", "ann", Online);
    let opened = view.connected("ann");
    assert_eq!(opened.cluster, change(Online, Online));
    assert_eq!(opened.node_status, Some(Online), "still replicated");
    let closed = view.disconnected("ann", false);
    assert_eq!(closed.cluster, change(Online, Online));
    assert_eq!(closed.node_status, Some(Offline));
    view.remote_change("b", "ann", Away);
    assert_eq!(view.status("ann"), Away);
    view.remote_change("b", "ann", Offline);
    assert_eq!(view.status("ann"), Offline);
}

#[test]
fn the_best_status_of_all_nodes_wins() {
    let mut view = PresenceView::default();
    view.remote_change("b", "ann", Away);
    view.remote_change("c", "ann", Online);
    assert_eq!(view.status("ann"), Online);
    view.connected("bob");
    view.set_away("bob", true);
    view.remote_change("b", "bob", Online);
    assert_eq!(view.status("bob"), Online);
    assert_eq!(view.status("cat"), Offline);
}

#[test]
fn a_complete_snapshot_replaces_a_node_s_entries() {
    let mut view = PresenceView::default();
    view.remote_change("b", "stale", Online);
    view.snapshot_part("b", part(1, 0, 2, &[("ann", Online)]));
    assert_eq!(
        view.status("stale"),
        Online,
        "not replaced before the last part"
    );
    view.snapshot_part("b", part(1, 1, 2, &[("bob", Away)]));
    assert_eq!(view.status("stale"), Offline);
    assert_eq!(view.status("ann"), Online);
    assert_eq!(view.status("bob"), Away);
    view.snapshot_part("b", part(2, 0, 1, &[]));
    assert_eq!(view.status("ann"), Offline, "an empty node");
}

#[test]
fn an_incomplete_snapshot_changes_nothing() {
    let mut view = PresenceView::default();
    view.remote_change("b", "ann", Online);
    view.snapshot_part("b", part(1, 0, 3, &[("bob", Online)]));
    view.snapshot_part("b", part(1, 2, 3, &[("cat", Online)]));
    assert_eq!(view.status("ann"), Online);
    assert_eq!(view.status("cat"), Offline);
    view.snapshot_part("b", part(2, 0, 2, &[("bob", Online)]));
    view.remote_change("b", "dan", Online);
    view.snapshot_part("b", part(2, 1, 2, &[("cat", Online)]));
    assert_eq!(view.status("ann"), Online, "interrupted by a change");
    assert_eq!(view.status("cat"), Offline);
}

#[test]
fn a_lost_node_s_users_count_for_the_grace_then_depart() {
    let start = Instant::now();
    let mut view = PresenceView::default();
    view.remote_change("b", "ann", Online);
    view.remote_change("b", "bob", Online);
    view.remote_change("b", "cat", Online);
    view.remote_change("c", "bob", Away);
    view.connected("cat");
    view.follow_liveness(|node_id| node_id != "b", start);
    assert!(view.expire(start + GRACE / 2, GRACE).is_empty());
    assert_eq!(view.status("ann"), Online, "within the grace");
    let mut departures = view.expire(start + GRACE, GRACE);
    departures.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        departures,
        [
            ("ann".to_owned(), change(Online, Offline)),
            ("bob".to_owned(), change(Online, Away)),
        ]
    );
    assert_eq!(view.status("cat"), Online, "still here");
    assert!(view.expire(start + 2 * GRACE, GRACE).is_empty(), "once");
}

#[test]
fn a_node_found_again_within_the_grace_keeps_its_users() {
    let start = Instant::now();
    let mut view = PresenceView::default();
    view.remote_change("b", "ann", Online);
    view.follow_liveness(|_| false, start);
    view.follow_liveness(|_| true, start + GRACE / 2);
    assert!(view.expire(start + 2 * GRACE, GRACE).is_empty());
    assert_eq!(view.status("ann"), Online);
}

#[test]
fn a_node_back_after_it_expired_returns_its_users_once() {
    let start = Instant::now();
    let mut view = PresenceView::default();
    view.snapshot_part("b", part(1, 0, 1, &[("ann", Online), ("bob", Away)]));
    view.remote_change("c", "bob", Away);
    view.follow_liveness(|node_id| node_id != "b", start);
    assert_eq!(
        view.expire(start + GRACE, GRACE),
        [("ann".to_owned(), change(Online, Offline))],
        "bob is away on C"
    );

    let mut returns = view.snapshot_part("b", part(7, 0, 1, &[("ann", Online), ("bob", Away)]));
    returns.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        returns,
        [("ann".to_owned(), change(Offline, Online))],
        "bob was away on C all along"
    );
    assert_eq!(view.status("ann"), Online);
    assert!(
        view.snapshot_part("b", part(8, 0, 1, &[("ann", Online)]))
            .is_empty(),
        "back for good after one full snapshot"
    );
}

#[test]
fn a_returning_node_s_changes_count_until_its_snapshot_is_complete() {
    let start = Instant::now();
    let mut view = PresenceView::default();
    view.remote_change("b", "ann", Online);
    view.follow_liveness(|_| false, start);
    view.expire(start + GRACE, GRACE);

    assert_eq!(
        view.remote_change("b", "cat", Away),
        Some(("cat".to_owned(), change(Offline, Away)))
    );
    assert!(
        view.snapshot_part("b", part(3, 0, 2, &[("ann", Online)]))
            .is_empty(),
        "not before the last part"
    );
    let mut returns = view.snapshot_part("b", part(3, 1, 2, &[("dan", Online)]));
    returns.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        returns,
        [
            ("ann".to_owned(), change(Offline, Online)),
            ("cat".to_owned(), change(Away, Offline)),
            ("dan".to_owned(), change(Offline, Online)),
        ]
    );
    assert_eq!(view.remote_change("b", "eve", Online), None);
}

#[test]
fn a_node_never_expired_here_is_new_not_returning() {
    let mut view = PresenceView::default();
    assert!(
        view.snapshot_part("b", part(1, 0, 1, &[("ann", Online)]))
            .is_empty()
    );
    assert_eq!(view.remote_change("c", "bob", Online), None);
    assert_eq!(view.status("ann"), Online);
}
