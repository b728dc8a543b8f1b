//! What only the PostgreSQL store has to hold: several stores ("nodes")
//! on one database, as a cluster runs them (appending, claiming from the
//! push queue), and the database's own query language kept out of
//! search. Each test on a fresh database (see `support`); every wait is
//! bounded.

mod support;

use futures_util::future::join_all;
use natter_store::contract::{Fixture, appended, delivery, new_user, subscription, text};
use natter_store::{
    Appended, Chats, CommitFeed, Cursor, MessageRow, Messages, PushQueue, PushSubscriptions,
    Search, SearchQuery, Sessions, Store, StoreError, Users, commit_channel,
};
use natter_store_postgres::{PgSettings, PgStore};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::TestDatabase;

/// How long a test waits for anything (generous: shared machines).
const PATIENCE: Duration = Duration::from_secs(30);

/// A store on `database` with its commit feed.
async fn node(database: &TestDatabase) -> (Arc<PgStore>, CommitFeed) {
    node_with(database, &PgSettings::default()).await
}

async fn node_with(database: &TestDatabase, settings: &PgSettings) -> (Arc<PgStore>, CommitFeed) {
    let (sink, feed) = commit_channel();
    let store = PgStore::open(&database.url, settings, sink).await.unwrap();
    (Arc::new(store), feed)
}

/// Everything the feed reports within `count` messages.
async fn drain(feed: &mut CommitFeed, count: usize) -> Vec<MessageRow> {
    let mut reported = Vec::with_capacity(count);
    for _ in 0..count {
        let next = tokio::time::timeout(PATIENCE, feed.next()).await;
        reported.push(next.expect("reported in time").expect("feed open"));
    }
    reported
}

