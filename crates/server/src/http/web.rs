//! The browser client (`crates/server/web/`): plain HTML, CSS and ES
//! modules embedded in the binary with `include_bytes!`, so a fresh clone
//! serves it with no build step. `/` is `index.html`; `/sw.js` is the
//! service worker (`web/sw.js`, at the root so that its scope may be the
//! whole origin); everything is also under `/assets/` by its path in
//! `web/`.
//!
//! Caching: every response carries an `ETag` (SHA-256 of the bytes served,
//! computed once on first use) and answers `If-None-Match` with `304`.
//! `index.html` is `no-cache` (always revalidated), and it links every
//! asset as `/assets/v-VERSION/...`, VERSION being a digest of all embedded
//! files: those URLs change with any file, so they are cached as
//! `immutable` and a returning visit loads no module over the network,
//! while an upgraded binary can never mix old and new modules (relative
//! imports inherit the version). Plain `/assets/...` URLs stay `no-cache`.
//! `/sw.js` is `no-cache` too: browsers check a worker for updates
//! themselves and need the current bytes when they do.
//! `index.html` and the worker also carry the app's Content Security
//! Policy (a worker's policy is its own response's). Unknown
//! asset paths get the API's problem+json 404. The client routes with the
//! URL hash, so no fallback to `index.html` is needed for other paths.
//!
//! Two assets are made rather than embedded from `web/`, and their bytes
//! count in VERSION like a file's: `/assets/emoji.json`, the emoji list
//! of the picker (see [`super::emoji`]), and `/assets/vendor/ts-mls.js`,
//! the MLS library of encrypted chats, bundled from npm by `build.rs`
//! (empty when it could not be fetched; the client then says so).
//!
//! It knows nothing of the API: the client talks to it like any other.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use natter_proto::{ErrorCode, Problem};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The app's policy: its own scripts and styles only (no inline code, no
/// `eval`), images also from `blob:` (upload previews) and `data:`,
/// sockets to the server, nothing framed, no plugins. Trusted Types make
/// every HTML-parsing DOM sink throw, which holds the client to building
/// nodes with `textContent`; the one policy allowed, `natter-worker`,
/// makes no HTML: registering the service worker is a script-URL sink,
/// and that policy (js/push.js) passes exactly the URL `/sw.js`.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self' ws: wss:; \
     font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types natter-worker";

/// One embedded file.
struct Asset {
    /// Path below `web/` (and below `/assets/` in URLs).
    path: &'static str,
    body: &'static [u8],
}

/// Lists the embedded files; a unit test checks that it names every file
/// of `web/` (except the dev-only `tsconfig.json`).
macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(Asset {
            path: $path,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path)),
        }),*]
    };
}

/// Where the bundled MLS library is served (below `/assets/`).
const MLS_LIBRARY: &str = "vendor/ts-mls.js";

/// The bundle `build.rs` made (empty if npm could not fetch ts-mls).
const MLS_LIBRARY_BODY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ts-mls.js"));

/// The service worker's path in `web/`, served at `/sw.js`.
const SERVICE_WORKER: &str = "sw.js";

const ASSETS: &[Asset] = assets![
    "index.html",
    "app.css",
    "icon.svg",
    "sw.js",
    "js/api.js",
    "js/calls.js",
    "js/chats.js",
    "js/chatflags.js",
    "js/device.js",
    "js/drafts.js",
    "js/e2ee/codec.js",
    "js/e2ee/device.js",
    "js/e2ee/engine.js",
    "js/e2ee/external.js",
    "js/e2ee/groups.js",
    "js/e2ee/library.js",
    "js/e2ee/plaintexts.js",
    "js/dom.js",
    "js/emoji.js",
    "js/format.js",
    "js/history.js",
    "js/icons.js",
    "js/limits.js",
    "js/local.js",
    "js/main.js",
    "js/markup.js",
    "js/messages.js",
    "js/notify.js",
    "js/outbox.js",
    "js/push.js",
    "js/recording.js",
    "js/ringtone.js",
    "js/session.js",
    "js/state/store.js",
    "js/state/timeline.js",
    "js/sync.js",
    "js/theme-boot.js",
    "js/theme.js",
    "js/types.js",
    "js/upload.js",
    "js/users.js",
    "js/views/call.js",
    "js/views/chatinfo.js",
    "js/views/chatlist.js",
    "js/views/chatmenu.js",
    "js/views/chatnotify.js",
    "js/views/composer.js",
    "js/views/conversation.js",
    "js/views/devices.js",
    "js/views/dialogs.js",
    "js/views/e2ee.js",
    "js/views/emojipicker.js",
    "js/views/linkpreview.js",
    "js/views/login.js",
    "js/views/longtext.js",
    "js/views/markup.js",
    "js/views/mentions.js",
    "js/views/menu.js",
    "js/views/message.js",
    "js/views/messageactions.js",
    "js/views/messageinfo.js",
    "js/views/newchat.js",
    "js/views/people.js",
    "js/views/profile.js",
    "js/views/quickswitch.js",
    "js/views/search.js",
    "js/views/sendlimits.js",
    "js/views/settings.js",
    "js/views/appearance.js",
    "js/views/avatarcrop.js",
    "js/views/password.js",
    "js/views/shell.js",
    "js/views/shortcuts.js",
    "js/views/shortcodes.js",
    "js/views/suggestions.js",
    "js/views/timeline.js",
    "js/views/voice.js",
    "js/views/until.js",
    "js/ws.js",
];

