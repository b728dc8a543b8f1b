// Emoji (issue 15 item 2): the full picker for reactions and in the
// composer (search by name, groups, "Recently used" first, keyboard,
// Escape returning focus), `:shortcode:` completion and conversion, the
// emoji list fetched only when first wanted (not on page load), the UI
// icons drawn as inline SVG instead of emoji glyphs, the picker on a
// phone screen, and an IME's Enter (ending a composition) picking nothing
// in the picker's search or the "@" completion.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, messageItem, person, registerApi, startServer, until, uploadApi, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Record<string, { token: string, user: any }>} */
const accounts = {};
/** @type {Awaited<ReturnType<typeof person>>} */
let alice;
/** @type {Awaited<ReturnType<typeof person>>} */
let bob;
/** Requests for the emoji list Alice's page made. */
const aliceEmojiRequests = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  accounts.alice = await registerApi(server.url, 'alice', 'Alice Liddell');
  accounts.bob = await registerApi(server.url, 'bob', 'Bob Builder');
  const chat = await api(server.url, accounts.bob.token, 'POST', '/chats', { type: 'direct', member_ids: [accounts.alice.user.user_id] });
  await api(server.url, accounts.bob.token, 'POST', '/messages', { chat_id: chat.chat_id, content: 'Launch is at nine', client_msg_id: 'launch-1' });
  const note = await uploadApi(server.url, accounts.bob.token, 'plan.txt', Buffer.from('countdown\n'), 'text/plain');
  await api(server.url, accounts.bob.token, 'POST', '/messages', { chat_id: chat.chat_id, type: 'file', content: '', file_id: note.file_id, client_msg_id: 'plan-1' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

/**
 * Logs `username` in and opens the direct chat with `other`.
 * @param {string} username @param {string} other @param {{ width: number, height: number }} [viewport]
 * @param {string[]} [emojiRequests] collects the page's requests for the emoji list
 */
async function openChat(username, other, viewport, emojiRequests) {
  const someone = await person(browser, server.url, viewport);
  if (emojiRequests) someone.page.on('request', (request) => { if (request.url().includes('emoji.json')) emojiRequests.push(request.url()); });
  await someone.page.getByLabel('Username').fill(username);
  await someone.page.getByLabel('Password').fill(PASSWORD);
  await someone.page.getByRole('button', { name: 'Log in' }).click();
  await someone.page.getByRole('link', { name: new RegExp(other) }).click();
  await visible(someone.page.getByRole('heading', { name: other }));
  return someone;
}

/** Opens the palette of a message and its full picker.
 * @param {import('playwright-core').Page} page @param {string} text */
async function openReactionPicker(page, text) {
  const item = messageItem(page, text);
  await item.hover();
  const react = item.getByRole('button', { name: 'React', exact: true });
  if ((await react.getAttribute('aria-expanded')) !== 'true') await react.click();
  await item.getByRole('button', { name: 'More reactions' }).click();
  const picker = page.getByRole('dialog', { name: 'Add a reaction' });
  await visible(picker);
  return picker;
}

/** The name of the focused element. @param {import('playwright-core').Page} page */
const focusedName = (page) => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '');

test('Alice reacts with an emoji found by searching the picker, and Bob sees it', async () => {
  alice = await openChat('alice', 'Bob Builder', undefined, aliceEmojiRequests);
  bob = await openChat('bob', 'Alice Liddell');
  await visible(messageItem(alice.page, 'Launch is at nine'));
  assert.deepEqual(aliceEmojiRequests, [], 'the emoji list is not fetched on page load');
  // A file's preview in the chat list is words, not a 📎 glyph.
  await visible(alice.page.getByRole('link', { name: /Bob Builder/ }).getByText('File: plan.txt'));

  const picker = await openReactionPicker(alice.page, 'Launch is at nine');
  const search = picker.getByRole('searchbox', { name: 'Search emoji' });
  await until(() => search.evaluate((node) => node === document.activeElement), 'the search box to have the focus');
  await visible(picker.getByRole('group', { name: 'Smileys & emotion' }).getByRole('button', { name: 'grinning face', exact: true }));
  assert.equal(aliceEmojiRequests.length, 1, 'the list is fetched when the picker opens');
  assert.match(aliceEmojiRequests[0], /\/assets\/v-[0-9a-f]+\/emoji\.json$/);
  for (const group of ['Smileys & emotion', 'People & body', 'Animals & nature', 'Food & drink', 'Travel & places', 'Activities', 'Objects', 'Symbols', 'Flags']) {
    await visible(picker.getByRole('button', { name: group, exact: true }));
  }
  await search.fill('rocket');
  await visible(picker.getByRole('group', { name: 'Search results' }));
  await shot(alice.page, 'emoji-picker-search');
  await picker.getByRole('button', { name: 'rocket', exact: true }).click();
  await until(async () => (await alice.page.getByRole('dialog').count()) === 0, 'the picker to close');
  await visible(messageItem(alice.page, 'Launch is at nine').getByRole('button', { name: '🚀 1' }));
  await visible(messageItem(bob.page, 'Launch is at nine').getByRole('button', { name: '🚀 1' }));
  await until(async () => (await focusedName(alice.page)) === '🚀 1', 'focus on the new reaction');
});

test('recently used comes first next time; the keyboard picks; Escape returns focus', async () => {
  const picker = await openReactionPicker(alice.page, 'Launch is at nine');
  const recent = picker.getByRole('group', { name: 'Recently used' });
  await visible(recent);
  assert.equal(await picker.locator('.emoji-section h3').first().textContent(), 'Recently used');
  assert.equal(await recent.getByRole('button').first().getAttribute('aria-label'), 'rocket');
  assert.equal(aliceEmojiRequests.length, 1, 'the list is fetched once');

  // "thumb" finds 👍 by its name; arrows move, Enter picks.
  const search = picker.getByRole('searchbox', { name: 'Search emoji' });
  await search.fill('thumb');
  const results = picker.getByRole('group', { name: 'Search results' });
  await visible(results.getByRole('button', { name: 'thumbs up', exact: true }));
  assert.equal(await results.getByRole('button').first().getAttribute('aria-label'), 'thumbs up');
  // An Enter that ends an IME composition belongs to the IME.
  await search.dispatchEvent('keydown', { key: 'Enter', isComposing: true, bubbles: true, cancelable: true });
  assert.equal(await picker.isVisible(), true, 'the IME’s Enter picks nothing');
  await search.press('ArrowDown');
  assert.equal(await focusedName(alice.page), 'thumbs up');
  await alice.page.keyboard.press('ArrowRight');
  assert.equal(await focusedName(alice.page), 'thumbs down');
  await alice.page.keyboard.press('ArrowLeft');
  await alice.page.keyboard.press('Enter');
  await visible(messageItem(bob.page, 'Launch is at nine').getByRole('button', { name: '👍 1' }));

  // Now 👍 is the most recent; Escape closes and focus goes back.
  const again = await openReactionPicker(alice.page, 'Launch is at nine');
  const order = await again.getByRole('group', { name: 'Recently used' }).getByRole('button').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('aria-label')));
  assert.deepEqual(order, ['thumbs up', 'rocket']);
  await alice.page.keyboard.press('Escape');
  await until(async () => (await alice.page.getByRole('dialog').count()) === 0, 'Escape to close the picker');
  await until(async () => (await focusedName(alice.page)) === 'More reactions', 'focus back on "More reactions"');
});

