// The chat list tools, as Bob uses them: pinning a chat (on top, after a
// reload too, and live on his second page), archiving one (under
// "Archived", where a new message keeps it, and which closes even with
// an archived chat open), marking one unread (a dot that opening the chat
// clears); a menu closing on a second click of "…", on opening another
// chat and when the window changes; the keyboard: Ctrl+K finds and opens
// a chat (not over another dialog), Alt+Down / Alt+Up walk the list (in
// the message box too, but not on a Mac, where Option+Up/Down move the
// caret), `?` lists the shortcuts, an IME's Enter does not pick in the
// switcher, and a message's actions open and work without a mouse; and
// on a phone (390x844, touch) the "…" buttons are there to tap.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, messageItem, person, registerApi, signUp, startServer, until, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>} */
let bob;
/** Bob's second tab: same session, its own socket. @type {import('playwright-core').Page} */
let bobTab;
/** @type {string[]} */
const tabErrors = [];
/** @type {{ token: string, user: { user_id: string } }} */
let alice;
/** @type {Record<string, string>} chat name -> id */
const chats = {};

/** Names of the chat rows on a page, top to bottom (archived ones only
 * when their entry is open).
 * @param {import('playwright-core').Page} page */
function rowNames(page) {
  return page.locator('.chat-list .chat-row-name').allTextContents();
}

/** @param {import('playwright-core').Page} page @param {string} name */
function row(page, name) {
  return page.locator('.chat-item').filter({ has: page.locator('.chat-row-name', { hasText: name }) });
}

/** @param {string} chat @param {string} text */
function aliceSays(chat, text) {
  return api(server.url, alice.token, 'POST', '/messages', { chat_id: chats[chat], content: text, client_msg_id: `${chat}-${text}` });
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  alice = await registerApi(server.url, 'alice', 'Alice Liddell');
  bob = await person(browser, server.url);
  await signUp(bob.page, 'bob', 'Bob Builder');
  const [found] = (await api(server.url, alice.token, 'GET', '/users?q=bob')).users;
  // Oldest activity first: the list shows Delta, Charlie, Bravo, Alpha.
  for (const name of ['Alpha', 'Bravo', 'Charlie', 'Delta']) {
    const chat = await api(server.url, alice.token, 'POST', '/chats', { type: 'group', name, member_ids: [found.user_id] });
    chats[name] = chat.chat_id;
    await aliceSays(name, `${name.toLowerCase()} news`);
  }
  await until(async () => (await rowNames(bob.page)).join() === 'Delta,Charlie,Bravo,Alpha', 'Bob’s four chats');
  bobTab = await bob.context.newPage();
  bobTab.on('console', (message) => {
    if (message.type() === 'error') tabErrors.push(`console: ${message.text()}`);
  });
  bobTab.on('pageerror', (error) => tabErrors.push(`page: ${error.message}`));
  await bobTab.goto('/');
  await until(async () => (await rowNames(bobTab)).length === 4, 'the second tab’s list');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a pinned chat goes on top, stays there after a reload and shows on the other tab at once', async () => {
  const alpha = row(bob.page, 'Alpha');
  await alpha.hover();
  await alpha.getByRole('button', { name: 'Chat options for Alpha' }).click();
  const menu = bob.page.getByRole('menu', { name: 'Chat options for Alpha' });
  await visible(menu);
  await menu.getByRole('menuitem', { name: 'Pin' }).click();
  await until(async () => (await rowNames(bob.page)).join() === 'Alpha,Delta,Charlie,Bravo', 'Alpha on top');
  await visible(row(bob.page, 'Alpha').locator('.pin-flag'));
  // The other tab hears of it over its own socket, without reloading.
  await until(async () => (await rowNames(bobTab)).join() === 'Alpha,Delta,Charlie,Bravo', 'Alpha on top in the other tab');
  await visible(row(bobTab, 'Alpha').getByRole('link', { name: /Alpha.*\(pinned\)/ }));

  await bob.page.reload();
  await until(async () => (await rowNames(bob.page)).join() === 'Alpha,Delta,Charlie,Bravo', 'Alpha on top after a reload');
  // A new message elsewhere does not push a pinned chat down.
  await aliceSays('Delta', 'delta again');
  await visible(row(bob.page, 'Delta').getByText('delta again'));
  assert.equal((await rowNames(bob.page))[0], 'Alpha');
});

