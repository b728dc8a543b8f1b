// natter's service worker, served at /sw.js so that its scope is the
// whole origin. It owns what happens while nobody is looking: the Web
// Push events the server sends (docs/API.md, "Push notifications") and
// clicks on the notifications it shows. It holds no access token and
// calls no API: what needs one (activating a subscription) is handed to
// an open page (js/push.js), which also answers whether it shows a chat.
// No fetch handler: the network is never intercepted, so an updated
// worker cannot mix old and new code. A classic script, not a module,
// so every browser with Web Push runs it.
'use strict';

/** Where an activation token waits for a page (Cache Storage: the
 * worker may be stopped before any page is open). js/push.js reads it. */
const ACTIVATION_CACHE = 'natter-push';
const ACTIVATION_KEY = '/natter/push-activation';
/** How long a page may take to say whether it shows a chat. */
const ASK_TIMEOUT_MS = 1000;
const ICON = '/assets/icon.svg';

self.addEventListener('install', (event) => {
  // Nothing to cache; a new version may take over at once.
  event.waitUntil(self.skipWaiting());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('push', (event) => {
  let payload = null;
  try {
    payload = event.data ? event.data.json() : null;
  } catch {
    payload = null; // not ours, or damaged: nothing to show
  }
  event.waitUntil(handlePush(payload));
});

self.addEventListener('notificationclick', (event) => {
  event.waitUntil(openFromNotification(event.notification));
});

/**
 * One decrypted push payload.
 * @param {any} payload
 */
async function handlePush(payload) {
  if (!payload || typeof payload !== 'object') return;
  switch (payload.type) {
    case 'activate': return handActivation(payload);
    case 'message': return showMessage(payload);
    case 'read': return clearRead(payload);
    default: return undefined;
  }
}

/**
 * The server's proof that this subscription reaches us: keep the token
 * for a page and tell the open ones, which post it to `.../activate`.
 * @param {{ subscription_id: string, token: string }} payload
 */
async function handActivation(payload) {
  const activation = { subscription_id: String(payload.subscription_id), token: String(payload.token) };
  const cache = await caches.open(ACTIVATION_CACHE);
  await cache.put(ACTIVATION_KEY, new Response(JSON.stringify(activation), { headers: { 'content-type': 'application/json' } }));
  for (const client of await windows()) {
    client.postMessage({ type: 'natter.activate', ...activation });
  }
}

/**
 * A new message: a notification per chat (a newer one replaces the
 * older), unless a focused page shows that chat already.
 * @param {any} payload
 */
async function showMessage(payload) {
  const chatId = String(payload.chat_id);
  if (await someoneShows(chatId)) return;
  const sender = payload.sender && typeof payload.sender.display_name === 'string' ? payload.sender.display_name : null;
  const text = typeof payload.body === 'string' ? payload.body : null;
  // With previews off the payload has ids only: say no more than that.
  const title = typeof payload.chat_name === 'string' && payload.chat_name ? payload.chat_name : 'New message';
  const body = text === null ? 'New message' : sender ? `${sender}: ${text}` : text;
  await self.registration.showNotification(title, {
    body,
    tag: chatId,
    renotify: true,
    icon: ICON,
    data: { chat_id: chatId, seq: Number(payload.seq) },
  });
}

/**
 * The user read the chat elsewhere: close what it has shown up to there.
 * @param {any} payload
 */
async function clearRead(payload) {
  const chatId = String(payload.chat_id);
  const seq = Number(payload.seq);
  for (const notification of await self.registration.getNotifications({ tag: chatId })) {
    const shownSeq = notification.data && Number(notification.data.seq);
    if (!(shownSeq > seq)) notification.close();
  }
}

/**
 * Opens the notification's chat: in an open page of natter (focused and
 * told which chat), else in a new window. Browsers allow focusing and
 * opening windows only in answer to the click.
 * @param {Notification} notification
 */
async function openFromNotification(notification) {
  notification.close();
  const chatId = notification.data && typeof notification.data.chat_id === 'string' ? notification.data.chat_id : null;
  const open = await windows();
  const target = open.find((client) => client.focused) ?? open.find((client) => client.visibilityState === 'visible') ?? open[0];
  if (!target) {
    await self.clients.openWindow(chatId ? `/#/chat/${encodeURIComponent(chatId)}` : '/');
    return;
  }
  try {
    await target.focus();
  } catch {
    // Not allowed (the click's permission to focus has lapsed): the page
    // still opens the chat, for when the person looks.
  }
  target.postMessage({ type: 'natter.open', chat_id: chatId });
}

/**
 * Whether a visible page says it is focused on this chat.
 * @param {string} chatId
 */
async function someoneShows(chatId) {
  const visible = (await windows()).filter((client) => client.visibilityState === 'visible');
  const answers = await Promise.all(visible.map((client) => ask(client, { type: 'natter.showing', chat_id: chatId })));
  return answers.some((answer) => answer === true);
}

/**
 * Asks a page and waits (a little) for its answer; silence is `false`.
 * @param {WindowClient} client
 * @param {object} question
 */
function ask(client, question) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(false), ASK_TIMEOUT_MS);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      resolve(event.data);
    };
    client.postMessage(question, [channel.port2]);
  });
}

/** Every page of natter, also those opened before this worker took over. */
function windows() {
  return self.clients.matchAll({ type: 'window', includeUncontrolled: true });
}
