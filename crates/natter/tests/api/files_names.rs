//! Client file names: metadata only, never a storage key. Path parts,
//! control and bidi characters and Windows device names are cleaned; the
//! name cannot break out of `Content-Disposition`.

use crate::fixtures::{get, header_of, ok, pdf, post_files, stored, upload, upload_raw};
use crate::helpers::{TestServer, assert_problem};
use natter_client::{Client, RawResponse};
use natter_proto::ErrorCode;

/// parameters, written as is (for escapes no client library produces).
async fn upload_with_disposition(client: &Client, disposition: &str, bytes: &[u8]) -> RawResponse {
    let mut body = format!(
        "--b0undary\r\nContent-Disposition: form-data; {disposition}\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend(bytes);
    body.extend(b"\r\n--b0undary--\r\n");
    post_files(client, body, "multipart/form-data; boundary=b0undary").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangerous_file_names_come_back_sanitised() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let cases = [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("/var/www/html/index.php", "index.php"),
        ("tab\there.txt", "tabhere.txt"),
        ("next\u{85}line\u{9b}.txt", "nextline.txt"),
        ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT1.pdf", "_LPT1.pdf"),
        ("...", "file"),
        (".htaccess", "htaccess"),
    ];
    for (sent, expected) in cases {
        let response = upload_raw(&alice, sent, &pdf(300), "application/pdf").await;
        let info = stored(&response, sent);
        assert_eq!(info.name, expected, "name of {sent:?}");
        let served = ok(get(&alice, &info.url).await, sent);
        let disposition = header_of(&served, "content-disposition");
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(
            disposition.contains(&format!("filename=\"{expected}\"")),
            "{sent:?}: {disposition}"
        );
        assert!(!disposition.contains('/') && !disposition.contains('\\'));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_and_control_bytes_in_a_file_name_are_refused_by_the_form_parser() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    // Raw control bytes are not allowed in a part header: the upload is
    // refused before any name is stored (a client cannot smuggle them).
    for sent in [
        "evil\0.png.exe",
        "bell\u{7}.txt",
        "esc\u{1b}[31m.txt",
        "del\u{7f}.txt",
    ] {
        let response = upload_raw(&alice, sent, &pdf(300), "application/pdf").await;
        assert_problem(&response, ErrorCode::InvalidRequest);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quoted_file_name_cannot_inject_header_parameters() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let disposition = r#"name="file"; filename="x\"; filename=\"evil.html""#;
    let response = upload_with_disposition(&alice, disposition, &pdf(300)).await;
    let info = stored(&response, "the quoted name");
    assert_eq!(info.name, r#"x"; filename="evil.html"#);
    let served = ok(get(&alice, &info.url).await, "the file");
    let header = header_of(&served, "content-disposition");
    assert!(header.starts_with("attachment; filename=\""), "{header}");
    assert_eq!(header.matches('"').count(), 2, "one quoted name: {header}");
    assert!(!header.contains("filename=\"evil.html"), "{header}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_very_long_file_name_is_shortened_keeping_its_extension() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let long = format!("{}.pdf", "é".repeat(600));
    let info = upload(&alice, &long, &pdf(300), "application/pdf").await;
    assert!(info.name.len() <= 255, "{} bytes", info.name.len());
    assert!(info.name.ends_with(".pdf"));
}
