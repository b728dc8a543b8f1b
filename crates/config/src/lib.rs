//! One typed settings tree for the server: defaults, then a TOML file
//! (`--config`), then `NATTER_*` environment variables, then command-line
//! flags. Secrets sit in [`Secret`] and URLs that may carry credentials
//! in [`SecretUrl`], whose `Debug` redacts them. Nothing else in the
//! server reads settings from the environment (the log filter
//! `NATTER_LOG` is read by the binary before settings exist, and
//! object_store reads the usual `AWS_*` variables itself).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// A value that must never appear in logs.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "\"[redacted]\""
        })
    }
}

/// A URL that may carry credentials (a database or bus URL): its `Debug`
/// shows the scheme, host and path but never a password, a token or a
/// query string (`postgres://natter:[redacted]@db:5432/natter?[redacted]`),
/// so settings can be logged.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretUrl(pub String);

impl SecretUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL with its secrets replaced by `[redacted]`; several URLs
    /// separated by commas (a NATS server list) each on their own.
    pub fn redacted(&self) -> String {
        self.0
            .split(',')
            .map(redact_one)
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

/// `scheme://user:password@host/path?query#fragment` without the
/// password, the query and the fragment. The credentials end at the last
/// `@` (a password may hold `/`, `?`, `#` or `@` unescaped), unless what
/// precedes it is plainly a path (`sqlite:///dir/user@host.db`).
fn redact_one(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let (userinfo, rest) = match rest.rsplit_once('@') {
        Some((before, after)) if is_userinfo(before) => (Some(before), after),
        _ => (None, rest),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(authority_end);
    let authority = match userinfo {
        Some(userinfo) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:[redacted]@{host}"),
            // A lone user part may be a token (`nats://TOKEN@host`).
            None => format!("[redacted]@{host}"),
        },
        None => host.to_owned(),
    };
    let path = match tail.find(['?', '#']) {
        Some(cut) => format!("{}?[redacted]", &tail[..cut]),
        None => tail.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}{path}"),
        None => format!("{authority}{path}"),
    }
}

/// True if `before_at`, what precedes a URL's last `@`, is credentials
/// rather than a path: it does not start with `/`, and has a `:` before
/// any `/` or no `/` at all.
fn is_userinfo(before_at: &str) -> bool {
    let first = before_at.split('/').next().unwrap_or_default();
    !first.is_empty() && (first.contains(':') || !before_at.contains('/'))
}

/// Everything the server can be told.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port (reported at start).
    pub listen: String,
    /// Where the SQLite database, secrets and local files live.
    pub data_dir: PathBuf,
    /// `sqlite://...` or empty for `<data_dir>/natter.db`;
    /// `postgres://...` for a cluster's shared database.
    pub database_url: SecretUrl,
    /// Empty for the in-process bus; `nats://HOST:PORT[,nats://...]` for
    /// a cluster.
    pub bus_url: SecretUrl,
    /// Empty for `<data_dir>/files`.
    pub blob_url: String,
    /// Largest JSON request body, in bytes.
    pub max_json_body: usize,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    pub store: StoreSettings,
    pub gateway: GatewaySettings,
    pub files: FileSettings,
    pub connections: ConnectionSettings,
    pub cluster: ClusterSettings,
    pub push: PushSettings,
    pub link_previews: LinkPreviewSettings,
    pub voice: VoiceSettings,
    pub calls: CallSettings,
    /// Extra object_store options for an `s3://` `blob_url` (e.g.
    /// `aws_endpoint`, `aws_allow_http`, `aws_access_key_id`); the usual
    /// `AWS_*` variables are read as well.
    pub blob_options: std::collections::BTreeMap<String, Secret>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./natter-data"),
            database_url: SecretUrl::default(),
            bus_url: SecretUrl::default(),
            blob_url: String::new(),
            max_json_body: 256 * 1024,
            auth: AuthSettings::default(),
            rate_limit: RateLimitSettings::default(),
            store: StoreSettings::default(),
            gateway: GatewaySettings::default(),
            files: FileSettings::default(),
            connections: ConnectionSettings::default(),
            cluster: ClusterSettings::default(),
            push: PushSettings::default(),
            link_previews: LinkPreviewSettings::default(),
            voice: VoiceSettings::default(),
            calls: CallSettings::default(),
            blob_options: Default::default(),
        }
    }
}

