// Loading a chat's history into its window: the newest page when a chat
// opens, older pages on scroll up, newer pages after a jump, the page
// around a search hit, gap repair with `after=seq:N` so the window never
// has holes, and the changes made while away (edits, deletes, reactions)
// with `changed_after=V` (resume after a reconnect goes through fillGap
// and fetchChanges).

import * as api from './api.js';
import * as messages from './messages.js';
import * as timeline from './state/timeline.js';
import * as users from './users.js';
import { emit, state } from './state/store.js';

const PAGE = 50;
/** Pages fetched to close one gap before giving up and reloading the newest page. */
const MAX_GAP_PAGES = 25;

/** @type {Map<string, Promise<void>>} */
const filling = new Map();
/** @type {Set<string>} */
const fillAgain = new Set();

/** @param {string} chatId */
function chatOf(chatId) {
  return state.chats.get(chatId);
}

/** @param {import('./types.js').Message[]} messages */
function loadSenders(messages) {
  for (const message of messages) {
    if (!state.users.has(message.sender_id)) void users.load(message.sender_id);
  }
}

/**
 * The newest page, replacing whatever window the chat had.
 * @param {string} chatId
 */
export async function loadLatest(chatId) {
  const seen = chatOf(chatId)?.summary.last_version ?? 0;
  const page = await api.history(chatId, { limit: PAGE });
  const chat = chatOf(chatId);
  if (!chat) return;
  chat.seenVersion = seen;
  const lastSeq = Math.max(chat.summary.last_seq, page.messages.at(-1)?.seq ?? 0);
  chat.window = timeline.windowFrom(page.messages, lastSeq, false);
  loadSenders(page.messages);
  emit('timeline', chatId);
  if (chat.summary.last_seq > chat.window.hi) await fillGap(chatId);
}

/**
 * Makes sure the chat has a window that contains `seq` (or the newest
 * messages without one).
 * @param {string} chatId
 * @param {number | null} seq
 */
export async function ensureLoaded(chatId, seq) {
  const chat = chatOf(chatId);
  if (!chat) return;
  const window = chat.window;
  if (seq === null) {
    if (!window || window.hasMoreAfter) await loadLatest(chatId);
    return;
  }
  if (window && seq >= window.lo && seq <= window.hi) return;
  const after = Math.max(0, seq - Math.floor(PAGE / 2));
  const seen = chat.summary.last_version ?? 0;
  const page = await api.history(chatId, { after, limit: PAGE });
  const fresh = chatOf(chatId);
  if (!fresh) return;
  fresh.seenVersion = seen;
  fresh.window = timeline.windowFrom(page.messages, fresh.summary.last_seq, page.has_more);
  if (!page.messages.length) fresh.window.lo = after + 1;
  loadSenders(page.messages);
  emit('timeline', chatId);
}

/** Older messages above the window (scrolling up).
 * @param {string} chatId */
export async function loadOlder(chatId) {
  const window = chatOf(chatId)?.window;
  if (!window || window.loadingBefore || window.lo <= 1) return;
  window.loadingBefore = true;
  try {
    const page = await api.history(chatId, { before: window.lo, limit: PAGE });
    timeline.prepend(window, page.messages);
    // Nothing older: stop asking even if the server skipped seqs.
    if (!page.has_more) window.lo = 1;
    loadSenders(page.messages);
  } finally {
    window.loadingBefore = false;
    emit('timeline', chatId);
  }
}

/** Newer messages below a window that does not reach the newest.
 * @param {string} chatId */
export async function loadNewer(chatId) {
  const window = chatOf(chatId)?.window;
  if (!window || window.loadingAfter || !window.hasMoreAfter) return;
  window.loadingAfter = true;
  try {
    const page = await api.history(chatId, { after: window.hi, limit: PAGE });
    timeline.extend(window, page.messages);
    window.hasMoreAfter = page.has_more;
    loadSenders(page.messages);
  } finally {
    window.loadingAfter = false;
    emit('timeline', chatId);
  }
}

/**
 * Fetches everything after the window's newest message, page by page,
 * until the window reaches the chat's end. One run per chat at a time;
 * a request during a run makes it run once more.
 * @param {string} chatId
 * @returns {Promise<void>}
 */
export function fillGap(chatId) {
  const running = filling.get(chatId);
  if (running) {
    fillAgain.add(chatId);
    return running;
  }
  const run = (async () => {
    do {
      fillAgain.delete(chatId);
      await fillOnce(chatId);
    } while (fillAgain.has(chatId));
  })().finally(() => filling.delete(chatId));
  filling.set(chatId, run);
  return run;
}

/** @param {string} chatId */
async function fillOnce(chatId) {
  for (let pages = 0; pages < MAX_GAP_PAGES; pages += 1) {
    const chat = chatOf(chatId);
    const window = chat?.window;
    if (!chat || !window || window.hasMoreAfter) return;
    const page = await api.history(chatId, { after: window.hi, limit: 200 });
    const grew = timeline.extend(window, page.messages);
    const last = page.messages.at(-1);
    if (last && last.seq > chat.summary.last_seq) {
      chat.summary.last_seq = last.seq;
      chat.summary.last_message = last;
    }
    loadSenders(page.messages);
    emit('timeline', chatId);
    emit('chats');
    if (!page.has_more || !grew) return;
  }
  // Too far behind to page through: start again from the newest.
  await loadLatest(chatId);
}

/**
 * Applies every change of the chat since the window's change cursor
 * (edits, tombstones, reactions made while away), page by page, then
 * moves the cursor to `upTo` (the chat's `last_version` in `ready`).
 * @param {string} chatId
 * @param {number} upTo
 */
export async function fetchChanges(chatId, upTo) {
  let after = chatOf(chatId)?.seenVersion ?? upTo;
  while (after < upTo) {
    const page = await api.history(chatId, { changedAfter: after, limit: 200 });
    for (const message of page.messages) messages.applyUpdate(message);
    const last = page.messages.at(-1);
    if (!page.has_more || !last) break;
    after = last.version;
  }
  const chat = chatOf(chatId);
  if (chat) chat.seenVersion = Math.max(chat.seenVersion, upTo);
}

/**
 * Re-reads the newest page of a loaded window, so the statuses (ticks)
 * of receipts missed while offline are current again; edits, deletes and
 * reactions come through fetchChanges, whichever page they are on.
 * @param {string} chatId
 */
export async function refreshRecent(chatId) {
  const window = chatOf(chatId)?.window;
  if (!window || window.hasMoreAfter) return;
  const page = await api.history(chatId, { before: window.hi + 1, limit: PAGE });
  for (const message of page.messages) timeline.replace(window, message);
  emit('timeline', chatId);
}