test('in the composer, Bob picks an emoji and :tada: completes to 🎉', async () => {
  const input = bob.page.getByRole('textbox', { name: 'Message' });
  await input.fill('Party time ');
  await bob.page.getByRole('button', { name: 'Insert emoji' }).click();
  const picker = bob.page.getByRole('dialog', { name: 'Insert emoji' });
  await visible(picker);
  const foodTab = picker.getByRole('button', { name: 'Food & drink', exact: true });
  await foodTab.click();
  await shot(bob.page, 'emoji-picker-composer');
  await until(async () => (await foodTab.getAttribute('aria-current')) === 'true', 'the tab to show as current');
  const heading = await picker.getByRole('heading', { name: 'Food & drink' }).boundingBox();
  const scroller = await picker.locator('.emoji-scroll').boundingBox();
  assert.ok(heading && scroller && Math.abs(heading.y - scroller.y) < 4, 'the tab scrolls its group to the top');
  const opener = await bob.page.getByRole('button', { name: 'Insert emoji' }).boundingBox();
  const box = await picker.boundingBox();
  assert.ok(opener && box && box.y + box.height <= opener.y && box.x >= opener.x - 1, `the picker opens above its button (${JSON.stringify(box)})`);
  await picker.getByRole('group', { name: 'Food & drink' }).getByRole('button', { name: 'pizza', exact: true }).click();
  await until(async () => (await bob.page.getByRole('dialog').count()) === 0, 'the picker to close');
  assert.equal(await input.inputValue(), 'Party time 🍕');
  await until(() => input.evaluate((node) => node === document.activeElement), 'focus back in the text box');

  // The "@" completion leaves an IME's Enter alone too.
  await input.pressSequentially(' @ali');
  const people = bob.page.getByRole('listbox', { name: 'People to mention' });
  await visible(people.getByRole('option', { name: /Alice Liddell/ }));
  await input.dispatchEvent('keydown', { key: 'Enter', isComposing: true, bubbles: true, cancelable: true });
  assert.equal(await input.inputValue(), 'Party time 🍕 @ali');
  await input.press('Escape');
  for (let i = 0; i < 5; i += 1) await input.press('Backspace');
  assert.equal(await input.inputValue(), 'Party time 🍕');

  // Escape dismisses a completion.
  await input.pressSequentially(' :smi');
  const list = bob.page.getByRole('listbox', { name: 'Emoji' });
  await visible(list.getByRole('option', { name: /:smile:/ }));
  await input.press('Escape');
  await until(async () => !(await list.isVisible()), 'Escape to close the list');
  for (let i = 0; i < 5; i += 1) await input.press('Backspace');
  assert.equal(await input.inputValue(), 'Party time 🍕');

  await input.pressSequentially(' :tad');
  await visible(list.getByRole('option', { name: /:tada:/ }));
  await shot(bob.page, 'emoji-shortcode-completion');
  await input.press('Enter');
  assert.equal(await input.inputValue(), 'Party time 🍕 🎉', 'Enter picks the completion and sends nothing');
  await input.pressSequentially(' and :thumbsup:');
  assert.equal(await input.inputValue(), 'Party time 🍕 🎉 and 👍', 'the closing colon converts a whole shortcode');
  await input.pressSequentially(' :rocke');
  await visible(list.getByRole('option', { name: /:rocket:/ }));
  await input.press('Tab');
  assert.equal(await input.inputValue(), 'Party time 🍕 🎉 and 👍 🚀', 'Tab picks too');
  await until(() => input.evaluate((node) => node === document.activeElement), 'Tab to stay in the text box');
  await input.press('Enter');
  await visible(messageItem(alice.page, 'Party time 🍕 🎉 and 👍 🚀'));
});