/// All of a chat's messages, oldest first.
async fn history(store: &PgStore, chat: &str) -> Vec<MessageRow> {
    store
        .list_messages(chat, Cursor::After(0), 10_000, None)
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_appending_to_the_same_chats_give_each_chat_seqs_without_gaps() {
    let database = TestDatabase::create().await;
    let ((a, mut a_feed), (b, mut b_feed)) = (node(&database).await, node(&database).await);
    a.users(&["ann", "bob", "cat"]).await;
    let chats = ["c0", "c1", "c2", "c3"];
    for chat in chats {
        b.group(chat, &["ann", "bob", "cat"], 1).await;
    }
    const PER_NODE: usize = 120;
    let sends = |store: Arc<PgStore>, node: &'static str| {
        (0..PER_NODE).map(move |i| {
            let store = store.clone();
            tokio::spawn(async move {
                let chat = ["c0", "c1", "c2", "c3"][i % 4];
                let sender = ["ann", "bob", "cat"][i % 3];
                let id = format!("{node}-{i}");
                let message = text(&id, chat, sender, "hello", i as i64);
                appended(store.append_message(message).await.unwrap()).0
            })
        })
    };
    let tasks: Vec<_> = sends(a.clone(), "a").chain(sends(b.clone(), "b")).collect();
    let stored = join_all(tasks).await;
    assert!(stored.iter().all(Result::is_ok));

    for chat in chats {
        let seqs: Vec<i64> = history(&a, chat).await.iter().map(|m| m.seq).collect();
        let expected = (2 * PER_NODE / chats.len()) as i64;
        assert_eq!(seqs, (1..=expected).collect::<Vec<_>>(), "{chat}");
        assert_eq!(b.chat(chat).await.unwrap().unwrap().last_seq, expected);
    }
    for (feed, node) in [(&mut a_feed, "a-"), (&mut b_feed, "b-")] {
        let reported = drain(feed, PER_NODE).await;
        assert!(
            reported.iter().all(|m| m.id.starts_with(node)),
            "its own only"
        );
        let mut last_seq: HashMap<&str, i64> = HashMap::new();
        for message in &reported {
            let last = last_seq.entry(message.chat_id.as_str()).or_default();
            assert!(message.seq > *last, "in seq order per chat");
            *last = message.seq;
        }
        assert!(feed.try_next().is_none(), "each once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_through_one_node_cannot_append_through_another() {
    let database = TestDatabase::create().await;
    let ((a, _a_feed), (b, _b_feed)) = (node(&database).await, node(&database).await);
    a.users(&["ann", "bob"]).await;
    a.group("g", &["ann", "bob"], 1).await;
    a.send("g", "bob", "before", 2).await;
    assert!(b.remove_member("g", "bob").await.unwrap());
    let after = a.append_message(text("late", "g", "bob", "after", 3)).await;
    assert!(matches!(after, Ok(Appended::NotMember)), "{after:?}");
    assert_eq!(a.chat("g").await.unwrap().unwrap().last_seq, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_racing_a_removal_on_another_node_stop_at_the_removal() {
    let database = TestDatabase::create().await;
    let ((a, _a_feed), (b, _b_feed)) = (node(&database).await, node(&database).await);
    a.users(&["ann", "bob"]).await;
    for round in 0..10 {
        let chat = format!("g{round}");
        a.group(&chat, &["ann", "bob"], 1).await;
        // Bob keeps several sends in flight through A...
        let sender = {
            let (a, chat) = (a.clone(), chat.clone());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..40 {
                    let message = text(&format!("{chat}-{i}"), &chat, "bob", "racing", i);
                    outcomes.push(a.queue_append(message).await.unwrap());
                    if i % 4 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                join_all(outcomes).await
            })
        };
        // ...while B removes him.
        tokio::time::sleep(Duration::from_millis(round)).await;
        assert!(b.remove_member(&chat, "bob").await.unwrap());
        let last_seq_at_removal = b.chat(&chat).await.unwrap().unwrap().last_seq;
        let outcomes = tokio::time::timeout(PATIENCE, sender)
            .await
            .unwrap()
            .unwrap();

        let refused_from = outcomes
            .iter()
            .position(|outcome| matches!(outcome, Ok(Appended::NotMember)))
            .unwrap_or(outcomes.len());
        assert!(
            outcomes[..refused_from]
                .iter()
                .all(|outcome| matches!(outcome, Ok(Appended::New(_)))),
            "stored until refused: {outcomes:?}"
        );
        assert!(
            outcomes[refused_from..]
                .iter()
                .all(|outcome| matches!(outcome, Ok(Appended::NotMember))),
            "refused from then on: {outcomes:?}"
        );
        let stored = history(&a, &chat).await;
        assert_eq!(stored.len(), refused_from);
        assert!(
            stored.iter().all(|m| m.seq <= last_seq_at_removal),
            "nothing of bob's was stored after the removal"
        );
        let after = a.append_message(text("late", &chat, "bob", "x", 99)).await;
        assert!(matches!(after, Ok(Appended::NotMember)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_msg_id_sent_through_two_nodes_stores_one_message() {
    let database = TestDatabase::create().await;
    let ((a, _a_feed), (b, _b_feed)) = (node(&database).await, node(&database).await);
    a.users(&["ann"]).await;
    a.group("g", &["ann"], 1).await;
    let mut tasks = Vec::new();
    for client in 0..20 {
        for (node, store) in [("a", &a), ("b", &b)] {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut message = text(&format!("{node}-{client}"), "g", "ann", "once", client);
                message.client_msg_id = Some(format!("client-{client}"));
                appended(store.append_message(message).await.unwrap())
            }));
        }
    }
    let outcomes: Vec<(MessageRow, bool)> = join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for pair in outcomes.chunks(2) {
        let [(first, first_new), (second, second_new)] = pair else {
            unreachable!()
        };
        assert_eq!(first, second, "both nodes answer with the same message");
        assert!(first_new ^ second_new, "exactly one stored it");
    }
    let stored = history(&b, "g").await;
    assert_eq!(stored.len(), 20);
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
}

/// MLS Commits for one epoch sent through two nodes at once: exactly one
/// is stored per epoch, whichever node takes it, and the chat's epoch
/// moves once per stored Commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_for_one_epoch_through_two_nodes_store_one_per_epoch() {
    let database = TestDatabase::create().await;
    let ((a, _), (b, _)) = (node(&database).await, node(&database).await);
    a.users(&["ann", "bob"]).await;
    a.create_chat(natter_store::NewChat {
        e2ee: true,
        chat_type: natter_proto::chats::ChatType::Group,
        name: Some("secret".into()),
        direct_key: None,
        members: vec![
            ("ann".into(), natter_proto::chats::Role::Owner),
            ("bob".into(), natter_proto::chats::Role::Member),
        ],
        ..natter_store::contract::direct("g", "ann", "bob")
    })
    .await
    .unwrap();
    let commit = |id: String, epoch: i64| natter_store::NewMessage {
        message_type: natter_proto::messages::MessageType::Mls,
        mls_epoch: Some(epoch),
        ..text(&id, "g", "ann", "commit", 10)
    };
    for epoch in 0..5 {
        let tries = (0..6).map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let message = commit(format!("c{epoch}-{i}"), epoch);
            async move { store.append_message(message).await.unwrap() }
        });
        let outcomes = join_all(tries).await;
        let stored = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, Appended::New(_)))
            .count();
        assert_eq!(stored, 1, "epoch {epoch}: {outcomes:?}");
        let current = epoch + 1;
        assert!(outcomes.iter().all(|outcome| match outcome {
            Appended::New(_) => true,
            Appended::StaleEpoch { current: found } => *found == current,
            _ => false,
        }));
    }
    let chat = b.chat("g").await.unwrap().unwrap();
    assert_eq!((chat.mls_epoch, chat.last_seq), (5, 5));
    let seqs: Vec<i64> = history(&b, "g").await.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_nodes_opening_one_empty_database_at_once_all_start() {
    let database = TestDatabase::create().await;
    let opened = join_all((0..4).map(|_| {
        let url = database.url.clone();
        tokio::spawn(async move {
            let (sink, _feed) = commit_channel();
            PgStore::open(&url, &PgSettings::default(), sink).await
        })
    }))
    .await;
    let stores: Vec<PgStore> = opened
        .into_iter()
        .map(|opened| opened.unwrap().expect("every node starts"))
        .collect();
    stores[0].create_user(new_user("ann", "ann")).await.unwrap();
    for store in &stores {
        store.ping().await.unwrap();
        assert!(store.user_by_id("ann").await.unwrap().is_some());
    }
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&database.url)
        .await
        .unwrap();
    let applied: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT version, count(*) FROM _sqlx_migrations GROUP BY version ORDER BY version",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!applied.is_empty());
    assert!(applied.iter().all(|(_, times)| *times == 1), "{applied:?}");
    for store in &stores {
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_words_are_never_query_syntax() {
    let database = TestDatabase::create().await;
    let (store, _feed) = node(&database).await;
    store.users(&["ann"]).await;
    store.group("g", &["ann"], 1).await;
    store
        .send("g", "ann", "it's a café, isn't it? Don't panic: 50% off", 1)
        .await;
    let hostile = [
        "'",
        "\\",
        "''",
        ":*",
        "&",
        "|",
        "!",
        "(",
        ")",
        "<->",
        "a & b",
        "a:*",
        "'a' | 'b'",
        "a\0b",
        "\0",
        "!!!",
        "\u{E000}",
        "don't",
        "it's",
        "50%",
        "café,",
    ];
    for query in hostile {
        let found = store
            .search_messages(&SearchQuery {
                user_id: "ann".into(),
                words: vec![query.to_owned()],
                chat_id: None,
                limit: 10,
            })
            .await;
        assert!(found.is_ok(), "{query:?}: {found:?}");
    }
    let found = |words: &'static str| {
        let store = store.clone();
        async move { store.search_words("ann", words, None, 10).await.unwrap() }
    };
    assert_eq!(found("don't").await.len(), 1, "a word with an apostrophe");
    assert_eq!(found("it's").await.len(), 1);
    assert!(found("!!! ---").await.is_empty(), "only punctuation");
    let hit = &found("PANIC").await[0];
    let marked = natter_store::contract::marked(hit);
    assert!(marked.contains("[panic]"), "{marked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_message_is_found_by_an_extract_around_its_match() {
    let database = TestDatabase::create().await;
    let (store, _feed) = node(&database).await;
    store.users(&["ann"]).await;
    store.group("g", &["ann"], 1).await;
    let filler = "word ".repeat(40);
    store
        .send("g", "ann", &format!("{filler}needle {filler}"), 1)
        .await;
    let hits = store.search_words("ann", "needle", None, 10).await.unwrap();
    let marked = natter_store::contract::marked(&hits[0]);
    assert!(marked.contains("[needle]"), "{marked}");
    assert!(marked.starts_with('…') && marked.ends_with('…'), "{marked}");
    assert!(marked.len() < 200, "an extract, not the message: {marked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_lost_its_database_answers_unavailable() {
    let database = TestDatabase::create().await;
    let settings = PgSettings {
        acquire_timeout: Duration::from_secs(2),
        ..PgSettings::default()
    };
    let (store, _feed) = node_with(&database, &settings).await;
    store.users(&["ann"]).await;
    store.group("g", &["ann"], 1).await;
    // Every connection of the database is ended and no new one admitted.
    let mut admin = support::admin().await;
    let name = database.name();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(name)
        .execute(&mut admin)
        .await
        .unwrap();
    let unavailable = |outcome: Result<(), StoreError>| {
        assert!(
            matches!(outcome, Err(StoreError::Unavailable(_))),
            "{outcome:?}"
        );
    };
    let started = Instant::now();
    unavailable(store.ping().await);
    unavailable(
        store
            .append_message(text("m1", "g", "ann", "x", 2))
            .await
            .map(|_| ()),
    );
    assert!(started.elapsed() < PATIENCE);

    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS true"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    store.ping().await.unwrap();
    assert_eq!(
        store.send("g", "ann", "back", 3).await,
        1,
        "no seq was lost"
    );
}

/// Several claimers on two nodes taking from one push queue at once, in
/// small claims, never get the same job or delivery, and between them
/// take every one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claimers_on_two_nodes_never_get_the_same_push_job_or_delivery() {
    const ROWS: usize = 200;
    const CLAIMERS_PER_NODE: usize = 3;
    let database = TestDatabase::create().await;
    let ((a, _a_feed), (b, _b_feed)) = (node(&database).await, node(&database).await);
    a.users(&["ann", "bob"]).await;
    a.group("g", &["ann", "bob"], 1).await;
    a.create_session("b1", "bob", "phone", "h1", 1, i64::MAX)
        .await
        .unwrap();
    a.subscribe(subscription("pb", "bob", "b1", "https://push/pb"))
        .await
        .unwrap();
    let appends = (0..ROWS).map(|i| {
        let mut message = text(&format!("m{i}"), "g", "ann", "hello", i as i64);
        message.owes_push = true;
        let a = a.clone();
        tokio::spawn(async move { appended(a.append_message(message).await.unwrap()) })
    });
    assert!(join_all(appends).await.iter().all(Result::is_ok));
    let deliveries: Vec<_> = (0..ROWS)
        .map(|i| delivery(&format!("d{i}"), "pb", i as i64))
        .collect();
    b.enqueue(&deliveries).await.unwrap();
    assert_eq!(a.queue_depth().await.unwrap(), (ROWS as u64, ROWS as u64));

    // Leases that outlast the test: a row is handed out at most once.
    let claimers = [a, b].into_iter().flat_map(|store| {
        (0..CLAIMERS_PER_NODE).map(move |_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut taken = Vec::new();
                loop {
                    let jobs = store.claim_jobs(10_000, i64::MAX, 7).await.unwrap();
                    let sent = store.claim_deliveries(10_000, i64::MAX, 7).await.unwrap();
                    if jobs.is_empty() && sent.is_empty() {
                        return taken;
                    }
                    taken.extend(jobs.into_iter().map(|job| job.message_id));
                    taken.extend(sent.into_iter().map(|delivery| delivery.id));
                }
            })
        })
    });
    let claimers: Vec<_> = claimers.collect();
    let mut taken: Vec<String> = Vec::new();
    for claimer in tokio::time::timeout(PATIENCE, join_all(claimers))
        .await
        .expect("the queue drained in time")
    {
        taken.extend(claimer.unwrap());
    }
    let distinct: HashSet<&String> = taken.iter().collect();
    assert_eq!(distinct.len(), taken.len(), "a row was claimed twice");
    assert_eq!(taken.len(), 2 * ROWS, "every row was claimed");
}

