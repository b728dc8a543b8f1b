//! The router's membership against the store: a removal whose event no
//! route heard (it happened between a connection's first read and its
//! registration, or the feed lost it) is caught by reconciling with the
//! store, and a snapshot that a membership event overtook changes nothing.
//! Driven on a real core over a real SQLite store; the router's methods
//! are called directly, so the races are laid out step by step.

use super::*;
use natter_bus::local::LocalBus;
use natter_bus::presence::LocalPresence;
use natter_config::Settings;
use natter_core::{Backends, Caller};
use natter_proto::auth::RegisterRequest;
use natter_proto::chats::{ChatType, CreateChat};
use natter_proto::messages::SendMessage;
use std::collections::VecDeque;

struct World {
    core: Arc<Core>,
    router: Router,
    commands: mpsc::UnboundedReceiver<Command>,
    _commits: natter_store::CommitFeed,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut settings = Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    settings.auth.argon2_memory_kib = 256;
    settings.auth.argon2_iterations = 1;
    settings.rate_limit.enabled = false;
    let (sink, commits) = natter_store::commit_channel();
    let store = natter_store_sqlite::SqliteStore::open(
        &dir.path().join("natter.db"),
        &settings.store,
        sink,
    )
    .await
    .expect("the store opens");
    let blob =
        natter_core::blob::BlobStore::from_url_with("", dir.path(), &[]).expect("a blob store");
    let backends = Backends {
        store: Arc::new(store),
        bus: Arc::new(LocalBus::new()),
        presence: Arc::new(LocalPresence::new()),
        blob,
        vapid_key: None,
    };
    let core = Arc::new(Core::new(&settings, b"router test secret", backends).expect("a core"));
    let (sender, commands) = mpsc::unbounded_channel();
    World {
        router: Router::new(core.clone(), sender),
        core,
        commands,
        _commits: commits,
        _dir: dir,
    }
}

impl World {
    async fn user(&self, username: &str) -> Caller {
        let auth = self
            .core
            .register(
                RegisterRequest {
                    username: username.into(),
                    password: "correct horse battery".into(),
                    display_name: None,
                    device_name: None,
                },
                None,
            )
            .await
            .expect("registered");
        self.core
            .authenticate(&auth.access_token)
            .await
            .expect("authenticated")
    }

    /// Registers one connection of `user` as if its first read found
    /// `chats`; the membership epoch the router answers with.
    async fn connect(&mut self, user: &Caller, chats: &[&str]) -> (Arc<Outbox>, u64) {
        let party_id = format!("party-of-{}", user.session_id);
        self.connect_as(user, 1, &user.session_id, &party_id, chats)
            .await
    }

    /// [`World::connect`] as route `id` of session `session_id` and call
    /// party `party_id` (one user's several connections).
    async fn connect_as(
        &mut self,
        user: &Caller,
        id: u64,
        session_id: &str,
        party_id: &str,
        chats: &[&str],
    ) -> (Arc<Outbox>, u64) {
        let outbox = Arc::new(Outbox::new(64));
        let (registered, routed) = oneshot::channel();
        self.router.command(Command::Register {
            route: Route {
                id,
                session_id: session_id.to_owned(),
                party_id: party_id.to_owned(),
                outbox: outbox.clone(),
            },
            user_id: user.user_id.clone(),
            chats: chats
                .iter()
                .map(|chat_id| (chat_id.to_string(), 0))
                .collect(),
            registered,
        });
        (outbox, routed.await.expect("registered"))
    }

    /// What the store says `user`'s chats are, as a `Reconcile`.
    async fn snapshot(&self, user: &Caller, epoch: u64) -> Command {
        let chats = self
            .core
            .chat_cursors(&user.user_id)
            .await
            .expect("cursors")
            .into_iter()
            .map(|cursor| (cursor.chat_id, cursor.last_seq))
            .collect();
        Command::Reconcile {
            user_id: user.user_id.clone(),
            epoch,
            chats,
        }
    }

