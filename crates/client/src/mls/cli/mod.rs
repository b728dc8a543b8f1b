//! `natter-chat`, the command-line program on [`EncryptedChats`]: end-to-end
//! encrypted chats from a terminal (the binary in `src/bin/natter-chat.rs`
//! only calls [`run`], so tests drive the same code in-process).
//!
//! Everything a device knows lives in its `--state` directory: the login
//! (`session.json`: server, user, the current refresh token) and the MLS
//! state (`device.json`: keys and groups), both readable by their owner
//! only. Each command refreshes the login first (refresh tokens are
//! single-use, so the new one is saved at once), does its work and exits.
//! Decrypted messages are printed, never stored: `receive` shows what is
//! new since the last `receive`, and a message read once cannot be
//! decrypted again (its key is gone).

use super::{ChatEvent, EncryptedChats};
use crate::ws::{RealtimeClient, RealtimeEvent, RealtimeOptions};
use crate::{Client, Session};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use login::{lock_state, open, refuse_used_state, save_login};
use natter_proto::auth::{AuthResponse, RegisterRequest};
use natter_proto::chats::ChatType;
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod login;

#[derive(Parser)]
#[command(
    name = "natter-chat",
    version,
    about = "End-to-end encrypted natter chats from a terminal"
)]
struct Cli {
    /// The natter server, e.g. http://127.0.0.1:8080 (needed by register and login).
    #[arg(long, env = "NATTER_SERVER")]
    server: Option<String>,
    /// This device's directory (login and MLS keys); one per device.
    #[arg(long, env = "NATTER_STATE")]
    state: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates an account and makes this directory its first device.
    Register {
        username: String,
        /// Read from NATTER_PASSWORD, or else from the first line of stdin.
        #[arg(long, env = "NATTER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Logs in: this directory becomes a new device of the account.
    Login {
        username: String,
        #[arg(long, env = "NATTER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Creates an encrypted chat (direct with one user, else a group).
    Create {
        /// Accepted for clarity: natter-chat makes encrypted chats only.
        #[arg(long)]
        e2ee: bool,
        /// Usernames of the other members.
        #[arg(long = "with", required = true, num_args = 1..)]
        with: Vec<String>,
        /// Makes a group even with one other member.
        #[arg(long)]
        name: Option<String>,
    },
    /// Encrypts and sends a message.
    Send { chat: String, text: String },
    /// Prints new messages of every encrypted chat of this device.
    Receive {
        /// Print what is there and exit, without waiting.
        #[arg(long)]
        once: bool,
        /// Seconds to wait for more after the first catch-up.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
    /// Lists the chats (encrypted ones marked).
    List,
}

/// Runs one `natter-chat` command line (`args` with the program name
/// first), writing what it prints to `out` (notes go to stderr). A bad
/// command line, `--help` and `--version` come back as a `clap::Error`
/// (the binary prints it and exits with its code).
pub async fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut dyn Write,
) -> Result<()> {
    let cli = Cli::try_parse_from(args)?;
    // Refresh tokens are single-use (a reuse ends the session): two runs
    // on one directory at once must not both refresh.
    let _lock = lock_state(&cli.state)?;
    match cli.command {
        Command::Register { username, password } => {
            refuse_used_state(&cli.state)?;
            let (anonymous, password) = (anonymous(&cli.server)?, password_or_stdin(password)?);
            let request = RegisterRequest {
                username: username.clone(),
                password,
                display_name: None,
                device_name: Some("natter-chat".into()),
            };
            let auth = anonymous.register(&request).await?;
            start_device(&cli.state, &anonymous, auth, out).await
        }
        Command::Login { username, password } => {
            refuse_used_state(&cli.state)?;
            let (anonymous, password) = (anonymous(&cli.server)?, password_or_stdin(password)?);
            let request = natter_proto::auth::LoginRequest {
                username,
                password,
                device_name: Some("natter-chat".into()),
            };
            let auth = anonymous.login_with(&request).await?;
            start_device(&cli.state, &anonymous, auth, out).await
        }
        Command::Create {
            e2ee: _,
            with,
            name,
        } => {
            let mut chats = open(&cli.state).await?.1;
            let mut member_ids = Vec::new();
            for username in &with {
                member_ids.push(user_id_of(chats.client(), username).await?);
            }
            let chat_type = if member_ids.len() == 1 && name.is_none() {
                ChatType::Direct
            } else {
                ChatType::Group
            };
            let created = chats.create_chat(chat_type, name, member_ids).await;
            // The command's own line first (scripts read it), then what it
            // decrypted on the way, then its error if any.
            if let Ok(created) = &created {
                writeln!(out, "{}", created.chat.summary.chat_id)?;
            }
            print_backlog(&mut chats, out).await?;
            for user in created?.without_devices {
                eprintln!("note: {user} has no device with a KeyPackage; they cannot read yet");
            }
            Ok(())
        }
        Command::Send { chat, text } => {
            let mut chats = open(&cli.state).await?.1;
            let ack = chats.send(&chat, &text).await;
            if let Ok(ack) = &ack {
                writeln!(out, "{} #{}", ack.chat_id, ack.seq)?;
            }
            print_backlog(&mut chats, out).await?;
            ack?;
            Ok(())
        }
        Command::Receive { once, timeout } => {
            receive(&cli.state, once, Duration::from_secs(timeout), out).await
        }
        Command::List => {
            let chats = open(&cli.state).await?.1;
            for chat in chats.client().chats().await?.chats {
                let kind = match (chat.e2ee, chats.device().is_member(&chat.chat_id)) {
                    (false, _) => "plain",
                    (true, true) => "e2ee",
                    (true, false) => "e2ee-no-keys-here",
                };
                let name = chat.name.unwrap_or_default();
                writeln!(out, "{}\t{kind}\t{name}\t#{}", chat.chat_id, chat.last_seq)?;
            }
            Ok(())
        }
    }
}

/// Saves a fresh login, makes the device and publishes its KeyPackages.
async fn start_device(
    state: &Path,
    anonymous: &Client,
    auth: AuthResponse,
    out: &mut dyn Write,
) -> Result<()> {
    let session = Session::from_auth(anonymous, auth);
    save_login(state, anonymous.base_url(), &session)?;
    let mut chats = EncryptedChats::open(session.client().clone(), state).await?;
    let count = chats.publish_key_packages().await?;
    writeln!(
        out,
        "{} is device {} of {} ({} KeyPackages published)",
        state.display(),
        chats.device().device_id(),
        session.user().username,
        count.count
    )?;
    Ok(())
}

/// Prints what is new, then (unless `once`) what comes over the
/// WebSocket until `timeout` passes without anything.
async fn receive(state: &Path, once: bool, timeout: Duration, out: &mut dyn Write) -> Result<()> {
    let (session, mut chats) = open(state).await?;
    let mut names = HashMap::new();
    chats.publish_key_packages().await?;
    let events = chats.sync().await?;
    print_events(&chats, &mut names, events, out).await?;
    if once {
        return Ok(());
    }
    let mut realtime = RealtimeClient::connect(session, RealtimeOptions::default());
    let handle = realtime.handle();
    while let Ok(Some(event)) = tokio::time::timeout(timeout, realtime.next_event()).await {
        if let RealtimeEvent::Stopped { reason } = &event {
            bail!("the connection stopped: {reason}");
        }
        // The socket refreshes the login itself; follow its token.
        if let Ok(current) = handle.session().await {
            chats.set_client(current.client().clone());
        }
        let events = chats.handle(&event).await?;
        print_events(&chats, &mut names, events, out).await?;
    }
    if let Ok(current) = handle.session().await {
        save_login(state, chats.client().base_url(), &current)?;
    }
    realtime.shutdown().await;
    Ok(())
}

/// Prints what a command decrypted on its way (a send catches up first;
/// the cursor has moved past it, so it is shown now or never).
async fn print_backlog(chats: &mut EncryptedChats, out: &mut dyn Write) -> Result<()> {
    let events = chats.take_backlog();
    print_events(chats, &mut HashMap::new(), events, out).await
}

async fn print_events(
    chats: &EncryptedChats,
    names: &mut HashMap<String, String>,
    events: Vec<ChatEvent>,
    out: &mut dyn Write,
) -> Result<()> {
    for event in events {
        match event {
            ChatEvent::Message(message) => {
                if !names.contains_key(&message.sender_id) {
                    let name = match chats.client().user(&message.sender_id).await {
                        Ok(user) => user.username,
                        Err(_) => message.sender_id.clone(),
                    };
                    names.insert(message.sender_id.clone(), name);
                }
                let name = &names[&message.sender_id];
                writeln!(
                    out,
                    "{} #{} {name}: {}",
                    message.chat_id, message.seq, message.text
                )?;
            }
            ChatEvent::Joined { chat_id, .. } => eprintln!("{chat_id}: joined (encrypted)"),
            ChatEvent::Epoch { chat_id, epoch } => {
                eprintln!("{chat_id}: devices changed (epoch {epoch})")
            }
            ChatEvent::Removed { chat_id } => eprintln!("{chat_id}: this device was removed"),
            ChatEvent::Unreadable {
                chat_id,
                seq,
                reason,
            } => match seq {
                Some(seq) => eprintln!("{chat_id} #{seq}: cannot decrypt ({reason})"),
                None => eprintln!("{chat_id}: {reason}"),
            },
        }
    }
    Ok(())
}

fn anonymous(server: &Option<String>) -> Result<Client> {
    match server {
        Some(server) => Ok(Client::new(server.clone())),
        None => bail!("--server is needed (or NATTER_SERVER)"),
    }
}

fn password_or_stdin(password: Option<String>) -> Result<String> {
    if let Some(password) = password {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn user_id_of(client: &Client, username: &str) -> Result<String> {
    let users = client.search_users(username, Some(20)).await?.users;
    users
        .into_iter()
        .find(|user| user.username.eq_ignore_ascii_case(username))
        .map(|user| user.user_id)
        .with_context(|| format!("no user named {username}"))
}
