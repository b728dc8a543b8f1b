//! Devices exchanging through an in-memory Delivery Service that orders
//! Commits one per epoch, as the server does: no network, no server.

use super::*;
use tempfile::TempDir;

const CHAT: &str = "chat-1";

/// The server's part, reduced to its ordering duty.
#[derive(Default)]
struct Ds {
    log: Vec<String>,
    epoch: u64,
}

impl Ds {
    /// Appends a Commit if it is for the current epoch (else "409").
    fn commit(&mut self, bundle: &CommitBundle) -> Result<i64, u64> {
        if bundle.epoch != self.epoch {
            return Err(self.epoch);
        }
        self.epoch += 1;
        Ok(self.send(&bundle.commit))
    }

    fn send(&mut self, content: &str) -> i64 {
        self.log.push(content.to_owned());
        self.log.len() as i64
    }

    /// Everything `device` has not processed yet, in seq order.
    fn sync(&self, device: &mut Device) -> Vec<Incoming> {
        let from = device.cursor(CHAT).map_or(0, |cursor| cursor.last_seq);
        (from + 1..=self.log.len() as i64)
            .map(|seq| {
                device
                    .process(CHAT, seq, &self.log[seq as usize - 1])
                    .unwrap()
            })
            .collect()
    }

    /// The texts `device` decrypted in a sync.
    fn texts(&self, device: &mut Device) -> Vec<String> {
        texts(self.sync(device))
    }
}

fn texts(incoming: Vec<Incoming>) -> Vec<String> {
    incoming
        .into_iter()
        .filter_map(|incoming| match incoming {
            Incoming::Message { plaintext, .. } => Some(String::from_utf8(plaintext).unwrap()),
            _ => None,
        })
        .collect()
}

fn device(dir: &TempDir, user: &str, device: &str) -> Device {
    Device::create(&dir.path().join(device), user, device).unwrap()
}

/// Alice's group with bob's two devices in it, after the first Commit.
fn alice_and_bob(dir: &TempDir, ds: &mut Ds) -> (Device, Device, Device) {
    let mut alice = device(dir, "alice", "a1");
    let mut bob1 = device(dir, "bob", "b1");
    let mut bob2 = device(dir, "bob", "b2");
    let packages = vec![
        bob1.key_packages(1).unwrap().remove(0),
        bob2.key_packages(1).unwrap().remove(0),
    ];
    alice.create_group(CHAT).unwrap();
    let bundle = alice.add_devices(CHAT, &packages).unwrap();
    assert_eq!(bundle.epoch, 0);
    assert!(bundle.group_info.is_some(), "GroupInfo for external joins");
    ds.commit(&bundle).unwrap();
    alice.commit_accepted(CHAT).unwrap();
    let welcome = bundle.welcome.unwrap();
    for bob in [&mut bob1, &mut bob2] {
        let joined = bob.join_welcome(CHAT, &welcome).unwrap();
        assert_eq!(joined.chat_id, CHAT);
        assert_eq!(joined.epoch, 1);
    }
    (alice, bob1, bob2)
}

#[test]
fn three_devices_exchange_messages_and_skip_their_own() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, mut bob1, mut bob2) = alice_and_bob(&dir, &mut ds);
    assert_eq!(
        alice.members(CHAT),
        vec![
            ("alice".to_owned(), "a1".to_owned()),
            ("bob".to_owned(), "b1".to_owned()),
            ("bob".to_owned(), "b2".to_owned())
        ]
    );

    let hello = alice.encrypt(CHAT, b"hello bob").unwrap();
    ds.send(&hello);
    let reply = bob1.encrypt(CHAT, b"hi alice").unwrap();
    ds.send(&reply);

    assert_eq!(
        ds.sync(&mut alice),
        vec![
            Incoming::Own,
            Incoming::Own,
            Incoming::Message {
                user_id: "bob".into(),
                device_id: "b1".into(),
                plaintext: b"hi alice".to_vec()
            }
        ]
    );
    assert_eq!(
        ds.sync(&mut bob1),
        vec![
            Incoming::BeforeJoin,
            Incoming::Message {
                user_id: "alice".into(),
                device_id: "a1".into(),
                plaintext: b"hello bob".to_vec()
            },
            Incoming::Own
        ]
    );
    assert_eq!(ds.texts(&mut bob2), vec!["hello bob", "hi alice"]);
    assert_eq!(
        bob2.process(CHAT, 2, &hello).unwrap(),
        Incoming::AlreadyProcessed
    );
}