    /// Someone typing in `chat_id`: reaches every routed member but them.
    fn typing(&mut self, chat_id: &str, typist: &Caller) {
        self.router.route(Envelope::to_chat(
            chat_id,
            &ServerEvent::Typing {
                chat_id: chat_id.to_owned(),
                user_id: typist.user_id.clone(),
                active: true,
            },
        ));
    }

    /// Runs the command the router sent itself (a read done again).
    async fn next_command(&mut self) {
        let command = tokio::time::timeout(Duration::from_secs(30), self.commands.recv())
            .await
            .expect("a command in time")
            .expect("the router's sender is alive");
        self.router.command(command);
    }
}

fn frames(outbox: &Outbox) -> usize {
    let mut frames = VecDeque::new();
    outbox.drain_into(&mut frames);
    frames.len()
}

async fn group(world: &World, owner: &Caller, members: &[&Caller]) -> String {
    let request = CreateChat {
        e2ee: false,
        chat_type: ChatType::Group,
        name: Some("team".into()),
        member_ids: members.iter().map(|m| m.user_id.clone()).collect(),
    };
    let (chat, _) = world
        .core
        .create_chat(owner, request)
        .await
        .expect("a group");
    chat.summary.chat_id
}

#[tokio::test]
async fn a_removal_between_the_first_read_and_registration_is_reconciled() {
    let mut world = world().await;
    let alice = world.user("alice").await;
    let bob = world.user("bob").await;
    let chat_id = group(&world, &alice, &[&bob]).await;

    // Bob's connection read its chats while he was still a member...
    let (outbox, epoch) = world.connect(&bob, &[&chat_id]).await;
    world.typing(&chat_id, &alice);
    assert_eq!(frames(&outbox), 1, "routed while a member");
    // ...and was removed before its registration reached the router: the
    // removal's event went to no route.
    world
        .core
        .remove_member(&alice, &chat_id, &bob.user_id)
        .await
        .expect("removed");
    let snapshot = world.snapshot(&bob, epoch).await;
    world.router.command(snapshot);

    world.typing(&chat_id, &alice);
    assert_eq!(frames(&outbox), 0, "a removed member still gets the chat");
    assert!(
        !world.router.chats.contains_key(&chat_id),
        "the chat stays routed"
    );
}

#[tokio::test]
async fn a_snapshot_overtaken_by_a_join_is_read_again_and_keeps_the_chat() {
    let mut world = world().await;
    let alice = world.user("alice").await;
    let bob = world.user("bob").await;

    let (outbox, epoch) = world.connect(&bob, &[]).await;
    // Bob's snapshot is read before he joins...
    let stale = world.snapshot(&bob, epoch).await;
    let chat_id = group(&world, &alice, &[&bob]).await;
    // ...and his `chat.created` is routed before the snapshot arrives.
    let summary = world
        .core
        .chat(&bob, &chat_id)
        .await
        .expect("bob's view")
        .summary;
    world.router.route(Envelope::to_user(
        &bob.user_id,
        &ServerEvent::ChatCreated { chat: summary },
    ));
    assert_eq!(frames(&outbox), 1, "the chat.created frame");
    world.router.command(stale);
    world.typing(&chat_id, &alice);
    assert_eq!(frames(&outbox), 1, "the stale snapshot took the chat away");

    // The read done again agrees with the join.
    world.next_command().await;
    world.typing(&chat_id, &alice);
    assert_eq!(frames(&outbox), 1, "the fresh snapshot took the chat away");
}

#[tokio::test]
async fn lost_envelopes_make_the_router_read_every_local_users_chats_again() {
    let mut world = world().await;
    let alice = world.user("alice").await;
    let bob = world.user("bob").await;
    let chat_id = group(&world, &alice, &[&bob]).await;
    let (outbox, _) = world.connect(&bob, &[&chat_id]).await;

    // The removal's event is among the envelopes the feed lost.
    world
        .core
        .remove_member(&alice, &chat_id, &bob.user_id)
        .await
        .expect("removed");
    world.router.lost(3);
    world.next_command().await;

    world.typing(&chat_id, &alice);
    assert_eq!(frames(&outbox), 0, "a removed member still gets the chat");
}

