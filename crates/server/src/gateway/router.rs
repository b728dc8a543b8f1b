//! The node's event router: one task that takes every envelope from the
//! node's feed and hands its frame (encoded once by the publisher, shared
//! by every recipient as a refcounted buffer) to the local connections it
//! concerns.
//!
//! It alone owns the routing tables (who is connected, which local users
//! belong to which chat), so no lock is taken per delivery. It declares
//! the node's interest: in a user's subject while the user has a local
//! connection, in a chat's subject while a local user is a member. Once
//! an interest is confirmed it catches up from the store, so what was
//! published before reaches the sockets too. Membership follows the
//! events themselves: `chat.created` to a user adds a chat,
//! `chat.member_removed` of that user removes it, so a removed member gets
//! nothing of the chat from that event on. Events can be missed (a
//! membership change between a connection's first read and its
//! registration, envelopes the feed lost), so the tables are also set
//! from the store: after each registration, and for every local user when
//! the feed reports a loss (`Reconcile`; a read that an event overtook is
//! done again).
//!
//! A session's end (logout, a reused refresh token) comes as a signal to
//! its user: the router closes that session's connections at once. A call
//! frame relayed from another node goes to core (which handles it if this
//! node holds the call); a frame for one connection reaches only it.
//!
//! Per chat it keeps `message.new` in `seq` order: a message that arrives
//! early waits while the gap before it is fetched from the store; a
//! message seen already is dropped. Nothing is skipped.

use super::outbox::Outbox;
use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use natter_core::Core;
use natter_core::calls::Party;
use natter_core::realtime::{Envelope, Feed, Meta, Received, Subject};
use natter_proto::events::ServerEvent;
use natter_proto::messages::Message;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Pause before retrying a failed gap repair, so a broken store is not
/// hammered in a loop.
const REPAIR_RETRY: Duration = Duration::from_millis(200);
/// Wait before fetching a gap from the store. On one node the store's
/// commits are announced in commit order, so a later `seq` does not
/// overtake an earlier one; a gap is a message this router never saw
/// (routes registered while it was published) or, with a bus between
/// nodes, one still on its way: worth a short wait before a read.
const REPAIR_DELAY: Duration = Duration::from_millis(20);

/// A registered connection, as the router sees it.
#[derive(Clone, Debug)]
pub struct Route {
    pub id: u64,
    /// The session (device) the connection authenticated as.
    pub session_id: String,
    /// The connection's party id in calls.
    pub party_id: String,
    pub outbox: Arc<Outbox>,
}

/// What connections and the router's own tasks tell the router.
pub enum Command {
    /// A connection of `user_id` is ready to receive; `chats` are the
    /// user's chats with the `last_seq` the connection announced.
    Register {
        route: Route,
        user_id: String,
        chats: Vec<(String, i64)>,
        /// Answered once the routes are in place and the node's interest
        /// in them is confirmed, with the user's membership epoch then
        /// (for the `Reconcile` that follows).
        registered: oneshot::Sender<u64>,
    },
    Unregister {
        id: u64,
        user_id: String,
    },
    /// The chats' `last_seq` read again after interest in them was
    /// confirmed: a message stored before that was published while this
    /// node did not listen, so fetch it.
    CatchUp {
        chats: Vec<(String, i64)>,
    },
    /// `user_id`'s chats (with their `last_seq`) as the store had them
    /// after the user's membership epoch was `epoch`: chats not listed
    /// are left, chats not known are joined. Ignored, and read again, if a
    /// membership event of the user came since.
    Reconcile {
        user_id: String,
        epoch: u64,
        chats: Vec<(String, i64)>,
    },
    /// Time to compare every routed chat's last `seq` with the store (see
    /// `gateway.position_sync_secs`).
    SyncPositions,
    /// The routed chats' last `seq`s as the store has them.
    Positions {
        chats: Vec<(String, i64)>,
    },
    /// The sweep `SyncPositions` or a loss started is done.
    SyncDone,
    /// Messages of `chat_id` fetched from the store to fill a gap.
    Repaired {
        chat_id: String,
        messages: Option<Vec<Message>>,
    },
}

