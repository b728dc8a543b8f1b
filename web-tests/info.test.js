// "Message info" (issue 15 item 5): on my own message, who has read it
// and who it was delivered to, per member with times, updating while the
// dialog is open as the others get and read it; in a group it says that
// blue ticks mean at least one member read it and how many did. Also the
// direct-chat wording and the phone layout, where the info fills the
// screen.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, messageItem, person, registerApi, startServer, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Record<string, { token: string, user: any }>} */
const accounts = {};

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  accounts.alice = await registerApi(server.url, 'alice', 'Alice Liddell');
  accounts.bob = await registerApi(server.url, 'bob', 'Bob Builder');
  accounts.carol = await registerApi(server.url, 'carol', 'Carol Danvers');
  accounts.dave = await registerApi(server.url, 'dave', 'Dave Grohl');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Logs `username` in on a page of their own; the chat list shows.
 * @param {string} username @param {{ width: number, height: number }} [viewport]
 */
async function logIn(username, viewport) {
  const someone = await person(browser, server.url, viewport);
  await someone.page.getByLabel('Username').fill(username);
  await someone.page.getByLabel('Password').fill(PASSWORD);
  await someone.page.getByRole('button', { name: 'Log in' }).click();
  await visible(someone.page.getByRole('button', { name: 'New chat' }));
  return someone;
}

/** @param {import('playwright-core').Page} page @param {string} text */
async function send(page, text) {
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.fill(text);
  await input.press('Enter');
  await visible(messageItem(page, text).locator('.tick[aria-label="Sent"], .tick[aria-label="Delivered"], .tick[aria-label="Read"]'));
}

/** Opens Message info from the message's actions, as a person would.
 * @param {import('playwright-core').Page} page @param {string} text */
async function openInfo(page, text) {
  const item = messageItem(page, text);
  await item.hover();
  await item.getByRole('button', { name: 'Message info' }).click();
  const dialog = page.getByRole('dialog', { name: 'Message info' });
  await visible(dialog);
  return dialog;
}

/** The names listed under one heading of the dialog.
 * @param {import('playwright-core').Locator} dialog @param {string} title */
const listed = (dialog, title) => dialog.getByRole('region', { name: new RegExp(`^${title}`) }).locator('.person-names').allTextContents();

