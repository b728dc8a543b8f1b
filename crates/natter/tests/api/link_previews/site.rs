//! A tiny web site the link preview tests point the server at: plain
//! HTTP/1.1 on `127.0.0.1:0`, hand-written so that each page can be as
//! broken, slow, large or redirecting as a test needs, and counting the
//! requests per path (to tell a cache hit from a fetch).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What one path answers.
#[derive(Clone)]
pub enum Answer {
    /// 200 with this type and body.
    Body(&'static str, Vec<u8>),
    /// 302 to this location.
    Redirect(String),
    /// 200 `text/html`, the head written and then nothing for a minute.
    Stall,
}

/// The running site.
pub struct Site {
    pub base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    /// Per path, once its answer's write ended: whether the whole body
    /// was written (false: the client hung up first).
    complete: Arc<Mutex<HashMap<String, bool>>>,
}

impl Site {
    /// Serves `pages` (path -> answer) until the test ends.
    pub async fn start(pages: Vec<(&str, Answer)>) -> Site {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let pages: Arc<HashMap<String, Answer>> = Arc::new(
            pages
                .into_iter()
                .map(|(path, answer)| (path.to_owned(), answer))
                .collect(),
        );
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let complete = Arc::new(Mutex::new(HashMap::new()));
        let (counted, finished) = (hits.clone(), complete.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (pages, counted, finished) = (pages.clone(), counted.clone(), finished.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, &pages, &counted, &finished).await;
                });
            }
        });
        Site {
            base,
            hits,
            complete,
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests `path` has had.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// Whether the whole body of `path` was written (`None`: not asked, or
    /// still being written).
    pub fn completed(&self, path: &str) -> Option<bool> {
        self.complete.lock().unwrap().get(path).copied()
    }
}

async fn serve(
    mut stream: TcpStream,
    pages: &HashMap<String, Answer>,
    hits: &Mutex<HashMap<String, usize>>,
    complete: &Mutex<HashMap<String, bool>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let (status, headers, body) = match pages.get(&path) {
        Some(Answer::Body(kind, body)) => {
            ("200 OK", format!("Content-Type: {kind}\r\n"), body.clone())
        }
        Some(Answer::Redirect(to)) => ("302 Found", format!("Location: {to}\r\n"), Vec::new()),
        Some(Answer::Stall) => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><head>")
                .await?;
            tokio::time::sleep(Duration::from_secs(60)).await;
            return Ok(());
        }
        None => (
            "404 Not Found",
            "Content-Type: text/plain\r\n".to_owned(),
            b"no".to_vec(),
        ),
    };
    let response_head = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut written = stream.write_all(response_head.as_bytes()).await;
    if written.is_ok() {
        written = stream.write_all(&body).await;
    }
    if written.is_ok() {
        written = stream.flush().await;
    }
    complete.lock().unwrap().insert(path, written.is_ok());
    written
}

/// A page with Open Graph tags and an image at `image` (relative or
/// absolute).
pub fn og_page(title: &str, image: &str) -> Answer {
    let html = format!(
        r#"<!doctype html><html><head><title>Fallback</title>
        <meta property="og:title" content="{title}">
        <meta property="og:description" content="A page served by the test itself.">
        <meta property="og:site_name" content="Local Site">
        <meta property="og:image" content="{image}">
        </head><body><p>Hello</p></body></html>"#
    );
    Answer::Body("text/html; charset=utf-8", html.into_bytes())
}

/// `text` percent-encoded for a query parameter.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
