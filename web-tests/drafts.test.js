// Drafts and the outbox survive a reload (issue 15 item 6): a half-typed
// message stays in its chat, marked "Draft:" in the chat list, across a
// reload; messages written offline are still there after the page was
// reloaded (even while offline) and go out exactly once, in order, when
// the connection is back; and one that reached the server before the
// page lost its answer is not stored twice (same client_msg_id).

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, messageItem, messageTexts, person, registerApi, startServer, until, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof registerApi>>} */
let aliceAccount;
/** @type {Awaited<ReturnType<typeof person>>} */
let alice;
/** @type {Awaited<ReturnType<typeof person>>} */
let bob;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  aliceAccount = await registerApi(server.url, 'alice', 'Alice Liddell');
  const bobAccount = await registerApi(server.url, 'bob', 'Bob Builder');
  const carol = await registerApi(server.url, 'carol', 'Carol Danvers');
  for (const [other, hello] of [[bobAccount, 'Hi Alice, lunch?'], [carol, 'Morning!']]) {
    const chat = await api(server.url, other.token, 'POST', '/chats', { type: 'direct', member_ids: [aliceAccount.user.user_id] });
    await api(server.url, other.token, 'POST', '/messages', { chat_id: chat.chat_id, content: hello });
  }
  alice = await person(browser, server.url);
  await logIn(alice.page, 'alice');
  bob = await person(browser, server.url);
  await logIn(bob.page, 'bob');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} username */
async function logIn(page, username) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** @param {import('playwright-core').Page} page @param {RegExp} name */
const row = (page, name) => page.getByRole('link', { name });

/** The composer of the open chat. @param {import('playwright-core').Page} page */
const composer = (page) => page.getByRole('textbox', { name: 'Message' });

/**
 * The sync point before a reload: the draft reached IndexedDB (a person
 * reloading takes longer than that write; a test does not).
 * @param {import('playwright-core').Page} page @param {string} text
 */
async function draftStored(page, text) {
  await until(() => page.evaluate(async (wanted) => {
    const databases = await indexedDB.databases();
    const name = databases.map((db) => db.name).find((db) => db?.startsWith('natter-local-'));
    if (!name) return false;
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const values = await new Promise((resolve) => {
      const request = db.transaction('drafts').objectStore('drafts').getAll();
      request.onsuccess = () => resolve(request.result);
    });
    db.close();
    return values.includes(wanted);
  }, text), 'the draft to be stored');
}

test('a draft stays in its chat across a reload and the chat list marks it', async () => {
  await row(alice.page, /Bob Builder/).click();
  await visible(messageItem(alice.page, 'Hi Alice, lunch?'));
  await composer(alice.page).fill('Yes! How about the new ramen place\nat noon?');
  await draftStored(alice.page, 'Yes! How about the new ramen place\nat noon?');
  await row(alice.page, /Carol Danvers/).click();
  await visible(messageItem(alice.page, 'Morning!'));
  const bobRow = row(alice.page, /Bob Builder/);
  await visible(bobRow.getByText('Draft:'));
  await visible(bobRow.getByText('Yes! How about the new ramen place'));
  assert.equal(await bobRow.getByText('Hi Alice, lunch?').count(), 0, 'the draft replaces the last message');

  await alice.page.reload();
  await visible(row(alice.page, /Bob Builder/).getByText('Draft:'));
  await visible(row(alice.page, /Bob Builder/).getByText('Yes! How about the new ramen place'));
  assert.equal(await composer(alice.page).inputValue(), '', 'Carol\'s composer has no draft');
  await alice.page.screenshot({ path: path.join(artifacts, 'draft-chat-list.png') });

  await row(alice.page, /Bob Builder/).click();
  await until(async () => (await composer(alice.page).inputValue()) === 'Yes! How about the new ramen place\nat noon?', 'the draft back in the composer');
  assert.equal(await row(alice.page, /Bob Builder/).getByText('Draft:').count(), 0, 'no marker on the open chat');
  await composer(alice.page).press('Enter');
  await visible(messageItem(alice.page, 'at noon?').getByRole('img', { name: /Sent|Delivered|Read/ }));
  await row(bob.page, /Alice Liddell/).click();
  await visible(messageItem(bob.page, 'at noon?'));

  await row(alice.page, /Carol Danvers/).click();
  await visible(row(alice.page, /Bob Builder/).getByText(/^You: Yes! How about/));
  assert.equal(await row(alice.page, /Bob Builder/).getByText('Draft:').count(), 0, 'sent: no draft any more');
  await alice.page.reload();
  await visible(row(alice.page, /Bob Builder/).getByText(/^You: Yes! How about/));
  assert.equal(await row(alice.page, /Bob Builder/).getByText('Draft:').count(), 0, 'and none after a reload');
  assert.deepEqual(alice.errors, []);
});

