//! Image and file messages: the other members see the `file` object in
//! history and live, and open it by its signed link; a message may only
//! carry a file its sender may read, of a kind that fits its type.

use crate::fixtures::{decode, file_message, get, header_of, jpeg_with_gps, ok, pdf, png, upload};
use crate::helpers::{TestServer, assert_api_error, group, history, new_messages};
use natter_proto::ErrorCode;
use natter_proto::messages::MessageType;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_photo_reaches_the_other_member_with_working_links() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat = group(&alice, "trip", &[&bob_auth]).await;
    let (mut socket, _) = server.socket(&bob_auth.access_token).await;

    let info = upload(&alice, "beach.jpg", &jpeg_with_gps(640, 480), "image/jpeg").await;
    let message = file_message(
        &chat.summary.chat_id,
        MessageType::Image,
        &info.file_id,
        "look!",
    );
    let ack = alice.send(&message).await.expect("an image message");

    let live = new_messages(&mut socket, &chat.summary.chat_id, 1)
        .await
        .remove(0);
    assert_eq!(live.message_type, MessageType::Image);
    let live_file = live.file.expect("the live message carries its file");
    assert_eq!(live_file.file_id, info.file_id);

    let seen = history(&bob, &chat.summary.chat_id).await;
    let posted = seen
        .iter()
        .find(|m| m.message_id == ack.message_id)
        .expect("the message is in bob's history");
    assert_eq!(posted.message_type, MessageType::Image);
    assert_eq!(posted.content, "look!");
    let file = posted.file.clone().expect("an image message has a file");
    assert_eq!(file.file_id, info.file_id);
    assert_eq!(file.name, "beach.jpg");
    assert_eq!(file.mime, "image/jpeg");
    assert_eq!(file.size, info.size);
    assert_eq!((file.width, file.height), (Some(640), Some(480)));

    // Bob's browser opens the links without any token.
    let anonymous = bob.without_token();
    let photo = ok(get(&anonymous, &file.url).await, "bob opens the photo");
    assert_eq!(photo.body.len() as i64, info.size);
    let uploader_copy = ok(get(&alice, &info.url).await, "alice's copy");
    assert_eq!(photo.body, uploader_copy.body);
    let thumb_url = file.thumbnail_url.expect("a thumbnail link");
    let thumb = ok(get(&anonymous, &thumb_url).await, "bob's thumbnail");
    let small = decode(&thumb.body);
    assert_eq!(small.width().max(small.height()), 320);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_document_is_downloadable_by_the_other_member() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat = group(&alice, "work", &[&bob_auth]).await;
    let document = pdf(20_000);
    let info = upload(&alice, "Q3 report.pdf", &document, "application/pdf").await;
    let message = file_message(&chat.summary.chat_id, MessageType::File, &info.file_id, "");
    alice.send(&message).await.expect("a file message");

    let seen = history(&bob, &chat.summary.chat_id).await;
    let file = seen
        .last()
        .and_then(|m| m.file.clone())
        .expect("bob sees the file");
    assert_eq!(file.mime, "application/pdf");
    assert_eq!(file.size, 20_000);
    assert_eq!(file.name, "Q3 report.pdf");
    assert_eq!((file.width, &file.thumbnail_url), (None, &None));

    let served = ok(get(&bob.without_token(), &file.url).await, "the PDF link");
    assert_eq!(served.body, document);
    let disposition = header_of(&served, "content-disposition");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("Q3 report.pdf"), "{disposition}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_unposted_upload_cannot_be_attached() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (mallory, _) = server.user("mallory").await;
    let chat = group(&mallory, "loot", &[]).await;
    let secret = upload(&alice, "private.png", &png(50, 50), "image/png").await;
    for message_type in [MessageType::Image, MessageType::File] {
        let message = file_message(&chat.summary.chat_id, message_type, &secret.file_id, "");
        assert_api_error(mallory.send(&message).await, ErrorCode::NotFound);
    }
    let unknown = file_message(
        &chat.summary.chat_id,
        MessageType::File,
        "01900000-0000-7000-8000-000000000000",
        "",
    );
    assert_api_error(mallory.send(&unknown).await, ErrorCode::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_message_cannot_carry_a_file() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat = group(&alice, "notes", &[]).await;
    let info = upload(&alice, "a.png", &png(30, 30), "image/png").await;
    let message = file_message(
        &chat.summary.chat_id,
        MessageType::Text,
        &info.file_id,
        "hi",
    );
    assert_api_error(alice.send(&message).await, ErrorCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_message_needs_an_image() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat = group(&alice, "notes", &[]).await;
    let document = upload(&alice, "a.pdf", &pdf(2_000), "application/pdf").await;
    let message = file_message(
        &chat.summary.chat_id,
        MessageType::Image,
        &document.file_id,
        "",
    );
    assert_api_error(alice.send(&message).await, ErrorCode::InvalidRequest);

    let mut without_file = file_message(&chat.summary.chat_id, MessageType::Image, "x", "");
    without_file.file_id = None;
    assert_api_error(alice.send(&without_file).await, ErrorCode::InvalidRequest);

    // An image may be sent as a plain file, though.
    let picture = upload(&alice, "b.png", &png(30, 30), "image/png").await;
    let message = file_message(
        &chat.summary.chat_id,
        MessageType::File,
        &picture.file_id,
        "",
    );
    alice.send(&message).await.expect("an image as a file");
}
