// Web Push end to end, with no internet: the real server pushes to a
// local push service (pushservice.js), which checks VAPID and decrypts
// each push like a browser's push service would; the test hands the
// decrypted payload to the real service worker through the DevTools
// protocol (ServiceWorker.deliverPushMessage) and reads the notifications
// it shows. `PushManager.subscribe` is stubbed to return a subscription of
// that local service (a real one needs Google's push service). Bob turns
// notifications on, hears about messages while his page is closed, opens
// the chat from a notification, sees it cleared when he reads the chat
// elsewhere, turns previews off, mutes a chat, turns push off, and manages
// his devices. On a server with push off the same control falls back to
// in-page notifications.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { PASSWORD, api, launchBrowser, person, registerApi, signUp, startServer, until, visible } from './helpers.js';
import { startPushService } from './pushservice.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('./pushservice.js').PushService} */
let pushService;
/** @type {{ token: string, user: any }} */
let alice;
/** Bob's browser: one context, its pages come and go. @type {Awaited<ReturnType<typeof pushBrowser>>} */
let bob;
/** @type {Awaited<ReturnType<typeof openPage>>} */
let bobPage;
/** @type {import('./pushservice.js').Subscription} */
let bobPush;
let bobId = '';
let launchId = '';
/** A hang guard for what goes through the service worker, which the
 * browser may have to start first (slow on a busy machine). */
const PATIENCE = 20_000;

before(async () => {
  pushService = await startPushService();
  server = await startServer({
    NATTER_PUSH__VAPID_SUBJECT: 'mailto:ops@example.com',
    NATTER_PUSH__ALLOW_INSECURE_ENDPOINTS: 'true',
  });
  browser = await launchBrowser();
  alice = await registerApi(server.url, 'alice', 'Alice Liddell');
  bobPush = pushService.subscribe();
  bob = await pushBrowser(bobPush);
  bobPage = await openPage(bob);
  await signUp(bobPage.page, 'bob', 'Bob Builder');
  bobId = (await stored(bobPage.page)).user.user_id;
  const launch = await api(server.url, alice.token, 'POST', '/chats', { type: 'group', name: 'Launch', member_ids: [bobId] });
  launchId = launch.chat_id;
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await pushService?.stop();
});

/**
 * A browser context like a person's whose push manager hands out the
 * given subscription of the local push service, with notifications
 * allowed.
 * @param {import('./pushservice.js').Subscription} subscription
 */
async function pushBrowser(subscription) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, baseURL: server.url });
  await context.grantPermissions(['notifications'], { origin: server.url });
  await context.addInitScript(stubPushManager, { endpoint: subscription.endpoint, keys: subscription.keys });
  return { context };
}

/**
 * Runs in every page before its scripts: `subscribe` and
 * `getSubscription` answer with the local service's subscription,
 * remembered in localStorage like the browser would remember its own.
 * @param {{ endpoint: string, keys: { p256dh: string, auth: string } }} subscription
 */
function stubPushManager(subscription) {
  if (typeof PushManager === 'undefined') return;
  const KEY = 'test.push-subscription';
  /** @param {string} text */
  const decode = (text) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0)).buffer;
  /** @param {ArrayBuffer} serverKey */
  const make = (serverKey) => ({
    endpoint: subscription.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: serverKey },
    toJSON: () => ({ endpoint: subscription.endpoint, expirationTime: null, keys: subscription.keys }),
    unsubscribe: async () => {
      localStorage.removeItem(KEY);
      return true;
    },
  });
  PushManager.prototype.subscribe = async function subscribe(options) {
    const key = /** @type {Uint8Array} */ (options?.applicationServerKey);
    localStorage.setItem(KEY, btoa(String.fromCharCode(...new Uint8Array(key))));
    return /** @type {any} */ (make(new Uint8Array(key).buffer));
  };
  PushManager.prototype.getSubscription = async function getSubscription() {
    const key = localStorage.getItem(KEY);
    return key ? /** @type {any} */ (make(decode(key))) : null;
  };
}

