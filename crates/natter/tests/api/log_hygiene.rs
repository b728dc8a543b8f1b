//! What an internal error costs the log: one line naming its cause, also
//! with `RUST_BACKTRACE=1` (a backtrace per request would let any user
//! write ~50 KiB of log at will), and nothing of it reaches the client.
//!
//! The failure is real: the blob directory is replaced by a plain file,
//! so storing an upload fails inside the server.

use crate::helpers::{PASSWORD, assert_api_error};
use crate::process::launch;
use natter_client::Client;
use natter_proto::ErrorCode;
use natter_proto::auth::RegisterRequest;

const FAILURES: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_error_logs_one_short_line_without_a_backtrace() {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let data_dir = temp.path().join("data");
    let env = [("RUST_BACKTRACE", "1"), ("RUST_LIB_BACKTRACE", "1")];
    let server = launch(&data_dir, &temp.path().join("natter.log"), &env).await;
    let anonymous = Client::new(server.base_url());
    let auth = anonymous
        .register(&RegisterRequest {
            username: "alice".into(),
            password: PASSWORD.into(),
            display_name: None,
            device_name: None,
        })
        .await
        .expect("register");
    let alice = anonymous.with_token(auth.access_token);

    let files = data_dir.join("files");
    std::fs::remove_dir_all(&files).expect("the blob directory exists");
    std::fs::write(&files, b"not a directory").expect("a file in its place");
    let before = server.log().len();
    for _ in 0..FAILURES {
        let problem = assert_api_error(
            alice.upload_file("notes.txt", b"hello", "text/plain").await,
            ErrorCode::Internal,
        );
        assert_eq!(problem.detail, "an internal error occurred");
    }

    let log = server.log();
    let written = &log[before..];
    let lines: Vec<&str> = written
        .lines()
        .filter(|line| line.contains("internal error"))
        .collect();
    assert_eq!(lines.len(), FAILURES, "one line per failure:\n{written}");
    for line in &lines {
        assert!(line.len() < 2_000, "a long line: {line}");
        assert!(line.contains("object store"), "the cause is named: {line}");
    }
    assert!(
        !written.to_lowercase().contains("backtrace"),
        "a backtrace was logged:\n{written}"
    );
    assert!(
        written.len() < FAILURES * 2_000,
        "{} bytes of log for {FAILURES} failures:\n{written}",
        written.len()
    );
}