/// Tokens and password hashing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// Access token lifetime in seconds.
    pub access_ttl_secs: u64,
    /// Refresh token (session) lifetime in seconds.
    pub refresh_ttl_secs: u64,
    /// `iss` and `aud` of access tokens.
    pub issuer: String,
    /// HMAC key for tokens and file links; empty: generated by the first
    /// node to start and kept in the database, so every node shares it.
    pub secret: Secret,
    /// argon2id memory cost in KiB (OWASP: 19456).
    pub argon2_memory_kib: u32,
    /// argon2id iterations.
    pub argon2_iterations: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            issuer: "natter".into(),
            secret: Secret::default(),
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
        }
    }
}

/// Token buckets. A rate is "this many per minute", with a burst as large.
/// Every bucket lives in one process: limits are per node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    /// False turns every limit off (`--rate-limit off`), for benchmarks.
    pub enabled: bool,
    /// Login and register attempts per client IP per minute.
    pub auth_per_ip_per_minute: u32,
    /// Login attempts per account per minute from one client IP (per
    /// account and address together, so that someone guessing from
    /// elsewhere cannot lock the owner out).
    pub login_per_account_per_minute: u32,
    /// Token refreshes (and logouts) per client IP per minute.
    pub refresh_per_ip_per_minute: u32,
    /// Messages sent per user per minute.
    pub sends_per_user_per_minute: u32,
    /// Searches per user per minute.
    pub searches_per_user_per_minute: u32,
    /// Reactions added or removed per user per minute.
    pub reactions_per_user_per_minute: u32,
    /// Chats created per user per minute.
    pub chats_per_user_per_minute: u32,
    /// MLS KeyPackage claims per user per minute (one per member added to
    /// an encrypted chat).
    pub key_package_claims_per_user_per_minute: u32,
    /// MLS KeyPackage claims per claiming user per claimed user per
    /// minute: much lower than the above, so that nobody drains one
    /// user's KeyPackages (their devices then fall back on last resort).
    pub key_package_claims_per_target_per_minute: u32,
    /// MLS KeyPackage uploads per user per minute (each verifies up to a
    /// hundred signatures).
    pub key_package_uploads_per_user_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            enabled: true,
            auth_per_ip_per_minute: 60,
            login_per_account_per_minute: 20,
            refresh_per_ip_per_minute: 120,
            sends_per_user_per_minute: 1200,
            searches_per_user_per_minute: 120,
            reactions_per_user_per_minute: 600,
            chats_per_user_per_minute: 60,
            key_package_claims_per_user_per_minute: 600,
            key_package_claims_per_target_per_minute: 30,
            key_package_uploads_per_user_per_minute: 60,
        }
    }
}

/// Database tuning (the SQLite file; `postgres_connections` for PostgreSQL).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreSettings {
    /// Most write requests committed together in one transaction.
    pub max_batch: usize,
    /// Read connections to the SQLite file.
    pub read_connections: u32,
    /// How commits reach the disk. Either way a write is acknowledged (and
    /// a new message announced) only after the log holding it was fsynced.
    /// `false` (default): the writer commits without waiting for the disk
    /// and a syncer thread fsyncs the log while the next batch runs; other
    /// connections may read a batch a few milliseconds before it is on
    /// disk (a power cut then could lose what they read, never what was
    /// acknowledged). `true`: SQLite's `synchronous=FULL`, every COMMIT
    /// waits for its fsync and nothing is readable before it is on disk,
    /// at the cost of the writer idling during every fsync (p99 send ->
    /// ack at 5,000 msg/s: 53 ms instead of 18 ms, see BENCHMARKS.md).
    pub synchronous_full: bool,
    /// The write-ahead log is checkpointed back into the database file
    /// and emptied whenever it grows past this many bytes (it is
    /// checkpointed every 200 ms anyway; this bounds it under steady
    /// writes with readers around).
    pub wal_max_bytes: u64,
    /// Connections one node opens to PostgreSQL (besides its appender's).
    /// Each is a server process: all nodes together must stay under the
    /// server's `max_connections`.
    pub postgres_connections: u32,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            max_batch: 1024,
            read_connections: 4,
            synchronous_full: false,
            wal_max_bytes: 64 * 1024 * 1024,
            postgres_connections: 8,
        }
    }
}

