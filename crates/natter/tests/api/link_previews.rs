//! `GET /api/v1/link-preview`: previews of pages served by the test
//! itself ([`site`]) with private addresses allowed, the image re-encoded
//! and served by signed link, the cache, and the SSRF guards: redirects
//! (at most 3, each hop checked), private addresses and ports other than
//! 80 and 443 with the setting off, size and time bounds, bad URLs, the
//! page's charset, the sweep of stale rows and images, and the switch
//! that turns it all off. Asked through the Rust client
//! ([`Client::link_preview`]) unless a test is about the raw answer.

mod site;

use crate::fixtures::{contains, decode, jpeg_with_gps};
use crate::helpers::{TestServer, WAIT, assert_api_error, assert_problem, eventually, raw_get};
use natter_client::{Client, ClientError, Method, RawResponse};
use natter_proto::ErrorCode;
use natter_proto::previews::LinkPreview;
use site::{Answer, Site, encode, og_page};

/// A server that may fetch from 127.0.0.1 (the test's site).
async fn server() -> TestServer {
    server_with(|_| {}).await
}

/// As [`server`], with more settings changed.
async fn server_with(change: impl FnOnce(&mut natter_config::Settings)) -> TestServer {
    TestServer::spawn_with(|settings| {
        settings.link_previews.allow_private_addresses = true;
        change(settings);
    })
    .await
}

/// What the client makes of a preview answer.
type Answered = Result<Option<LinkPreview>, ClientError>;

/// Asks `client`'s server for the preview of `url` (`None`: a 204).
async fn preview(client: &Client, url: &str) -> Answered {
    tokio::time::timeout(WAIT, client.link_preview(url))
        .await
        .expect("a preview answer")
}

/// The preview of `url`, which must have one.
#[track_caller]
fn ok(answer: Answered) -> LinkPreview {
    answer
        .expect("a preview answer")
        .expect("a preview, not a 204")
}

/// "Nothing to preview": a 204.
#[track_caller]
fn nothing(answer: Answered) {
    assert_eq!(answer.expect("a preview answer"), None);
}