test('a draft is back in the composer when the page reloads on its chat', async () => {
  await row(alice.page, /Carol Danvers/).click();
  await composer(alice.page).fill('See you at the standup');
  await draftStored(alice.page, 'See you at the standup');
  await alice.page.reload();
  await until(async () => (await composer(alice.page).inputValue()) === 'See you at the standup', 'the draft in the composer after the reload');
  await composer(alice.page).fill('');
  await row(alice.page, /Bob Builder/).click();
  await visible(messageItem(alice.page, 'at noon?'));
  assert.equal(await row(alice.page, /Carol Danvers/).getByText('Draft:').count(), 0, 'an emptied draft is gone');
  assert.deepEqual(alice.errors, []);
});

test('messages written offline survive a reload and arrive once, in order', async () => {
  await row(alice.page, /Bob Builder/).click();
  await alice.context.setOffline(true);
  await visible(alice.page.getByText('You are offline'));
  for (const text of ['first from the tunnel', 'second from the tunnel']) {
    await composer(alice.page).fill(text);
    await composer(alice.page).press('Enter');
    await visible(messageItem(alice.page, text).getByRole('img', { name: 'Sending' }));
  }
  // Reloading without a network: the browser shows its offline page.
  await alice.page.reload().catch(() => {});
  await alice.context.setOffline(false);
  await alice.page.goto('/');
  await row(alice.page, /Bob Builder/).click();
  await visible(messageItem(bob.page, 'second from the tunnel'), 20_000);
  await visible(messageItem(alice.page, 'second from the tunnel').getByRole('img', { name: /Sent|Delivered|Read/ }), 20_000);

  const texts = await messageTexts(bob.page);
  assert.deepEqual(texts.slice(-2), ['first from the tunnel', 'second from the tunnel'], 'in the order written');
  assert.equal(texts.filter((text) => text.includes('from the tunnel')).length, 2, 'each once');
  // Once more: nothing left over to send again.
  await alice.page.reload();
  await row(alice.page, /Bob Builder/).click();
  await visible(messageItem(alice.page, 'second from the tunnel'));
  const again = await messageTexts(bob.page);
  assert.equal(again.filter((text) => text.includes('from the tunnel')).length, 2, 'no copies after another reload');
  const history = await api(server.url, aliceAccount.token, 'GET', `/chats/${await chatIdOf(alice.page)}/messages`);
  assert.equal(history.messages.filter((/** @type {any} */ m) => m.content.includes('from the tunnel')).length, 2, 'stored once each');
  assert.deepEqual(alice.errors.filter((error) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(error)), []);
  assert.deepEqual(bob.errors, []);
});

test('a message that reached the server before the page lost the answer is stored once', async () => {
  await alice.context.setOffline(true);
  await visible(alice.page.getByText('You are offline'));
  await composer(alice.page).fill('did this go out?');
  await composer(alice.page).press('Enter');
  const pending = alice.page.locator('li.msg.pending', { hasText: 'did this go out?' });
  await visible(pending);
  const clientMsgId = await pending.getAttribute('data-client-id');
  assert.ok(clientMsgId);
  // The send reached the server; its answer never came back to the page.
  const chatId = await chatIdOf(alice.page);
  await api(server.url, aliceAccount.token, 'POST', '/messages', { chat_id: chatId, content: 'did this go out?', client_msg_id: clientMsgId });
  await visible(messageItem(bob.page, 'did this go out?'));

  await alice.page.reload().catch(() => {});
  await alice.context.setOffline(false);
  await alice.page.goto(`/#/chat/${encodeURIComponent(chatId)}`);
  await visible(messageItem(alice.page, 'did this go out?').getByRole('img', { name: /Sent|Delivered|Read/ }), 20_000);
  await until(async () => (await alice.page.locator('li.msg.pending').count()) === 0, 'nothing pending');
  const history = await api(server.url, aliceAccount.token, 'GET', `/chats/${chatId}/messages`);
  assert.equal(history.messages.filter((/** @type {any} */ m) => m.content === 'did this go out?').length, 1, 'stored once');
  assert.equal(await messageItem(bob.page, 'did this go out?').count(), 1, 'Bob sees it once');
  assert.equal(await messageItem(alice.page, 'did this go out?').count(), 1, 'Alice sees it once');
});

/** The open chat's id, from the address. @param {import('playwright-core').Page} page */
async function chatIdOf(page) {
  const match = /#\/chat\/([^/]+)/.exec(page.url());
  assert.ok(match, `a chat is open (${page.url()})`);
  return decodeURIComponent(match[1]);
}
