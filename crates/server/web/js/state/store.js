// The client's whole state in one place, and a tiny publish/subscribe so
// views re-render when the part they show changes. Holds data only: no
// network, no DOM. Topics: 'chats' (the list), 'timeline' (detail: a chat
// id), 'typing' (chat id), 'users' (names and presence), 'connection',
// 'active' (the open chat changed), 'session', 'e2ee' (what this device
// can do in encrypted chats changed).

/** @typedef {import('../types.js').ChatSummary} ChatSummary */
/** @typedef {import('../types.js').Message} Message */

/**
 * The loaded part of a chat's history: messages lo..hi by seq, with no
 * holes (seqs are gap-free, so everything older than lo exists when
 * lo > 1). `hasMoreAfter` is false while the window reaches the newest
 * message, so live messages extend it.
 * @typedef {{
 *   messages: Map<number, Message>, lo: number, hi: number,
 *   hasMoreAfter: boolean, loadingBefore: boolean, loadingAfter: boolean
 * }} HistoryWindow
 */

/**
 * `seenVersion` is the chat's change cursor for its window: every edit,
 * delete and reaction up to that chat version is in the window (set when
 * the window is loaded, moved on after each resume's changes fetch).
 * @typedef {{
 *   summary: ChatSummary,
 *   members: import('../types.js').Member[] | null,
 *   window: HistoryWindow | null,
 *   typing: Map<string, number>,
 *   peerDelivered: number,
 *   peerRead: number,
 *   acked: number,
 *   seenVersion: number,
 *   description?: string | null,
 * }} ChatState
 */

/**
 * A message on its way: shown at once, confirmed by `send.ok`.
 * @typedef {{
 *   client_msg_id: string, chat_id: string, type: import('../types.js').MessageType,
 *   content: string, metadata?: import('../types.js').Metadata, created_at: string,
 *   state: 'uploading' | 'sending' | 'failed', error?: string, sentAt: number,
 *   file?: File, file_id?: string, fileRef?: import('../types.js').FileRef,
 *   previewUrl?: string, progress?: number, wire?: string
 * }} Pending
 */

export const state = {
  /** @type {import('../types.js').User | null} */
  me: null,
  /** @type {Map<string, ChatState>} */
  chats: new Map(),
  chatsLoaded: false,
  /** @type {Map<string, import('../types.js').User>} */
  users: new Map(),
  /** @type {Map<string, import('../types.js').Presence>} */
  presence: new Map(),
  /** @type {string | null} */
  activeChatId: null,
  /** Seq to scroll to and flash once the active chat renders. @type {number | null} */
  focusSeq: null,
  /** @type {Map<string, Pending>} */
  pending: new Map(),
  /** @type {'connecting' | 'online' | 'offline'} */
  connection: 'connecting',
};

/** @type {Map<string, Set<(detail: any) => void>>} */
const topics = new Map();

/**
 * @param {string} topic
 * @param {(detail: any) => void} listener
 * @returns {() => void} unsubscribe
 */
export function on(topic, listener) {
  let listeners = topics.get(topic);
  if (!listeners) topics.set(topic, (listeners = new Set()));
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** @param {string} topic @param {any} [detail] */
export function emit(topic, detail) {
  for (const listener of topics.get(topic) ?? []) listener(detail);
}

/** Forgets everything (sign out). */
export function reset() {
  state.me = null;
  state.chats.clear();
  state.chatsLoaded = false;
  state.users.clear();
  state.presence.clear();
  state.activeChatId = null;
  state.focusSeq = null;
  for (const pending of state.pending.values()) {
    if (pending.previewUrl) URL.revokeObjectURL(pending.previewUrl);
  }
  state.pending.clear();
}

/** @param {ChatSummary} summary @returns {ChatState} */
export function newChatState(summary) {
  return {
    summary, members: null, window: null, typing: new Map(), peerDelivered: 0, peerRead: 0, acked: 0,
    seenVersion: summary.last_version ?? 0,
  };
}

/** When a chat last saw activity, for ordering the list.
 * @param {ChatSummary} summary */
export function activity(summary) {
  return summary.last_message?.created_at ?? summary.created_at;
}

/** Chats, most recently active first. */
export function sortedChats() {
  return Array.from(state.chats.values()).sort((a, b) => {
    const left = activity(a.summary);
    const right = activity(b.summary);
    return left < right ? 1 : left > right ? -1 : 0;
  });
}

export function unreadTotal() {
  let total = 0;
  for (const chat of state.chats.values()) total += chat.summary.unread_count;
  return total;
}

/** The name to show for a chat.
 * @param {ChatSummary} summary */
export function chatName(summary) {
  return summary.name || (summary.type === 'direct' ? 'Direct chat' : 'Unnamed chat');
}

/** @param {string} userId */
export function isMe(userId) {
  return state.me?.user_id === userId;
}