test('a chat’s menu closes on a second click of “…”, on opening another chat and when the window changes', async () => {
  const page = bob.page;
  // The second tab opened last is in front; a tab behind it gets its
  // animation frames throttled (every wait for a steady element slows).
  await page.bringToFront();
  const charlie = row(page, 'Charlie');
  const more = charlie.getByRole('button', { name: 'Chat options for Charlie' });
  const menu = page.getByRole('menu', { name: 'Chat options for Charlie' });
  const closed = (/** @type {string} */ what) => until(async () => (await menu.count()) === 0, what);
  await charlie.hover();
  await more.click();
  await visible(menu);
  await more.click();
  await closed('a second click to close the menu');
  assert.equal(await more.getAttribute('aria-expanded'), 'false');
  await more.click();
  await visible(menu);

  // Another chat opened from the switcher while the menu is open.
  await page.keyboard.press('Control+k');
  const switcher = page.getByRole('dialog', { name: 'Go to chat' });
  await visible(switcher);
  await page.keyboard.type('delt');
  await page.keyboard.press('Enter');
  await visible(page.getByRole('heading', { name: 'Delta' }));
  await closed('opening another chat to close the menu');

  // The window resized, or left for another app.
  await charlie.hover();
  await more.click();
  await visible(menu);
  await page.setViewportSize({ width: 1000, height: 760 });
  await closed('a resize to close the menu');
  await page.setViewportSize({ width: 1100, height: 760 });
  await charlie.hover();
  await more.click();
  await visible(menu);
  await page.evaluate(() => window.dispatchEvent(new FocusEvent('blur')));
  await closed('the window’s blur to close the menu');
});

test('an archived chat moves under Archived and stays there when a message arrives', async () => {
  // A right click opens the same menu.
  await row(bob.page, 'Bravo').getByRole('link').click({ button: 'right' });
  await bob.page.getByRole('menu', { name: 'Chat options for Bravo' }).getByRole('menuitem', { name: 'Archive' }).click();
  const entry = bob.page.getByRole('button', { name: /^Archived/ });
  await visible(entry);
  await until(async () => (await rowNames(bob.page)).join() === 'Alpha,Delta,Charlie', 'Bravo out of the list');
  await visible(entry.getByText('1 chat'));

  await aliceSays('Bravo', 'bravo is back');
  await visible(entry.getByText('1 unread'));
  assert.equal((await rowNames(bob.page)).join(), 'Alpha,Delta,Charlie', 'still archived (WhatsApp rule)');
  assert.equal(await entry.getAttribute('aria-expanded'), 'false');
  await entry.click();
  await visible(row(bob.page, 'Bravo').getByText('bravo is back'));
  assert.equal((await rowNames(bob.page)).join(), 'Alpha,Delta,Charlie,Bravo');
  await entry.click();
  await until(async () => (await rowNames(bob.page)).length === 3, 'the archived entry closed again');

  // With an archived chat open the entry still closes, and opens again.
  await entry.click();
  await row(bob.page, 'Bravo').getByRole('link').click();
  await visible(bob.page.getByRole('heading', { name: 'Bravo' }));
  await entry.click();
  await until(async () => (await rowNames(bob.page)).length === 3, 'the entry closed with Bravo open');
  assert.equal(await entry.getAttribute('aria-expanded'), 'false');
  await entry.click();
  await until(async () => (await rowNames(bob.page)).length === 4, 'the entry open again');
  await entry.click();
  await until(async () => (await rowNames(bob.page)).length === 3, 'the entry closed again');
});

test('a chat marked unread shows a dot until it is opened', async () => {
  // Read first (opening it), then another chat is opened.
  await row(bob.page, 'Charlie').getByRole('link').click();
  await visible(bob.page.getByRole('heading', { name: 'Charlie' }));
  await row(bob.page, 'Delta').getByRole('link').click();
  await visible(bob.page.getByRole('heading', { name: 'Delta' }));
  // Keyboard only: the context-menu key on the row, arrows, Enter.
  const link = row(bob.page, 'Charlie').getByRole('link');
  await link.focus();
  await bob.page.keyboard.press('Shift+F10');
  const menu = bob.page.getByRole('menu', { name: 'Chat options for Charlie' });
  await visible(menu);
  const labels = await menu.getByRole('menuitem').allTextContents();
  assert.deepEqual(labels, ['Pin', 'Archive', 'Mark as unread', 'Mute']);
  for (let i = 0; i < 2; i += 1) await bob.page.keyboard.press('ArrowDown');
  assert.equal(await bob.page.evaluate(() => document.activeElement?.textContent), 'Mark as unread');
  await bob.page.keyboard.press('Enter');
  await visible(row(bob.page, 'Charlie').locator('.unread-dot'));
  await visible(row(bobTab, 'Charlie').locator('.unread-dot'));

  await row(bob.page, 'Charlie').getByRole('link').click();
  await visible(bob.page.getByRole('heading', { name: 'Charlie' }));
  await until(async () => (await row(bob.page, 'Charlie').locator('.unread-dot').count()) === 0, 'the dot gone');
  await until(async () => (await row(bobTab, 'Charlie').locator('.unread-dot').count()) === 0, 'the dot gone in the other tab');
});

