//! Encrypted chats driven by the Rust client's MLS devices
//! (`natter_client::mls`) against the real server: what members read,
//! what devices added later or removed cannot read, a device restarted
//! from its saved state, and that the server never holds a plaintext (a
//! scan of its whole data directory and its log at debug level).

use crate::helpers::{PASSWORD, TestServer};
use crate::process::launch;
use natter_client::mls::{ChatEvent, EncryptedChats, Received};
use natter_client::ws::{RealtimeClient, RealtimeEvent, RealtimeOptions};
use natter_client::{Client, SearchQuery, Session};
use natter_proto::auth::RegisterRequest;
use natter_proto::chats::ChatType;
use std::path::Path;
use tempfile::TempDir;

/// A device of a user: its own login (session) and MLS state directory.
async fn register(server: &str, username: &str, state: &TempDir) -> (EncryptedChats, String) {
    let anonymous = Client::new(server);
    let auth = anonymous
        .register(&RegisterRequest {
            username: username.into(),
            password: PASSWORD.into(),
            display_name: None,
            device_name: None,
        })
        .await
        .expect("register");
    let user_id = auth.user.user_id.clone();
    (
        device(&anonymous.with_token(auth.access_token), state, username).await,
        user_id,
    )
}

/// Another device of `username`: a new login.
async fn login(server: &str, username: &str, state: &TempDir, name: &str) -> EncryptedChats {
    let auth = Client::new(server)
        .login(username, PASSWORD)
        .await
        .expect("login");
    device(
        &Client::new(server).with_token(auth.access_token),
        state,
        name,
    )
    .await
}

async fn device(client: &Client, state: &TempDir, name: &str) -> EncryptedChats {
    let mut chats = EncryptedChats::open(client.clone(), &state.path().join(name))
        .await
        .expect("the device opens");
    let count = chats.publish_key_packages().await.expect("KeyPackages up");
    assert!(count.count > 0 && count.last_resort, "{count:?}");
    chats
}

fn messages(events: &[ChatEvent]) -> Vec<&Received> {
    events
        .iter()
        .filter_map(|event| match event {
            ChatEvent::Message(message) => Some(message),
            _ => None,
        })
        .collect()
}

fn texts(events: &[ChatEvent]) -> Vec<String> {
    messages(events).iter().map(|m| m.text.clone()).collect()
}

async fn sync(device: &mut EncryptedChats) -> Vec<ChatEvent> {
    device.sync().await.expect("sync")
}

/// Every file under `dir` that contains one of `markers`, with the marker.
fn files_containing(dir: &Path, markers: &[String]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("a readable directory") {
                stack.push(entry.expect("an entry").path());
            }
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        for marker in markers {
            if bytes
                .windows(marker.len())
                .any(|window| window == marker.as_bytes())
            {
                found.push((path.display().to_string(), marker.clone()));
            }
        }
    }
    found
}