/// Not a test of speed (nothing is asserted about it): prints how many
/// appends per second one store does with 256 concurrent appenders over
/// 200 chats. `cargo test -p natter-store-postgres --release --test
/// cluster -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_appends_per_second_with_256_appenders_over_200_chats() {
    const APPENDERS: usize = 256;
    const CHATS: usize = 200;
    const PER_APPENDER: usize = 200;
    let database = TestDatabase::create().await;
    let (store, mut feed) = node(&database).await;
    let names: Vec<String> = (0..APPENDERS).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    store.users(&refs).await;
    for chat in 0..CHATS {
        // Appender `a` posts in chat `a % CHATS`, of which it is a member.
        let members: Vec<&str> = (chat..APPENDERS).step_by(CHATS).map(|a| refs[a]).collect();
        store.group(&format!("c{chat}"), &members, 1).await;
    }
    let drainer = tokio::spawn(async move { while feed.next().await.is_some() {} });
    let started = Instant::now();
    let tasks: Vec<_> = (0..APPENDERS)
        .map(|appender| {
            let store = store.clone();
            tokio::spawn(async move {
                let sender = format!("u{appender}");
                let chat = format!("c{}", appender % CHATS);
                for i in 0..PER_APPENDER {
                    let id = format!("{appender}-{i}");
                    let outcome = store
                        .append_message(text(&id, &chat, &sender, "a message of some length", 1))
                        .await
                        .unwrap();
                    assert!(matches!(outcome, Appended::New(_)), "{outcome:?}");
                }
            })
        })
        .collect();
    for task in join_all(tasks).await {
        task.unwrap();
    }
    let elapsed = started.elapsed();
    let total = APPENDERS * PER_APPENDER;
    println!(
        "{total} appends by {APPENDERS} concurrent appenders over {CHATS} chats in {:.2} s: \
         {:.0} appends/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    store.close().await;
    drainer.abort();
}
