//! A session that ends takes its sockets with it, at once: after logout,
//! and after a reused refresh token revoked the session, the session's
//! open WebSockets are closed with 1008 and receive nothing more, while
//! the same user's other sessions (devices) stay connected.

use crate::helpers::{
    PASSWORD, TestServer, assert_responsive, direct, expect_close, new_message_in, send, wait_for,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_closes_that_sessions_sockets_and_no_others() {
    let server = TestServer::spawn().await;
    let (alice, alice_phone) = server.user("alice").await;
    let alice_laptop = server.client().login("alice", PASSWORD).await.unwrap();
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut phone, _) = server.socket(&alice_phone.access_token).await;
    let (mut phone_too, _) = server.socket(&alice_phone.access_token).await;
    let (mut laptop, _) = server.socket(&alice_laptop.access_token).await;

    server
        .client()
        .logout(&alice_phone.refresh_token)
        .await
        .unwrap();
    for socket in [&mut phone, &mut phone_too] {
        let close = expect_close(socket).await;
        assert_eq!(
            (close.code, close.reason.as_str()),
            (1008, "the session has ended")
        );
    }
    // The other device is untouched and still hears the chat.
    assert_responsive(&mut laptop).await;
    send(
        &alice.with_token(alice_laptop.access_token.clone()),
        &chat_id,
        "still here",
    )
    .await;
    wait_for(&mut laptop, "the new message", |event| {
        new_message_in(event, &chat_id)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_refresh_token_closes_the_revoked_sessions_sockets() {
    let server = TestServer::spawn().await;
    let (_, alice) = server.user("alice").await;
    let (mut socket, _) = server.socket(&alice.access_token).await;
    let rotated = server.client().refresh(&alice.refresh_token).await.unwrap();
    assert_ne!(rotated.refresh_token, alice.refresh_token);
    assert_responsive(&mut socket).await;
    // The old token again: someone holds a copy, the session is revoked.
    assert!(server.client().refresh(&alice.refresh_token).await.is_err());
    let close = expect_close(&mut socket).await;
    assert_eq!(close.code, 1008);
    // A socket of the revoked session cannot come back either.
    let reopened =
        natter_client::ws::Connection::open(server.base_url(), &rotated.access_token).await;
    assert!(reopened.is_err(), "the revoked session's token is refused");
}