/// Uploads, images and file links.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileSettings {
    /// Largest upload in bytes (413 beyond).
    pub max_upload_bytes: u64,
    /// Bytes of files one user may own; 0 for no quota.
    pub quota_bytes_per_user: u64,
    /// Lifetime of signed `url` / `thumbnail_url` links, in seconds.
    pub link_ttl_secs: u64,
    /// An upload no message refers to is deleted after this many seconds.
    pub orphan_ttl_secs: u64,
    /// How often orphaned uploads are looked for, in seconds.
    pub orphan_sweep_secs: u64,
    /// Largest image accepted, in pixels (width x height).
    pub max_image_pixels: u64,
}

impl Default for FileSettings {
    fn default() -> Self {
        FileSettings {
            max_upload_bytes: 25 * 1024 * 1024,
            quota_bytes_per_user: 1024 * 1024 * 1024,
            link_ttl_secs: 3600,
            orphan_ttl_secs: 24 * 3600,
            orphan_sweep_secs: 600,
            max_image_pixels: 50_000_000,
        }
    }
}

/// WebSocket sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewaySettings {
    /// Browser origins allowed to open a WebSocket (`scheme://host:port`,
    /// or `*`). Empty: only the server's own origin. Clients that send no
    /// `Origin` (not browsers) are not affected.
    pub allowed_origins: Vec<String>,
    /// Time allowed for the `auth` frame when the upgrade had no token.
    pub auth_timeout_secs: u64,
    /// How often the server pings an idle connection.
    pub ping_interval_secs: u64,
    /// A connection silent for this long (no frame, no pong) is closed.
    pub idle_timeout_secs: u64,
    /// Largest incoming frame or message; beyond it the connection closes
    /// with 1009.
    pub max_frame_bytes: usize,
    /// Open connections one user may hold at once.
    pub max_connections_per_user: usize,
    /// Frames one connection may have waiting; beyond it the connection
    /// is too slow and closes with 1013 (its client resumes).
    pub outbox_frames: usize,
    /// A write to a socket that does not finish in this time closes it.
    pub write_timeout_secs: u64,
    /// Seconds a `typing` indication lasts unless renewed.
    pub typing_ttl_secs: u64,
    /// How often the node's router reads the last `seq` of every chat it
    /// routes (one query), so that a message whose event the bus lost
    /// (NATS is at most once) is still delivered, even in a chat that
    /// stays quiet afterwards. 0: never.
    pub position_sync_secs: u64,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            allowed_origins: Vec::new(),
            auth_timeout_secs: 10,
            ping_interval_secs: 25,
            idle_timeout_secs: 60,
            max_frame_bytes: 64 * 1024,
            max_connections_per_user: 32,
            outbox_frames: 1024,
            write_timeout_secs: 10,
            typing_ttl_secs: 6,
            position_sync_secs: 10,
        }
    }
}

/// What one node accepts of TCP connections, so that no client, however
/// many sockets it opens or however slowly it writes, locks others out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionSettings {
    /// Open connections (HTTP and WebSocket) in all; 0: the process's
    /// open-file limit less `fd_reserve`. At the limit a new connection
    /// displaces the oldest one that has not authenticated.
    pub max_open: usize,
    /// File descriptors kept for the database, files and logs when
    /// `max_open` is derived from the open-file limit.
    pub fd_reserve: usize,
    /// Open connections from one address; 0: no cap. Trusted proxies are
    /// not capped (the proxy limits its own clients).
    pub max_per_ip: usize,
    /// Reverse proxies (exact addresses) whose `X-Forwarded-For` names the
    /// client: rate limits then apply to that address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A request's head must arrive within this; it is also how long an
    /// idle keep-alive connection stays open.
    pub header_timeout_secs: u64,
    /// A request body must arrive at this rate at least, after
    /// `body_grace_secs`: each byte buys 1/rate seconds.
    pub body_min_bytes_per_sec: u64,
    /// Seconds any request body gets before the rate counts.
    pub body_grace_secs: u64,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            max_open: 0,
            fd_reserve: 256,
            max_per_ip: 256,
            trusted_proxies: Vec::new(),
            header_timeout_secs: 15,
            body_min_bytes_per_sec: 1024,
            body_grace_secs: 10,
        }
    }
}

