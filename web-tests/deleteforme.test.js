// "Delete for me" as people see it (issue 15 item 11): Bob, a plain member
// of a group, on two pages at once, hides one of Alice's messages: it
// leaves both of his pages at once and stays gone after a reload, while
// Alice still has it. The delete dialog names what each choice does and
// offers "Delete for everyone" only where it is allowed (Bob's own
// message, not Alice's; in a direct chat only the sender's, though its
// creator is its "owner"; in a group the owner's too). A refused delete
// says so on screen, and a tombstone's "…" menu offers Delete (for me)
// on a phone. Every check reads the screen.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, launchBrowser, messageItem, person, registerApi, startServer, until, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>[]} */
let pages = [];
/** @type {{ token: string, user: { user_id: string } }} */
let aliceAccount;
/** The group's id. @type {string} */
let plansId;

/** @param {import('playwright-core').Page} page @param {string} username */
async function logIn(page, username) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Opens the Delete dialog of a message. @param {import('playwright-core').Page} page @param {string} text */
async function askToDelete(page, text) {
  const item = messageItem(page, text).last();
  await item.hover();
  await item.getByRole('button', { name: 'Delete', exact: true }).click();
  return page.getByRole('dialog', { name: 'Delete message?' });
}

/** @param {import('playwright-core').Page} page @param {string} text */
const gone = (page, text) => until(async () => (await messageItem(page, text).count()) === 0, `“${text}” to leave the timeline`);

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const alice = await registerApi(server.url, 'alice', 'Alice Liddell');
  aliceAccount = alice;
  const bob = await registerApi(server.url, 'bob', 'Bob Builder');
  const chat = await api(server.url, alice.token, 'POST', '/chats', { type: 'group', name: 'Plans', member_ids: [bob.user.user_id] });
  plansId = chat.chat_id;
  // Alice creates the direct chat: she is its "owner".
  const direct = await api(server.url, alice.token, 'POST', '/chats', { type: 'direct', member_ids: [bob.user.user_id] });
  await api(server.url, bob.token, 'POST', '/messages', { chat_id: direct.chat_id, content: 'Direct from Bob' });
  await api(server.url, alice.token, 'POST', '/messages', { chat_id: direct.chat_id, content: 'Direct from Alice' });
  for (const content of ['Secret plans for Friday', 'See you all there']) {
    await api(server.url, alice.token, 'POST', '/messages', { chat_id: chat.chat_id, content });
  }
  await api(server.url, bob.token, 'POST', '/messages', { chat_id: chat.chat_id, content: 'Count me in' });
  const [alicePage, bobOne, bobTwo] = await Promise.all([
    person(browser, server.url), person(browser, server.url), person(browser, server.url, { width: 390, height: 844 }),
  ]);
  pages = [alicePage, bobOne, bobTwo];
  await logIn(alicePage.page, 'alice');
  await logIn(bobOne.page, 'bob');
  await logIn(bobTwo.page, 'bob');
  for (const { page } of pages) {
    await page.getByRole('link', { name: /Plans/ }).click();
    await visible(messageItem(page, 'Count me in'));
  }
});

after(async () => {
  for (const [index, someone] of pages.entries()) assert.deepEqual(someone.errors, [], `no console errors (page ${index})`);
  await browser?.close();
  await server?.stop();
});

test('a member hides another’s message for himself only, on all his pages', async () => {
  const [alice, bobOne, bobTwo] = pages;
  const dialog = await askToDelete(bobOne.page, 'Secret plans for Friday');
  await visible(dialog.getByText('removes it from your devices only'));
  assert.equal(await dialog.getByRole('button', { name: 'Delete for everyone' }).count(), 0, 'not Bob’s to delete for everyone');
  await dialog.getByRole('button', { name: 'Delete for me' }).click();

  await gone(bobOne.page, 'Secret plans for Friday');
  await gone(bobTwo.page, 'Secret plans for Friday');
  // No tombstone either: it is simply not there for Bob.
  assert.equal(await bobOne.page.getByText('This message was deleted').count(), 0);
  await visible(messageItem(bobOne.page, 'See you all there'));
  // Alice still has it, as it was.
  await visible(messageItem(alice.page, 'Secret plans for Friday'));
  assert.equal(await alice.page.getByText('This message was deleted').count(), 0);

  await bobOne.page.reload();
  await bobOne.page.getByRole('link', { name: /Plans/ }).click();
  await visible(messageItem(bobOne.page, 'See you all there'));
  assert.equal(await messageItem(bobOne.page, 'Secret plans for Friday').count(), 0, 'still gone after a reload');
});