fn marker(index: usize) -> String {
    format!("plaintext-marker-{index:03}-qx7")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_encrypted_messages_leave_no_plaintext_with_the_server() {
    let temp = TempDir::new().unwrap();
    let data_dir = temp.path().join("data");
    let log = temp.path().join("natter.log");
    let mut server = launch(&data_dir, &log, &[("NATTER_LOG", "debug")]).await;
    let url = server.base_url().to_owned();
    let (mut alice, _) = register(&url, "alice", &temp).await;
    let (mut bob1, bob_id) = register(&url, "bob", &temp).await;
    let mut bob2 = login(&url, "bob", &temp, "bob2").await;

    let created = alice
        .create_chat(ChatType::Group, Some("secrets".into()), vec![bob_id])
        .await
        .expect("an encrypted group");
    assert!(created.without_devices.is_empty(), "{created:?}");
    let chat_id = created.chat.summary.chat_id.clone();
    assert!(created.chat.summary.e2ee);
    for bob in [&mut bob1, &mut bob2] {
        let events = sync(bob).await;
        assert!(
            events.contains(&ChatEvent::Joined {
                chat_id: chat_id.clone(),
                epoch: 1
            }),
            "{events:?}"
        );
    }

    let markers: Vec<String> = (0..100).map(marker).collect();
    for (index, text) in markers.iter().enumerate() {
        let sender = match index % 3 {
            0 => &mut alice,
            1 => &mut bob1,
            _ => &mut bob2,
        };
        sender
            .send(&chat_id, text)
            .await
            .expect("an encrypted send");
    }
    for (index, device) in [&mut alice, &mut bob1, &mut bob2].into_iter().enumerate() {
        let expected: Vec<String> = markers
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != index)
            .map(|(_, text)| text.clone())
            .collect();
        assert_eq!(texts(&sync(device).await), expected, "device {index}");
    }

    // What the searches send is the client's own choice to disclose: the
    // log is checked up to here.
    let log_before_searches = server.log().len();
    let bob_client = bob1.client().clone();
    // The positive control: a plain chat's text is found by both the
    // search and the scan, so that their finding nothing above means
    // something.
    let control = "zebracontrolword".to_owned();
    let plain = bob_client
        .create_chat(&natter_proto::chats::CreateChat {
            chat_type: ChatType::Group,
            name: Some("plain".into()),
            member_ids: vec![],
            e2ee: false,
        })
        .await
        .unwrap();
    bob_client
        .send(&natter_proto::messages::SendMessage {
            chat_id: plain.summary.chat_id.clone(),
            content: control.clone(),
            message_type: natter_proto::messages::MessageType::Text,
            client_msg_id: None,
            file_id: None,
            metadata: None,
            sender_id: None,
        })
        .await
        .unwrap();
    let found = bob_client
        .search(&SearchQuery::new(&control))
        .await
        .unwrap();
    assert!(!found.results.is_empty(), "the control is searchable");
    for query in ["plaintext", &markers[7], "qx7"] {
        let found = bob_client.search(&SearchQuery::new(query)).await.unwrap();
        assert!(found.results.is_empty(), "search {query}: {found:?}");
    }
    let running = files_containing(&data_dir, &markers);
    assert!(running.is_empty(), "while running: {running:?}");
    assert!(server.terminate(), "a graceful stop");
    let stopped = files_containing(&data_dir, &markers);
    assert!(
        stopped.is_empty(),
        "after the stop (WAL checkpointed): {stopped:?}"
    );
    assert!(
        !files_containing(&data_dir, std::slice::from_ref(&control)).is_empty(),
        "the scan finds the plain control"
    );
    assert!(
        server.log().contains("DEBUG"),
        "the log is at debug level, so the scan means something"
    );
    let written = server.log();
    let in_log: Vec<&String> = markers
        .iter()
        .filter(|marker| written[..log_before_searches].contains(marker.as_str()))
        .collect();
    assert!(in_log.is_empty(), "in the log: {in_log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_added_later_reads_what_follows_and_nothing_before() {
    let server = TestServer::spawn().await;
    let temp = TempDir::new().unwrap();
    let url = server.base_url();
    let (mut alice, _) = register(url, "alice", &temp).await;
    let (mut bob, bob_id) = register(url, "bob", &temp).await;
    let chat_id = alice
        .create_chat(ChatType::Group, Some("g".into()), vec![bob_id])
        .await
        .unwrap()
        .chat
        .summary
        .chat_id;
    alice.send(&chat_id, "before carol 1").await.unwrap();
    alice.send(&chat_id, "before carol 2").await.unwrap();

    let (mut carol, carol_id) = register(url, "carol", &temp).await;
    let missing = alice.add_members(&chat_id, &[carol_id]).await.unwrap();
    assert!(missing.is_empty());
    alice.send(&chat_id, "after carol").await.unwrap();
    bob.send(&chat_id, "bob after carol").await.unwrap();

    let events = sync(&mut carol).await;
    assert_eq!(texts(&events), vec!["after carol", "bob after carol"]);
    let unreadable = events
        .iter()
        .filter(|event| matches!(event, ChatEvent::Unreadable { .. }))
        .count();
    assert_eq!(unreadable, 2, "the two messages before her: {events:?}");
    assert_eq!(
        texts(&sync(&mut bob).await),
        vec!["before carol 1", "before carol 2", "after carol"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_device_reads_nothing_sent_after_its_removal() {
    let server = TestServer::spawn().await;
    let temp = TempDir::new().unwrap();
    let url = server.base_url();
    let (mut alice, _) = register(url, "alice", &temp).await;
    let (mut bob1, bob_id) = register(url, "bob", &temp).await;
    let mut bob2 = login(url, "bob", &temp, "bob2").await;
    let chat_id = alice
        .create_chat(ChatType::Direct, None, vec![bob_id])
        .await
        .unwrap()
        .chat
        .summary
        .chat_id;
    alice.send(&chat_id, "to both devices").await.unwrap();
    assert_eq!(texts(&sync(&mut bob2).await), vec!["to both devices"]);

    let lost = bob2.device().device_id().to_owned();
    let removed = alice
        .remove_devices(&chat_id, |_, device| device == lost)
        .await
        .unwrap();
    assert!(removed.is_some(), "a Commit was accepted");
    alice.send(&chat_id, "after the removal").await.unwrap();

    let events = bob2.sync_chat(&chat_id).await.unwrap();
    assert!(
        events.contains(&ChatEvent::Removed {
            chat_id: chat_id.clone()
        }),
        "{events:?}"
    );
    assert!(texts(&events).is_empty(), "{events:?}");
    assert!(bob2.send(&chat_id, "am I still here?").await.is_err());
    assert_eq!(
        texts(&sync(&mut bob1).await),
        vec!["to both devices", "after the removal"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_restarted_from_its_state_reads_new_messages_live() {
    let server = TestServer::spawn().await;
    let temp = TempDir::new().unwrap();
    let url = server.base_url();
    let (mut alice, _) = register(url, "alice", &temp).await;
    let auth = Client::new(url)
        .register(&RegisterRequest {
            username: "bob".into(),
            password: PASSWORD.into(),
            display_name: None,
            device_name: None,
        })
        .await
        .unwrap();
    let bob_id = auth.user.user_id.clone();
    let session = Session::from_auth(&Client::new(url), auth);
    let bob = device(session.client(), &temp, "bob").await;
    drop(bob);

    // Bob's device is not running: the Welcome waits for it.
    let chat_id = alice
        .create_chat(ChatType::Direct, None, vec![bob_id])
        .await
        .unwrap()
        .chat
        .summary
        .chat_id;
    alice.send(&chat_id, "while bob was away").await.unwrap();

    let mut bob = EncryptedChats::open(session.client().clone(), &temp.path().join("bob"))
        .await
        .expect("reopened from its directory");
    let mut realtime = RealtimeClient::connect(session, RealtimeOptions::default());
    let mut read = Vec::new();
    let mut sent_live = false;
    while read.len() < 2 {
        let event = realtime.next_event().await.expect("the socket runs");
        if let RealtimeEvent::Stopped { reason } = &event {
            panic!("stopped: {reason}");
        }
        let events = bob.handle(&event).await.expect("handled");
        read.extend(texts(&events));
        if matches!(event, RealtimeEvent::Connected { .. }) && !sent_live {
            sent_live = true;
            alice
                .send(&chat_id, "live after the restart")
                .await
                .unwrap();
        }
    }
    assert_eq!(read, vec!["while bob was away", "live after the restart"]);
    let session = realtime.handle().session().await.unwrap();
    realtime.shutdown().await;

    // Once more from disk, now that it holds the group.
    drop(bob);
    alice
        .send(&chat_id, "after the second restart")
        .await
        .unwrap();
    let mut bob = EncryptedChats::open(session.client().clone(), &temp.path().join("bob"))
        .await
        .unwrap();
    assert_eq!(
        texts(&bob.sync_chat(&chat_id).await.unwrap()),
        vec!["after the second restart"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_both_get_in_after_the_loser_catches_up() {
    let server = TestServer::spawn().await;
    let temp = TempDir::new().unwrap();
    let url = server.base_url();
    let (mut alice, _) = register(url, "alice", &temp).await;
    let (mut bob, bob_id) = register(url, "bob", &temp).await;
    let (mut carol, carol_id) = register(url, "carol", &temp).await;
    let (mut dave, dave_id) = register(url, "dave", &temp).await;
    let chat_id = alice
        .create_chat(ChatType::Group, Some("race".into()), vec![bob_id])
        .await
        .unwrap()
        .chat
        .summary
        .chat_id;
    sync(&mut bob).await;
    // Both on the server first (owners add members), then both Commits
    // at once: whichever loses the epoch (409) catches up and commits again.
    alice
        .client()
        .add_member(
            &chat_id,
            &natter_proto::chats::AddMember {
                user_id: dave_id.clone(),
                role: None,
            },
        )
        .await
        .unwrap();
    let (by_alice, by_bob) = tokio::join!(
        alice.add_members(&chat_id, std::slice::from_ref(&carol_id)),
        bob.add_devices_of(&chat_id, std::slice::from_ref(&dave_id)),
    );
    assert!(by_alice.unwrap().is_empty());
    assert!(by_bob.unwrap().is_empty());

    for device in [&mut carol, &mut dave] {
        sync(device).await;
    }
    alice.send(&chat_id, "all four of us").await.unwrap();
    for device in [&mut bob, &mut carol, &mut dave] {
        let events = sync(device).await;
        assert_eq!(
            texts(&events).last().map(String::as_str),
            Some("all four of us")
        );
    }
    assert_eq!(alice.device().members(&chat_id).len(), 4);
    assert_eq!(alice.device().epoch(&chat_id), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_device_joins_existing_chats_by_external_commit() {
    let server = TestServer::spawn().await;
    let temp = TempDir::new().unwrap();
    let url = server.base_url();
    let (mut alice, _) = register(url, "alice", &temp).await;
    let (mut bob, bob_id) = register(url, "bob", &temp).await;
    let chat_id = alice
        .create_chat(ChatType::Direct, None, vec![bob_id])
        .await
        .unwrap()
        .chat
        .summary
        .chat_id;
    alice.send(&chat_id, "before the new phone").await.unwrap();

    let mut phone = login(url, "bob", &temp, "bob-phone").await;
    assert_eq!(
        phone.join_missing_chats().await.unwrap(),
        vec![chat_id.clone()]
    );
    assert!(phone.join_missing_chats().await.unwrap().is_empty(), "once");
    alice.send(&chat_id, "after the new phone").await.unwrap();
    let events = sync(&mut phone).await;
    assert_eq!(texts(&events), vec!["after the new phone"]);
    assert_eq!(
        texts(&sync(&mut bob).await),
        vec!["before the new phone", "after the new phone"]
    );
    phone.send(&chat_id, "from the phone").await.unwrap();
    assert_eq!(texts(&sync(&mut alice).await), vec!["from the phone"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn natter_chat_registers_creates_sends_receives_and_lists() {
    let server = TestServer::spawn().await;
    let temp = TempDir::new().unwrap();
    let url = server.base_url();
    let state = |name: &str| temp.path().join(name).display().to_string();
    let run = |args: Vec<String>| async move {
        let mut out = Vec::new();
        let mut argv = vec!["natter-chat".to_owned()];
        argv.extend(args);
        natter_client::mls::cli::run(argv.clone(), &mut out)
            .await
            .unwrap_or_else(|error| panic!("{argv:?}: {error:#}"));
        String::from_utf8(out).unwrap()
    };
    let args = |list: &[&str]| list.iter().map(|arg| arg.to_string()).collect::<Vec<_>>();
    for (user, dir) in [("alice", "a"), ("bob", "b")] {
        let out = run(args(&[
            "--server",
            url,
            "--state",
            &state(dir),
            "register",
            user,
            "--password",
            PASSWORD,
        ]))
        .await;
        assert!(
            out.contains(&format!("of {user} (50 KeyPackages published)")),
            "{out}"
        );
    }
    let reuse = args(&[
        "natter-chat",
        "--server",
        url,
        "--state",
        &state("b"),
        "login",
        "bob",
        "--password",
        PASSWORD,
    ]);
    let refused = natter_client::mls::cli::run(reuse, &mut Vec::new()).await;
    assert!(refused.is_err(), "a second login into a device's directory");
    let out = run(args(&[
        "--state",
        &state("a"),
        "create",
        "--e2ee",
        "--with",
        "bob",
    ]))
    .await;
    let chat_id = out.lines().next().unwrap().to_owned();
    run(args(&[
        "--state",
        &state("a"),
        "send",
        &chat_id,
        "psst, bob",
    ]))
    .await;

    let out = run(args(&["--state", &state("b"), "receive", "--once"])).await;
    assert_eq!(out, format!("{chat_id} #2 alice: psst, bob\n"));
    let again = run(args(&["--state", &state("b"), "receive", "--once"])).await;
    assert_eq!(again, "", "each message once");
    let list = run(args(&["--state", &state("b"), "list"])).await;
    assert!(list.starts_with(&format!("{chat_id}\te2ee\t")), "{list}");

    // Sending before receiving: what the send decrypted on its way is
    // printed (its cursor moved past it; no later receive shows it).
    run(args(&[
        "--state",
        &state("a"),
        "send",
        &chat_id,
        "still there?",
    ]))
    .await;
    let out = run(args(&["--state", &state("b"), "send", &chat_id, "yes"])).await;
    assert_eq!(
        out,
        format!("{chat_id} #4\n{chat_id} #3 alice: still there?\n")
    );
    let out = run(args(&["--state", &state("a"), "receive", "--once"])).await;
    assert_eq!(out, format!("{chat_id} #4 bob: yes\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_left_is_committed_out_by_those_who_stay() {
    let server = TestServer::spawn().await;
    let temp = TempDir::new().unwrap();
    let url = server.base_url();
    let (mut alice, _) = register(url, "alice", &temp).await;
    let (mut bob, bob_id) = register(url, "bob", &temp).await;
    let (mut carol, carol_id) = register(url, "carol", &temp).await;
    let chat_id = alice
        .create_chat(
            ChatType::Group,
            Some("g".into()),
            vec![bob_id.clone(), carol_id],
        )
        .await
        .unwrap()
        .chat
        .summary
        .chat_id;
    sync(&mut bob).await;
    sync(&mut carol).await;

    // Bob leaves through plain REST: his devices are still in the group.
    bob.client().remove_member(&chat_id, &bob_id).await.unwrap();
    assert_eq!(alice.device().members(&chat_id).len(), 3);
    let (by_alice, by_carol) = tokio::join!(
        alice.remove_departed(&chat_id),
        carol.remove_departed(&chat_id)
    );
    let accepted = [by_alice.unwrap(), by_carol.unwrap()];
    assert_eq!(
        accepted.iter().filter(|commit| commit.is_some()).count(),
        1,
        "one removal Commit, the other found nothing left"
    );
    alice.send(&chat_id, "without bob").await.unwrap();
    assert_eq!(texts(&sync(&mut carol).await), vec!["without bob"]);
    assert_eq!(alice.device().members(&chat_id).len(), 2);
    assert_eq!(carol.device().members(&chat_id).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding_an_encrypted_direct_chat_again_joins_its_group() {
    let server = TestServer::spawn().await;
    let temp = TempDir::new().unwrap();
    let url = server.base_url();
    let (mut alice, alice_id) = register(url, "alice", &temp).await;
    let (mut bob, bob_id) = register(url, "bob", &temp).await;
    let first = alice
        .create_chat(ChatType::Direct, None, vec![bob_id])
        .await
        .unwrap();
    let chat_id = first.chat.summary.chat_id;

    // Bob opens "the chat with alice" before any sync: the Welcome.
    let again = bob
        .create_chat(ChatType::Direct, None, vec![alice_id.clone()])
        .await
        .unwrap();
    assert_eq!(again.chat.summary.chat_id, chat_id);
    assert!(bob.device().is_member(&chat_id));
    // Bob's new phone, which no Welcome names: an external Commit.
    let mut phone = login(url, "bob", &temp, "bob-phone").await;
    let found = phone
        .create_chat(ChatType::Direct, None, vec![alice_id])
        .await
        .unwrap();
    assert_eq!(found.chat.summary.chat_id, chat_id);
    assert!(phone.device().is_member(&chat_id));

    alice.send(&chat_id, "found you").await.unwrap();
    assert_eq!(texts(&sync(&mut bob).await), vec!["found you"]);
    assert_eq!(texts(&sync(&mut phone).await), vec!["found you"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_answer_was_lost_does_not_block_sending() {
    let server = TestServer::spawn().await;
    let temp = TempDir::new().unwrap();
    let url = server.base_url();
    let (alice, _) = register(url, "alice", &temp).await;
    let (mut bob, bob_id) = register(url, "bob", &temp).await;
    let (_carol, carol_id) = register(url, "carol", &temp).await;
    let mut alice = alice;
    let chat_id = alice
        .create_chat(ChatType::Direct, None, vec![bob_id])
        .await
        .unwrap()
        .chat
        .summary
        .chat_id;
    // A Commit made but never answered (as if the POST's answer was lost
    // and the server never took it): still pending on the device.
    let claimed = alice
        .client()
        .claim_key_packages(&carol_id)
        .await
        .unwrap()
        .key_packages;
    let client = alice.client().clone();
    let mut device = alice.into_device();
    device
        .add_devices(&chat_id, &[claimed[0].key_package.clone()])
        .unwrap();
    let mut alice = EncryptedChats::with_device(client, device);

    alice.send(&chat_id, "after the lost answer").await.unwrap();
    assert_eq!(texts(&sync(&mut bob).await), vec!["after the lost answer"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_out_device_is_committed_out_by_its_users_next_sync() {
    let server = TestServer::spawn().await;
    let temp = TempDir::new().unwrap();
    let url = server.base_url();
    let (mut alice, _) = register(url, "alice", &temp).await;
    let mut tablet = login(url, "alice", &temp, "alice-tablet").await;
    let (mut bob, bob_id) = register(url, "bob", &temp).await;
    let chat_id = alice
        .create_chat(ChatType::Direct, None, vec![bob_id])
        .await
        .unwrap()
        .chat
        .summary
        .chat_id;
    sync(&mut tablet).await;
    sync(&mut bob).await;
    assert_eq!(alice.device().members(&chat_id).len(), 3);

    let tablet_id = tablet.device().device_id().to_owned();
    alice
        .client()
        .remove_device(&tablet_id, PASSWORD)
        .await
        .unwrap();
    sync(&mut alice).await;
    let members = alice.device().members(&chat_id);
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(!members.iter().any(|(_, device)| *device == tablet_id));
    assert!(matches!(
        sync(&mut bob).await.last(),
        Some(ChatEvent::Epoch { .. })
    ));
}
