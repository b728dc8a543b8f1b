//! A real natter cluster for tests: a fresh database (or a private
//! PostgreSQL server), `nats-server` processes of the test's own (see
//! `natter-test-services`), a shared file directory, and `natter serve`
//! processes ([`ServerProcess`]) given the same `postgres://` and
//! `nats://` URLs. Everything is killed or dropped when the [`Cluster`] is.

use crate::helpers::PASSWORD;
use crate::process::ServerProcess;
use natter_client::Client;
use natter_proto::auth::{AuthResponse, RegisterRequest};
pub use natter_test_services::{NatsServer, PrivatePostgres, TestDatabase, start_cluster};
use std::path::PathBuf;
use tempfile::TempDir;

/// Short liveness intervals so that tests see a dead node quickly.
const CLUSTER_ENV: &[(&str, &str)] = &[
    ("NATTER_CLUSTER__HEARTBEAT_MS", "250"),
    ("NATTER_CLUSTER__DEAD_AFTER_MS", "1500"),
    ("NATTER_CLUSTER__PRESENCE_GRACE_MS", "1000"),
    ("NATTER_GATEWAY__POSITION_SYNC_SECS", "2"),
];

/// Several natter nodes on one database, one NATS (cluster) and one file
/// directory.
pub struct Cluster {
    pub nats: Vec<NatsServer>,
    nodes: Vec<Option<ServerProcess>>,
    dir: TempDir,
    /// The database's URL, and what keeps the database alive.
    database_url: String,
    _database: Box<dyn std::any::Any + Send>,
    /// More `NATTER_*` settings for every node.
    env: Vec<(String, String)>,
}

impl Cluster {
    /// `nodes` natter nodes on one nats-server.
    pub async fn start(nodes: usize) -> Cluster {
        Cluster::start_on(nodes, vec![NatsServer::start().await]).await
    }

    /// `nodes` natter nodes on the given NATS servers (node `i` is told
    /// server `i` first, then the others).
    pub async fn start_on(nodes: usize, nats: Vec<NatsServer>) -> Cluster {
        let database = TestDatabase::create();
        Cluster::start_with(nodes, nats, database.url().to_owned(), Box::new(database)).await
    }

    /// `nodes` natter nodes on one nats-server, each with the extra
    /// settings `env` (`NATTER_*` variables).
    pub async fn start_configured(nodes: usize, env: &[(&str, &str)]) -> Cluster {
        let database = TestDatabase::create();
        let url = database.url().to_owned();
        Cluster::launch_all(
            nodes,
            vec![NatsServer::start().await],
            url,
            Box::new(database),
            env,
        )
        .await
    }

    /// `nodes` natter nodes on one nats-server and the database at
    /// `database_url`, which `keep` keeps alive.
    pub async fn start_with(
        nodes: usize,
        nats: Vec<NatsServer>,
        database_url: String,
        keep: Box<dyn std::any::Any + Send>,
    ) -> Cluster {
        Cluster::launch_all(nodes, nats, database_url, keep, &[]).await
    }

    async fn launch_all(
        nodes: usize,
        nats: Vec<NatsServer>,
        database_url: String,
        keep: Box<dyn std::any::Any + Send>,
        env: &[(&str, &str)],
    ) -> Cluster {
        let mut cluster = Cluster {
            nats,
            nodes: (0..nodes).map(|_| None).collect(),
            dir: tempfile::tempdir().expect("a temporary directory"),
            database_url,
            _database: keep,
            env: env
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        };
        std::fs::create_dir_all(cluster.files_dir()).expect("the shared file directory");
        // Started together: migrations and the shared secrets must cope
        // with nodes racing each other.
        let starts: Vec<_> = (0..nodes).map(|node| cluster.launch(node)).collect();
        for (node, process) in futures_util::future::join_all(starts)
            .await
            .into_iter()
            .enumerate()
        {
            cluster.nodes[node] = Some(process);
        }
        cluster
    }

    fn files_dir(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    /// Starts node `node`'s process (not yet recorded).
    fn launch(&self, node: usize) -> impl std::future::Future<Output = ServerProcess> + use<> {
        let data_dir = self.dir.path().join(format!("node{node}"));
        let log = self.dir.path().join(format!("node{node}.log"));
        let mut nats: Vec<String> = self.nats.iter().map(NatsServer::url).collect();
        if !nats.is_empty() {
            let first = node % nats.len();
            nats.rotate_left(first);
        }
        let mut env: Vec<(String, String)> = CLUSTER_ENV
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        env.extend(self.env.iter().cloned());
        env.push(("NATTER_DATABASE_URL".into(), self.database_url.clone()));
        env.push(("NATTER_BUS_URL".into(), nats.join(",")));
        env.push((
            "NATTER_BLOB_URL".into(),
            format!("file://{}", self.files_dir().display()),
        ));
        async move {
            std::fs::create_dir_all(&data_dir).expect("a node's data directory");
            tokio::task::spawn_blocking(move || {
                let env: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                ServerProcess::start(&data_dir, &log, &env)
            })
            .await
            .expect("start task")
        }
    }

    /// How many nodes the cluster was made with.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Node `node`'s `http://127.0.0.1:PORT`.
    pub fn url(&self, node: usize) -> String {
        self.node(node).base_url().to_owned()
    }

    fn node(&self, node: usize) -> &ServerProcess {
        self.nodes[node].as_ref().expect("the node is running")
    }

    /// True while node `node` runs.
    pub fn is_up(&self, node: usize) -> bool {
        self.nodes[node].is_some()
    }

    /// SIGKILL node `node`.
    pub fn kill(&mut self, node: usize) {
        if let Some(mut process) = self.nodes[node].take() {
            process.kill();
        }
    }

    /// Starts node `node` again (after [`Cluster::kill`]), on a new port.
    pub async fn restart(&mut self, node: usize) {
        self.kill(node);
        let process = self.launch(node).await;
        self.nodes[node] = Some(process);
    }

    /// Node `node`'s process, for signals and logs.
    pub fn process(&mut self, node: usize) -> &mut ServerProcess {
        self.nodes[node].as_mut().expect("the node is running")
    }

    /// Every node's log tail, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for node in 0..self.nodes.len() {
            let path = self.dir.path().join(format!("node{node}.log"));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("--- node {node}\n"));
            out.push_str(&lines[lines.len().saturating_sub(30)..].join("\n"));
            out.push('\n');
        }
        out
    }
}

/// Registers `username` through the node (or balancer) at `base_url`; a
/// client of it with the user's token.
pub async fn register(base_url: &str, username: &str) -> (Client, AuthResponse) {
    let client = Client::new(base_url);
    let auth = client
        .register(&RegisterRequest {
            username: username.into(),
            password: PASSWORD.into(),
            display_name: None,
            device_name: None,
        })
        .await
        .unwrap_or_else(|error| panic!("registering {username}: {error}"));
    (client.with_token(auth.access_token.clone()), auth)
}
