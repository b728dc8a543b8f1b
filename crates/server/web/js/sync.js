// Keeps the store in step with the server over the WebSocket: applies
// every event, resumes without gaps after `ready` (list refresh, then
// `after=seq:N` for loaded windows that fell behind and `changed_after=V`
// for the edits, deletes and reactions they missed), acknowledges what
// arrived (`ack`), sends `read` for what is on screen, and sends and
// expires typing indicators.

import * as chatflags from './chatflags.js';
import * as chats from './chats.js';
import * as history from './history.js';
import * as messages from './messages.js';
import * as notify from './notify.js';
import * as outbox from './outbox.js';
import * as timeline from './state/timeline.js';
import * as users from './users.js';
import * as ws from './ws.js';
import { emit, sortedChats, state } from './state/store.js';

/** @typedef {import('./types.js').ServerEvent} ServerEvent */
/** @typedef {import('./types.js').Message} Message */

/** Typing indicators expire by themselves after this long. */
const TYPING_TTL_MS = 6_000;
/** Re-announce typing this often while the person keeps typing. */
const TYPING_REPEAT_MS = 3_000;
/** Typing stops being announced after this much quiet. */
const TYPING_IDLE_MS = 4_000;

let everReady = false;
/** @type {Map<string, number>} */
const pendingAcks = new Map();
let ackScheduled = false;

/** Applies one server frame. @param {ServerEvent} event */
export function handle(event) {
  switch (event.type) {
    case 'ready': void resume(event.chats); break;
    case 'message.new': received(event.message); break;
    case 'message.updated': messages.applyUpdate(event.message); break;
    case 'message.deleted':
      messages.applyDelete(event.chat_id, event.message_id, event.seq, event.version);
      break;
    case 'message.hidden': messages.applyHidden(event.chat_id, event.message_id, event.seq); break;
    case 'reaction.added':
    case 'reaction.removed':
      messages.applyReaction(
        event.chat_id, event.message_id, event.emoji, event.user_id, event.type === 'reaction.added', event.version,
      );
      break;
    case 'receipt': receipt(event.chat_id, event.user_id, event.kind, event.seq); break;
    case 'typing': typing(event.chat_id, event.user_id, event.active); break;
    case 'presence': users.setPresence(event.user_id, event.status, event.last_seen); break;
    case 'chat.created':
      chats.upsert(event.chat);
      emit('chats');
      break;
    case 'chat.updated': {
      // The summary is the renamer's view: take only what is shared.
      const chat = state.chats.get(event.chat.chat_id);
      // Sent to me alone when my own marks changed (chatflags.js): they
      // are all it brings that the list does not know yet.
      if (chat && typeof event.chat.pinned === 'boolean') {
        chat.summary = { ...chat.summary, ...chatflags.mineOf(event.chat) };
        emit('chats');
        break;
      }
      if (chat) {
        const { name, member_count, topic, avatar_url } = event.chat;
        chat.summary = { ...chat.summary, name, member_count, topic, avatar_url };
        // The description is in the chat object only: fetched again where shown.
        if (chat.members) void chats.loadMembers(event.chat.chat_id).catch(() => {});
        emit('chats');
        emit('timeline', event.chat.chat_id);
      }
      break;
    }
    case 'chat.member_added': chats.memberAdded(event.chat_id, event.user_id); break;
    case 'chat.member_removed': chats.memberRemoved(event.chat_id, event.user_id); break;
    case 'send.ok': outbox.confirmed(event.client_msg_id, event); break;
    case 'error':
      if (event.client_msg_id) outbox.refused(event.client_msg_id, event.code, event.detail);
      break;
    case 'pong': break;
  }
}

/**
 * After every `ready`: bring the list and loaded windows up to the
 * server's cursors, acknowledge, and re-send what is still pending.
 * @param {import('./types.js').ChatCursor[]} cursors
 */
async function resume(cursors) {
  const reconnect = everReady;
  everReady = true;
  try {
    if (!state.chatsLoaded) await chats.loadChats();
    const stale = cursors.some((cursor) => {
      const chat = state.chats.get(cursor.chat_id);
      return !chat || chat.summary.last_seq < cursor.last_seq || chat.summary.read_seq !== cursor.read_seq
        // An edit or deletion of the last message changes only the version.
        || chat.summary.last_version < cursor.last_version;
    });
    if (stale || cursors.length !== state.chats.size) await chats.loadChats();
    outbox.resendAll();
    const versions = new Map(cursors.map((cursor) => [cursor.chat_id, cursor.last_version]));
    for (const chat of state.chats.values()) {
      const { window, summary } = chat;
      if (!window) continue;
      if (summary.chat_id !== state.activeChatId) {
        // Reloaded when opened; cheaper than repairing every cached chat.
        if (reconnect) chat.window = null;
        continue;
      }
      if (!window.hasMoreAfter && window.hi < summary.last_seq) await history.fillGap(summary.chat_id);
      const lastVersion = versions.get(summary.chat_id);
      if (lastVersion !== undefined) await history.fetchChanges(summary.chat_id, lastVersion);
      if (reconnect) await history.refreshRecent(summary.chat_id);
    }
    for (const chat of state.chats.values()) ack(chat.summary.chat_id, chat.summary.last_seq);
    readIfVisible();
    if (reconnect) refreshPresence();
  } catch {
    // A failed request here is retried by the next reconnect.
  }
}

/** Presence changes were missed while away: ask again for the people of
 * the most recent direct chats (the rest follow as events or on open). */
function refreshPresence() {
  const peers = sortedChats().map((chat) => chat.summary.peer_id).filter((id) => id !== undefined).slice(0, 30);
  for (const peer of peers) void users.load(peer, true);
}

