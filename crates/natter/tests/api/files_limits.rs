//! Limits and malformed forms: the upload size limit and the per-user
//! quota (413), what happens to the connection after a refusal, forms
//! without a `file` field and bodies that are not forms (400/415).

use crate::fixtures::{assert_refused, pdf, png, post_files, upload, upload_raw};
use crate::helpers::{TestServer, assert_api_error, assert_problem};
use natter_client::{Method, MultipartBody};
use natter_proto::ErrorCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_size_limit_is_refused_with_413() {
    let server =
        TestServer::spawn_with(|settings| settings.files.max_upload_bytes = 64 * 1024).await;
    let (alice, auth) = server.user("alice").await;
    upload(&alice, "small.pdf", &pdf(60 * 1024), "application/pdf").await;
    // Just over the limit, over it but within the request size the
    // transport accepts (limit + 64 KiB), and far over both. Each on a new
    // connection: what happens to a connection after a refusal is another
    // test.
    for size in [64 * 1024 + 1, 100 * 1024, 2 * 1024 * 1024] {
        let fresh = server.client().with_token(auth.access_token.clone());
        let result = fresh
            .upload_file("big.pdf", &pdf(size), "application/pdf")
            .await;
        assert_api_error(result, ErrorCode::PayloadTooLarge);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_over_the_request_limit_is_413_wherever_the_limit_trips() {
    let server =
        TestServer::spawn_with(|settings| settings.files.max_upload_bytes = 64 * 1024).await;
    let (alice, _) = server.user("alice").await;
    // The request may be at most the file limit plus 64 KiB of envelope.
    // A 100 KiB caption field before a 50 KiB file puts the body over that
    // while the file is being read: the same thing that happens to a big
    // file when the server happens to read it in large chunks (a connection
    // already in use). It is still "too large", not a malformed request.
    let boundary = "b0undary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n",
        "c".repeat(100 * 1024)
    )
    .into_bytes();
    body.extend(pdf(50 * 1024));
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let response = post_files(&alice, body, &content_type).await;
    assert_problem(&response, ErrorCode::PayloadTooLarge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_refused_big_upload_the_next_request_still_works() {
    let server =
        TestServer::spawn_with(|settings| settings.files.max_upload_bytes = 64 * 1024).await;
    let (alice, _) = server.user("alice").await;
    // The refusal comes before the body is read; the server must not leave
    // the client a kept-alive connection it is about to close. Repeated:
    // the failure is a race.
    for round in 0..10 {
        let refused = upload_raw(&alice, "big.pdf", &pdf(2 * 1024 * 1024), "application/pdf").await;
        assert!(
            matches!(refused.status, 400 | 413),
            "round {round}: {}",
            refused.status
        );
        let next = alice
            .upload_file("small.pdf", &pdf(1024), "application/pdf")
            .await;
        assert!(
            next.is_ok(),
            "round {round}: the next upload failed: {next:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_that_exceeds_a_users_quota_is_refused_with_413() {
    let server =
        TestServer::spawn_with(|settings| settings.files.quota_bytes_per_user = 20_000).await;
    let (alice, _) = server.user("alice").await;
    let (bob, _) = server.user("bob").await;
    upload(&alice, "one.pdf", &pdf(8_000), "application/pdf").await;
    upload(&alice, "two.pdf", &pdf(8_000), "application/pdf").await;
    let result = alice
        .upload_file("three.pdf", &pdf(8_000), "application/pdf")
        .await;
    assert_api_error(result, ErrorCode::PayloadTooLarge);
    // What still fits is accepted, and the quota is per user.
    upload(&alice, "small.pdf", &pdf(3_000), "application/pdf").await;
    upload(&bob, "bobs.pdf", &pdf(8_000), "application/pdf").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_a_file_field_is_a_bad_request() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let form = MultipartBody::file("attachment", "a.pdf", &pdf(300), "application/pdf");
    let response = post_files(&alice, form.body, &form.content_type).await;
    let problem = assert_problem(&response, ErrorCode::InvalidRequest);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("file"),
        "{problem}"
    );

    let empty = "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--b--\r\n";
    let response = post_files(&alice, empty.into(), "multipart/form-data; boundary=b").await;
    assert_problem(&response, ErrorCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_a_form_is_refused() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    for content_type in ["application/json", "image/png", "multipart/form-data"] {
        let response = post_files(&alice, png(10, 10), content_type).await;
        assert_refused(&response, content_type);
    }
    let response = alice
        .raw(Method::POST, "/api/v1/files", Some(b"x".to_vec()), None)
        .await
        .expect("an HTTP answer");
    assert!(matches!(response.status, 400 | 415), "{}", response.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_file_and_an_anonymous_upload_are_refused() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let result = alice.upload_file("empty.txt", b"", "text/plain").await;
    assert_api_error(result, ErrorCode::InvalidRequest);
    let result = server
        .client()
        .upload_file("a.pdf", &pdf(300), "application/pdf")
        .await;
    assert_api_error(result, ErrorCode::Unauthorized);
}
