// Encrypted chats as the rest of the client sees them: follows `ready`
// (this device's id), `mls.welcome` and `message.new` of encrypted chats,
// keeps this device's KeyPackages stocked, joins from Welcomes (pushed,
// and any pending at start), applies each chat's messages in seq order
// and encrypts what is sent. Every MLS operation runs one at a time on a
// single queue: a group's state must never be read by one step while
// another is changing it. The MLS library loads only when needed (this
// device has no KeyPackages on the server yet, or an encrypted chat is
// in use), so plain chats never fetch it.

import * as api from '../api.js';
import * as device from './device.js';
import * as groups from './groups.js';
import { joinExternally } from './external.js';
import * as plaintexts from './plaintexts.js';
import { Unavailable, whyUnavailable } from './library.js';
import { emit, on, state } from '../state/store.js';

/** @typedef {import('../types.js').Message} Message */

/** How long after `ready` this device tops up its KeyPackages. */
const STOCK_DELAY_MS = 3_000;

/** The pending top-up. @type {ReturnType<typeof setTimeout> | undefined} */
let stocking;
/** The tail of the queue. @type {Promise<unknown>} */
let queue = Promise.resolve();
/** Chats whose group this device holds (filled as they are looked up). @type {Map<string, boolean>} */
const joined = new Map();
/** Per chat made here, the members none of whose devices could be added. @type {Map<string, string[]>} */
const unreachable = new Map();
/** Why encrypted chats fail here, shown in them. @type {string | null} */
let problem = null;
/** Set once this connection's pending Welcomes were taken: from then on
 * a chat this device is not in may be joined by external Commit. */
let welcomesTaken = false;

/**
 * Runs `step` after everything queued before it, and, where the browser
 * has Web Locks, while no other tab of this device runs one: two tabs
 * encrypting from the same saved state would reuse a key and nonce.
 * Every step reads the state it needs from IndexedDB afresh.
 * @template T @param {() => Promise<T>} step @returns {Promise<T>}
 */
function serial(step) {
  /** @returns {Promise<T>} */
  const locked = () => (navigator.locks && state.me
    ? /** @type {Promise<T>} */ (navigator.locks.request(`natter-mls-${state.me.user_id}`, () => step()))
    : step());
  const run = queue.then(locked, locked);
  queue = run.catch(() => {});
  return run;
}

/** @param {unknown} error */
function noteFailure(error) {
  if (error instanceof Unavailable) {
    problem = error.message;
    emit('e2ee');
  }
}

/** After sign-in: what earlier visits decrypted (views drawn before it
 * was read draw again). */
export async function start() {
  await plaintexts.load();
  emit('e2ee');
}

/** Sign-out. */
export function reset() {
  plaintexts.reset();
  joined.clear();
  unreachable.clear();
  problem = null;
  welcomesTaken = false;
  clearTimeout(stocking);
}

/** @param {string} chatId */
function isEncrypted(chatId) {
  return Boolean(state.chats.get(chatId)?.summary.e2ee);
}

/** A server frame (main.js passes every one). @param {import('../types.js').ServerEvent} event */
export function handle(event) {
  if (event.type === 'ready') {
    if (state.me) device.identify(state.me.user_id, event.session_id);
    void serial(whenReady).catch(noteFailure);
  } else if (event.type === 'mls.welcome') {
    void serial(() => joinFrom(event)).catch(noteFailure);
  } else if (event.type === 'message.new' && isEncrypted(event.message.chat_id)) {
    const message = event.message;
    void serial(() => catchUp(message.chat_id, [message])).catch(noteFailure);
  }
}

/** Take pending Welcomes, catch up joined chats; stock KeyPackages soon after. */
async function whenReady() {
  clearTimeout(stocking);
  const signedIn = state.me;
  // Not at once: uploading (and the server checking) a batch is the
  // heaviest thing a sign-in would do, and nothing waits for it.
  stocking = setTimeout(() => {
    if (state.me === signedIn) void serial(() => device.replenish()).catch(noteFailure);
  }, STOCK_DELAY_MS);
  const pending = await api.call('GET', '/mls/welcomes');
  for (const welcome of pending.welcomes) await joinFrom(welcome).catch(noteFailure);
  welcomesTaken = true;
  for (const chat of state.chats.values()) {
    if (chat.summary.e2ee) await joinThenCatchUp(chat.summary.chat_id).catch(noteFailure);
  }
}