test('Ctrl+K finds and opens a chat, Alt+Down and Alt+Up walk the list', async () => {
  const page = bob.page;
  await page.keyboard.press('Control+k');
  const dialog = page.getByRole('dialog', { name: 'Go to chat' });
  await visible(dialog);
  await page.keyboard.press('Escape');
  await until(async () => (await dialog.count()) === 0, 'Escape closes the switcher');

  await page.keyboard.press('Control+k');
  await visible(dialog);
  await page.keyboard.type('del');
  await visible(dialog.getByRole('option', { name: 'Delta' }));
  assert.equal(await dialog.getByRole('option').count(), 1);
  // An Enter that ends an IME composition belongs to the IME.
  await dialog.getByRole('combobox').dispatchEvent('keydown', { key: 'Enter', isComposing: true, bubbles: true, cancelable: true });
  await visible(dialog);
  await page.keyboard.press('Enter');
  await visible(page.getByRole('heading', { name: 'Delta' }));
  assert.equal(await dialog.count(), 0);

  // The list as shown: Alpha (pinned), Delta, Charlie (Bravo archived).
  await page.keyboard.press('Alt+ArrowDown');
  await visible(page.getByRole('heading', { name: 'Charlie' }));
  await page.keyboard.press('Alt+ArrowUp');
  await visible(page.getByRole('heading', { name: 'Delta' }));
  await page.keyboard.press('Alt+ArrowUp');
  await visible(page.getByRole('heading', { name: 'Alpha' }));
  // In the message box too (not a Mac).
  await page.getByRole('textbox', { name: 'Message' }).focus();
  await page.keyboard.press('Alt+ArrowDown');
  await visible(page.getByRole('heading', { name: 'Delta' }));
});

test('on a Mac, Option+Up/Down in the message box are left to the caret', async () => {
  const mac = await person(browser, server.url);
  const { page, context, errors } = mac;
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'platform', { get: () => 'MacIntel' });
    Object.defineProperty(Navigator.prototype, 'userAgentData', { get: () => ({ platform: 'macOS', brands: [], mobile: false }) });
  });
  await page.reload();
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await row(page, 'Delta').getByRole('link').click();
  await visible(page.getByRole('heading', { name: 'Delta' }));
  await visible(messageItem(page, 'delta news'));
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.click();
  await input.fill('first line\nsecond line');
  for (const key of ['Alt+ArrowUp', 'Alt+ArrowDown']) {
    await page.keyboard.press(key);
    // A navigation would land with the hash change: let it come first.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    assert.equal(await page.locator('.conv-title').textContent(), 'Delta', `${key} stays in the chat`);
    assert.equal(await input.inputValue(), 'first line\nsecond line');
    assert.equal(await input.evaluate((node) => node === document.activeElement), true, 'still typing');
  }
  await input.fill('');
  // Outside the message box they walk the list.
  await row(page, 'Delta').getByRole('link').focus();
  await page.keyboard.press('Alt+ArrowDown');
  await visible(page.getByRole('heading', { name: 'Charlie' }));
  await row(page, 'Charlie').getByRole('link').focus();
  await page.keyboard.press('?');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await visible(dialog.getByText('Option+↑ / Option+↓'));
  await visible(dialog.getByText('outside text fields', { exact: false }));
  await context.close();
  assert.deepEqual(errors, []);
});