/**
 * A message from the server, or one of mine confirmed by `send.ok`.
 * @param {Message} message
 */
export function received(message) {
  const chat = state.chats.get(message.chat_id);
  if (!chat) {
    void chats.loadChats().catch(() => {});
    return;
  }
  const mine = message.sender_id === state.me?.user_id;
  if (mine && message.client_msg_id) {
    outbox.echoed(message);
    outbox.settle(message.client_msg_id);
  }
  const summary = chat.summary;
  const isNew = message.seq > summary.last_seq;
  if (isNew) {
    summary.last_seq = message.seq;
    summary.last_message = message;
    if (!mine && message.seq > summary.read_seq) summary.unread_count += 1;
    if (mine) summary.read_seq = Math.max(summary.read_seq, message.seq);
  } else if (summary.last_message?.seq === message.seq) {
    summary.last_message = message;
  }
  if (chat.window) {
    const outcome = timeline.addLive(chat.window, message);
    if (outcome === 'gap') void history.fillGap(message.chat_id).catch(() => {});
  }
  if (chat.typing.delete(message.sender_id)) emit('typing', message.chat_id);
  if (!mine) {
    ack(message.chat_id, message.seq);
    if (isNew) notify.message(chat, message);
  }
  emit('timeline', message.chat_id);
  emit('chats');
  if (!mine) readIfVisible();
}

/**
 * @param {string} chatId @param {string} userId
 * @param {'delivered' | 'read'} kind @param {number} seq
 */
function receipt(chatId, userId, kind, seq) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  if (userId === state.me?.user_id) {
    // Another device of mine read it.
    if (kind === 'read' && seq > chat.summary.read_seq) {
      chat.summary.read_seq = seq;
      if (seq >= chat.summary.last_seq) chat.summary.unread_count = 0;
      emit('chats');
    }
    return;
  }
  if (kind === 'read') chat.peerRead = Math.max(chat.peerRead, seq);
  chat.peerDelivered = Math.max(chat.peerDelivered, seq);
  emit('timeline', chatId);
}

/** @param {string} chatId @param {string} userId @param {boolean} active */
function typing(chatId, userId, active) {
  const chat = state.chats.get(chatId);
  if (!chat || userId === state.me?.user_id) return;
  if (active) {
    chat.typing.set(userId, Date.now() + TYPING_TTL_MS);
    setTimeout(() => expireTyping(chatId), TYPING_TTL_MS + 50);
  } else {
    chat.typing.delete(userId);
  }
  emit('typing', chatId);
}

/** @param {string} chatId */
function expireTyping(chatId) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const now = Date.now();
  let changed = false;
  for (const [userId, until] of chat.typing) {
    if (until <= now) {
      chat.typing.delete(userId);
      changed = true;
    }
  }
  if (changed) emit('typing', chatId);
}

/**
 * Marks as delivered up to `seq` (coalesced: one frame per chat per tick).
 * @param {string} chatId @param {number} seq
 */
export function ack(chatId, seq) {
  const chat = state.chats.get(chatId);
  if (!chat || seq <= chat.acked) return;
  pendingAcks.set(chatId, Math.max(seq, pendingAcks.get(chatId) ?? 0));
  if (ackScheduled) return;
  ackScheduled = true;
  setTimeout(() => {
    ackScheduled = false;
    for (const [id, upTo] of pendingAcks) {
      const target = state.chats.get(id);
      if (target && ws.send({ type: 'ack', chat_id: id, seq: upTo })) target.acked = Math.max(target.acked, upTo);
    }
    pendingAcks.clear();
  }, 50);
}

/** Set by the conversation view: is the newest message on screen? */
let atBottom = () => false;

/** @param {() => boolean} check */
export function setBottomCheck(check) {
  atBottom = check;
}

/** Sends `read` for the open chat if the person can see its newest message. */
export function readIfVisible() {
  const chatId = state.activeChatId;
  const chat = chatId ? state.chats.get(chatId) : undefined;
  if (!chatId || !chat?.window || chat.window.hasMoreAfter) return;
  if (document.visibilityState !== 'visible' || !atBottom()) return;
  const seq = chat.window.hi;
  if (seq <= 0) return;
  if (seq <= chat.summary.read_seq && chat.summary.unread_count === 0) return;
  if (!ws.send({ type: 'read', chat_id: chatId, seq })) return;
  chat.summary.read_seq = Math.max(chat.summary.read_seq, seq);
  if (seq >= chat.summary.last_seq) chat.summary.unread_count = 0;
  emit('chats');
}

document.addEventListener('visibilitychange', () => {
  readIfVisible();
  if (state.me) ws.send({ type: 'presence', status: document.visibilityState === 'visible' ? 'online' : 'away' });
});

/** Typing state of the composer, per chat. */
let typingChat = '';
let typingSentAt = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let typingIdle;

/** The composer changed: announce typing, at most every few seconds.
 * @param {string} chatId */
export function typed(chatId) {
  const now = Date.now();
  if (typingChat !== chatId || now - typingSentAt > TYPING_REPEAT_MS) {
    if (typingChat && typingChat !== chatId) stopTyping();
    if (ws.send({ type: 'typing', chat_id: chatId, active: true })) {
      typingChat = chatId;
      typingSentAt = now;
    }
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

/** The composer was sent, cleared or left. */
export function stopTyping() {
  clearTimeout(typingIdle);
  if (!typingChat) return;
  ws.send({ type: 'typing', chat_id: typingChat, active: false });
  typingChat = '';
  typingSentAt = 0;
}