/// An asset as served: `index.html` with its asset links versioned,
/// everything else as embedded; with its quoted strong validator.
struct Served {
    body: Bytes,
    etag: String,
}

/// A digest of every embedded file: the version in `/assets/v-…/` URLs.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = Sha256::new();
    for asset in ASSETS {
        hasher.update(asset.path.as_bytes());
        hasher.update((asset.body.len() as u64).to_le_bytes());
        hasher.update(asset.body);
    }
    hasher.update(super::emoji::DOCUMENT.as_slice());
    hasher.update(MLS_LIBRARY_BODY);
    hex(&hasher.finalize()[..8])
});

/// Every asset ready to serve, in `ASSETS` order and then the generated
/// emoji list and the MLS library (see [`position`]), computed once.
static SERVED: LazyLock<Vec<Served>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            if asset.path == "index.html" {
                let text = String::from_utf8_lossy(asset.body);
                Bytes::from(text.replace("\"/assets/", &format!("\"/assets/v-{}/", *VERSION)))
            } else {
                Bytes::from_static(asset.body)
            }
        })
        .chain([
            Bytes::from_static(super::emoji::DOCUMENT.as_slice()),
            Bytes::from_static(MLS_LIBRARY_BODY),
        ])
        .map(|body| {
            let etag = format!("\"{}\"", hex(&Sha256::digest(&body)[..16]));
            Served { body, etag }
        })
        .collect()
});

/// Where `path` is in `SERVED`: an embedded file's place in `ASSETS`, the
/// emoji list's just after them, then the MLS library's.
fn position(path: &str) -> Option<usize> {
    ASSETS
        .iter()
        .position(|asset| asset.path == path)
        .or_else(|| (path == super::emoji::PATH).then_some(ASSETS.len()))
        .or_else(|| (path == MLS_LIBRARY).then_some(ASSETS.len() + 1))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `GET /`, `GET /sw.js` and `GET /assets/{path}`. Generic over the state
/// so it merges into the app's router and can be tested on its own.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/sw.js", get(service_worker))
        .route("/assets/{*path}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", false, &headers)
}

/// A worker's scope can be no wider than the folder of its URL, so the
/// one that handles pushes for the whole app is served from the root.
async fn service_worker(headers: HeaderMap) -> Response {
    serve(SERVICE_WORKER, false, &headers)
}

/// `/assets/v-VERSION/PATH` (what `index.html` links) never changes for
/// this binary, so browsers may keep it without asking again; a plain
/// `/assets/PATH`, or one of another version, is revalidated.
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match path
        .strip_prefix("v-")
        .and_then(|rest| rest.split_once('/'))
    {
        Some((version, rest)) => serve(rest, version == VERSION.as_str(), &headers),
        None => serve(&path, false, &headers),
    }
}

