//! The `natter` command: parses flags into [`natter::config::Settings`]
//! and runs the server until SIGTERM or ctrl-c.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use figment::Figment;
use figment::providers::Serialized;
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "natter",
    version,
    about = "natter: self-hosted real-time chat, one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (embedded SQLite, files and bus under --data-dir
    /// unless URLs say otherwise).
    Serve(ServeArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Switch {
    On,
    Off,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free one. [default: 127.0.0.1:8080]
    #[arg(long, env = "NATTER_LISTEN")]
    listen: Option<String>,
    /// Directory for the database, secrets and files. [default: ./natter-data]
    #[arg(long, env = "NATTER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A TOML file with any setting (flags and NATTER_* variables win).
    #[arg(long, env = "NATTER_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: empty for <data-dir>/natter.db, sqlite://PATH, or
    /// postgres://... for a cluster.
    #[arg(long, env = "NATTER_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Event bus URL: empty for in-process, or nats://HOST:PORT[,...] for a
    /// cluster.
    #[arg(long, env = "NATTER_BUS_URL", hide_env_values = true)]
    bus_url: Option<String>,
    /// File storage URL: empty for <data-dir>/files.
    #[arg(long, env = "NATTER_BLOB_URL")]
    blob_url: Option<String>,
    /// Rate limits on (default) or off (for benchmarks).
    #[arg(long, env = "NATTER_RATE_LIMIT", value_enum)]
    rate_limit: Option<Switch>,
}

impl ServeArgs {
    /// The flags that were given, as the last settings layer.
    fn overrides(&self) -> Figment {
        let mut figment = Figment::new();
        let mut set = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                figment = std::mem::take(&mut figment).merge(Serialized::default(key, value));
            }
        };
        set("listen", self.listen.clone());
        set(
            "data_dir",
            self.data_dir.as_ref().map(|dir| dir.display().to_string()),
        );
        set("database_url", self.database_url.clone());
        set("bus_url", self.bus_url.clone());
        set("blob_url", self.blob_url.clone());
        if let Some(switch) = self.rate_limit {
            figment = figment.merge(Serialized::default(
                "rate_limit.enabled",
                matches!(switch, Switch::On),
            ));
        }
        figment
    }
}

/// Log targets of dependencies that print a connection URL with its
/// credentials (a NATS token or user/password, a PostgreSQL parameter's
/// value), kept quieter than the lines that do so whatever `NATTER_LOG`
/// asks for: natter logs its backends' state itself, redacted.
const CREDENTIAL_LEAKING_TARGETS: [&str; 2] = [
    // `server = ?addr` at debug and warn.
    "async_nats::connector=error",
    // "ignoring unrecognized connect parameter key=... value=..." at warn.
    "sqlx_postgres::options::parse=error",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut filter =
        EnvFilter::try_from_env("NATTER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in CREDENTIAL_LEAKING_TARGETS {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let Command::Serve(args) = Cli::parse().command;
    let settings = natter::config::Settings::load(args.config.as_deref(), args.overrides())
        .context("reading settings")?;
    tracing::debug!(?settings, "settings");
    let server = natter::start(settings).await?;
    // The one line on stdout: scripts and tests read the bound address here.
    println!("natter listening on {}", server.base_url());
    server.run_until(shutdown_signal()).await?;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Completes on SIGTERM or ctrl-c.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