/**
 * A page of natter in the context, with a DevTools session that knows the
 * service worker's registration and can deliver pushes to it.
 * @param {{ context: import('playwright-core').BrowserContext }} owner
 */
async function openPage(owner) {
  const page = await owner.context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  const cdp = await owner.context.newCDPSession(page);
  /** @type {Map<string, string>} scope URL -> registration id */
  const registrations = new Map();
  cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => {
    for (const registration of event.registrations) {
      if (registration.isDeleted) registrations.delete(registration.scopeURL);
      else registrations.set(registration.scopeURL, registration.registrationId);
    }
  });
  await cdp.send('ServiceWorker.enable');
  await page.goto('/');
  /** Hands a decrypted push to the worker, as the browser would.
   * @param {import('./pushservice.js').Received} push */
  const deliver = async (push) => {
    const registrationId = await until(() => registrations.get(`${server.url}/`), 'the service worker registration', PATIENCE);
    await page.evaluate(async () => { await navigator.serviceWorker.ready; });
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId, data: push.payload.toString('utf8') });
  };
  /** Delivers a push until the page sees its effect. DevTools hands a
   * push over without waiting for the worker to handle it, and one was
   * lost so once on a busy machine (no notification, no console error);
   * delivering again is safe because every push here is idempotent (a
   * chat's notification replaces its older one).
   * @template T
   * @param {import('./pushservice.js').Received} push
   * @param {() => Promise<T>} effect
   * @param {string} what */
  const deliverUntil = async (push, effect, what) => {
    const deadline = Date.now() + PATIENCE;
    for (;;) {
      await deliver(push);
      try {
        return await until(effect, what, Math.min(4_000, Math.max(0, deadline - Date.now())));
      } catch (error) {
        if (Date.now() >= deadline) throw error;
      }
    }
  };
  return { page, errors, deliver, deliverUntil };
}

/** @param {import('playwright-core').Page} page */
const stored = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('natter.session') ?? 'null'));

/** What the service worker shows, read in the page.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{ title: string, body: string, tag: string, data: any }[]>} */
const shown = (page) => page.evaluate(async () => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications()).map((note) => ({ title: note.title, body: note.body, tag: note.tag, data: note.data }));
});

/** @param {string} chatId @param {string} content */
const aliceSends = (chatId, content) => api(server.url, alice.token, 'POST', '/messages', {
  chat_id: chatId, content, type: 'text', client_msg_id: randomUUID(),
});

/** Closes Bob's page and waits until the server counts him offline. */
async function bobGoesOffline() {
  await bobPage.page.close();
  await until(async () => (await api(server.url, alice.token, 'GET', `/users/${bobId}`)).presence.status === 'offline', 'Bob to be offline');
}

/** @param {(json: any) => boolean} match */
const nextPush = (match) => pushService.next(bobPush.id, match, { skip: 0 });

test('enabling notifications subscribes this device and completes activation', async () => {
  const { page, deliver } = bobPage;
  await visible(page.getByText('Notifications are off.'));
  await page.getByRole('button', { name: 'Enable notifications' }).click();
  await visible(page.getByText('Turning notifications on…'));
  const activation = await nextPush((json) => json?.type === 'activate');
  const { access_token: token } = await stored(page);
  const pending = await api(server.url, token, 'GET', '/push/subscriptions');
  assert.deepEqual(pending.subscriptions.map((/** @type {any} */ known) => [known.endpoint, known.status]), [[bobPush.endpoint, 'pending']]);
  assert.equal(activation.json.subscription_id, pending.subscriptions[0].subscription_id);

  await deliver(activation);
  await visible(page.getByText('Notifications are on.'), PATIENCE);
  const active = await api(server.url, token, 'GET', '/push/subscriptions');
  assert.deepEqual(active.subscriptions.map((/** @type {any} */ known) => [known.endpoint, known.status]), [[bobPush.endpoint, 'active']]);
  assert.deepEqual(await shown(page), [], 'an activation shows nothing');
  assert.deepEqual(pushService.violations, []);
  assert.deepEqual(bobPage.errors, []);
});