test('his own message offers both, each named', async () => {
  const [alice, bobOne, bobTwo] = pages;
  const dialog = await askToDelete(bobTwo.page, 'Count me in');
  await visible(dialog.getByRole('button', { name: 'Delete for everyone' }));
  await visible(dialog.getByText('“Delete for everyone” leaves “This message was deleted” for all members.'));
  await dialog.getByRole('button', { name: 'Delete for me' }).click();
  await gone(bobTwo.page, 'Count me in');
  await gone(bobOne.page, 'Count me in');
  await visible(messageItem(alice.page, 'Count me in'));

  // A tombstone can be hidden too: Alice deletes hers for everyone, Bob
  // then removes the "deleted" line for himself.
  const aliceDialog = await askToDelete(alice.page, 'See you all there');
  await aliceDialog.getByRole('button', { name: 'Delete for everyone' }).click();
  await visible(bobOne.page.getByText('This message was deleted'));
  const tombstone = bobOne.page.locator('li.msg.deleted').last();
  await tombstone.hover();
  await tombstone.getByRole('button', { name: 'Delete', exact: true }).click();
  const bobsDialog = bobOne.page.getByRole('dialog', { name: 'Delete message?' });
  assert.equal(await bobsDialog.getByRole('button', { name: 'Delete for everyone' }).count(), 0);
  await bobsDialog.getByRole('button', { name: 'Delete for me' }).click();
  await until(async () => (await bobOne.page.getByText('This message was deleted').count()) === 0, 'the tombstone to go for Bob');
  await until(async () => (await bobTwo.page.getByText('This message was deleted').count()) === 0, 'the tombstone to go on Bob’s other page');
  await visible(alice.page.getByText('This message was deleted'));
});

test('in a direct chat only the sender may delete for everyone, in a group the owner too', async () => {
  const { page } = pages[0];
  await page.getByRole('link', { name: /^Bob Builder/ }).click();
  await visible(messageItem(page, 'Direct from Bob'));
  let dialog = await askToDelete(page, 'Direct from Bob');
  await visible(dialog.getByText('the others still see it'));
  assert.equal(await dialog.getByRole('button', { name: 'Delete for everyone' }).count(), 0, 'not Alice’s to delete for everyone');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  dialog = await askToDelete(page, 'Direct from Alice');
  await visible(dialog.getByRole('button', { name: 'Delete for everyone' }));
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // In the group Alice (its owner) may delete Bob's message for everyone.
  await page.getByRole('link', { name: /Plans/ }).click();
  dialog = await askToDelete(page, 'Count me in');
  await visible(dialog.getByRole('button', { name: 'Delete for everyone' }));
  await dialog.getByRole('button', { name: 'Cancel' }).click();
});

test('a refused delete says so and leaves the message', async () => {
  const alice = pages[0];
  const { page } = alice;
  // The server refuses every delete for a while.
  const refuse = (/** @type {URL} */ url) => url.pathname.startsWith('/api/v1/messages/');
  await page.route(refuse, (route) => route.request().method() !== 'DELETE' ? route.continue() : route.fulfill({
    status: 403, contentType: 'application/problem+json',
    body: JSON.stringify({ type: 'about:blank', title: 'Forbidden', status: 403, code: 'forbidden', detail: 'not allowed right now' }),
  }));
  const alert = page.getByRole('alert').filter({ hasText: 'Could not delete the message' });
  let dialog = await askToDelete(page, 'Count me in');
  await dialog.getByRole('button', { name: 'Delete for everyone' }).click();
  await visible(alert.getByText('Could not delete the message for everyone: not allowed right now'));
  await visible(messageItem(page, 'Count me in'));
  dialog = await askToDelete(page, 'Count me in');
  await dialog.getByRole('button', { name: 'Delete for me' }).click();
  await visible(alert.getByText('Could not delete the message for you: not allowed right now'));
  await visible(messageItem(page, 'Count me in'));
  await alert.getByRole('button', { name: 'Dismiss' }).click();
  await until(async () => !(await alert.isVisible()), 'the line to go when dismissed');
  await page.unroute(refuse);
  // The browser logs each refused request; those two are expected.
  const refused = alice.errors.filter((error) => /Failed to load resource.*403/.test(error));
  assert.equal(refused.length, 2);
  alice.errors.splice(0, alice.errors.length, ...alice.errors.filter((error) => !refused.includes(error)));
});

test('on a phone a tombstone’s “…” offers Delete, for me', async () => {
  const [, bobOne, bobTwo] = pages;
  const sent = await api(server.url, aliceAccount.token, 'POST', '/messages', { chat_id: plansId, content: 'Plan B' });
  await visible(messageItem(bobTwo.page, 'Plan B'));
  await api(server.url, aliceAccount.token, 'DELETE', `/messages/${sent.message_id}`);
  const tombstone = bobTwo.page.locator('li.msg.deleted');
  await visible(tombstone.getByText('This message was deleted'));
  assert.equal(await tombstone.count(), 1);
  const more = tombstone.getByRole('button', { name: 'Message actions' });
  assert.equal(await more.evaluate((node) => getComputedStyle(node).opacity), '1', 'shown without hover');
  await more.click();
  const menu = bobTwo.page.getByRole('menu', { name: 'Message actions' });
  await visible(menu);
  assert.deepEqual(await menu.getByRole('menuitem').allTextContents(), ['Delete']);
  await bobTwo.page.keyboard.press('Enter');
  const dialog = bobTwo.page.getByRole('dialog', { name: 'Delete message?' });
  assert.equal(await dialog.getByRole('button', { name: 'Delete for everyone' }).count(), 0);
  await dialog.getByRole('button', { name: 'Delete for me' }).click();
  await until(async () => (await tombstone.count()) === 0, 'the tombstone to go');
  await until(async () => (await bobOne.page.locator('li.msg.deleted').count()) === 0, 'the tombstone to go on Bob’s other page');
});
