//! A Web Push service of the test's own ([`PushService`]): an HTTP server
//! on 127.0.0.1 that hands out browser-like subscriptions and takes pushes
//! for them the way a real push service does (RFC 8030, RFC 8291 aes128gcm,
//! RFC 8292 VAPID), so tests need no internet. Every rule a request breaks
//! is answered as a real service would (400, 401, 413) and recorded in
//! [`PushService::violations`]. Accepted pushes are decrypted and kept,
//! a newer push replacing an undelivered one with its `Topic`, until the
//! test takes them. On demand it fails pushes (429, 5xx...) or forgets a
//! subscription (410).
//!
//! It is the receiving side only: what natter sends, and when, is the
//! tests' business.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64ct::{Base64UrlUnpadded, Encoding};
use checks::{UserAgentKeys, check};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::{OsRng, RngCore};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};

mod checks;

/// How much of a body is read at all before answering 413.
const MAX_READ: usize = 1 << 20;

/// A subscription as `PushManager.subscribe` gives it to a page: the
/// endpoint to post to and the user agent's keys, base64url.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// One push as the user agent gets it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The decrypted plaintext.
    pub payload: Vec<u8>,
    /// The plaintext as JSON, if it is JSON.
    pub json: Option<serde_json::Value>,
    pub ttl: u64,
    pub urgency: Option<String>,
    pub topic: Option<String>,
    /// The VAPID JWT's `sub`.
    pub vapid_subject: String,
    pub received_at: Instant,
}

/// A local push service, stopped on drop.
pub struct PushService {
    state: Arc<ServiceState>,
    shutdown: Option<oneshot::Sender<()>>,
}

struct ServiceState {
    /// `http://127.0.0.1:PORT`: every endpoint's origin, the VAPID `aud`.
    origin: String,
    inner: Mutex<Inner>,
    /// Woken on every accepted push, for [`PushService::wait_for`].
    arrived: Notify,
}

#[derive(Default)]
struct Inner {
    expected_key: Option<String>,
    /// By the endpoint's last path segment.
    endpoints: HashMap<String, Endpoint>,
    violations: Vec<String>,
    /// Every accepted push, replaced ones too, while [`PushService::keep_log`] is on.
    log: Option<Vec<Received>>,
}

/// The push service's side of one subscription.
struct Endpoint {
    keys: UserAgentKeys,
    waiting: Vec<Received>,
    accepted: usize,
    failures: VecDeque<Failure>,
    expired: bool,
}

/// "Answer the next `remaining` pushes with `status`."
struct Failure {
    status: StatusCode,
    remaining: usize,
    retry_after_secs: Option<u64>,
}