/** A chat this device is not in yet: join it by itself (external.js), then read it.
 * @param {string} chatId */
async function joinThenCatchUp(chatId) {
  // Epoch 0: the group is still being made, and its Welcome will come.
  const made = (state.chats.get(chatId)?.summary.mls_epoch ?? 0) > 0;
  if (welcomesTaken && made && !(await groups.record(chatId))) {
    if (await joinExternally(chatId)) joined.delete(chatId);
  }
  await catchUp(chatId);
}

// Encrypted chats that appear later (made by others, or listed after
// `ready`) are looked at once each.
on('chats', () => {
  if (!welcomesTaken) return;
  for (const chat of state.chats.values()) {
    const chatId = chat.summary.chat_id;
    if (!chat.summary.e2ee || joined.has(chatId)) continue;
    joined.set(chatId, false);
    void serial(() => joinThenCatchUp(chatId)).catch(noteFailure);
  }
});

/** @param {{ welcome_id: string, chat_id: string, welcome: string }} welcome */
async function joinFrom(welcome) {
  // A failure (the library missing, say) keeps it for the next start;
  // once processed (joined, or not for this device) it goes.
  await groups.join(welcome.chat_id, welcome.welcome);
  await api.call('DELETE', `/mls/welcomes/${encodeURIComponent(welcome.welcome_id)}`).catch(() => {});
  joined.delete(welcome.chat_id);
  await catchUp(welcome.chat_id);
  // Its Welcome used one of our KeyPackages.
  await device.replenish();
}

/** @param {string} chatId @param {Message[]} [given] */
async function catchUp(chatId, given) {
  const changed = await groups.catchUp(chatId, given);
  if (!joined.get(chatId)) {
    const now = Boolean(await groups.record(chatId));
    if (now || !joined.has(chatId)) {
      joined.set(chatId, now);
      emit('e2ee');
    }
  }
  if (changed) {
    emit('timeline', chatId);
    emit('chats');
  }
}

/**
 * Whether this device can read and write the chat: `ready`, `waiting`
 * (no Welcome for this device yet) or `unavailable` (with the reason).
 * @param {string} chatId
 * @returns {{ status: 'ready' | 'waiting' | 'unavailable', reason?: string }}
 */
export function status(chatId) {
  const reason = problem ?? whyUnavailable();
  if (reason) return { status: 'unavailable', reason };
  if (!joined.has(chatId)) {
    joined.set(chatId, false);
    void serial(() => joinThenCatchUp(chatId)).catch(noteFailure);
  }
  return { status: joined.get(chatId) ? 'ready' : 'waiting' };
}

/**
 * Sets up a new encrypted chat's group with the devices of its members
 * (`memberIds`: the others; this user's other devices are added too).
 * Nothing to do when the chat has a group already (its epoch is past 0,
 * or another device of ours made it first: a Welcome will come).
 * @param {string} chatId @param {number} epoch @param {string[]} memberIds
 */
export async function setUp(chatId, epoch, memberIds) {
  if (epoch > 0 || !state.me) return;
  const me = state.me.user_id;
  try {
    const missing = await serial(async () => {
      if (await groups.record(chatId)) return [];
      return groups.create(chatId, [me, ...memberIds]);
    });
    joined.set(chatId, true);
    unreachable.set(chatId, missing);
    emit('e2ee');
  } catch (error) {
    noteFailure(error);
    if (!(error instanceof api.ApiError && error.status === 409)) throw error;
  }
}

/** Members of a chat this device made whose devices could not be added
 * (none had a KeyPackage). @param {string} chatId @returns {string[]} */
export function unreachableMembers(chatId) {
  return unreachable.get(chatId) ?? [];
}

/**
 * Encrypts text for the chat; the base64 MLSMessage to send.
 * @param {string} chatId @param {string} text
 */
export function encrypt(chatId, text) {
  return serial(() => groups.encrypt(chatId, text));
}