test('the one Trusted Types policy, for registering the worker, is taken before any other script runs', async () => {
  // A page of its own: the refusals are logged to its console.
  const probe = await bob.context.newPage();
  await probe.goto('/');
  await visible(probe.getByRole('button', { name: 'Log out' }));
  const outcome = await probe.evaluate(() => {
    const types = /** @type {any} */ (window).trustedTypes;
    /** @param {string} name */
    const create = (name) => {
      try {
        types.createPolicy(name, { createHTML: (/** @type {string} */ text) => text });
        return 'created';
      } catch {
        return 'refused';
      }
    };
    return { again: create('natter-worker'), other: create('anything') };
  });
  await probe.close();
  assert.deepEqual(outcome, { again: 'refused', other: 'refused' });
});

test('a message to an offline member is pushed, shown with chat and sender, and opens its chat when clicked', async () => {
  await bobGoesOffline();
  const before = pushService.received(bobPush.id).length;
  const sent = await aliceSends(launchId, 'Ready for launch?');
  const push = await pushService.next(bobPush.id, (json) => json?.type === 'message', { skip: before });
  assert.equal(push.json.chat_id, launchId);
  assert.equal(push.json.chat_name, 'Launch');
  assert.equal(push.json.seq, sent.seq);
  assert.deepEqual(push.json.sender, { user_id: alice.user.user_id, display_name: 'Alice Liddell' });
  assert.equal(push.json.body, 'Ready for launch?');
  assert.equal(push.topic, launchId.replaceAll('-', ''), 'one Topic per chat');
  assert.ok(push.ttl > 0);

  bobPage = await openPage(bob);
  const { page, deliver, deliverUntil } = bobPage;
  await visible(page.getByRole('link', { name: /Launch/ }));
  const [note] = await deliverUntil(push, async () => {
    const notes = await shown(page);
    return notes.length ? notes : null;
  }, 'the notification');
  assert.deepEqual(note, { title: 'Launch', body: 'Alice Liddell: Ready for launch?', tag: launchId, data: { chat_id: launchId, seq: sent.seq } });

  // DevTools cannot click a notification: call what the worker's
  // `notificationclick` listener calls, with the notification shown.
  const worker = await until(() => bob.context.serviceWorkers().find((candidate) => candidate.url().endsWith('/sw.js')), 'the service worker', PATIENCE);
  await worker.evaluate(async () => {
    const [shownNote] = await self.registration.getNotifications();
    await /** @type {any} */ (self).openFromNotification(shownNote);
  });
  await visible(page.getByRole('heading', { name: 'Launch' }));
  assert.equal(await page.evaluate(() => location.hash), `#/chat/${launchId}`);
  assert.deepEqual(await shown(page), [], 'the click closed it');

  // Now that Bob looks at the chat, the same push shows nothing; one of
  // another chat delivered after it still shows (and proves the first
  // was handled).
  await deliver(push);
  const elsewhere = { ...push.json, chat_id: 'elsewhere', chat_name: 'Elsewhere' };
  await deliverUntil({ ...push, payload: Buffer.from(JSON.stringify(elsewhere)) }, async () => (await shown(page)).length > 0, 'the other chat’s notification');
  assert.deepEqual((await shown(page)).map((notification) => notification.tag), ['elsewhere']);
  await page.evaluate(async () => {
    for (const notification of await (await navigator.serviceWorker.ready).getNotifications()) notification.close();
  });
  assert.deepEqual(pushService.violations, []);
  assert.deepEqual(bobPage.errors, []);
});