/// How the nodes of a cluster (a `nats://` bus) watch each other. Only
/// used with a network bus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSettings {
    /// How often a node says it is alive.
    pub heartbeat_ms: u64,
    /// A node not heard of for this long is dead: its users' presence
    /// expires (after `presence_grace_ms`) and the others re-read their
    /// chats' positions.
    pub dead_after_ms: u64,
    /// How long a dead node's users stay online, so that clients moving
    /// to another node do not flicker offline.
    pub presence_grace_ms: u64,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            heartbeat_ms: 1000,
            dead_after_ms: 3000,
            presence_grace_ms: 5000,
        }
    }
}

/// Web Push notifications. Off until `vapid_subject` is set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushSettings {
    /// The contact push services may use about this server's pushes: a
    /// `mailto:` address or an `https:` URL, reachable (Apple refuses
    /// pushes whose contact is not). Empty: push is off.
    pub vapid_subject: String,
    /// Also accept `http://` endpoints and private, loopback or
    /// link-local addresses (tests, closed networks). Off: endpoints must
    /// be `https://` URLs of public hosts.
    pub allow_insecure_endpoints: bool,
    /// How long a push service keeps an undelivered push, and how long
    /// natter retries one the service refused for now.
    pub ttl_secs: u64,
    /// Pushes sent at once per node.
    pub concurrency: usize,
    /// How long one push request may take before it counts as failed.
    pub request_timeout_ms: u64,
}

impl Default for PushSettings {
    fn default() -> Self {
        PushSettings {
            vapid_subject: String::new(),
            allow_insecure_endpoints: false,
            ttl_secs: 24 * 60 * 60,
            concurrency: 32,
            request_timeout_ms: 10_000,
        }
    }
}

impl PushSettings {
    /// True if push notifications are on.
    pub fn enabled(&self) -> bool {
        !self.vapid_subject.is_empty()
    }
}

/// Link previews: the server fetches a page a message links to (and its
/// image) and answers `GET /api/v1/link-preview` with what it found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkPreviewSettings {
    /// False turns the endpoint off (it answers 404, and
    /// `GET /api/v1/server` says previews are off).
    pub enabled: bool,
    /// Also fetch from private, loopback and link-local addresses and
    /// from ports other than 80 and 443 (tests, closed networks). Off:
    /// only public addresses on the web's ports, checked at every
    /// redirect and every connection (server-side request forgery).
    pub allow_private_addresses: bool,
    /// How long a fetched preview is served from the cache, in seconds.
    pub cache_ttl_secs: u64,
    /// How long "nothing to preview" (or "could not be fetched") is
    /// remembered, in seconds.
    pub failure_ttl_secs: u64,
    /// The whole fetch (page, redirects and image) must finish in this
    /// many milliseconds.
    pub fetch_timeout_ms: u64,
    /// Previews one user may ask for per minute (with `rate_limit.enabled`).
    pub per_user_per_minute: u32,
    /// Fetches (page and image, with the image's decoding) in progress at
    /// once on this node; a fetch that finds none free before its time
    /// limit answers "nothing to preview" without remembering it.
    /// At least 1.
    pub max_concurrent_fetches: usize,
}

impl Default for LinkPreviewSettings {
    fn default() -> Self {
        LinkPreviewSettings {
            enabled: true,
            allow_private_addresses: false,
            cache_ttl_secs: 24 * 3600,
            failure_ttl_secs: 3600,
            fetch_timeout_ms: 5000,
            per_user_per_minute: 60,
            max_concurrent_fetches: 8,
        }
    }
}

