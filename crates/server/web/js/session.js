// The signed-in session: tokens kept in localStorage so a reload stays
// signed in, and their rotation. Refresh tokens are single use (a reused
// one revokes the session), so a refresh runs under a cross-tab lock and
// first checks whether another tab already rotated the tokens.

const KEY = 'natter.session';
/** Refresh this long before the access token expires. */
const EARLY_MS = 30_000;

/**
 * @typedef {{
 *   user: import('./types.js').User, access_token: string,
 *   access_expires_at: number, refresh_token: string
 * }} Stored
 */

/** @type {Set<(session: Stored | null) => void>} */
const listeners = new Set();
/** @type {Promise<string> | null} */
let refreshing = null;

/** @returns {Stored | null} */
export function current() {
  try {
    const text = localStorage.getItem(KEY);
    return text ? /** @type {Stored} */ (JSON.parse(text)) : null;
  } catch {
    return null;
  }
}

/** Keeps the answer of register, login or refresh.
 * @param {import('./types.js').AuthResponse} auth */
export function save(auth) {
  /** @type {Stored} */
  const stored = {
    user: auth.user,
    access_token: auth.access_token,
    access_expires_at: Date.now() + auth.expires_in * 1000,
    refresh_token: auth.refresh_token,
  };
  localStorage.setItem(KEY, JSON.stringify(stored));
  notify(stored);
}

export function clear() {
  localStorage.removeItem(KEY);
  notify(null);
}

/** Called when this or another tab signs in, rotates or signs out.
 * @param {(session: Stored | null) => void} listener */
export function subscribe(listener) {
  listeners.add(listener);
}

/** @param {Stored | null} stored */
function notify(stored) {
  for (const listener of listeners) listener(stored);
}

window.addEventListener('storage', (event) => {
  if (event.key === KEY || event.key === null) notify(current());
});

/**
 * A usable access token, refreshed first if it is about to expire.
 * @returns {Promise<string>}
 */
export async function accessToken() {
  const stored = current();
  if (!stored) throw new SessionEnded();
  if (stored.access_expires_at - Date.now() > EARLY_MS) return stored.access_token;
  return refresh(stored.access_token);
}

/**
 * Replaces `staleToken` (expired or refused) with a new access token.
 * Concurrent callers in this tab share one refresh; other tabs wait on
 * the lock and then find the rotated tokens in storage.
 * @param {string} staleToken
 * @returns {Promise<string>}
 */
export function refresh(staleToken) {
  if (!refreshing) {
    refreshing = withLock(() => refreshUnlocked(staleToken)).finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** @param {string} staleToken */
async function refreshUnlocked(staleToken) {
  const stored = current();
  if (!stored) throw new SessionEnded();
  const fresh = stored.access_token !== staleToken && stored.access_expires_at - Date.now() > EARLY_MS;
  if (fresh) return stored.access_token;
  const response = await fetch('/api/v1/auth/refresh', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: stored.refresh_token }),
  });
  if (response.status === 401 || response.status === 404) {
    clear();
    throw new SessionEnded();
  }
  if (!response.ok) throw new Error(`refresh failed with status ${response.status}`);
  const auth = /** @type {import('./types.js').AuthResponse} */ (await response.json());
  save(auth);
  return auth.access_token;
}

/**
 * @template T
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
function withLock(work) {
  // Web Locks exist only in secure contexts (https, localhost).
  if (navigator.locks) return /** @type {Promise<T>} */ (navigator.locks.request('natter-refresh', work));
  return work();
}

/** The session is gone (signed out here or elsewhere, or revoked). */
export class SessionEnded extends Error {
  constructor() {
    super('signed out');
    this.name = 'SessionEnded';
  }
}
