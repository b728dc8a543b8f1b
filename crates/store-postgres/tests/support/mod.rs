//! Fresh PostgreSQL databases for tests: each [`TestDatabase`] is a new
//! database on the server of `NATTER_TEST_POSTGRES_URL` (default: the
//! local server, user `postgres`), named
//! `natter_test_<unix secs>_<pid>_<counter>_<random>`, and dropped when
//! the value is. Databases of runs that died before dropping theirs are
//! swept once per test binary: those named so and older than an hour.
//! For faults the shared server must not see, tests start a server of
//! their own (`natter_test_services::PrivatePostgres`).

use sqlx::{Connection, PgConnection};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PREFIX: &str = "natter_test_";
/// Leftovers older than this are another run's.
const LEFTOVER_AGE: Duration = Duration::from_secs(3600);

static COUNTER: AtomicU64 = AtomicU64::new(0);
static SWEPT: OnceCell<()> = OnceCell::const_new();

/// A database of its own, dropped (connections and all) with this value.
pub struct TestDatabase {
    name: String,
    /// Where the stores under test connect.
    pub url: String,
}

fn admin_url() -> String {
    std::env::var("NATTER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// `url` with its database replaced by `database`.
fn url_of(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    format!("{server}/{database}{query}")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// A connection to the server's maintenance database, for what a test
/// does to its database from outside.
#[allow(dead_code)]
pub async fn admin() -> PgConnection {
    PgConnection::connect(&admin_url())
        .await
        .expect("the admin connection")
}

impl TestDatabase {
    /// The database's name.
    #[allow(dead_code)]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Creates a new, empty database.
    pub async fn create() -> TestDatabase {
        let admin = admin_url();
        let mut conn = PgConnection::connect(&admin)
            .await
            .expect("the test PostgreSQL server (NATTER_TEST_POSTGRES_URL) answers");
        SWEPT.get_or_init(|| sweep(&mut conn)).await;
        let random = RandomState::new().hash_one(COUNTER.load(Ordering::Relaxed)) % 1_000_000;
        let name = format!(
            "{PREFIX}{}_{}_{}_{random}",
            now_secs(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        conn.close().await.ok();
        TestDatabase {
            url: url_of(&admin, &name),
            name,
        }
    }
}

/// Drops other runs' leftovers (by the time in their name).
async fn sweep(conn: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'natter\\_test\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    let cutoff = now_secs().saturating_sub(LEFTOVER_AGE.as_secs());
    for name in names {
        let created = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|created| created < cutoff) {
            drop_database(conn, &name).await;
        }
    }
}

async fn drop_database(conn: &mut PgConnection, name: &str) {
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    if let Err(err) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn).await {
        eprintln!("could not drop test database {name}: {err}");
    }
}

impl Drop for TestDatabase {
    /// Blocks until the database is gone: on a thread of its own with a
    /// runtime of its own (this may run inside a test's runtime, which
    /// cannot be blocked on), through a fresh connection.
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let connected = tokio::time::timeout(
                    Duration::from_secs(10),
                    PgConnection::connect(&admin_url()),
                )
                .await;
                match connected {
                    Ok(Ok(mut conn)) => {
                        drop_database(&mut conn, &name).await;
                        conn.close().await.ok();
                    }
                    _ => eprintln!("could not connect to drop test database {name}"),
                }
            });
        });
        let _ = dropper.join();
    }
}