test('in a group, Message info shows who read and who got my message, live', async () => {
  const group = await api(server.url, accounts.alice.token, 'POST', '/chats', {
    type: 'group', name: 'Launch crew',
    member_ids: [accounts.bob.user.user_id, accounts.carol.user.user_id, accounts.dave.user.user_id],
  });
  const alice = await logIn('alice');
  const bob = await logIn('bob');
  const carol = await logIn('carol');
  // Dave has no client open: nothing reaches him yet.

  await alice.page.getByRole('link', { name: /Launch crew/ }).click();
  await send(alice.page, 'Launch at nine');
  await visible(messageItem(alice.page, 'Launch at nine').getByRole('img', { name: 'Delivered' }));

  const dialog = await openInfo(alice.page, 'Launch at nine');
  await visible(dialog.getByText('Launch at nine'));
  await visible(dialog.getByText('In a group, blue double ticks mean at least one member has read the message.'));
  await visible(dialog.getByText('Seen by 0 of 3 · delivered to 2 of 3'));
  assert.deepEqual(await listed(dialog, 'Delivered to'), ['Bob Builder', 'Carol Danvers']);
  assert.deepEqual(await listed(dialog, 'Not delivered yet'), ['Dave Grohl']);
  assert.equal(await dialog.getByRole('region', { name: /^Read by/ }).count(), 0);
  await visible(dialog.getByRole('region', { name: /^Delivered to/ }).locator('time', { hasText: /^today at / }));

  // Bob opens the chat and reads it: the open dialog follows.
  await bob.page.getByRole('link', { name: /Launch crew/ }).click();
  await visible(messageItem(bob.page, 'Launch at nine'));
  await visible(dialog.getByText('Seen by 1 of 3 · delivered to 2 of 3'));
  assert.deepEqual(await listed(dialog, 'Read by'), ['Bob Builder']);
  assert.deepEqual(await listed(dialog, 'Delivered to'), ['Carol Danvers']);
  await visible(dialog.getByRole('region', { name: /^Read by/ }).locator('time', { hasText: /^today at / }));
  await alice.page.screenshot({ path: path.join(artifacts, 'info-group.png') });

  await carol.page.getByRole('link', { name: /Launch crew/ }).click();
  await visible(dialog.getByText('Seen by 2 of 3 · delivered to 2 of 3'));
  assert.deepEqual(await listed(dialog, 'Read by'), ['Bob Builder', 'Carol Danvers']);

  // Dave reads from another client (the REST API): the web client hears it too.
  const seq = (await api(server.url, accounts.dave.token, 'GET', `/chats/${group.chat_id}`)).last_seq;
  await api(server.url, accounts.dave.token, 'POST', `/chats/${group.chat_id}/read`, { seq });
  await visible(dialog.getByText('Seen by 3 of 3 · delivered to 3 of 3'));
  assert.equal(await dialog.getByRole('region', { name: /^Not delivered yet/ }).count(), 0);

  await dialog.getByRole('button', { name: 'Close' }).click();
  const tick = messageItem(alice.page, 'Launch at nine').getByRole('img', { name: 'Read' });
  assert.equal(await tick.getAttribute('title'), 'Read by at least one member (Info shows who)');

  // Info is only on my own messages.
  await send(bob.page, 'Ready here');
  const theirs = messageItem(alice.page, 'Ready here');
  await theirs.hover();
  await visible(theirs.getByRole('button', { name: 'Reply', exact: true }));
  assert.equal(await theirs.getByRole('button', { name: 'Message info' }).count(), 0);

  for (const someone of [alice, bob, carol]) {
    assert.deepEqual(someone.errors, []);
    await someone.context.close();
  }
});

test('on a phone, Message info of a direct chat fills the screen and says when it was read', async () => {
  await api(server.url, accounts.alice.token, 'POST', '/chats', { type: 'direct', member_ids: [accounts.carol.user.user_id] });
  const alice = await logIn('alice', { width: 390, height: 780 });
  await alice.page.getByRole('link', { name: /Carol Danvers/ }).click();
  await send(alice.page, 'Coffee later?');

  const dialog = await openInfo(alice.page, 'Coffee later?');
  await visible(dialog.getByText('Not delivered yet', { exact: true }).first());
  assert.deepEqual(await listed(dialog, 'Not delivered yet'), ['Carol Danvers']);
  assert.equal(await dialog.getByText(/Seen by/).count(), 0, 'a direct chat has no counts');
  const box = await dialog.boundingBox();
  assert.ok(box && box.width === 390 && box.height === 780, `the info fills the phone screen (${JSON.stringify(box)})`);

  const carol = await logIn('carol');
  await visible(dialog.getByText(/^Delivered today at .+, not read yet$/));
  await carol.page.getByRole('link', { name: /Alice Liddell/ }).click();
  await visible(dialog.getByText(/^Read today at /));
  assert.deepEqual(await listed(dialog, 'Read by'), ['Carol Danvers']);
  await alice.page.screenshot({ path: path.join(artifacts, 'info-phone.png') });

  await dialog.getByRole('button', { name: 'Close' }).click();
  await visible(messageItem(alice.page, 'Coffee later?').getByRole('img', { name: 'Read' }));
  assert.equal(await messageItem(alice.page, 'Coffee later?').getByRole('img', { name: 'Read' }).getAttribute('title'), 'Read');
  for (const someone of [alice, carol]) {
    assert.deepEqual(someone.errors, []);
    await someone.context.close();
  }
});
