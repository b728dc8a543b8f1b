//! Connecting while a chat is busy: a message committed while a socket is
//! being set up must either be counted in that socket's `ready` (so a
//! client fetches it with `?after=`) or be delivered on it. Otherwise it
//! would sit unseen until some later message of the chat comes along.

use crate::helpers::{TestServer, direct, new_message_in, send, wait_for};
use natter_client::ws::Connection;
use std::time::Duration;

/// Attempts; each races one REST send against one connect, with the
/// connect starting a little later each time (0 to 4 ms after the send),
/// so that some commits land while the socket is being set up.
const ATTEMPTS: u64 = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_while_a_socket_connects_is_in_its_ready_or_delivered_on_it() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    for attempt in 0..ATTEMPTS {
        let sending = tokio::spawn({
            let (alice, chat_id) = (alice.clone(), chat_id.clone());
            async move { send(&alice, &chat_id, &format!("race {attempt}")).await }
        });
        tokio::time::sleep(Duration::from_micros(attempt * 37 % 4_000)).await;
        let (mut socket, ready) = Connection::open(server.base_url(), &bob_auth.access_token)
            .await
            .expect("a socket");
        let sent = sending.await.unwrap();
        let cursor = ready.chats.iter().find(|c| c.chat_id == chat_id);
        let last_seq = cursor.expect("the chat in ready").last_seq;
        if last_seq < sent.seq {
            let what = format!(
                "attempt {attempt}: seq {} (ready said last_seq {last_seq})",
                sent.seq
            );
            wait_for(&mut socket, &what, |event| {
                new_message_in(event, &chat_id).filter(|m| m.seq == sent.seq)
            })
            .await;
        }
        socket.close().await;
    }
}
