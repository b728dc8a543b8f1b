//! Backends are chosen by URL scheme when `natter serve` starts: a scheme
//! this build has no backend for is refused at once with a message that
//! names it, and the URL's credentials never reach the log (settings are
//! logged at debug level with URLs redacted).

use std::process::Command;

/// Runs `natter serve` with `NATTER_LOG=debug` and these extra flags;
/// returns whether it exited with success and what it wrote to stderr.
fn serve(args: &[&str]) -> (bool, String) {
    let data_dir = tempfile::tempdir().expect("a data directory");
    let output = Command::new(env!("CARGO_BIN_EXE_natter"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir.path())
        .args(args)
        .env("NATTER_LOG", "debug")
        .env_remove("NATTER_DATABASE_URL")
        .env_remove("NATTER_BUS_URL")
        .output()
        .expect("the natter binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_database_scheme_is_refused_and_its_password_is_never_logged() {
    let (ok, log) = serve(&[
        "--database-url",
        "mysql://natter:hunter2@127.0.0.1:1/natter?sslpassword=sesame",
    ]);
    assert!(!ok, "the server must not start: {log}");
    assert!(log.contains("mysql://"), "the scheme is named: {log}");
    assert!(log.contains("is not supported"), "{log}");
    assert!(
        log.contains("[redacted]"),
        "settings were logged redacted: {log}"
    );
    assert!(!log.contains("hunter2") && !log.contains("sesame"), "{log}");
}

#[test]
fn an_unreachable_postgres_fails_the_start_without_logging_its_password() {
    let (ok, log) = serve(&[
        "--database-url",
        "postgres://natter:hunter2@127.0.0.1:1/natter?sslpassword=sesame",
    ]);
    assert!(!ok, "the server must not start: {log}");
    assert!(log.contains("opening the database"), "{log}");
    assert!(!log.contains("hunter2") && !log.contains("sesame"), "{log}");
}

#[test]
fn an_unknown_bus_scheme_is_refused_and_its_token_is_never_logged() {
    let (ok, log) = serve(&["--bus-url", "amqp://t0ken@127.0.0.1:1"]);
    assert!(!ok, "the server must not start: {log}");
    assert!(log.contains("amqp://"), "{log}");
    assert!(!log.contains("t0ken"), "{log}");
}

#[test]
fn an_unreachable_nats_fails_the_start_without_logging_its_token() {
    let (ok, log) = serve(&["--bus-url", "nats://t0ken@127.0.0.1:1"]);
    assert!(!ok, "the server must not start: {log}");
    assert!(log.contains("connecting to NATS"), "{log}");
    assert!(!log.contains("t0ken"), "{log}");
}
