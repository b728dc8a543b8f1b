// My own marks on a chat (pinned, archived, marked unread) and its mute,
// as the chat list shows them: changed on the server (PATCH
// /chats/{id}/me; mute through the chat's notification settings), shown
// at once and put back if the server refuses. My other devices hear of a
// change as `chat.updated` (sync.js merges it with `mineOf`). Opening a
// chat marked unread clears the mark.

import * as api from './api.js';
import { emit, on, state } from './state/store.js';
import { FOREVER } from './views/until.js';

/** @typedef {import('./types.js').ChatSummary} ChatSummary */
/** @typedef {{ pinned?: boolean, archived?: boolean, marked_unread?: boolean, muted?: boolean }} Mine */

const FIELDS = /** @type {const} */ (['pinned', 'archived', 'marked_unread', 'muted']);

/**
 * The marks a summary carries (a `chat.updated` sent to the whole chat
 * carries none: they are per member).
 * @param {ChatSummary} summary
 * @returns {Mine}
 */
export function mineOf(summary) {
  /** @type {Mine} */
  const mine = {};
  for (const field of FIELDS) {
    if (typeof summary[field] === 'boolean') mine[field] = summary[field];
  }
  return mine;
}

/** @param {string} chatId @param {Mine} mine */
function apply(chatId, mine) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  chat.summary = { ...chat.summary, ...mine };
  emit('chats');
}

/**
 * Changes my marks on a chat: shown at once, then as the server answers.
 * @param {string} chatId
 * @param {{ pinned?: boolean, archived?: boolean, marked_unread?: boolean }} change
 */
export async function setMarks(chatId, change) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const before = mineOf(chat.summary);
  apply(chatId, change);
  try {
    apply(chatId, mineOf(await api.updateMyChat(chatId, change)));
  } catch (failure) {
    apply(chatId, before);
    throw failure;
  }
}

/**
 * Mutes the chat until I unmute it, or unmutes it, keeping its level.
 * @param {string} chatId @param {boolean} muted
 */
export async function setMuted(chatId, muted) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const before = chat.summary.muted ?? false;
  apply(chatId, { muted });
  try {
    const current = await api.chatNotifications(chatId);
    const saved = await api.setChatNotifications(chatId, { level: current.level, muted_until: muted ? FOREVER : null });
    apply(chatId, { muted: Boolean(saved.muted_until && saved.muted_until > new Date().toISOString()) });
  } catch (failure) {
    apply(chatId, { muted: before });
    throw failure;
  }
}

/**
 * "Mark as read": clears the mark and reads up to the newest message.
 * @param {string} chatId
 */
export async function markRead(chatId) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const { summary } = chat;
  if (summary.marked_unread) await setMarks(chatId, { marked_unread: false });
  if (summary.unread_count > 0 && summary.last_seq > 0) {
    await api.markRead(chatId, summary.last_seq);
    const now = state.chats.get(chatId);
    if (now) {
      now.summary.read_seq = Math.max(now.summary.read_seq, summary.last_seq);
      now.summary.unread_count = 0;
      emit('chats');
    }
  }
}

/** Whether the list shows the chat as unread (messages, or my mark).
 * @param {ChatSummary} summary */
export function looksUnread(summary) {
  return summary.unread_count > 0 || Boolean(summary.marked_unread);
}

let watching = false;
let checkedFirst = false;

/** Opening a chat marked unread clears the mark (once per page). */
export function clearMarkWhenOpened() {
  if (watching) return;
  watching = true;
  const check = () => {
    const chatId = state.activeChatId;
    const chat = chatId ? state.chats.get(chatId) : undefined;
    if (chatId && chat?.summary.marked_unread) setMarks(chatId, { marked_unread: false }).catch(() => {});
  };
  on('active', check);
  // A chat opened by the address before the list came in is checked once
  // the list is there. A mark set while the chat is open stays: only
  // opening clears it.
  on('chats', () => {
    if (state.chatsLoaded && !checkedFirst) {
      checkedFirst = true;
      check();
    }
  });
}