/// Voice messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VoiceSettings {
    /// Longest voice message accepted, in milliseconds (its
    /// `metadata.duration_ms`; 400 beyond). Default 15 minutes.
    pub max_duration_ms: u64,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        VoiceSettings {
            max_duration_ms: 15 * 60 * 1000,
        }
    }
}

/// One-to-one calls: the TURN servers whose credentials
/// `GET /api/v1/calls/turn` hands out (coturn's `use-auth-secret`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallSettings {
    /// `turn:`/`turns:` URIs; empty: no TURN (the endpoint answers an
    /// empty list).
    pub turn_uris: Vec<String>,
    /// The secret shared with the TURN server (`static-auth-secret`).
    pub turn_secret: Secret,
    /// How long credentials stay valid, in seconds.
    pub turn_ttl_secs: u64,
}

impl Default for CallSettings {
    fn default() -> Self {
        CallSettings {
            turn_uris: Vec::new(),
            turn_secret: Secret::default(),
            turn_ttl_secs: 24 * 3600,
        }
    }
}

impl Settings {
    /// Layers defaults, the optional TOML file, `NATTER_*` variables (nested
    /// keys with `__`, e.g. `NATTER_AUTH__ACCESS_TTL_SECS`) and `overrides`
    /// (the command-line flags that were given).
    pub fn load(
        config_file: Option<&Path>,
        overrides: Figment,
    ) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = config_file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment
            .merge(Env::prefixed("NATTER_").split("__"))
            .merge(overrides)
            .extract()
            .map_err(Box::new)
    }

    /// The SQLite file used when `database_url` is empty.
    pub fn sqlite_path(&self) -> PathBuf {
        match self.database_url.as_str().strip_prefix("sqlite://") {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => self.data_dir.join("natter.db"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let mut settings = Settings::default();
        settings.auth.secret = Secret("hunter2".into());
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn urls_lose_their_passwords_and_queries_in_debug() {
        let settings = Settings {
            database_url: SecretUrl(
                "postgres://natter:hunter2@db:5432/natter?sslpassword=x2".into(),
            ),
            bus_url: SecretUrl("nats://a:pw1@n1:4222,nats://n2:4222,tls://u:pw2@n3".into()),
            ..Settings::default()
        };
        let shown = format!("{settings:?}");
        for secret in ["hunter2", "sslpassword", "x2", "pw1", "pw2"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert_eq!(
            settings.database_url.redacted(),
            "postgres://natter:[redacted]@db:5432/natter?[redacted]"
        );
        assert_eq!(
            settings.bus_url.redacted(),
            "nats://a:[redacted]@n1:4222,nats://n2:4222,tls://u:[redacted]@n3"
        );
        assert_eq!(
            SecretUrl("sqlite:///var/lib/natter.db".into()).redacted(),
            "sqlite:///var/lib/natter.db"
        );
        assert_eq!(
            SecretUrl("nats://s3cr3t@host".into()).redacted(),
            "nats://[redacted]@host"
        );
        assert_eq!(
            SecretUrl("postgres://natter:pa/ss?w#o@rd@db/natter".into()).redacted(),
            "postgres://natter:[redacted]@db/natter"
        );
        assert_eq!(
            SecretUrl("sqlite:///srv/user@host/natter.db".into()).redacted(),
            "sqlite:///srv/user@host/natter.db"
        );
    }

    #[test]
    fn overrides_win_over_defaults() {
        let flags = Figment::new().merge(Serialized::default("listen", "127.0.0.1:0"));
        let settings = Settings::load(None, flags).unwrap();
        assert_eq!(settings.listen, "127.0.0.1:0");
        assert_eq!(settings.data_dir, PathBuf::from("./natter-data"));
    }

    #[test]
    fn sqlite_path_defaults_into_the_data_dir() {
        let settings = Settings {
            data_dir: PathBuf::from("/tmp/x"),
            ..Settings::default()
        };
        assert_eq!(settings.sqlite_path(), PathBuf::from("/tmp/x/natter.db"));
    }
}
