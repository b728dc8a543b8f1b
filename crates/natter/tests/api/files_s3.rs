//! The S3 blob store against a real S3-compatible server: `moto_server`
//! (PyPI `moto[server]`, installed by `.ci/run`) started by the test on a
//! free port, a bucket created over HTTP, and the natter server pointed at
//! `s3://bucket/prefix`. Uploads (an image, a small and a multipart-sized
//! file), downloads, ranges and readiness all go through the bucket.
//!
//! Without `moto_server` on `PATH` the test fails: CI installs it, so a
//! missing one is a broken setup, never a reason to pass silently.

use crate::fixtures::{decode, file_message, get, get_with, jpeg_with_gps, ok, pdf, upload};
use crate::helpers::{TestServer, group, history};
use natter::config::Secret;
use natter_client::header;
use natter_proto::messages::MessageType;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

const BUCKET: &str = "natter-test";

/// A `moto_server` child process, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
    log: std::path::PathBuf,
    _dir: TempDir,
}

impl Moto {
    /// Starts `moto_server` on a free port and waits until it answers
    /// HTTP (moto takes a few seconds to import).
    async fn start() -> Moto {
        let found = Command::new("sh")
            .args(["-c", "command -v moto_server"])
            .output()
            .map(|out| out.status.success())
            .unwrap_or(false);
        assert!(
            found,
            "moto_server is not on PATH: the S3 tests need a real S3-compatible \
             server; install it with `python3 -m pip install 'moto[server]'` \
             (.ci/run does)"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("a directory for moto's log");
        let log = dir.path().join("moto.log");
        let log_file = std::fs::File::create(&log).expect("moto's log file");
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("a second log handle"))
            .stderr(log_file)
            .spawn()
            .expect("moto_server starts");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client");
        let until = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if http.get(&moto.endpoint).send().await.is_ok() {
                return moto;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "moto_server did not answer on {} within a minute; log:\n{}",
                moto.endpoint,
                moto.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates `bucket` with a plain `PUT /bucket`.
    async fn create_bucket(&self, bucket: &str) {
        let response = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client")
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .expect("moto answers");
        assert!(
            response.status().is_success(),
            "creating the bucket: {}",
            response.status()
        );
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A natter server whose files live in `s3://{BUCKET}/prefix` on `moto`.
async fn natter_on(moto: &Moto) -> TestServer {
    let endpoint = moto.endpoint.clone();
    TestServer::spawn_with(move |settings| {
        settings.blob_url = format!("s3://{BUCKET}/natter-files");
        for (key, value) in [
            ("aws_endpoint", endpoint.as_str()),
            ("aws_allow_http", "true"),
            ("aws_access_key_id", "test"),
            ("aws_secret_access_key", "test"),
            ("aws_region", "us-east-1"),
        ] {
            settings
                .blob_options
                .insert(key.to_owned(), Secret(value.to_owned()));
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_round_trip_through_an_s3_bucket() {
    let moto = Moto::start().await;
    moto.create_bucket(BUCKET).await;
    let server = natter_on(&moto).await;
    let ready = server
        .client()
        .raw(natter_client::Method::GET, "/readyz", None, None)
        .await
        .expect("an answer");
    assert_eq!(ready.status, 200, "readyz with S3: {}", ready.text());

    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat = group(&alice, "s3", &[&bob_auth]).await;

    let photo = upload(&alice, "photo.jpg", &jpeg_with_gps(800, 600), "image/jpeg").await;
    alice
        .send(&file_message(
            &chat.summary.chat_id,
            MessageType::Image,
            &photo.file_id,
            "",
        ))
        .await
        .expect("an image message");
    let served = ok(get(&bob.without_token(), &photo.url).await, "the photo");
    assert_eq!(served.body.len() as i64, photo.size);
    assert_eq!(decode(&served.body).width(), 800);
    let thumb = photo.thumbnail_url.clone().expect("a thumbnail");
    let thumb = decode(&ok(get(&bob, &thumb).await, "the thumbnail").body);
    assert_eq!(thumb.width(), 320);

    let document = pdf(40_000);
    let info = upload(&alice, "doc.pdf", &document, "application/pdf").await;
    alice
        .send(&file_message(
            &chat.summary.chat_id,
            MessageType::File,
            &info.file_id,
            "",
        ))
        .await
        .expect("a file message");
    let file = history(&bob, &chat.summary.chat_id)
        .await
        .pop()
        .and_then(|m| m.file)
        .expect("bob sees the file");
    assert_eq!(ok(get(&bob, &file.url).await, "the PDF").body, document);
    let range = get_with(&bob, &file.url, &[(header::RANGE, "bytes=100-1099")]).await;
    assert_eq!(range.status, 206, "{}", range.text());
    assert_eq!(range.body, document[100..1100]);

    // Bigger than one S3 part (5 MiB): a multipart upload to the bucket.
    let big = pdf(6 * 1024 * 1024 + 123);
    let info = upload(&alice, "big.pdf", &big, "application/pdf").await;
    let back = ok(get(&alice, &info.url).await, "the big file");
    assert!(back.body == big, "the big file comes back intact");
    let tail = get_with(&alice, &info.url, &[(header::RANGE, "bytes=-1000")]).await;
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, big[big.len() - 1000..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_reports_a_missing_bucket() {
    let moto = Moto::start().await;
    // No bucket created: the store is configured but cannot be used.
    let server = natter_on(&moto).await;
    let ready = server
        .client()
        .raw(natter_client::Method::GET, "/readyz", None, None)
        .await
        .expect("an answer");
    assert_eq!(
        ready.status,
        503,
        "readyz without a bucket: {}",
        ready.text()
    );
}