#[test]
fn a_device_restarted_from_its_directory_goes_on_reading_and_writing() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, bob1, mut bob2) = alice_and_bob(&dir, &mut ds);
    ds.send(&alice.encrypt(CHAT, b"before restart").unwrap());
    let bob1_dir = bob1.dir().to_owned();
    assert!(
        matches!(Device::open(&bob1_dir), Err(MlsError::State(_))),
        "one process per directory"
    );
    drop(bob1);

    let mut bob1 = Device::open(&bob1_dir).unwrap();
    assert_eq!(bob1.identity(), "bob:b1");
    assert_eq!(bob1.epoch(CHAT), Some(1));
    assert_eq!(ds.texts(&mut bob1), vec!["before restart"]);
    drop(bob1);

    let mut bob1 = Device::open_or_create(&bob1_dir, "bob", "b1").unwrap();
    ds.send(&alice.encrypt(CHAT, b"after restart").unwrap());
    assert_eq!(ds.texts(&mut bob1), vec!["after restart"]);
    ds.send(&bob1.encrypt(CHAT, b"from the restarted device").unwrap());
    assert_eq!(ds.texts(&mut alice), vec!["from the restarted device"]);
    assert_eq!(
        ds.texts(&mut bob2),
        vec![
            "before restart",
            "after restart",
            "from the restarted device"
        ]
    );
    assert!(Device::open_or_create(&bob1_dir, "bob", "other").is_err());
}

#[test]
fn a_removed_device_reads_nothing_sent_after_its_removal() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, mut bob1, mut bob2) = alice_and_bob(&dir, &mut ds);
    ds.send(&alice.encrypt(CHAT, b"for all three").unwrap());

    let bundle = alice
        .remove_devices(CHAT, |user, device| user == "bob" && device == "b2")
        .unwrap();
    ds.commit(&bundle).unwrap();
    alice.commit_accepted(CHAT).unwrap();
    ds.send(&alice.encrypt(CHAT, b"after the removal").unwrap());

    let seen = ds.sync(&mut bob2);
    assert_eq!(texts(seen.clone()), vec!["for all three"]);
    assert_eq!(seen[2], Incoming::Removed);
    assert!(matches!(seen[3], Incoming::Unreadable { .. }));
    assert!(!bob2.is_member(CHAT));
    assert!(bob2.encrypt(CHAT, b"still here?").is_err());

    assert_eq!(
        ds.texts(&mut bob1),
        vec!["for all three", "after the removal"]
    );
    assert_eq!(alice.members(CHAT).len(), 2);
}

#[test]
fn a_device_added_later_reads_what_follows_and_nothing_before() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, mut bob1, _bob2) = alice_and_bob(&dir, &mut ds);
    ds.send(&alice.encrypt(CHAT, b"before carol").unwrap());
    ds.texts(&mut bob1);

    let mut carol = device(&dir, "carol", "c1");
    let package = carol.key_packages(1).unwrap().remove(0);
    // Bob adds her: any member may commit.
    let bundle = bob1.add_devices(CHAT, &[package]).unwrap();
    ds.commit(&bundle).unwrap();
    bob1.commit_accepted(CHAT).unwrap();
    assert_eq!(
        carol
            .join_welcome(CHAT, &bundle.welcome.unwrap())
            .unwrap()
            .epoch,
        2
    );
    ds.send(
        &alice
            .encrypt(CHAT, b"stale epoch, sent before alice saw the add")
            .unwrap(),
    );
    assert_eq!(ds.sync(&mut alice).last(), Some(&Incoming::Own));
    ds.send(&alice.encrypt(CHAT, b"welcome carol").unwrap());

    let seen = ds.sync(&mut carol);
    assert_eq!(texts(seen.clone()), vec!["welcome carol"]);
    assert_eq!(
        seen.iter()
            .filter(|incoming| **incoming == Incoming::BeforeJoin)
            .count(),
        4,
        "the first Commit, two messages and the Commit adding her"
    );
    assert_eq!(
        ds.texts(&mut bob1),
        vec![
            "stale epoch, sent before alice saw the add",
            "welcome carol"
        ]
    );
}

