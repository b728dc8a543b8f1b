// Other people as the client knows them: a cache of profiles fetched on
// demand (one request per user, shared by every caller) and their live
// presence. Views ask for a name synchronously and re-render on 'users'.

import * as api from './api.js';
import { emit, state } from './state/store.js';

/** @type {Map<string, Promise<import('./types.js').User | null>>} */
const inflight = new Map();
/** Fetches waiting for a slot, so a long chat list does not open 100 requests at once. */
const MAX_PARALLEL = 4;
let running = 0;
/** @type {(() => void)[]} */
const queue = [];

/** @returns {Promise<void>} */
function slot() {
  if (running < MAX_PARALLEL) {
    running += 1;
    return Promise.resolve();
  }
  return new Promise((resolve) => queue.push(() => resolve()));
}

function release() {
  const next = queue.shift();
  if (next) next();
  else running -= 1;
}

/**
 * A user's profile (and presence), fetched once.
 * @param {string} userId
 * @param {boolean} [fresh] refetch even if known (presence may be stale)
 * @returns {Promise<import('./types.js').User | null>}
 */
export function load(userId, fresh = false) {
  const known = state.users.get(userId);
  if (known && !fresh) return Promise.resolve(known);
  let promise = inflight.get(userId);
  if (!promise) {
    promise = (async () => {
      await slot();
      try {
        const user = await api.user(userId);
        remember(user);
        return user;
      } catch {
        return null;
      } finally {
        release();
        inflight.delete(userId);
      }
    })();
    inflight.set(userId, promise);
  }
  return promise;
}

/** Stores a profile seen in any answer.
 * @param {import('./types.js').User} user */
export function remember(user) {
  state.users.set(user.user_id, user);
  state.presence.set(user.user_id, user.presence);
  scheduleEmit();
}

let emitScheduled = false;
function scheduleEmit() {
  if (emitScheduled) return;
  emitScheduled = true;
  queueMicrotask(() => {
    emitScheduled = false;
    emit('users');
  });
}

/**
 * The display name now, or a placeholder while it loads.
 * @param {string} userId
 */
export function name(userId) {
  if (state.me?.user_id === userId) return state.me.display_name;
  const user = state.users.get(userId);
  if (user) return user.display_name;
  void load(userId);
  return '…';
}

/** @param {string} userId */
export function username(userId) {
  if (state.me?.user_id === userId) return state.me.username;
  return state.users.get(userId)?.username ?? null;
}

/** @param {string} userId @returns {import('./types.js').Presence | undefined} */
export function presence(userId) {
  return state.presence.get(userId);
}

/** A `presence` event.
 * @param {string} userId @param {import('./types.js').PresenceStatus} status @param {string | null | undefined} lastSeen */
export function setPresence(userId, status, lastSeen) {
  state.presence.set(userId, { status, last_seen: lastSeen ?? null });
  scheduleEmit();
}