impl PushService {
    /// Listens on 127.0.0.1 on a free port.
    pub async fn start() -> PushService {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the push service");
        let port = listener.local_addr().expect("its address").port();
        let state = Arc::new(ServiceState {
            origin: format!("http://127.0.0.1:{port}"),
            inner: Mutex::new(Inner::default()),
            arrived: Notify::new(),
        });
        let app = Router::new()
            .route("/push/{id}", any(receive))
            .with_state(state.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        PushService {
            state,
            shutdown: Some(shutdown),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> &str {
        &self.state.origin
    }

    /// Expect VAPID signatures by this public key (base64url); unset: any
    /// valid key.
    pub fn expect_vapid_key(&self, public_key: &str) {
        self.state.lock().expected_key = Some(public_key.to_owned());
    }

    /// A new browser-like subscription: the user agent's P-256 key pair and
    /// auth secret, and an endpoint `http://127.0.0.1:PORT/push/<random>`.
    pub fn subscribe(&self) -> Subscription {
        let keys = UserAgentKeys::generate();
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let id = Base64UrlUnpadded::encode_string(&id);
        let subscription = Subscription {
            endpoint: format!("{}/push/{id}", self.state.origin),
            p256dh: Base64UrlUnpadded::encode_string(
                keys.secret.public_key().to_encoded_point(false).as_bytes(),
            ),
            auth: Base64UrlUnpadded::encode_string(&keys.auth),
        };
        let endpoint = Endpoint {
            keys,
            waiting: Vec::new(),
            accepted: 0,
            failures: VecDeque::new(),
            expired: false,
        };
        self.state.lock().endpoints.insert(id, endpoint);
        subscription
    }

    /// Pushes accepted for this endpoint and not yet taken, decrypted, in
    /// order; a push with the `Topic` of an undelivered one replaced it
    /// (RFC 8030 5.4). Taking them delivers them.
    pub fn take(&self, endpoint: &str) -> Vec<Received> {
        self.with_endpoint(endpoint, |endpoint| std::mem::take(&mut endpoint.waiting))
    }

    /// Waits until at least `n` pushes are waiting for this endpoint, then
    /// takes them all. Fails the test if they do not come within
    /// `patience`.
    pub async fn wait_for(&self, endpoint: &str, n: usize, patience: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let mut arrived = std::pin::pin!(self.state.arrived.notified());
            // Registered before looking, so a push in between still wakes us.
            arrived.as_mut().enable();
            let waiting = self.with_endpoint(endpoint, |endpoint| {
                if endpoint.waiting.len() >= n {
                    Ok(std::mem::take(&mut endpoint.waiting))
                } else {
                    Err(endpoint.waiting.len())
                }
            });
            match waiting {
                Ok(received) => return received,
                Err(count) => {
                    if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                        panic!(
                            "{n} pushes expected at {endpoint} within {patience:?}, {count} came; \
                             violations: {:?}",
                            self.violations()
                        );
                    }
                }
            }
        }
    }

    /// From now on, keeps every accepted push of every endpoint (replaced
    /// ones too) for [`PushService::take_log`]: what a load test measures.
    pub fn keep_log(&self) {
        self.state.lock().log.get_or_insert_with(Vec::new);
    }

    /// The pushes accepted since the last call (or [`PushService::keep_log`]),
    /// in arrival order.
    pub fn take_log(&self) -> Vec<Received> {
        self.state
            .lock()
            .log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The token of the activation push this endpoint gets (waiting for
    /// it up to `patience`), as a device reads it to post it back.
    pub async fn activation_token(&self, endpoint: &str, patience: Duration) -> String {
        let pushes = self.wait_for(endpoint, 1, patience).await;
        pushes
            .iter()
            .find_map(|push| {
                let json = push.json.as_ref()?;
                (json["type"] == "activate").then(|| json["token"].as_str().map(str::to_owned))?
            })
            .unwrap_or_else(|| panic!("no activation push at {endpoint}: {pushes:?}"))
    }

    /// How many pushes this endpoint accepted in all (replaced ones too).
    pub fn accepted_count(&self, endpoint: &str) -> usize {
        self.with_endpoint(endpoint, |endpoint| endpoint.accepted)
    }

    /// The next `times` pushes to this endpoint get `status` (with
    /// `Retry-After` if given) instead of being accepted. Requests that
    /// break the rules are still answered and recorded as violations.
    pub fn fail_next(
        &self,
        endpoint: &str,
        status: u16,
        times: usize,
        retry_after_secs: Option<u64>,
    ) {
        let status = StatusCode::from_u16(status).expect("an HTTP status");
        if times == 0 {
            return;
        }
        self.with_endpoint(endpoint, |endpoint| {
            endpoint.failures.push_back(Failure {
                status,
                remaining: times,
                retry_after_secs,
            });
        });
    }

    /// Forgets the failures [`PushService::fail_next`] still had in store
    /// for this endpoint: it accepts again (the service came back).
    pub fn recover(&self, endpoint: &str) {
        self.with_endpoint(endpoint, |endpoint| endpoint.failures.clear());
    }

    /// From now on this endpoint answers 410 Gone.
    pub fn expire(&self, endpoint: &str) {
        self.with_endpoint(endpoint, |endpoint| endpoint.expired = true);
    }

    /// Requests that broke the rules, each with why.
    pub fn violations(&self) -> Vec<String> {
        self.state.lock().violations.clone()
    }

    fn with_endpoint<T>(&self, endpoint: &str, act: impl FnOnce(&mut Endpoint) -> T) -> T {
        let id = endpoint
            .strip_prefix(&self.state.origin)
            .and_then(|path| path.strip_prefix("/push/"))
            .unwrap_or_else(|| panic!("{endpoint} is not an endpoint of this push service"));
        let mut inner = self.state.lock();
        let endpoint = inner
            .endpoints
            .get_mut(id)
            .unwrap_or_else(|| panic!("{endpoint} was not subscribed here"));
        act(endpoint)
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl ServiceState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked while holding it must not hide its own
        // failure behind a poisoned lock in the next assertion.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One request to `/push/{id}`.
async fn receive(
    State(state): State<Arc<ServiceState>>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let keys = {
        let inner = state.lock();
        match inner.endpoints.get(&id) {
            None => return StatusCode::NOT_FOUND.into_response(),
            Some(endpoint) if endpoint.expired => return StatusCode::GONE.into_response(),
            Some(endpoint) => endpoint.keys.clone(),
        }
    };
    let body = axum::body::to_bytes(body, MAX_READ).await;
    let expected_key = state.lock().expected_key.clone();
    let checked = check(
        &state.origin,
        expected_key.as_deref(),
        &method,
        &headers,
        body,
        &keys,
    );
    let mut inner = state.lock();
    let received = match checked {
        Ok(received) => received,
        Err(broken) => {
            inner
                .violations
                .push(format!("{method} /push/{id}: {}", broken.why));
            return (broken.status, broken.why).into_response();
        }
    };
    let Some(endpoint) = inner.endpoints.get_mut(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(failure) = endpoint.failures.front_mut() {
        let answer = failure_response(failure);
        failure.remaining = failure.remaining.saturating_sub(1);
        if failure.remaining == 0 {
            endpoint.failures.pop_front();
        }
        return answer;
    }
    if let Some(topic) = &received.topic {
        endpoint
            .waiting
            .retain(|waiting| waiting.topic.as_ref() != Some(topic));
    }
    if let Some(log) = inner.log.as_mut() {
        log.push(received.clone());
    }
    let Some(endpoint) = inner.endpoints.get_mut(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    endpoint.waiting.push(received);
    endpoint.accepted += 1;
    drop(inner);
    state.arrived.notify_waiters();
    let mut message = [0u8; 12];
    OsRng.fill_bytes(&mut message);
    let location = format!(
        "{}/message/{}",
        state.origin,
        Base64UrlUnpadded::encode_string(&message)
    );
    (StatusCode::CREATED, [(header::LOCATION, location)]).into_response()
}

fn failure_response(failure: &Failure) -> Response {
    match failure.retry_after_secs {
        Some(secs) => (failure.status, [(header::RETRY_AFTER, secs.to_string())]).into_response(),
        None => failure.status.into_response(),
    }
}