#[test]
fn the_loser_of_a_commit_race_processes_the_winner_and_commits_again() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, mut bob1, mut bob2) = alice_and_bob(&dir, &mut ds);
    let mut carol = device(&dir, "carol", "c1");
    let mut dave = device(&dir, "dave", "d1");

    let alices = alice
        .add_devices(CHAT, &carol.key_packages(1).unwrap())
        .unwrap();
    let bobs = bob1
        .add_devices(CHAT, &dave.key_packages(1).unwrap())
        .unwrap();
    ds.commit(&alices).unwrap();
    alice.commit_accepted(CHAT).unwrap();
    assert_eq!(ds.commit(&bobs), Err(2));
    bob1.commit_refused(CHAT).unwrap();
    // No Commit is pending any more: bob may write (still in epoch 1).
    ds.send(&bob1.encrypt(CHAT, b"x").unwrap());

    ds.sync(&mut bob1);
    assert_eq!(bob1.epoch(CHAT), Some(2));
    let retry = bob1
        .add_devices(CHAT, &dave.key_packages(1).unwrap())
        .unwrap();
    ds.commit(&retry).unwrap();
    bob1.commit_accepted(CHAT).unwrap();
    carol.join_welcome(CHAT, &alices.welcome.unwrap()).unwrap();
    dave.join_welcome(CHAT, &retry.welcome.unwrap()).unwrap();

    ds.send(&dave.encrypt(CHAT, b"dave is in").unwrap());
    for device in [&mut alice, &mut bob2, &mut carol] {
        assert_eq!(
            ds.texts(device),
            vec!["x", "dave is in"][device_skip(device)..]
        );
    }
    assert_eq!(ds.texts(&mut bob1), vec!["dave is in"]);
    assert_eq!(ds.texts(&mut dave), Vec::<String>::new(), "his own");
}

/// Carol joined after bob's "x" (epoch 1 message sent after her add was
/// accepted but before bob processed it): she cannot read it.
fn device_skip(device: &Device) -> usize {
    usize::from(device.user_id() == "carol")
}

#[test]
fn a_new_device_joins_by_external_commit_from_the_group_info() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, mut bob1, _bob2) = alice_and_bob(&dir, &mut ds);
    let group_info = alice.group_info(CHAT).unwrap();

    let mut alice2 = device(&dir, "alice", "a2");
    let bundle = alice2.join_external(CHAT, &group_info).unwrap();
    ds.commit(&bundle).unwrap();
    alice2.commit_accepted(CHAT).unwrap();
    assert_eq!(alice2.epoch(CHAT), Some(2));

    assert_eq!(
        ds.sync(&mut alice).last(),
        Some(&Incoming::Commit { epoch: 2 })
    );
    ds.send(&alice.encrypt(CHAT, b"to my new device too").unwrap());
    assert_eq!(ds.texts(&mut alice2), vec!["to my new device too"]);
    ds.send(&alice2.encrypt(CHAT, b"from the new device").unwrap());
    assert_eq!(
        ds.texts(&mut bob1),
        vec!["to my new device too", "from the new device"]
    );
    assert_eq!(alice.members(CHAT).len(), 4);
}

#[test]
fn a_refused_external_join_leaves_no_group_behind() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (alice, _bob1, _bob2) = alice_and_bob(&dir, &mut ds);
    let mut alice2 = device(&dir, "alice", "a2");
    let stale = alice.group_info(CHAT).unwrap();
    ds.epoch += 1; // someone else committed meanwhile
    let bundle = alice2.join_external(CHAT, &stale).unwrap();
    assert!(ds.commit(&bundle).is_err());
    alice2.commit_refused(CHAT).unwrap();
    assert_eq!(alice2.epoch(CHAT), None);
    assert!(alice2.cursor(CHAT).is_none());
}

#[test]
fn a_last_resort_key_package_serves_two_welcomes() {
    let dir = TempDir::new().unwrap();
    let mut alice = device(&dir, "alice", "a1");
    let mut bob = device(&dir, "bob", "b1");
    let last_resort = bob.last_resort_key_package().unwrap();
    for chat in ["chat-x", "chat-y"] {
        alice.create_group(chat).unwrap();
        let bundle = alice
            .add_devices(chat, std::slice::from_ref(&last_resort))
            .unwrap();
        alice.commit_accepted(chat).unwrap();
        assert_eq!(
            bob.join_welcome(chat, &bundle.welcome.unwrap())
                .unwrap()
                .chat_id,
            chat
        );
    }
}

#[test]
fn key_packages_are_refused_when_forged_or_already_in_the_group() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, mut bob1, _bob2) = alice_and_bob(&dir, &mut ds);
    let again = bob1.key_packages(1).unwrap();
    assert!(matches!(
        alice.add_devices(CHAT, &again),
        Err(MlsError::Refused(_))
    ));
    // One bit of the signature flipped.
    let mut bytes = codec::unb64(&again[0]).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let forged = codec::b64(&bytes);
    assert!(alice.add_devices(CHAT, &[forged]).is_err());
    assert!(alice.add_devices(CHAT, &["not base64!".into()]).is_err());
}