test('reading the chat on another device clears its notification', async () => {
  await bobGoesOffline();
  const before = pushService.received(bobPush.id).length;
  const sent = await aliceSends(launchId, 'Engines on');
  const push = await pushService.next(bobPush.id, (json) => json?.type === 'message', { skip: before });
  bobPage = await openPage(bob);
  const { page, deliverUntil } = bobPage;
  await visible(page.getByRole('link', { name: /Launch/ }));
  await deliverUntil(push, async () => (await shown(page)).length === 1, 'the notification');

  // Bob reads it elsewhere (his other device is this API call).
  const { access_token: token } = await stored(page);
  const afterMessage = pushService.received(bobPush.id).length;
  await api(server.url, token, 'POST', `/chats/${launchId}/read`, { seq: sent.seq });
  const read = await pushService.next(bobPush.id, (json) => json?.type === 'read', { skip: afterMessage });
  assert.deepEqual(read.json, { type: 'read', chat_id: launchId, seq: sent.seq });
  await deliverUntil(read, async () => (await shown(page)).length === 0, 'the notification to be cleared');
  assert.deepEqual(bobPage.errors, []);
});

test('with previews off a push names nobody and says only "New message"', async () => {
  const { page } = bobPage;
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  const previews = settings.getByLabel('Show the message and its sender in notifications');
  await until(() => previews.isEnabled(), 'the settings to load');
  assert.equal(await previews.isChecked(), true, 'previews are on by default');
  await previews.uncheck();
  await visible(settings.getByText('Previews saved.'));
  await settings.getByRole('button', { name: 'Close' }).click();

  await bobGoesOffline();
  const before = pushService.received(bobPush.id).length;
  await aliceSends(launchId, 'The secret launch code is 0000');
  const push = await pushService.next(bobPush.id, (json) => json?.type === 'message', { skip: before });
  assert.equal(push.json.chat_id, launchId);
  assert.equal(push.json.chat_name, null);
  assert.equal('body' in push.json, false);
  assert.deepEqual(push.json.sender, { user_id: alice.user.user_id });
  assert.equal(push.payload.includes('secret'), false);

  bobPage = await openPage(bob);
  const { page: next, deliverUntil } = bobPage;
  await visible(next.getByRole('link', { name: /Launch/ }));
  const [note] = await deliverUntil(push, async () => {
    const notes = await shown(next);
    return notes.length ? notes : null;
  }, 'the notification');
  assert.equal(note.title, 'New message');
  assert.equal(note.body, 'New message');
  // Back on for the tests that follow.
  await api(server.url, (await stored(next)).access_token, 'PATCH', '/users/me/notifications', { previews: true });
  assert.deepEqual(bobPage.errors, []);
});

test('a chat muted in its info view is not pushed', async () => {
  const { page } = bobPage;
  const direct = await api(server.url, alice.token, 'POST', '/chats', { type: 'direct', member_ids: [bobId] });
  await page.getByRole('link', { name: /Launch/ }).click();
  await page.getByRole('button', { name: 'Chat info' }).click();
  const info = page.getByRole('dialog', { name: 'Launch' });
  const mute = info.getByLabel('Mute notifications');
  await until(() => mute.isEnabled(), 'the chat’s settings to load');
  assert.equal(await info.getByRole('radio', { name: 'All messages' }).isChecked(), true, 'groups notify about everything by default');
  await mute.selectOption({ label: 'Until I unmute' });
  await visible(info.getByText('Muted until you unmute'));
  const { access_token: token } = await stored(page);
  const settings = await api(server.url, token, 'GET', `/chats/${launchId}/notifications`);
  assert.ok(new Date(settings.muted_until).getUTCFullYear() >= 9999);
  await info.getByRole('button', { name: 'Close' }).click();

  await bobGoesOffline();
  const before = pushService.received(bobPush.id).length;
  await aliceSends(launchId, 'Nobody hears this');
  await aliceSends(direct.chat_id, 'But this one, yes');
  // Pushes go out oldest first: once the later message's push is here,
  // the muted chat's would have been too.
  await pushService.next(bobPush.id, (json) => json?.chat_id === direct.chat_id, { skip: before });
  const since = pushService.received(bobPush.id).slice(before);
  assert.deepEqual(since.map((push) => push.json.chat_id), [direct.chat_id]);
  bobPage = await openPage(bob);
});

