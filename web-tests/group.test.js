// Three people and a group: create it with members from the dialog,
// sender names and mentions, a read-only channel, removing a member and
// leaving, and the one-pane layout of a phone-sized screen.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { artifacts, launchBrowser, messageItem, person, signUp, startServer, until, visible } from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>[]} */
let people = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} text */
async function send(page, text) {
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.fill(text);
  await input.press('Enter');
}

/**
 * Creates a group or channel through the "New chat" dialog.
 * @param {import('playwright-core').Page} page
 * @param {'Group' | 'Channel'} kind
 * @param {string} name
 * @param {string[]} members display names, found by their first letters
 */
async function createChat(page, kind, name, members) {
  await page.getByRole('button', { name: 'New chat' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(kind, { exact: true }).check();
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  for (const member of members) {
    await dialog.getByLabel('Find people').fill(member.slice(0, 3).toLowerCase());
    await dialog.getByRole('button', { name: `Add ${member}` }).click();
    await visible(dialog.getByRole('button', { name: `Remove ${member}` }));
  }
  await dialog.getByRole('button', { name: `Create ${kind.toLowerCase()}` }).click();
  await visible(page.getByRole('heading', { name }));
}

test('three people share a group with names and mentions', async () => {
  const alice = await person(browser, server.url);
  const bob = await person(browser, server.url);
  const carol = await person(browser, server.url, { width: 390, height: 780 });
  people = [alice, bob, carol];
  await signUp(alice.page, 'alice', 'Alice Liddell');
  await signUp(bob.page, 'bob', 'Bob Builder');
  await signUp(carol.page, 'carol', 'Carol Danvers');

  await createChat(alice.page, 'Group', 'Lunch crew', ['Bob Builder', 'Carol Danvers']);
  await visible(alice.page.getByText('3 members'));
  const input = alice.page.getByRole('textbox', { name: 'Message' });
  await input.pressSequentially('Pizza at noon, @bo');
  await visible(alice.page.getByRole('option', { name: /Bob Builder/ }));
  await input.press('Tab');
  await input.pressSequentially('and @carol?');
  assert.equal(await input.inputValue(), 'Pizza at noon, @bob and @carol?');
  await input.press('Escape');
  await input.press('Enter');

  const bobRow = bob.page.getByRole('link', { name: /Lunch crew/ });
  await visible(bobRow.getByText('Alice Liddell: Pizza at noon'));
  await bobRow.click();
  const first = messageItem(bob.page, 'Pizza at noon');
  await visible(first.locator('.sender', { hasText: 'Alice Liddell' }));
  await visible(first.locator('.mention', { hasText: '@bob' }));
  assert.equal(await first.evaluate((node) => node.classList.contains('mentions-me')), true);
  await send(bob.page, 'Count me in');

  // Carol is on a phone: the list first, then the chat alone, then back.
  const carolRow = carol.page.getByRole('link', { name: /Lunch crew/ });
  await visible(carolRow);
  await carol.page.screenshot({ path: path.join(artifacts, 'phone-list.png') });
  await carolRow.click();
  await visible(messageItem(carol.page, 'Count me in').locator('.sender', { hasText: 'Bob Builder' }));
  assert.equal(await carol.page.locator('.sidebar').isVisible(), false, 'the list hides behind the chat');
  await carol.page.screenshot({ path: path.join(artifacts, 'phone-chat.png') });
  await carol.page.getByRole('link', { name: 'Back to chats' }).click();
  await visible(carolRow);
  await carolRow.click();
  await visible(messageItem(bob.page, 'Count me in').getByRole('img', { name: 'Read' }));
});

test('only the owner posts in a channel', async () => {
  const [alice, bob] = people;
  await createChat(alice.page, 'Channel', 'Announcements', ['Bob Builder']);
  await send(alice.page, 'Office closed on Friday');
  await bob.page.getByRole('link', { name: /Announcements/ }).click();
  await visible(messageItem(bob.page, 'Office closed on Friday'));
  await visible(bob.page.getByText('Only the owner and admins post in this channel.'));
  assert.equal(await bob.page.getByRole('textbox', { name: 'Message' }).count(), 0);
  const post = messageItem(bob.page, 'Office closed on Friday');
  await post.hover();
  assert.equal(await post.getByRole('button', { name: 'Reply', exact: true }).count(), 0);
  await post.getByRole('button', { name: 'React', exact: true }).click();
  await bob.page.getByRole('button', { name: 'React with 🎉' }).click();
  await visible(messageItem(alice.page, 'Office closed on Friday').getByRole('button', { name: '🎉 1' }));
});

test('a hidden tab shows a notification and the unread count in its title', async () => {
  const [alice, bob] = people;
  // Headless Chromium has no notification centre and never hides a tab:
  // stand in for both, as the browser would behave.
  await bob.page.evaluate(() => {
    /** @type {any} */ (window).shown = [];
    class FakeNotification extends EventTarget {
      static permission = 'granted';
      static requestPermission() { return Promise.resolve('granted'); }
      /** @param {string} title @param {NotificationOptions} options */
      constructor(title, options) {
        super();
        /** @type {any} */ (window).shown.push({ title, body: options.body });
      }
      close() {}
    }
    Object.defineProperty(window, 'Notification', { value: FakeNotification, configurable: true });
    Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });
    Object.defineProperty(document, 'hidden', { get: () => true, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await send(alice.page, 'Fire drill at three');
  const shown = await until(() => bob.page.evaluate(() => /** @type {any} */ (window).shown[0]), 'a notification');
  assert.deepEqual(shown, { title: 'Alice Liddell in Announcements', body: 'Fire drill at three' });
  await until(async () => (await bob.page.title()).startsWith('(1) '), 'the unread count in the title');
  await bob.page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { get: () => 'visible', configurable: true });
    Object.defineProperty(document, 'hidden', { get: () => false, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await until(async () => !(await bob.page.title()).startsWith('('), 'the title to clear once seen');
});

test('members can be removed, and can leave', async () => {
  const [alice, bob, carol] = people;
  await alice.page.getByRole('link', { name: /Lunch crew/ }).click();
  await alice.page.getByRole('button', { name: 'Chat info' }).click();
  const info = alice.page.getByRole('dialog');
  await visible(info.getByText('Carol Danvers'));
  await info.getByRole('button', { name: 'Remove Bob Builder' }).click();
  await until(async () => (await info.getByText('Bob Builder').count()) === 0, 'Bob to leave the member list');
  await info.getByRole('button', { name: 'Close' }).click();
  await visible(alice.page.getByText('2 members'));
  await until(async () => (await bob.page.getByRole('link', { name: /Lunch crew/ }).count()) === 0, 'the group to leave Bob’s list');

  await alice.page.getByRole('button', { name: 'Chat info' }).click();
  await info.getByLabel('Add people').fill('bob');
  await info.getByRole('button', { name: 'Add Bob Builder' }).click();
  await visible(info.getByRole('button', { name: 'Remove Bob Builder' }));
  await info.getByRole('button', { name: 'Close' }).click();
  await visible(bob.page.getByRole('link', { name: /Lunch crew/ }));
  await send(alice.page, 'Welcome back, Bob');
  await visible(bob.page.getByRole('link', { name: /Lunch crew/ }).getByText('Welcome back, Bob'));
  await alice.page.getByRole('button', { name: 'Chat info' }).click();
  await info.getByRole('button', { name: 'Remove Bob Builder' }).click();
  await info.getByRole('button', { name: 'Close' }).click();

  await carol.page.getByRole('button', { name: 'Chat info' }).click();
  await carol.page.getByRole('dialog').getByRole('button', { name: 'Leave chat' }).click();
  await carol.page.getByRole('dialog', { name: 'Leave this chat?' }).getByRole('button', { name: 'Leave' }).click();
  await until(async () => (await carol.page.getByRole('link', { name: /Lunch crew/ }).count()) === 0, 'the group to leave Carol’s list');
  await visible(alice.page.getByText('1 member'));
});

test('nobody saw a console error', () => {
  for (const { errors } of people) assert.deepEqual(errors, []);
});