#[test]
fn garbage_in_the_stream_is_unreadable_and_passed() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, mut bob1, _bob2) = alice_and_bob(&dir, &mut ds);
    ds.send("AAAA");
    ds.send(&alice.group_info(CHAT).unwrap());
    ds.send(&alice.encrypt(CHAT, b"still fine").unwrap());
    let seen = ds.sync(&mut bob1);
    assert!(matches!(seen[1], Incoming::Unreadable { .. }));
    assert!(matches!(seen[2], Incoming::Unreadable { .. }));
    assert_eq!(texts(seen), vec!["still fine"]);
    assert!(matches!(
        bob1.process("other-chat", 1, "AAAA"),
        Err(MlsError::NoGroup(_))
    ));
}

#[test]
fn a_welcome_never_replaces_a_group_it_was_not_delivered_for() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, mut bob1, _bob2) = alice_and_bob(&dir, &mut ds);
    // Mallory makes a group of her own under the id of alice's chat, adds
    // bob's device to it, and sends the Welcome through a chat she is in.
    let mut mallory = device(&dir, "mallory", "m1");
    let last_resort = bob1.last_resort_key_package().unwrap();
    mallory.create_group(CHAT).unwrap();
    let forged = mallory
        .add_devices(CHAT, std::slice::from_ref(&last_resort))
        .unwrap();
    mallory.commit_accepted(CHAT).unwrap();
    let forged = forged.welcome.unwrap();
    assert!(matches!(
        bob1.join_welcome("chat-of-mallory", &forged),
        Err(MlsError::Refused(_))
    ));
    // Routed as alice's chat, it is no later than the group bob has.
    assert!(matches!(
        bob1.join_welcome(CHAT, &forged),
        Err(MlsError::Refused(_))
    ));
    assert_eq!(bob1.members(CHAT).len(), 3, "alice's group is kept");
    ds.send(&alice.encrypt(CHAT, b"still alice's group").unwrap());
    assert_eq!(ds.texts(&mut bob1), ["still alice's group"]);
}

#[test]
fn a_claimed_key_package_is_usable_only_if_valid_and_of_its_device() {
    let dir = TempDir::new().unwrap();
    let alice = device(&dir, "alice", "a1");
    let mut bob = device(&dir, "bob", "b1");
    let package = bob.key_packages(1).unwrap().remove(0);
    let bob1 = ("bob".to_owned(), "b1".to_owned());
    assert!(alice.usable_key_package(&package, &bob1));
    assert!(!alice.usable_key_package(&package, &("bob".to_owned(), "b2".to_owned())));
    let mut damaged = codec::unb64(&package).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    let damaged = codec::b64(&damaged);
    assert!(!alice.usable_key_package(&damaged, &bob1));
}

#[test]
fn an_external_join_whose_answer_was_lost_is_settled_by_the_stream() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, _bob1, _bob2) = alice_and_bob(&dir, &mut ds);
    let mut alice2 = device(&dir, "alice", "a2");
    let bundle = alice2
        .join_external(CHAT, &alice.group_info(CHAT).unwrap())
        .unwrap();
    // The server took it, but its answer never arrived.
    ds.commit(&bundle).unwrap();
    ds.sync(&mut alice);
    ds.send(&alice.encrypt(CHAT, b"welcome, new device").unwrap());
    assert_eq!(ds.texts(&mut alice2), ["welcome, new device"]);
    assert_eq!(alice2.epoch(CHAT), Some(2));
    assert!(alice2.cursor(CHAT).unwrap().external_commit.is_none());
    ds.send(&alice2.encrypt(CHAT, b"no Commit pending").unwrap());
    assert_eq!(ds.texts(&mut alice), ["no Commit pending"]);
}

#[test]
fn an_external_join_that_lost_its_epoch_in_the_stream_is_dropped() {
    let dir = TempDir::new().unwrap();
    let mut ds = Ds::default();
    let (mut alice, _bob1, _bob2) = alice_and_bob(&dir, &mut ds);
    let mut alice2 = device(&dir, "alice", "a2");
    let bundle = alice2
        .join_external(CHAT, &alice.group_info(CHAT).unwrap())
        .unwrap();
    // Another Commit won the epoch; alice2 never heard the 409.
    let mut carol = device(&dir, "carol", "c1");
    let winner = alice
        .add_devices(CHAT, &carol.key_packages(1).unwrap())
        .unwrap();
    ds.commit(&winner).unwrap();
    alice.commit_accepted(CHAT).unwrap();
    assert!(ds.commit(&bundle).is_err());
    let seen = ds.sync(&mut alice2);
    assert!(
        matches!(seen.last(), Some(Incoming::Unreadable { .. })),
        "{seen:?} {:?}",
        alice2.epoch(CHAT)
    );
    assert!(alice2.cursor(CHAT).is_none(), "free to join again");
}
