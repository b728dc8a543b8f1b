// Actions on existing messages: edit, delete (for everyone, or hidden for
// me only), toggle a reaction, looking
// up a replied-to message that is not in the loaded window, and renewing
// the signed file links of a message (they expire after an hour).
// Each applies its result to the store at once; the matching WebSocket
// event, arriving too, is idempotent.

import * as api from './api.js';
import * as chats from './chats.js';
import * as timeline from './state/timeline.js';
import { emit, state } from './state/store.js';

/** @typedef {import('./types.js').Message} Message */

/** Messages fetched for reply quotes, by id. @type {Map<string, Message | null>} */
const quoted = new Map();
/** @type {Set<string>} */
const loadingQuotes = new Set();

/**
 * Applies a changed message to its chat (window and list preview).
 * @param {Message} message
 */
export function applyUpdate(message) {
  const chat = state.chats.get(message.chat_id);
  if (!chat) return;
  // A message I hid stays hidden whatever becomes of it for others.
  if (!message.hidden && (hiddenIds.has(message.message_id) || chat.window?.messages.get(message.seq)?.hidden)) {
    message = placeholder(message);
  }
  if (chat.window) timeline.replace(chat.window, message);
  if (quoted.has(message.message_id)) quoted.set(message.message_id, message);
  if (chat.summary.last_message?.seq === message.seq) {
    chat.summary.last_message = message;
    emit('chats');
  }
  emit('timeline', message.chat_id);
}

/**
 * @param {string} chatId
 * @param {string} messageId
 * @param {number} seq
 * @param {number} [version] the tombstone's version
 */
export function applyDelete(chatId, messageId, seq, version) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  if (chat.window) timeline.tombstone(chat.window, seq, version);
  const cached = quoted.get(messageId);
  if (cached) quoted.set(messageId, { ...cached, deleted: true, content: '' });
  const last = chat.summary.last_message;
  if (last?.seq === seq) {
    chat.summary.last_message = { ...last, deleted: true, content: '' };
    emit('chats');
  }
  emit('timeline', chatId);
}

/** Messages I hid this session (a page loaded later marks them itself). @type {Set<string>} */
const hiddenIds = new Set();

/**
 * What a message I hid is to me: a tombstone marked `hidden` that keeps
 * its place (seq, version); the timeline does not show it.
 * @param {Message} message
 * @returns {Message}
 */
function placeholder(message) {
  const { file: _file, edited_at: _edited, client_msg_id: _client, ...rest } = message;
  return { ...rest, content: '', metadata: {}, reactions: [], deleted: true, hidden: true };
}

/**
 * "Delete for me", done here or on another of my devices (the
 * `message.hidden` event): the message leaves the timeline and the list
 * preview; the server gives it as a placeholder from now on.
 * @param {string} chatId
 * @param {string} messageId
 * @param {number} seq
 */
export function applyHidden(chatId, messageId, seq) {
  hiddenIds.add(messageId);
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const held = chat.window?.messages.get(seq);
  if (chat.window && held) chat.window.messages.set(seq, placeholder(held));
  const cached = quoted.get(messageId);
  if (cached) quoted.set(messageId, placeholder(cached));
  if (chat.summary.last_message?.seq === seq) {
    // The preview becomes the last message I did not hide: the server knows.
    chat.summary.last_message = undefined;
    void chats.loadChats().catch(() => {});
    emit('chats');
  }
  emit('timeline', chatId);
}

/**
 * @param {string} chatId
 * @param {string} messageId
 * @param {string} emoji
 * @param {string} userId
 * @param {boolean} added
 * @param {number} [version] the message's version after the change
 */
export function applyReaction(chatId, messageId, emoji, userId, added, version) {
  const window = state.chats.get(chatId)?.window;
  if (!window) return;
  const message = timeline.findById(window, messageId);
  if (!message) return;
  window.messages.set(message.seq, timeline.react(message, emoji, userId, added, version));
  emit('timeline', chatId);
}

/** @param {Message} message @param {string} content */
export async function edit(message, content) {
  applyUpdate(await api.editMessage(message.message_id, content));
}

/** @param {Message} message */
export async function remove(message) {
  await api.deleteMessage(message.message_id);
  applyDelete(message.chat_id, message.message_id, message.seq);
}

/** Hides a message for me only ("Delete for me").
 * @param {Message} message */
export async function hide(message) {
  await api.hideMessage(message.message_id);
  applyHidden(message.chat_id, message.message_id, message.seq);
}

/** Adds my reaction with `emoji`, or takes it back if I had it.
 * @param {Message} message @param {string} emoji */
export async function toggleReaction(message, emoji) {
  const me = state.me?.user_id;
  if (!me) return;
  const mine = message.reactions.some((reaction) => reaction.emoji === emoji && reaction.user_ids.includes(me));
  await api.react(message.message_id, emoji, !mine);
  applyReaction(message.chat_id, message.message_id, emoji, me, !mine);
}

/**
 * The message a reply points at: from the window, or fetched once.
 * Returns undefined while loading (the timeline re-renders when it comes).
 * @param {string} chatId
 * @param {string} messageId
 * @returns {Message | null | undefined}
 */
export function replyTarget(chatId, messageId) {
  const window = state.chats.get(chatId)?.window;
  const local = window ? timeline.findById(window, messageId) : undefined;
  if (local) return local;
  if (quoted.has(messageId)) return quoted.get(messageId);
  if (loadingQuotes.has(messageId)) return undefined;
  loadingQuotes.add(messageId);
  api.message(messageId).then(
    (message) => quoted.set(messageId, message),
    () => quoted.set(messageId, null),
  ).finally(() => {
    loadingQuotes.delete(messageId);
    emit('timeline', chatId);
  });
  return undefined;
}

/** Renew a signed link this long before it expires. */
const LINK_MARGIN_MS = 10_000;
/** At most one renewal per message in this time (a server configured
 * with very short links must not cause a request loop). */
const RENEW_EVERY_MS = 30_000;
/** Message id -> when its links were last asked for. @type {Map<string, number>} */
const renewedAt = new Map();

/**
 * Whether a signed file link (its `expires` parameter) is still good.
 * @param {string} url
 */
export function linkFresh(url) {
  const expires = Number(new URL(url, location.href).searchParams.get('expires'));
  return !expires || expires * 1000 - Date.now() > LINK_MARGIN_MS;
}

/**
 * Fetches the message again for new file links; the timeline re-renders
 * with them.
 * @param {Message} message
 */
export function renewLinks(message) {
  const last = renewedAt.get(message.message_id) ?? 0;
  if (Date.now() - last < RENEW_EVERY_MS) return;
  renewedAt.set(message.message_id, Date.now());
  api.message(message.message_id).then(applyUpdate, () => {});
}

/**
 * The message's file with links that work now.
 * @param {Message} message
 * @returns {Promise<import('./types.js').FileRef | undefined>}
 */
export async function freshFile(message) {
  if (!message.file || linkFresh(message.file.url)) return message.file;
  const fresh = await api.message(message.message_id);
  applyUpdate(fresh);
  return fresh.file;
}