/// The raw answer to a preview of `url`, for tests of the HTTP itself.
async fn preview_raw(client: &Client, url: &str) -> RawResponse {
    let path = format!("/api/v1/link-preview?url={}", encode(url));
    tokio::time::timeout(WAIT, raw_get(client, Method::GET, &path))
        .await
        .expect("a preview answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_preview_has_its_title_description_site_name_and_a_reencoded_image() {
    let original = jpeg_with_gps(1200, 750);
    assert!(contains(&original, b"Exif\0\0"), "the fixture carries EXIF");
    let site = Site::start(vec![
        ("/page", og_page("Local page", "/cover.jpg")),
        ("/cover.jpg", Answer::Body("image/jpeg", original)),
    ])
    .await;
    let server = server().await;
    let (alice, _) = server.user("alice").await;
    let found = ok(preview(&alice, &site.url("/page#section")).await);
    assert_eq!(found.url, site.url("/page"), "normalized, no fragment");
    assert_eq!(found.title.as_deref(), Some("Local page"));
    assert_eq!(
        found.description.as_deref(),
        Some("A page served by the test itself.")
    );
    assert_eq!(found.site_name.as_deref(), Some("Local Site"));
    let image = found.image.expect("an image");
    let (width, height) = (u64::from(image.width), u64::from(image.height));
    assert_eq!(
        (width, height),
        (320, 200),
        "thumbnail size, aspect ratio kept"
    );

    let link = image.url.as_str();
    assert!(link.starts_with("/api/v1/link-preview/images/"), "{link}");
    // Signed: no token needed, as for <img src>.
    let served = raw_get(&server.client(), Method::GET, link).await;
    assert_eq!(served.status, 200, "{}", served.text());
    assert_eq!(served.content_type(), Some("image/jpeg"));
    assert!(
        !contains(&served.body, b"Exif"),
        "metadata must be stripped"
    );
    let image = decode(&served.body);
    assert_eq!(
        (u64::from(image.width()), u64::from(image.height())),
        (width, height)
    );
    assert_eq!(site.hits("/cover.jpg"), 1);

    let tampered = link.replace("sig=", "sig=x");
    assert_problem(
        &raw_get(&server.client(), Method::GET, &tampered).await,
        ErrorCode::NotFound,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_is_fetched_once_however_many_ask_and_however_often() {
    let site = Site::start(vec![("/page", og_page("Cached", "/none.png"))]).await;
    let server = server().await;
    let (alice, _) = server.user("alice").await;
    let (bob, _) = server.user("bob").await;
    let url = site.url("/page");
    // Concurrent first requests wait for one fetch.
    let asks: Vec<_> = (0..6)
        .map(|i| {
            let client = if i % 2 == 0 {
                alice.clone()
            } else {
                bob.clone()
            };
            let url = url.clone();
            tokio::spawn(async move { preview(&client, &url).await })
        })
        .collect();
    for ask in asks {
        assert_eq!(ok(ask.await.unwrap()).title.as_deref(), Some("Cached"));
    }
    assert_eq!(
        ok(preview(&bob, &url).await).title.as_deref(),
        Some("Cached")
    );
    assert_eq!(site.hits("/page"), 1, "one fetch for everyone");
    assert_eq!(
        site.hits("/none.png"),
        1,
        "the missing image was tried once"
    );
    let without_image = ok(preview(&alice, &url).await);
    assert!(without_image.image.is_none(), "{without_image:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_with_nothing_to_preview_is_a_204_that_is_remembered() {
    let site = Site::start(vec![
        (
            "/plain",
            Answer::Body("text/html", b"<p>nothing here</p>".to_vec()),
        ),
        (
            "/json",
            Answer::Body("application/json", b"{\"title\":\"x\"}".to_vec()),
        ),
    ])
    .await;
    let server = server().await;
    let (alice, _) = server.user("alice").await;
    for path in ["/plain", "/json", "/missing"] {
        let answer = preview_raw(&alice, &site.url(path)).await;
        assert_eq!(answer.status, 204, "{path}: {}", answer.text());
        assert!(answer.body.is_empty(), "{path}: 204 has no body");
        nothing(preview(&alice, &site.url(path)).await);
        assert_eq!(site.hits(path), 1, "{path}: the failure is cached too");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_redirects_are_followed_and_a_fourth_is_refused() {
    let site = Site::start(vec![("/page", og_page("Arrived", "/x.png"))]).await;
    let mut pages = vec![("/page", og_page("Arrived", "/x.png"))];
    let hops: Vec<(String, String)> = (1..=4)
        .map(|n| {
            (
                format!("/r{n}"),
                if n == 1 {
                    site.url("/page")
                } else {
                    format!("/r{}", n - 1)
                },
            )
        })
        .collect();
    for (path, to) in &hops {
        pages.push((path.as_str(), Answer::Redirect(to.clone())));
    }
    // A second site with the chain (the first one's page is its target).
    let chain = Site::start(pages).await;
    let server = server().await;
    let (alice, _) = server.user("alice").await;
    assert_eq!(
        ok(preview(&alice, &chain.url("/r3")).await)
            .title
            .as_deref(),
        Some("Arrived")
    );
    assert_eq!(site.hits("/page"), 1);
    nothing(preview(&alice, &chain.url("/r4")).await);
    assert_eq!(
        chain.hits("/r1"),
        2,
        "the fourth redirect was never followed"
    );
    assert_eq!(
        site.hits("/page"),
        1,
        "the page behind four redirects was not fetched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_other_schemes_are_refused() {
    let site = Site::start(vec![
        ("/to-file", Answer::Redirect("file:///etc/passwd".into())),
        ("/to-ftp", Answer::Redirect("ftp://127.0.0.1/x".into())),
        (
            "/to-credentials",
            Answer::Redirect("http://user:pw@127.0.0.1/".into()),
        ),
    ])
    .await;
    let server = server().await;
    let (alice, _) = server.user("alice").await;
    // (https to http is refused too: a unit test of the hop rule in
    // core, as a local chain cannot be https.)
    for path in ["/to-file", "/to-ftp", "/to-credentials"] {
        nothing(preview(&alice, &site.url(path)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_without_a_request_unless_allowed() {
    let site = Site::start(vec![("/page", og_page("Private", "/x.png"))]).await;
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    // An IP literal: refused from the URL alone.
    let problem = assert_problem(
        &preview_raw(&alice, &site.url("/page")).await,
        ErrorCode::InvalidRequest,
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not a public address"),
        "{problem}"
    );
    for literal in [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
    ] {
        assert_api_error(preview(&alice, literal).await, ErrorCode::InvalidRequest);
    }
    // A name that resolves to loopback: the resolver yields no address,
    // so it is a page that cannot be fetched. (On the site's port it is
    // refused for the port first.)
    nothing(preview(&alice, "http://localhost/page").await);
    let port = site.base.rsplit(':').next().unwrap();
    let by_name = format!("http://localhost:{port}/page");
    assert_api_error(preview(&alice, &by_name).await, ErrorCode::InvalidRequest);
    assert_eq!(site.hits("/page"), 0, "nothing reached the private site");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_and_slow_pages_are_bounded() {
    let padding = "x".repeat(600 * 1024);
    let late = format!("<html><head><!-- {padding} --><title>Too late</title></head></html>");
    let early = format!(
        "<html><head><title>Early title</title></head><body>{}</body></html>",
        "y".repeat(32 * 1024 * 1024)
    );
    let site = Site::start(vec![
        ("/late", Answer::Body("text/html", late.into_bytes())),
        ("/huge", Answer::Body("text/html", early.into_bytes())),
        ("/slow", Answer::Stall),
    ])
    .await;
    let server = TestServer::spawn_with(|settings| {
        settings.link_previews.allow_private_addresses = true;
        settings.link_previews.fetch_timeout_ms = 1500;
    })
    .await;
    let (alice, _) = server.user("alice").await;
    // Only the first 512 KiB are read: a title after them is not seen.
    nothing(preview(&alice, &site.url("/late")).await);
    // A huge page is cut, not read to its end.
    assert_eq!(
        ok(preview(&alice, &site.url("/huge")).await)
            .title
            .as_deref(),
        Some("Early title")
    );
    let written = crate::helpers::eventually("the huge page's write to end", WAIT, || async {
        site.completed("/huge")
    })
    .await;
    assert!(!written, "32 MiB were not all read: the server hung up");
    // A page that never finishes gives up at the time limit.
    nothing(preview(&alice, &site.url("/slow")).await);
    assert_eq!(site.hits("/slow"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_or_oversized_image_only_drops_the_image() {
    let site = Site::start(vec![
        ("/fake", og_page("Fake image", "/fake.png")),
        (
            "/fake.png",
            Answer::Body("image/png", b"<svg onload=alert(1)>".to_vec()),
        ),
        ("/html-image", og_page("HTML image", "/page.png")),
        (
            "/page.png",
            Answer::Body("text/html", b"<p>hi</p>".to_vec()),
        ),
        ("/big", og_page("Big image", "/big.png")),
        (
            "/big.png",
            Answer::Body("image/png", vec![0x89; 6 * 1024 * 1024]),
        ),
    ])
    .await;
    let server = server().await;
    let (alice, _) = server.user("alice").await;
    for (path, title) in [
        ("/fake", "Fake image"),
        ("/html-image", "HTML image"),
        ("/big", "Big image"),
    ] {
        let found = ok(preview(&alice, &site.url(path)).await);
        assert_eq!(found.title.as_deref(), Some(title));
        assert!(found.image.is_none(), "{path}: {found:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_are_400_and_a_token_is_needed() {
    let server = server().await;
    let (alice, _) = server.user("alice").await;
    let long = format!("https://example.com/{}", "a".repeat(2048));
    for bad in [
        "",
        "ftp://example.com/file",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "not a url",
        long.as_str(),
    ] {
        assert_problem(&preview_raw(&alice, bad).await, ErrorCode::InvalidRequest);
    }
    assert_problem(
        &raw_get(&alice, Method::GET, "/api/v1/link-preview").await,
        ErrorCode::InvalidRequest,
    );
    assert_api_error(
        preview(&server.client(), "https://example.com/").await,
        ErrorCode::Unauthorized,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_beyond_the_per_user_rate_are_429() {
    let site = Site::start(vec![
        ("/a", og_page("A", "/x.png")),
        ("/b", og_page("B", "/x.png")),
    ])
    .await;
    let server = TestServer::spawn_with(|settings| {
        settings.link_previews.allow_private_addresses = true;
        settings.rate_limit.enabled = true;
        settings.link_previews.per_user_per_minute = 1;
    })
    .await;
    let (alice, _) = server.user("alice").await;
    let (bob, _) = server.user("bob").await;
    ok(preview(&alice, &site.url("/a")).await);
    let limited = preview_raw(&alice, &site.url("/b")).await;
    assert_problem(&limited, ErrorCode::RateLimited);
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(
        ok(preview(&alice, &site.url("/a")).await).title.as_deref(),
        Some("A"),
        "cached answers are free"
    );
    assert_eq!(
        ok(preview(&bob, &site.url("/b")).await).title.as_deref(),
        Some("B"),
        "each user has a bucket"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turned_off_previews_are_404_and_server_info_says_so() {
    let site = Site::start(vec![("/page", og_page("Off", "/x.png"))]).await;
    let server = TestServer::spawn_with(|settings| {
        settings.link_previews.allow_private_addresses = true;
        settings.link_previews.enabled = false;
    })
    .await;
    let (alice, _) = server.user("alice").await;
    let problem = assert_api_error(
        preview(&alice, &site.url("/page")).await,
        ErrorCode::NotFound,
    );
    assert!(problem.detail.contains("turned off"), "{problem:?}");
    assert_eq!(site.hits("/page"), 0);
    let info = raw_get(&server.client(), Method::GET, "/api/v1/server")
        .await
        .json()
        .unwrap();
    assert_eq!(info["link_previews"], false);
    let on = TestServer::spawn().await;
    let info = raw_get(&on.client(), Method::GET, "/api/v1/server")
        .await
        .json()
        .unwrap();
    assert_eq!(info["link_previews"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_ports_80_and_443_are_fetched_unless_private_addresses_are_allowed() {
    let strict = TestServer::spawn().await;
    let (alice, _) = strict.user("alice").await;
    for (url, port) in [
        ("http://example.com:8080/", "8080"),
        ("https://example.com:22/", "22"),
        ("http://93.184.215.14:6379/", "6379"),
    ] {
        let problem = assert_api_error(preview(&alice, url).await, ErrorCode::InvalidRequest);
        let detail = problem.detail;
        assert!(detail.contains(&format!("port {port}")), "{url}: {detail}");
    }
    // With private addresses allowed (as in the other tests) the site's
    // own port is fetched. A redirect hop to another port is refused as
    // the first URL is (a unit test in core: no public site here to
    // redirect from).
    let site = Site::start(vec![("/page", og_page("Any port", "/x.png"))]).await;
    let lenient = server().await;
    let (bob, _) = lenient.user("bob").await;
    assert_eq!(
        ok(preview(&bob, &site.url("/page")).await).title.as_deref(),
        Some("Any port")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_read_in_the_charset_it_declares() {
    // "Café & crème" in windows-1252: é and è are single bytes.
    let page = |head: &[u8]| {
        [
            b"<html><head>".as_slice(),
            head,
            b"<title>Caf\xe9 &amp; cr\xe8me</title></head></html>",
        ]
        .concat()
    };
    let site = Site::start(vec![
        (
            "/header",
            Answer::Body("text/html; charset=windows-1252", page(b"")),
        ),
        (
            "/meta",
            Answer::Body("text/html", page(b"<meta charset=\"windows-1252\">")),
        ),
        (
            "/utf8",
            Answer::Body("text/html", "<title>Café ✓</title>".as_bytes().to_vec()),
        ),
    ])
    .await;
    let server = server().await;
    let (alice, _) = server.user("alice").await;
    for path in ["/header", "/meta"] {
        assert_eq!(
            ok(preview(&alice, &site.url(path)).await).title.as_deref(),
            Some("Café & crème"),
            "{path}"
        );
    }
    assert_eq!(
        ok(preview(&alice, &site.url("/utf8")).await)
            .title
            .as_deref(),
        Some("Café ✓"),
        "UTF-8 when nothing is declared"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_previews_and_their_images_are_swept() {
    let site = Site::start(vec![
        ("/page", og_page("Swept", "/cover.jpg")),
        (
            "/cover.jpg",
            Answer::Body("image/jpeg", crate::fixtures::jpeg_with_gps(64, 64)),
        ),
    ])
    .await;
    // Nothing stays fresh, and the sweep runs every second.
    let server = server_with(|settings| {
        settings.link_previews.cache_ttl_secs = 0;
        settings.link_previews.failure_ttl_secs = 0;
        settings.files.orphan_sweep_secs = 1;
    })
    .await;
    let (alice, _) = server.user("alice").await;
    let found = ok(preview(&alice, &site.url("/page")).await);
    // (That such a link serves the image is the first test's; here the
    // sweep may already have run.)
    let link = found.image.expect("an image").url;
    eventually("the stale preview's image to be deleted", WAIT, || async {
        (raw_get(&server.client(), Method::GET, &link).await.status == 404).then_some(())
    })
    .await;
}
