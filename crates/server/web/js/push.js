// Web Push on this device (docs/API.md, "Push notifications"): registers
// the service worker (/sw.js), subscribes the browser's push manager with
// the server's VAPID key, posts the subscription and completes its
// activation when the worker hands the token over, and turns it all off
// again. Also the page's side of the worker's questions (is this chat on
// screen?) and requests (open a chat). Publishes its state on the store's
// 'push' topic; knows nothing of the screen.

import * as api from './api.js';
import { emit, state } from './state/store.js';

/**
 * - `checking`: not known yet (just signed in);
 * - `unsupported`: this browser has no service workers or Web Push;
 * - `unavailable`: push is off on this server (`/push/vapid` is 404);
 * - `denied`: the person blocked notifications for this site;
 * - `off`, `pending` (posted, waiting for the activation push), `on`.
 * @typedef {'checking' | 'unsupported' | 'unavailable' | 'denied' | 'off' | 'pending' | 'on'} PushState
 */

const WORKER_URL = '/sw.js';
/** The page's only Trusted Types policy (the CSP allows one, by name): it
 * passes the worker's URL to `register` and nothing else. Made as the
 * page loads, so that no later script can take the name. */
const workerPolicy = createWorkerPolicy();

/** Must match sw.js. */
const ACTIVATION_CACHE = 'natter-push';
const ACTIVATION_KEY = '/natter/push-activation';
/** When this server last said push is off (localStorage, ms). Asking is a
 * 404 then, which browsers log as an error: ask at most once a day, and
 * only when there is something to do with the answer. */
const OFF_KEY = 'natter.push.off';
const OFF_RECHECK_MS = 24 * 3_600_000;

/** @type {PushState} */
let current = 'checking';
/** This device's subscription as the server has it. @type {import('./types.js').PushSubscriptionInfo | null} */
let mine = null;
let listening = false;
/** One activation at a time (every tab hears the worker). @type {Promise<void> | null} */
let activating = null;
/** A token may have arrived while one ran: look once more after it. */
let lookAgain = false;

/** @returns {PushState} */
export function status() {
  return current;
}

/** Whether this browser can do Web Push at all. */
export function supported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window && window.isSecureContext;
}

/** @param {PushState} next */
function set(next) {
  if (next === current) return;
  current = next;
  emit('push', current);
}

/** Signed in: listen to the worker and find out where this device stands. */
export async function init() {
  if (!supported()) {
    set('unsupported');
    return;
  }
  if (!listening) {
    listening = true;
    navigator.serviceWorker.addEventListener('message', onWorkerMessage);
    navigator.serviceWorker.startMessages();
  }
  try {
    await check();
  } catch {
    set('off');
  }
}

/** Reads the browser's subscription and, when it matters, the server's. */
async function check() {
  if (knownOff()) {
    set('unavailable');
    return;
  }
  if (Notification.permission === 'denied') {
    set('denied');
    return;
  }
  const subscription = await browserSubscription();
  // Nobody asked for notifications here yet: "Enable notifications" asks
  // the server when clicked.
  if (!subscription && Notification.permission === 'default') {
    mine = null;
    set('off');
    return;
  }
  if (!(await serverKey())) return;
  if (!subscription) {
    mine = null;
    set('off');
    return;
  }
  const { subscriptions } = await api.pushSubscriptions();
  mine = subscriptions.find((known) => known.endpoint === subscription.endpoint) ?? null;
  if (!mine) {
    // The server ended it (a logout, a dead endpoint): it will not push
    // there again, so the browser need not keep it.
    await subscription.unsubscribe().catch(() => {});
    set('off');
    return;
  }
  set(mine.status === 'active' ? 'on' : 'pending');
  if (mine.status !== 'active') await takeActivation();
}

/**
 * The server's VAPID key, or null when push is off there (then the state
 * says so and in-page notifications are all there is).
 * @returns {Promise<string | null>}
 */
async function serverKey() {
  try {
    const { public_key: key } = await api.vapidKey();
    localStorage.removeItem(OFF_KEY);
    return key;
  } catch (failure) {
    if (failure instanceof api.ApiError && failure.status === 404) {
      localStorage.setItem(OFF_KEY, String(Date.now()));
      set('unavailable');
      return null;
    }
    throw failure;
  }
}

/** Whether the server said push is off, lately. */
function knownOff() {
  const at = Number(localStorage.getItem(OFF_KEY));
  return at > 0 && Date.now() - at < OFF_RECHECK_MS;
}