fn serve(path: &str, immutable: bool, request: &HeaderMap) -> Response {
    let Some(index) = position(path) else {
        return super::error::problem_response(Problem::new(ErrorCode::NotFound, "no such asset"));
    };
    let served = &SERVED[index];
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime(path)));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&served.etag) {
        headers.insert(header::ETAG, value);
    }
    if path == "index.html" || path == SERVICE_WORKER {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    if path == "index.html" {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            "permissions-policy",
            // The microphone for voice messages and calls, the camera for
            // video calls: this origin only.
            HeaderValue::from_static("camera=(self), microphone=(self), geolocation=()"),
        );
    }
    if matches_etag(request, &served.etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (StatusCode::OK, headers, served.body.clone()).into_response()
}

/// `If-None-Match` holds `*` or a list of (possibly weak) validators.
fn matches_etag(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim())
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

fn mime(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use std::path::{Path as FsPath, PathBuf};
    use tower::ServiceExt;

    fn files_under(dir: &FsPath, base: &FsPath, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path: PathBuf = entry.unwrap().path();
            if path.is_dir() {
                files_under(&path, base, out);
            } else {
                let relative = path.strip_prefix(base).unwrap();
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_file_of_the_client_is_embedded() {
        let base = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut found = Vec::new();
        files_under(&base, &base, &mut found);
        found.retain(|path| path != "tsconfig.json");
        found.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|asset| asset.path.to_owned()).collect();
        embedded.sort();
        assert_eq!(found, embedded);
    }

    #[test]
    fn index_preloads_every_module_it_runs() {
        let index = std::str::from_utf8(ASSETS[0].body).unwrap();
        assert_eq!(ASSETS[0].path, "index.html");
        for asset in ASSETS {
            // The worker runs beside the page, not in it.
            let runs = asset.path.ends_with(".js")
                && asset.path != "js/types.js"
                && asset.path != SERVICE_WORKER
                // The one classic script (the theme, before first paint).
                && asset.path != "js/theme-boot.js";
            if runs {
                let link = format!(
                    "<link rel=\"modulepreload\" href=\"/assets/{}\">",
                    asset.path
                );
                assert!(index.contains(&link), "index.html lacks {link}");
            }
        }
    }

    async fn get(uri: &str, if_none_match: Option<&str>) -> Response {
        let mut request = Request::builder().uri(uri);
        if let Some(etag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        routes::<()>()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn index_is_html_with_a_policy_and_is_revalidated() {
        let response = get("/", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.starts_with("default-src 'self'"));
        assert!(!policy.contains("unsafe-inline"));
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let html = std::str::from_utf8(&body).unwrap();
        let main = format!("src=\"/assets/v-{}/js/main.js\"", *VERSION);
        assert!(html.contains(&main), "index.html links versioned assets");
        let etag = headers[header::ETAG].to_str().unwrap();
        let again = get("/", Some(&format!("W/\"x\", {etag}"))).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }

    #[tokio::test]
    async fn the_service_worker_is_served_at_the_root_and_always_revalidated() {
        let response = get("/sw.js", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let file = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/sw.js"));
        assert_eq!(&body[..], &file[..]);
        let etag = headers[header::ETAG].to_str().unwrap();
        assert_eq!(
            get("/sw.js", Some(etag)).await.status(),
            StatusCode::NOT_MODIFIED
        );
    }

    #[tokio::test]
    async fn modules_are_javascript_with_etags_and_unknown_assets_are_problems() {
        let response = get("/assets/js/main.js", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        let etag = response.headers()[header::ETAG]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(etag.len(), 34);
        assert_eq!(
            get("/assets/js/main.js", Some(&etag)).await.status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            get("/assets/js/main.js", Some("\"stale\"")).await.status(),
            StatusCode::OK
        );
        let versioned = get(&format!("/assets/v-{}/js/main.js", *VERSION), None).await;
        assert_eq!(
            versioned.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let old = get("/assets/v-0123456789abcdef/js/main.js", None).await;
        assert_eq!(old.headers()[header::CACHE_CONTROL], "no-cache");
        let missing = get("/assets/js/nope.js", None).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            missing.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }

    #[tokio::test]
    async fn the_mls_library_is_served_as_a_versioned_module() {
        let response = get(&format!("/assets/v-{}/{MLS_LIBRARY}", *VERSION), None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&body[..], MLS_LIBRARY_BODY);
        // Built (npm reachable): one ES module exporting what js/e2ee uses.
        if !body.is_empty() {
            let text = std::str::from_utf8(&body).unwrap();
            assert!(text.contains("export{"), "an ES module");
            assert!(!text.contains("eval("), "the policy forbids eval");
        }
    }
}