test('? lists the shortcuts', async () => {
  const page = bob.page;
  await row(page, 'Delta').getByRole('link').focus();
  await page.keyboard.press('?');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await visible(dialog);
  await visible(dialog.getByText('Ctrl+K (⌘K)'));
  await visible(dialog.getByText('Alt+↑ / Alt+↓'));
  await visible(dialog.getByText('Previous / next chat in the list (in the message box too)'));
  // Ctrl+K does not open the switcher over another dialog.
  await page.keyboard.press('Control+k');
  assert.equal(await page.getByRole('dialog', { name: 'Go to chat' }).count(), 0);
  assert.equal(await dialog.count(), 1);
  await page.keyboard.press('Escape');
  await until(async () => (await dialog.count()) === 0, 'the shortcuts dialog closed');
  // In the message box `?` is just a character.
  await row(page, 'Delta').getByRole('link').click();
  await visible(page.getByRole('heading', { name: 'Delta' }));
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.press('?');
  await until(async () => (await input.inputValue()) === '?', 'the ? typed into the message box');
  assert.equal(await dialog.count(), 0);
  await input.fill('');
});

test('a message’s actions open and work from the keyboard alone', async () => {
  const page = bob.page;
  await visible(page.getByRole('heading', { name: 'Delta' }));
  const target = messageItem(page, 'delta again');
  await visible(target);
  const more = target.getByRole('button', { name: 'Message actions' });
  // Tab from the message list reaches the message's "…" button.
  await page.getByRole('log', { name: 'Messages' }).focus();
  await until(async () => {
    await page.keyboard.press('Tab');
    return more.evaluate((node) => node === document.activeElement);
  }, 'Tab to reach the actions button', 15_000);
  assert.equal(await more.evaluate((node) => getComputedStyle(node).opacity), '1', 'it shows when focused');
  await page.keyboard.press('Enter');
  const menu = page.getByRole('menu', { name: 'Message actions' });
  await visible(menu);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Reply');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'React');
  await page.keyboard.press('Escape');
  await until(async () => (await menu.count()) === 0, 'Escape closes the menu');
  assert.equal(await more.evaluate((node) => node === document.activeElement), true, 'focus back on “…”');

  await page.keyboard.press('Space');
  await visible(menu);
  await page.keyboard.press('Enter');
  await visible(page.getByText('Replying to Alice Liddell'));
  await page.keyboard.type('answer by keyboard');
  await page.keyboard.press('Enter');
  const answer = messageItem(page, 'answer by keyboard');
  await visible(answer.locator('.quote', { hasText: 'delta again' }));
});

test('on a phone the “…” buttons show and work by touch', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, baseURL: server.url });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  await page.goto('/');
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).tap();
  await visible(row(page, 'Delta'));

  const rowMore = row(page, 'Delta').getByRole('button', { name: 'Chat options for Delta' });
  assert.equal(await rowMore.evaluate((node) => getComputedStyle(node).opacity), '1', 'shown without hover');
  await rowMore.tap();
  const chatMenu = page.getByRole('menu', { name: 'Chat options for Delta' });
  await visible(chatMenu.getByRole('menuitem', { name: 'Mute' }));
  await chatMenu.getByRole('menuitem', { name: 'Mute' }).tap();
  await visible(row(page, 'Delta').locator('.muted-flag'));

  await row(page, 'Delta').getByRole('link').tap();
  const target = messageItem(page, 'delta news');
  await visible(target);
  const more = target.getByRole('button', { name: 'Message actions' });
  assert.equal(await more.evaluate((node) => getComputedStyle(node).opacity), '1', 'shown without hover');
  const menu = page.getByRole('menu', { name: 'Message actions' });
  // The conversation may still be settling (the pane slides in, the
  // newest messages arrive): tap again until the menu is there.
  await until(async () => {
    await more.tap();
    return menu.isVisible();
  }, 'the message menu to open on a tap');
  await menu.getByRole('menuitem', { name: 'Reply' }).tap();
  await visible(page.getByText('Replying to Alice Liddell'));
  await page.getByRole('textbox', { name: 'Message' }).fill('answer by touch');
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await visible(messageItem(page, 'answer by touch').locator('.quote', { hasText: 'delta news' }));
  await page.screenshot({ path: path.join(artifacts, 'chatlist-phone.png') });
  await context.close();
  assert.deepEqual(errors, []);
});

test('no console errors on either tab', async () => {
  await bob.page.screenshot({ path: path.join(artifacts, 'chatlist.png') });
  assert.deepEqual(bob.errors, []);
  assert.deepEqual(tabErrors, []);
});