/** @returns {Promise<PushSubscription | null>} */
async function browserSubscription() {
  const registration = await navigator.serviceWorker.getRegistration('/');
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/**
 * Turns push on: permission (so call from a click), the worker, the
 * browser's subscription, the server's; activation follows by itself.
 * When the server has push off, the permission still serves in-page
 * notifications. Throws with a reason to show when it cannot.
 */
export async function enable() {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    set(permission === 'denied' ? 'denied' : 'off');
    return;
  }
  const key = await serverKey();
  if (!key) return;
  set('pending');
  try {
    await navigator.serviceWorker.register(workerUrl(), { scope: '/' });
    const registration = await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription.options?.applicationServerKey ?? null, key)) {
      await subscription.unsubscribe();
      subscription = null;
    }
    subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64Url(key) });
    const json = subscription.toJSON();
    mine = await api.subscribePush({
      endpoint: subscription.endpoint,
      keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
    });
    if (mine.status === 'active') set('on');
    else await takeActivation(); // the push may have come before the answer
  } catch (failure) {
    set('off');
    throw failure;
  }
}

/** Turns push off on this device: the server forgets the subscription
 * and the browser drops it. */
export async function disable() {
  const subscription = await browserSubscription().catch(() => null);
  const id = mine?.subscription_id;
  if (id) {
    await api.unsubscribePush(id).catch((failure) => {
      if (!(failure instanceof api.ApiError && failure.status === 404)) throw failure;
    });
  }
  await subscription?.unsubscribe().catch(() => {});
  mine = null;
  set('off');
}

/** Signed out: the server ended the subscription with the session; the
 * browser's is dropped too, so the next person here starts from off. */
export async function forget() {
  mine = null;
  set('checking');
  if (!supported()) return;
  const subscription = await browserSubscription().catch(() => null);
  await subscription?.unsubscribe().catch(() => {});
}

/** Posts the token the worker left, if any (every tab may try: the
 * server takes a right token twice). */
function takeActivation() {
  if (activating) {
    lookAgain = true;
    return activating;
  }
  activating = (async () => {
    do {
      lookAgain = false;
      await activateUnshared();
    } while (lookAgain);
  })().finally(() => {
    activating = null;
  });
  return activating;
}

async function activateUnshared() {
  const cache = await caches.open(ACTIVATION_CACHE);
  const stored = await cache.match(ACTIVATION_KEY);
  if (!stored) return;
  const { subscription_id: id, token } = /** @type {{ subscription_id: string, token: string }} */ (await stored.json());
  try {
    await api.activatePush(id, token);
  } catch (failure) {
    // 400 (an older token) and 404 (not this account's) will not get
    // better; anything else is tried again on the next look.
    if (!(failure instanceof api.ApiError && (failure.status === 400 || failure.status === 404))) throw failure;
    await cache.delete(ACTIVATION_KEY);
    return;
  }
  await cache.delete(ACTIVATION_KEY);
  if (mine && mine.subscription_id === id) {
    mine = { ...mine, status: 'active' };
    set('on');
  } else {
    await check();
  }
}

/** @param {MessageEvent} event */
function onWorkerMessage(event) {
  const message = event.data;
  if (!message || typeof message !== 'object') return;
  switch (message.type) {
    case 'natter.activate':
      if (state.me) void takeActivation().catch(() => {});
      break;
    case 'natter.showing':
      event.ports[0]?.postMessage(shows(String(message.chat_id)));
      break;
    case 'natter.open':
      window.focus();
      if (typeof message.chat_id === 'string') location.hash = `#/chat/${encodeURIComponent(message.chat_id)}`;
      break;
    default:
      break;
  }
}

/** Whether the person is looking at this chat right now.
 * @param {string} chatId */
function shows(chatId) {
  return document.visibilityState === 'visible' && document.hasFocus() && state.activeChatId === chatId;
}

/** @returns {{ createScriptURL: (url: string) => string } | null} */
function createWorkerPolicy() {
  const types = /** @type {any} */ (window).trustedTypes;
  if (!types) return null;
  return types.createPolicy('natter-worker', {
    createScriptURL: (/** @type {string} */ url) => {
      if (url !== WORKER_URL) throw new TypeError(`not the service worker: ${url}`);
      return url;
    },
  });
}

/** The worker's URL as `register` takes it under the app's Trusted Types. */
function workerUrl() {
  return workerPolicy ? workerPolicy.createScriptURL(WORKER_URL) : WORKER_URL;
}

/**
 * @param {ArrayBuffer | null} have the key a subscription was made with
 * @param {string} want base64url
 */
function sameKey(have, want) {
  if (!have) return true; // the browser does not say: keep it
  const a = new Uint8Array(have);
  const b = fromBase64Url(want);
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/** @param {string} text base64url, padded or not */
function fromBase64Url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