#[derive(Default)]
struct LocalUser {
    routes: Vec<Route>,
    chats: HashSet<String>,
    /// Counts the membership events of this user seen here: a snapshot
    /// of the store taken at an older count may be stale.
    membership_epoch: u64,
}

struct ChatRoute {
    /// The `seq` the next `message.new` delivered must have.
    next_seq: i64,
    /// Messages that arrived ahead of `next_seq`.
    early: BTreeMap<i64, Utf8Bytes>,
    repairing: bool,
    /// A catch-up asked for every `seq` below this to be fetched.
    fetch_until: i64,
    /// Local users who are members.
    users: HashSet<String>,
}

pub struct Router {
    core: Arc<Core>,
    commands: mpsc::UnboundedSender<Command>,
    users: HashMap<String, LocalUser>,
    chats: HashMap<String, ChatRoute>,
    sweep: Sweep,
}

/// The sweep in flight: one at a time, so that sweeps slower than their
/// period (many local users) or a burst of losses do not pile up reads on
/// the store; a request during a sweep runs one more after it.
#[derive(Default)]
struct Sweep {
    running: bool,
    again: Option<Sweeping>,
}

/// What a sweep reads, narrower first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Sweeping {
    /// The routed chats' positions (one read): the periodic sync.
    Positions,
    /// Every local user's chats (one read per user): after a loss, which
    /// may have taken membership events too.
    Membership,
}

/// Encodes a frame the router builds itself (repaired messages).
pub fn encode(event: &ServerEvent) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(event).unwrap_or_default())
}

/// A publisher's frame as a WebSocket text frame. The bus carries bytes;
/// checking they are UTF-8 costs one pass per envelope, not per recipient.
fn text_frame(frame: Bytes) -> Option<Utf8Bytes> {
    match Utf8Bytes::try_from(frame) {
        Ok(text) => Some(text),
        Err(error) => {
            tracing::warn!(?error, "dropping an envelope that is not UTF-8");
            None
        }
    }
}