#[tokio::test]
async fn a_position_sync_delivers_the_last_message_of_a_quiet_chat_whose_event_was_lost() {
    let mut world = world().await;
    let alice = world.user("alice").await;
    let bob = world.user("bob").await;
    let chat_id = group(&world, &alice, &[&bob]).await;
    let (outbox, _) = world.connect(&bob, &[&chat_id]).await;

    // Stored, but its event never reaches this router (this world has no
    // announcer: as if the bus had dropped it), and nothing follows it
    // that would reveal a gap.
    let request = SendMessage {
        chat_id: chat_id.clone(),
        content: "the last word".into(),
        message_type: Default::default(),
        client_msg_id: None,
        file_id: None,
        metadata: None,
        sender_id: None,
    };
    world.core.send(&alice, request).await.expect("sent");
    assert_eq!(frames(&outbox), 0, "nothing was routed yet");

    world.router.command(Command::SyncPositions);
    world.next_command().await; // the routed chats' positions
    world.next_command().await; // the sweep is done
    world.next_command().await; // the messages fetched for the difference
    let mut delivered = VecDeque::new();
    outbox.drain_into(&mut delivered);
    assert_eq!(delivered.len(), 1, "the lost message was not delivered");
    let frame = format!("{:?}", delivered[0]);
    assert!(frame.contains("the last word"), "{frame}");
}

#[tokio::test]
async fn position_syncs_asked_for_during_a_sweep_run_once_after_it_not_alongside() {
    let mut world = world().await;
    let alice = world.user("alice").await;
    let bob = world.user("bob").await;
    let chat_id = group(&world, &alice, &[&bob]).await;
    world.connect(&bob, &[&chat_id]).await;

    world.router.command(Command::SyncPositions);
    // Two more while the first sweep reads: one sweep follows, not two,
    // and it is the wider one (a loss re-reads membership).
    world.router.command(Command::SyncPositions);
    world.router.lost(1);
    let (mut position_reads, mut membership_reads) = (0, 0);
    loop {
        let command = tokio::time::timeout(Duration::from_secs(2), world.commands.recv()).await;
        let Ok(Some(command)) = command else { break };
        match command {
            Command::Positions { .. } => position_reads += 1,
            Command::Reconcile { .. } => membership_reads += 1,
            _ => {}
        }
        world.router.command(command);
    }
    assert_eq!((position_reads, membership_reads), (1, 1));
    assert!(!world.router.sweep.running);
}

#[tokio::test]
async fn to_session_and_to_party_reach_only_that_session_s_or_party_s_routes() {
    let mut world = world().await;
    let bob = world.user("bob").await;
    let (phone, _) = world.connect_as(&bob, 1, "phone", "phone-party", &[]).await;
    let (laptop, _) = world
        .connect_as(&bob, 2, "laptop", "laptop-party", &[])
        .await;
    let (laptop_tab, _) = world
        .connect_as(&bob, 3, "laptop", "laptop-tab-party", &[])
        .await;
    let event = ServerEvent::Typing {
        chat_id: "c".into(),
        user_id: "u".into(),
        active: true,
    };
    let addressed = |meta: Meta| Envelope {
        meta,
        ..Envelope::to_user(&bob.user_id, &event)
    };

    world.router.route(addressed(Meta::ToSession {
        session_id: "laptop".into(),
    }));
    assert_eq!(
        (frames(&phone), frames(&laptop), frames(&laptop_tab)),
        (0, 1, 1),
        "every connection of the session, no other"
    );
    world.router.route(addressed(Meta::ToParty {
        party_id: "laptop-tab-party".into(),
    }));
    assert_eq!(
        (frames(&phone), frames(&laptop), frames(&laptop_tab)),
        (0, 0, 1),
        "the party's connection only"
    );
}