test('turning notifications off ends this device’s subscription', async () => {
  const { page } = bobPage;
  await visible(page.getByText('Notifications are on.'));
  await page.getByRole('button', { name: 'Turn off notifications' }).click();
  await visible(page.getByText('Notifications are off.'));
  const { access_token: token } = await stored(page);
  assert.deepEqual((await api(server.url, token, 'GET', '/push/subscriptions')).subscriptions, []);
  await page.reload();
  await visible(page.getByRole('button', { name: 'Enable notifications' }));
  assert.deepEqual(bobPage.errors, []);
});

test('on a server with push off, "Enable notifications" gives in-page notifications only', async () => {
  const plain = await startServer();
  try {
    const carol = await person(browser, plain.url);
    await signUp(carol.page, 'carol', 'Carol Danvers');
    await carol.context.grantPermissions(['notifications'], { origin: plain.url });
    await carol.page.getByRole('button', { name: 'Enable notifications' }).click();
    await until(async () => !(await carol.page.locator('.notify-control').isVisible()), 'the control to step aside');
    assert.equal(await carol.page.evaluate(() => Notification.permission), 'granted');
    assert.deepEqual(await carol.page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length), 0, 'no worker without push');
    // The one question that told the client push is off (a 404).
    assert.deepEqual(carol.errors.filter((error) => !/status of 404/.test(error)), []);
    await carol.page.reload();
    await visible(carol.page.getByRole('button', { name: 'Log out' }));
    assert.equal(await carol.page.locator('.notify-control').isVisible(), false);
    assert.equal(carol.errors.length, 1, 'not asked again on every load');
  } finally {
    await plain.stop();
  }
});

test('the device list shows every login, and removing one signs it out', async () => {
  const second = await person(browser, server.url);
  await second.page.getByLabel('Username').fill('bob');
  await second.page.getByLabel('Password').fill(PASSWORD);
  await second.page.getByRole('button', { name: 'Log in' }).click();
  await visible(second.page.getByRole('button', { name: 'Log out' }));

  const { page } = bobPage;
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  const devices = settings.getByRole('list', { name: 'Devices' }).getByRole('listitem');
  await until(async () => (await devices.count()) === 2, 'two devices');
  const mine = devices.filter({ hasText: 'this device' });
  assert.equal(await mine.count(), 1);
  assert.match(await mine.innerText(), /on Linux/, 'named after the browser at login');
  const other = devices.filter({ hasNotText: 'this device' });

  await other.getByRole('button', { name: /^Rename/ }).click();
  await settings.getByLabel('Device name').fill('Work laptop');
  await settings.getByRole('button', { name: 'Save', exact: true }).click();
  await visible(devices.filter({ hasText: 'Work laptop' }));

  await settings.getByRole('button', { name: 'Remove Work laptop' }).click();
  const confirm = page.getByRole('dialog', { name: 'Remove Work laptop?' });
  await confirm.getByLabel('Your password').fill('not the password');
  await confirm.getByRole('button', { name: 'Remove device' }).click();
  await visible(confirm.getByText('Wrong password.'));
  await confirm.getByLabel('Your password').fill(PASSWORD);
  await confirm.getByRole('button', { name: 'Remove device' }).click();
  await until(async () => (await devices.count()) === 1, 'one device left');
  await visible(second.page.getByRole('button', { name: 'Log in' }), 15_000);

  await settings.getByRole('button', { name: /^Remove .* \(this device\)$/ }).click();
  const self = page.getByRole('dialog', { name: /^Remove / });
  await self.getByLabel('Your password').fill(PASSWORD);
  await self.getByRole('button', { name: 'Remove device' }).click();
  await visible(page.getByRole('button', { name: 'Log in' }));
  assert.equal(await page.getByRole('dialog').count(), 0, 'no dialog is left over the sign-in screen');
  assert.deepEqual(bobPage.errors.filter((error) => !/status of 401/.test(error)), []);
  assert.deepEqual(second.errors.filter((error) => !/status of 401/.test(error)), []);
});
