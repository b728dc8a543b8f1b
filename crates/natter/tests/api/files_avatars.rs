//! Avatars: a user's own image becomes a thumbnail link every user can
//! open; nobody can borrow someone else's file (or a non-image) for it.

use crate::fixtures::{decode, file_path, get, jpeg, ok, pdf, png, upload};
use crate::helpers::{TestServer, assert_api_error};
use natter_proto::ErrorCode;
use natter_proto::users::UpdateMe;

fn avatar(file_id: &str) -> UpdateMe {
    UpdateMe {
        avatar_file_id: Some(file_id.to_owned()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_avatar_is_a_thumbnail_everyone_can_open() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, _) = server.user("bob").await;
    let picture = upload(&alice, "me.jpg", &jpeg(640, 480), "image/jpeg").await;
    let me = alice
        .update_me(&avatar(&picture.file_id))
        .await
        .expect("setting my avatar");
    let link = me.avatar_url.expect("an avatar_url");
    let served = ok(get(&alice.without_token(), &link).await, "my avatar link");
    let pixels = decode(&served.body);
    assert!(pixels.width().max(pixels.height()) <= 320);

    let seen = bob.user(&alice_auth.user.user_id).await.unwrap();
    let bobs_link = seen.avatar_url.expect("bob sees alice's avatar_url");
    ok(get(&bob.without_token(), &bobs_link).await, "bob opens it");
    ok(
        get(&bob, &file_path(&picture.file_id)).await,
        "bob by token",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_my_own_image_can_be_my_avatar() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, _) = server.user("bob").await;
    let bobs = upload(&bob, "bob.png", &png(60, 60), "image/png").await;
    let result = alice.update_me(&avatar(&bobs.file_id)).await;
    assert_api_error(result, ErrorCode::NotFound);
    let document = upload(&alice, "cv.pdf", &pdf(600), "application/pdf").await;
    let result = alice.update_me(&avatar(&document.file_id)).await;
    assert_api_error(result, ErrorCode::InvalidRequest);
    assert_eq!(alice.me().await.unwrap().avatar_url, None);
}