test('attach, file and tick icons are SVG drawings, not emoji glyphs', async () => {
  const attach = bob.page.getByRole('button', { name: 'Attach file' });
  assert.equal(await attach.locator('svg').count(), 1);
  assert.equal((await attach.textContent())?.trim(), '');
  assert.equal(await bob.page.getByRole('button', { name: 'Insert emoji' }).locator('svg').count(), 1);
  const tick = messageItem(bob.page, 'Party time').getByRole('img', { name: /Sent|Delivered|Read/ });
  await visible(tick);
  assert.equal(await tick.locator('svg').count(), 1);
  assert.equal((await tick.textContent())?.trim(), '');
  const read = messageItem(bob.page, 'Party time').getByRole('img', { name: 'Read' });
  await visible(read);
  const colours = await bob.page.evaluate(() => {
    const probe = document.createElement('span');
    probe.className = 'tick tick-delivered';
    document.body.append(probe);
    const delivered = getComputedStyle(probe).color;
    probe.remove();
    return delivered;
  });
  assert.notEqual(await read.evaluate((node) => getComputedStyle(node).color), colours, 'a read tick is coloured');
  const card = alice.page.getByRole('link', { name: /Download plan\.txt/ });
  await visible(card);
  assert.equal(await card.locator('svg').count(), 2);
  assert.doesNotMatch(await card.textContent() ?? '', /📄|⬇/u);
  assert.equal(await alice.page.getByRole('dialog').count(), 0);
});

test('on a phone the picker fits the screen', async () => {
  const phone = await openChat('alice', 'Bob Builder', { width: 390, height: 844 });
  await phone.page.getByRole('button', { name: 'Insert emoji' }).click();
  const picker = phone.page.getByRole('dialog', { name: 'Insert emoji' });
  await visible(picker.getByRole('button', { name: 'grinning face', exact: true }));
  await shot(phone.page, 'emoji-picker-phone');
  const box = await picker.boundingBox();
  assert.ok(box && box.x >= 0 && box.y >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844, `inside the screen: ${JSON.stringify(box)}`);
  const overflow = await picker.evaluate((node) => {
    const scroll = /** @type {HTMLElement} */ (node.querySelector('.emoji-scroll'));
    const tabs = /** @type {HTMLElement} */ (node.querySelector('.emoji-tabs'));
    return { scroll: scroll.scrollWidth - scroll.clientWidth, tabs: tabs.scrollWidth - tabs.clientWidth, page: document.documentElement.scrollWidth - 390 };
  });
  assert.deepEqual(overflow, { scroll: 0, tabs: 0, page: 0 }, 'nothing overflows sideways');
  await phone.page.keyboard.press('Escape');
  await until(async () => (await focusedName(phone.page)) === 'Insert emoji', 'focus back on the emoji button');

  const reacting = await openReactionPicker(phone.page, 'Launch is at nine');
  const reactBox = await reacting.boundingBox();
  assert.ok(reactBox && reactBox.y >= 0 && reactBox.y + reactBox.height <= 844 && reactBox.x + reactBox.width <= 390, `inside the screen: ${JSON.stringify(reactBox)}`);
  await phone.page.keyboard.press('Escape');
  assert.deepEqual(phone.errors, []);
});

test('no console errors', () => {
  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
});
