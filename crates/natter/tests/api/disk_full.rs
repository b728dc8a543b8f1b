//! A full disk: sends are refused with 503 `unavailable` saying that
//! storage is full, `/readyz` turns 503 and the `natter_storage_full`
//! gauge 1, the outage is logged once (not per request); once space is
//! freed, writes and readiness come back by themselves, and every
//! acknowledged message is there exactly once, also after a SIGKILL.
//!
//! The data directory is a small tmpfs the test mounts, so it needs root
//! (CI runs as root); elsewhere it says why it did not run.

use crate::helpers::{eventually, history};
use crate::process::launch;
use natter_client::{Client, ClientError, RawResponse};
use natter_proto::ErrorCode;
use natter_proto::auth::RegisterRequest;
use natter_proto::chats::{ChatType, CreateChat};
use reqwest::Method;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The tmpfs: small, so filling it is quick.
const DISK_MIB: u32 = 16;
/// Sends tried on the full disk before the test gives up on a refusal.
const MAX_SENDS: usize = 2_000;
/// Large messages fill the log quickly.
const CONTENT_CHARS: usize = 4_000;
const FULL_LINE: &str = "storage is full: writes fail until space is freed";
const ROOM_LINE: &str = "storage has room again";

/// A tmpfs mounted at a directory, unmounted on drop.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// None when mounting is not possible here (not root).
    fn mount(dir: &Path, mib: u32) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).expect("a mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|status| status.success());
        mounted.then(|| Tmpfs {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Writes zeros to `path` until the file system has no byte left.
fn fill(path: &Path) {
    let mut ballast = File::create(path).expect("a ballast file");
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match ballast.write(&chunk) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::StorageFull => return,
            Err(error) => panic!("filling the disk: {error}"),
        }
    }
}

async fn get(client: &Client, path: &str) -> RawResponse {
    client
        .raw(Method::GET, path, None, None)
        .await
        .expect("an HTTP answer")
}

async fn storage_full_gauge(client: &Client) -> Option<String> {
    let metrics = get(client, "/metrics").await.text();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("natter_storage_full "))
        .map(str::to_owned)
}

/// Sends ten messages that must all be acknowledged; keeps their ids.
async fn send_acknowledged(client: &Client, chat_id: &str, content: &str, acked: &mut Vec<String>) {
    for _ in 0..10 {
        let ack = client.send_text(chat_id, content).await.expect("a send");
        acked.push(ack.message_id);
    }
}

fn lines_with(log: &str, needle: &str) -> usize {
    log.lines().filter(|line| line.contains(needle)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_with_503_and_recovers_when_space_is_freed() {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let Some(disk) = Tmpfs::mount(&temp.path().join("disk"), DISK_MIB) else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let data_dir = disk.dir.join("data");
    // A log bound well below the disk, as an operator would set it.
    let env = [("NATTER_STORE__WAL_MAX_BYTES", "2097152")];
    let mut server = launch(&data_dir, &temp.path().join("first.log"), &env).await;
    let anonymous = Client::new(server.base_url());
    let auth = anonymous
        .register(&RegisterRequest {
            username: "alice".into(),
            password: crate::helpers::PASSWORD.into(),
            display_name: None,
            device_name: None,
        })
        .await
        .expect("register");
    let alice = anonymous.with_token(auth.access_token.clone());
    let chat_id = alice
        .create_chat(&CreateChat {
            e2ee: false,
            chat_type: ChatType::Group,
            name: Some("notes".into()),
            member_ids: vec![],
        })
        .await
        .expect("a group")
        .summary
        .chat_id;
    let content = "x".repeat(CONTENT_CHARS);
    let mut acked = Vec::new();
    send_acknowledged(&alice, &chat_id, &content, &mut acked).await;

    let ballast = disk.dir.join("ballast");
    fill(&ballast);
    let mut refused = 0;
    for _ in 0..MAX_SENDS {
        match alice.send_text(&chat_id, &content).await {
            Ok(ack) => acked.push(ack.message_id),
            Err(ClientError::Api { status, problem }) => {
                assert_eq!(
                    (status, problem.code),
                    (503, ErrorCode::Unavailable),
                    "{problem:?}"
                );
                assert!(problem.detail.contains("storage is full"), "{problem:?}");
                refused += 1;
                if refused == 5 {
                    break;
                }
            }
            Err(other) => panic!("a send on the full disk: {other}"),
        }
    }
    assert_eq!(refused, 5, "the full disk never refused a send");

    // A checkpoint that empties the log after the refusals frees a little
    // room, and a readiness probe's write may then fit (which rightly
    // reads as ready): what it freed is filled again until the disk stays
    // full, as it would on a busy machine.
    let mut ready = get(&anonymous, "/readyz").await;
    let mut topped_up = Vec::new();
    while ready.status != 503 && topped_up.len() < 5 {
        let more = disk.dir.join(format!("ballast{}", topped_up.len()));
        fill(&more);
        topped_up.push(more);
        ready = get(&anonymous, "/readyz").await;
    }
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert!(ready.text().contains("storage is full"), "{}", ready.text());
    assert_eq!(storage_full_gauge(&anonymous).await.as_deref(), Some("1"));
    let log = server.log();
    assert_eq!(
        lines_with(&log, FULL_LINE),
        lines_with(&log, ROOM_LINE) + 1,
        "one line per episode, the last one still going:\n{log}"
    );
    assert!(
        lines_with(&log, FULL_LINE) < refused,
        "logged per request:\n{log}"
    );
    // Reading still works.
    let seen: Vec<String> = history(&alice, &chat_id)
        .await
        .into_iter()
        .map(|message| message.message_id)
        .collect();
    assert_eq!(seen, acked);

    for file in std::iter::once(&ballast).chain(&topped_up) {
        std::fs::remove_file(file).expect("freeing the space");
    }
    eventually("ready again", Duration::from_secs(30), || async {
        (get(&anonymous, "/readyz").await.status == 200).then_some(())
    })
    .await;
    assert_eq!(storage_full_gauge(&anonymous).await.as_deref(), Some("0"));
    assert!(server.log().contains(ROOM_LINE), "{}", server.log_tail());
    send_acknowledged(&alice, &chat_id, &content, &mut acked).await;

    server.kill();
    let server = launch(&data_dir, &temp.path().join("second.log"), &env).await;
    let alice = alice.with_base_url(server.base_url().to_owned());
    let messages = history(&alice, &chat_id).await;
    let ids: Vec<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
    let expected: Vec<&str> = acked.iter().map(String::as_str).collect();
    assert_eq!(ids, expected, "every acknowledged message, once, in order");
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=acked.len() as i64).collect::<Vec<_>>(),
        "no gaps"
    );
    drop(server);
}