/// True if `frame` holds a file link under a key ending in `url` (a file
/// object's `url`, a chat's `avatar_url`): one scan per envelope. The
/// pattern cannot occur inside a JSON string (its quotes would be
/// escaped there), so message text that looks like it does not count.
fn carries_file_links(frame: &Utf8Bytes) -> bool {
    frame.as_str().contains(r#"url":"/api/v1/files/"#)
}

impl Router {
    pub fn new(core: Arc<Core>, commands: mpsc::UnboundedSender<Command>) -> Self {
        Router {
            core,
            commands,
            users: HashMap::new(),
            chats: HashMap::new(),
            sweep: Sweep::default(),
        }
    }

    /// Runs until the feed ends or the gateway stops it (it holds a
    /// command sender itself, so the commands never run dry).
    pub async fn run(
        mut self,
        mut feed: Box<dyn Feed>,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) {
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.command(command),
                    None => break,
                },
                received = feed.recv() => match received {
                    Some(Received::Envelope(envelope)) => self.route(envelope),
                    Some(Received::Lost(missed)) => self.lost(missed),
                    None => break,
                },
            }
        }
    }

    /// The feed dropped `missed` envelopes. Lost message events show up
    /// as gaps and are repaired; lost membership events are found by
    /// reading every local user's chats again; lost ephemeral events are
    /// just lost.
    fn lost(&mut self, missed: u64) {
        tracing::warn!(missed, "gateway router lost envelopes");
        metrics::counter!("natter_gateway_bus_lagged_total").increment(missed);
        self.start_sweep(Sweeping::Membership);
    }

    /// Starts a sweep, or asks for one more after the running one (the
    /// wider of the two kinds asked for).
    fn start_sweep(&mut self, kind: Sweeping) {
        if self.sweep.running {
            self.sweep.again = self.sweep.again.max(Some(kind));
            return;
        }
        self.sweep.running = true;
        match kind {
            // Lost membership events too: every local user's chats
            // (membership and each chat's last `seq`), reconciled.
            Sweeping::Membership => {
                let everyone = self
                    .users
                    .iter()
                    .map(|(user_id, user)| (user_id.clone(), user.membership_epoch))
                    .collect();
                self.reread_membership(everyone, Some(Command::SyncDone));
            }
            // Lost messages in quiet chats: every routed chat's last
            // `seq` in one read; what is behind is fetched.
            Sweeping::Positions => {
                let chat_ids: Vec<String> = self.chats.keys().cloned().collect();
                let (core, commands) = (self.core.clone(), self.commands.clone());
                tokio::spawn(async move {
                    match core.chat_positions(&chat_ids).await {
                        Ok(chats) => {
                            let _ = commands.send(Command::Positions { chats });
                        }
                        Err(error) => tracing::warn!(?error, "reading chat positions failed"),
                    }
                    let _ = commands.send(Command::SyncDone);
                });
            }
        }
    }

    fn sync_done(&mut self) {
        self.sweep.running = false;
        if let Some(kind) = self.sweep.again.take() {
            self.start_sweep(kind);
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Register {
                route,
                user_id,
                chats,
                registered,
            } => {
                let mut confirmations = Vec::new();
                let user = self.users.entry(user_id.clone()).or_default();
                if user.routes.is_empty() {
                    confirmations.push(self.core.interest(&Subject::User(user_id.clone()), true));
                }
                user.routes.push(route);
                let epoch = user.membership_epoch;
                for (chat_id, last_seq) in chats {
                    confirmations.extend(self.join(&user_id, &chat_id, last_seq));
                }
                tokio::spawn(async move {
                    futures_util::future::join_all(confirmations).await;
                    let _ = registered.send(epoch);
                });
            }
            Command::CatchUp { chats } => {
                for (chat_id, last_seq) in chats {
                    self.catch_up(&chat_id, last_seq);
                }
            }
            Command::Unregister { id, user_id } => {
                let Some(user) = self.users.get_mut(&user_id) else {
                    return;
                };
                user.routes.retain(|route| route.id != id);
                if user.routes.is_empty()
                    && let Some(user) = self.users.remove(&user_id)
                {
                    // Nothing waits for interest to end.
                    drop(self.core.interest(&Subject::User(user_id.clone()), false));
                    for chat_id in user.chats {
                        self.forget_member(&chat_id, &user_id);
                    }
                }
            }
            Command::Reconcile {
                user_id,
                epoch,
                chats,
            } => self.reconcile(&user_id, epoch, chats),
            Command::SyncPositions => self.start_sweep(Sweeping::Positions),
            Command::Positions { chats } => {
                for (chat_id, last_seq) in chats {
                    self.catch_up(&chat_id, last_seq);
                }
            }
            Command::SyncDone => self.sync_done(),
            Command::Repaired { chat_id, messages } => self.repaired(&chat_id, messages),
        }
    }

    /// Sets `user_id`'s chats to the store's snapshot `chats`, unless a
    /// membership event overtook it (then reads again).
    fn reconcile(&mut self, user_id: &str, epoch: u64, chats: Vec<(String, i64)>) {
        let Some(user) = self.users.get_mut(user_id) else {
            return;
        };
        if user.membership_epoch != epoch {
            let again = vec![(user_id.to_owned(), user.membership_epoch)];
            self.reread_membership(again, None);
            return;
        }
        let current: HashSet<&String> = chats.iter().map(|(chat_id, _)| chat_id).collect();
        let gone: Vec<String> = user
            .chats
            .iter()
            .filter(|chat_id| !current.contains(chat_id))
            .cloned()
            .collect();
        let (known, new): (Vec<_>, Vec<_>) = chats
            .into_iter()
            .partition(|(chat_id, _)| user.chats.contains(chat_id));
        for chat_id in &gone {
            user.chats.remove(chat_id);
        }
        for chat_id in gone {
            tracing::debug!(%user_id, %chat_id, "membership reconciled: left");
            self.forget_member(&chat_id, user_id);
        }
        // A chat's position in the snapshot may be ahead of what reached
        // this node (an envelope the bus lost, in a chat quiet since).
        for (chat_id, last_seq) in known {
            self.catch_up(&chat_id, last_seq);
        }
        for (chat_id, last_seq) in new {
            tracing::debug!(%user_id, %chat_id, "membership reconciled: joined");
            if let Some(confirmation) = self.join(user_id, &chat_id, last_seq) {
                self.catch_up_once_listening(chat_id, confirmation);
            }
        }
    }

    /// Reads the chats of each `(user, epoch)` from the store and has them
    /// reconciled, one user after the other; sends `then` after the last.
    fn reread_membership(&self, users: Vec<(String, u64)>, then: Option<Command>) {
        let (core, commands) = (self.core.clone(), self.commands.clone());
        tokio::spawn(async move {
            for (user_id, epoch) in users {
                match core.chat_cursors(&user_id).await {
                    Ok(cursors) => {
                        let chats = cursors
                            .into_iter()
                            .map(|cursor| (cursor.chat_id, cursor.last_seq))
                            .collect();
                        let reconcile = Command::Reconcile {
                            user_id,
                            epoch,
                            chats,
                        };
                        if commands.send(reconcile).is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%user_id, ?error, "reading a user's chats failed");
                    }
                }
            }
            if let Some(then) = then {
                let _ = commands.send(then);
            }
        });
    }

    /// Records that local `user_id` belongs to `chat_id`; returns the
    /// confirmation of the node's interest if the chat is new here.
    fn join(
        &mut self,
        user_id: &str,
        chat_id: &str,
        last_seq: i64,
    ) -> Option<natter_core::realtime::Confirmation> {
        let mut confirmation = None;
        let chat = self.chats.entry(chat_id.to_owned()).or_insert_with(|| {
            confirmation = Some(self.core.interest(&Subject::Chat(chat_id.to_owned()), true));
            ChatRoute {
                next_seq: last_seq + 1,
                early: BTreeMap::new(),
                repairing: false,
                fetch_until: 0,
                users: HashSet::new(),
            }
        });
        chat.users.insert(user_id.to_owned());
        if let Some(user) = self.users.get_mut(user_id) {
            user.chats.insert(chat_id.to_owned());
        }
        confirmation
    }

    fn forget_member(&mut self, chat_id: &str, user_id: &str) {
        if let Some(chat) = self.chats.get_mut(chat_id) {
            chat.users.remove(user_id);
            if chat.users.is_empty() {
                self.chats.remove(chat_id);
                drop(
                    self.core
                        .interest(&Subject::Chat(chat_id.to_owned()), false),
                );
            }
        }
    }

    fn route(&mut self, envelope: Envelope) {
        let Envelope {
            subject,
            meta,
            frame,
        } = envelope;
        match subject {
            Subject::User(user_id) => {
                let Some(user) = self.users.get(&user_id) else {
                    return;
                };
                match &meta {
                    Meta::SessionEnded { session_id } => {
                        for route in user
                            .routes
                            .iter()
                            .filter(|route| route.session_id == *session_id)
                        {
                            route.outbox.end_session();
                        }
                        return;
                    }
                    // For core, if this node holds the call: the user is
                    // the caller, connected here.
                    Meta::CallRelay {
                        user_id: from,
                        party_id,
                    } => {
                        let party = Party {
                            user_id: from.clone(),
                            party_id: party_id.clone(),
                        };
                        let core = self.core.clone();
                        tokio::spawn(async move { core.call_relayed(party, &frame).await });
                        return;
                    }
                    _ => {}
                }
                let Some(frame) = text_frame(frame) else {
                    return;
                };
                if let Meta::ToParty { party_id } = &meta {
                    for route in user
                        .routes
                        .iter()
                        .filter(|route| route.party_id == *party_id)
                    {
                        route.outbox.push(frame.clone());
                    }
                    return;
                }
                if let Meta::ToSession { session_id } = &meta {
                    for route in user
                        .routes
                        .iter()
                        .filter(|route| route.session_id == *session_id)
                    {
                        route.outbox.push(frame.clone());
                    }
                    return;
                }
                self.deliver_to_user(&user_id, &frame, carries_file_links(&frame));
                self.follow_membership(&user_id, &meta);
            }
            Subject::Chat(chat_id) => {
                if !self.chats.contains_key(&chat_id) {
                    return;
                }
                let Some(frame) = text_frame(frame) else {
                    return;
                };
                match meta {
                    Meta::MessageNew { seq } => self.sequence(&chat_id, seq, frame),
                    // Typists do not need their own indication back.
                    Meta::Typing { user_id } => {
                        self.deliver_to_chat_except(&chat_id, &frame, Some(&user_id));
                    }
                    _ => self.deliver_to_chat(&chat_id, &frame),
                }
            }
        }
    }

    /// Keeps the routing tables in step with membership events addressed
    /// to one user.
    fn follow_membership(&mut self, user_id: &str, meta: &Meta) {
        let own_change = match meta {
            Meta::Joined { .. } => true,
            Meta::Left { user_id: left, .. } => left == user_id,
            _ => false,
        };
        if own_change && let Some(user) = self.users.get_mut(user_id) {
            user.membership_epoch += 1;
        }
        match meta {
            Meta::Joined { chat_id, last_seq } => {
                if let Some(confirmation) = self.join(user_id, chat_id, *last_seq) {
                    self.catch_up_once_listening(chat_id.clone(), confirmation);
                }
            }
            Meta::Left {
                chat_id,
                user_id: removed,
            } if removed == user_id => {
                if let Some(user) = self.users.get_mut(user_id) {
                    user.chats.remove(chat_id);
                }
                self.forget_member(chat_id, user_id);
            }
            _ => {}
        }
    }

    /// After interest in a chat that joined during a session is confirmed,
    /// reads its `last_seq` and catches up: a message stored between the
    /// `chat.created` being built and the interest would be missed.
    fn catch_up_once_listening(
        &self,
        chat_id: String,
        confirmation: natter_core::realtime::Confirmation,
    ) {
        let (core, commands) = (self.core.clone(), self.commands.clone());
        tokio::spawn(async move {
            confirmation.await;
            match core.last_seq(&chat_id).await {
                Ok(Some(last_seq)) => {
                    let _ = commands.send(Command::CatchUp {
                        chats: vec![(chat_id, last_seq)],
                    });
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%chat_id, ?error, "catching up a new chat failed"),
            }
        });
    }

    /// Delivers `message.new` frames of a chat strictly in `seq` order.
    fn sequence(&mut self, chat_id: &str, seq: i64, frame: Utf8Bytes) {
        let Some(chat) = self.chats.get_mut(chat_id) else {
            return;
        };
        if seq < chat.next_seq {
            return;
        }
        if seq > chat.next_seq {
            chat.early.insert(seq, frame);
            self.start_repair(chat_id);
            return;
        }
        chat.next_seq += 1;
        self.deliver_to_chat(chat_id, &frame);
        self.release_early(chat_id);
    }

    /// Delivers the waiting messages that are now next in line.
    fn release_early(&mut self, chat_id: &str) {
        loop {
            let Some(chat) = self.chats.get_mut(chat_id) else {
                return;
            };
            let next = chat.next_seq;
            // Early frames that a repair already delivered are stale.
            chat.early = chat.early.split_off(&next);
            let Some(frame) = chat.early.remove(&next) else {
                break;
            };
            chat.next_seq += 1;
            self.deliver_to_chat(chat_id, &frame);
        }
        let waiting = self
            .chats
            .get(chat_id)
            .is_some_and(|chat| !chat.early.is_empty() || chat.fetch_until > chat.next_seq);
        if waiting {
            self.start_repair(chat_id);
        }
    }

    /// Makes sure everything up to `last_seq` gets delivered.
    fn catch_up(&mut self, chat_id: &str, last_seq: i64) {
        let Some(chat) = self.chats.get_mut(chat_id) else {
            return;
        };
        if chat.next_seq <= last_seq {
            chat.fetch_until = chat.fetch_until.max(last_seq + 1);
            self.start_repair(chat_id);
        }
    }

    /// Fetches the messages between `next_seq` and the first early one
    /// (or the catch-up target).
    fn start_repair(&mut self, chat_id: &str) {
        let Some(chat) = self.chats.get_mut(chat_id) else {
            return;
        };
        let first_early = chat.early.keys().next().copied().unwrap_or(0);
        let first_early = first_early.max(chat.fetch_until);
        if first_early <= chat.next_seq {
            chat.fetch_until = 0;
            return;
        }
        if chat.repairing {
            return;
        }
        chat.repairing = true;
        metrics::counter!("natter_gateway_gap_repairs_total").increment(1);
        let (core, commands, chat_id) =
            (self.core.clone(), self.commands.clone(), chat_id.to_owned());
        let (after, before) = (chat.next_seq - 1, first_early);
        tokio::spawn(async move {
            tokio::time::sleep(REPAIR_DELAY).await;
            let messages = match core.messages_between(&chat_id, after, before).await {
                Ok(messages) => Some(messages),
                Err(error) => {
                    tracing::warn!(%chat_id, ?error, "gap repair failed; retrying");
                    tokio::time::sleep(REPAIR_RETRY).await;
                    None
                }
            };
            let _ = commands.send(Command::Repaired { chat_id, messages });
        });
    }

    fn repaired(&mut self, chat_id: &str, messages: Option<Vec<Message>>) {
        if !self.chats.contains_key(chat_id) {
            return;
        }
        // Still marked as repairing while the batch is sequenced, so a hole
        // inside it does not start a fetch per message.
        for message in messages.unwrap_or_default() {
            let seq = message.seq;
            let frame = encode(&ServerEvent::MessageNew { message });
            self.sequence(chat_id, seq, frame);
        }
        if let Some(chat) = self.chats.get_mut(chat_id) {
            chat.repairing = false;
        }
        // Starts the next repair if anything is still missing.
        self.release_early(chat_id);
    }

    fn deliver_to_chat(&self, chat_id: &str, frame: &Utf8Bytes) {
        self.deliver_to_chat_except(chat_id, frame, None);
    }

    fn deliver_to_chat_except(&self, chat_id: &str, frame: &Utf8Bytes, except: Option<&String>) {
        let Some(chat) = self.chats.get(chat_id) else {
            return;
        };
        let links = carries_file_links(frame);
        for user_id in chat.users.iter().filter(|user_id| Some(*user_id) != except) {
            self.deliver_to_user(user_id, frame, links);
        }
        metrics::counter!("natter_gateway_chat_events_total").increment(1);
    }

    /// `links`: the frame carries file links, which are issued again to
    /// this user (once for all their connections) before it goes out.
    fn deliver_to_user(&self, user_id: &str, frame: &Utf8Bytes, links: bool) {
        let Some(user) = self.users.get(user_id) else {
            return;
        };
        let personal;
        let frame = if links {
            personal = self.relinked(frame, user_id);
            &personal
        } else {
            frame
        };
        for route in &user.routes {
            // A full outbox closes its own connection; nothing to do here.
            route.outbox.push(frame.clone());
        }
    }

    /// `frame` with its file links issued to `user_id`, so that each one
    /// stops working the moment that user loses access to the file.
    fn relinked(&self, frame: &Utf8Bytes, user_id: &str) -> Utf8Bytes {
        match serde_json::from_str::<ServerEvent>(frame.as_str()) {
            Ok(mut event) => {
                self.core.files().relink_event(&mut event, user_id);
                encode(&event)
            }
            Err(error) => {
                tracing::warn!(%error, "a frame with file links that does not parse");
                frame.clone()
            }
        }
    }
}

#[cfg(test)]
mod tests;
