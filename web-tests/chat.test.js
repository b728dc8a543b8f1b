// Two people in two browser contexts use the real web client against the
// real server: sign up, start a direct chat, talk both ways, see typing,
// ticks turning to read, react, reply, edit, delete, send an image, go
// offline and come back to exactly the missed messages, search and jump,
// stay signed in across a reload. Every check reads the screen.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  artifacts, launchBrowser, makePng, messageItem, messageTexts, person, signUp, startServer, until, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>} */
let alice;
/** @type {Awaited<ReturnType<typeof person>>} */
let bob;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  alice = await person(browser, server.url);
  bob = await person(browser, server.url);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

/** @param {import('playwright-core').Page} page @param {string} text */
async function send(page, text) {
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.fill(text);
  await input.press('Enter');
  await visible(messageItem(page, text).locator('.tick[aria-label="Sent"], .tick[aria-label="Delivered"], .tick[aria-label="Read"]'));
}

/** Hover a message and press one of its action buttons.
 * @param {import('playwright-core').Page} page @param {string} text @param {string} action */
async function act(page, text, action) {
  const item = messageItem(page, text).last();
  await item.hover();
  await item.getByRole('button', { name: action, exact: true }).click();
}

test('two people sign up and find each other', async () => {
  await shot(alice.page, 'login');
  await signUp(alice.page, 'alice', 'Alice Liddell');
  await signUp(bob.page, 'bob', 'Bob Builder');
  await alice.page.getByRole('button', { name: 'New chat' }).click();
  await alice.page.getByLabel('Find people').fill('bo');
  await alice.page.getByRole('button', { name: 'Message Bob Builder' }).click();
  await visible(alice.page.getByRole('heading', { name: 'Bob Builder' }));
  await visible(alice.page.locator('.conv-subtitle', { hasText: 'online' }));
});

test('messages go both ways, with typing and ticks that turn to read', async () => {
  await send(alice.page, 'Hi Bob! 👋');
  const row = bob.page.getByRole('link', { name: /Alice Liddell/ });
  await visible(row);
  await visible(row.locator('.badge', { hasText: '1' }));
  await visible(row.getByText('Hi Bob! 👋'));
  assert.match(await bob.page.title(), /^\(1\) natter/);
  await shot(bob.page, 'chat-list');

  await row.click();
  await visible(messageItem(bob.page, 'Hi Bob! 👋'));
  await visible(messageItem(alice.page, 'Hi Bob! 👋').getByRole('img', { name: 'Read' }));
  await until(async () => !(await bob.page.title()).startsWith('('), 'the unread count to leave the title');

  const bobInput = bob.page.getByRole('textbox', { name: 'Message' });
  await bobInput.pressSequentially('Hello Al', { delay: 20 });
  await visible(alice.page.getByText('Bob Builder is typing…'));
  await bobInput.pressSequentially('ice!');
  await bobInput.press('Enter');
  await visible(messageItem(alice.page, 'Hello Alice!'));
  await until(async () => (await alice.page.locator('.typing-line').textContent()) === '', 'typing to stop');
  await visible(messageItem(bob.page, 'Hello Alice!').getByRole('img', { name: 'Read' }));

  await bobInput.fill('line one');
  await bobInput.press('Shift+Enter');
  await bobInput.pressSequentially('line two');
  await bobInput.press('Enter');
  await visible(messageItem(alice.page, 'line one\nline two'));
});

test('reactions, replies, edits and deletes reach the other side', async () => {
  await act(alice.page, 'Hello Alice!', 'React');
  await alice.page.getByRole('button', { name: 'React with 👍' }).click();
  await visible(messageItem(bob.page, 'Hello Alice!').getByRole('button', { name: '👍 1' }));
  await messageItem(bob.page, 'Hello Alice!').getByRole('button', { name: '👍 1' }).click();
  await visible(messageItem(alice.page, 'Hello Alice!').getByRole('button', { name: '👍 2' }));
  await messageItem(alice.page, 'Hello Alice!').getByRole('button', { name: '👍 2' }).click();
  await visible(messageItem(bob.page, 'Hello Alice!').getByRole('button', { name: '👍 1' }));

  await act(bob.page, 'Hi Bob! 👋', 'Reply');
  await visible(bob.page.getByText('Replying to Alice Liddell'));
  await send(bob.page, 'Replying to your hello');
  const reply = messageItem(alice.page, 'Replying to your hello');
  await visible(reply.locator('.quote', { hasText: 'Hi Bob! 👋' }));

  await act(alice.page, 'Hi Bob! 👋', 'Edit');
  const aliceInput = alice.page.getByRole('textbox', { name: 'Message' });
  assert.equal(await aliceInput.inputValue(), 'Hi Bob! 👋');
  await aliceInput.fill('Hi Bob, edited!');
  await aliceInput.press('Enter');
  const edited = messageItem(bob.page, 'Hi Bob, edited!');
  await visible(edited.getByText('edited', { exact: true }));
  await visible(messageItem(bob.page, 'Replying to your hello').locator('.quote', { hasText: 'Hi Bob, edited!' }));

  await send(alice.page, 'oops, wrong chat');
  await visible(messageItem(bob.page, 'oops, wrong chat'));
  await act(alice.page, 'oops, wrong chat', 'Delete');
  await alice.page.getByRole('dialog').getByRole('button', { name: 'Delete for everyone' }).click();
  await until(async () => (await messageItem(bob.page, 'oops, wrong chat').count()) === 0, 'the deleted text to go');
  await visible(bob.page.getByText('This message was deleted'));
  await visible(alice.page.getByText('This message was deleted'));
  await shot(alice.page, 'conversation');
});

test('an image arrives as a thumbnail that opens full size', async () => {
  await alice.page.locator('#composer-file').setInputFiles({ name: 'gradient.png', mimeType: 'image/png', buffer: makePng(640, 400) });
  const thumb = bob.page.getByRole('button', { name: 'Open image gradient.png' });
  await visible(thumb, 15_000);
  await until(() => thumb.locator('img').evaluate((img) => /** @type {HTMLImageElement} */ (img).complete && /** @type {HTMLImageElement} */ (img).naturalWidth > 0), 'the thumbnail to load');
  const thumbWidth = await thumb.locator('img').evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth);
  await thumb.click();
  const full = bob.page.getByRole('dialog').locator('img');
  await until(() => full.evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth === 640), 'the full image');
  assert.ok(thumbWidth < 640, `the timeline shows a thumbnail (${thumbWidth}px), not the original`);
  await shot(bob.page, 'image');
  await bob.page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
});

test('files pasted or dropped arrive as download cards', async () => {
  await alice.page.evaluate(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['meeting notes\n'], 'notes.txt', { type: 'text/plain' }));
    const pane = /** @type {Element} */ (document.querySelector('.conversation'));
    pane.dispatchEvent(new DragEvent('dragenter', { dataTransfer: transfer, bubbles: true }));
    pane.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
  const card = bob.page.getByRole('link', { name: /Download notes\.txt/ });
  await visible(card, 15_000);
  assert.match(await card.getAttribute('href') ?? '', /^\/api\/v1\/files\//);
  await alice.page.getByRole('textbox', { name: 'Message' }).evaluate((input) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['a,b\n1,2\n'], 'table.csv', { type: 'text/csv' }));
    input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  });
  await visible(bob.page.getByRole('link', { name: /Download table\.csv/ }), 15_000);
});

test('someone who was offline sees exactly what they missed, in order', async () => {
  await bob.context.setOffline(true);
  await visible(bob.page.getByText('You are offline'));
  const missed = ['missed one', 'missed two', 'missed three'];
  for (const text of missed) await send(alice.page, text);
  assert.equal(await messageItem(bob.page, 'missed one').count(), 0);
  await bob.context.setOffline(false);
  await visible(messageItem(bob.page, 'missed three'), 20_000);
  const texts = await messageTexts(bob.page);
  const tail = texts.slice(-3);
  assert.deepEqual(tail, missed);
  assert.equal(new Set(texts).size, texts.length, 'no message shows twice');
  const repaired = await bob.page.evaluate(() => performance.getEntriesByType('resource').some((entry) => /\/messages\?after=seq%3A\d+/.test(entry.name)));
  assert.ok(repaired, 'the gap was fetched with after=seq:N');
  await visible(messageItem(alice.page, 'missed three').getByRole('img', { name: 'Read' }));
});

test('a message written offline is sent once when the connection is back', async () => {
  await bob.context.setOffline(true);
  await visible(bob.page.getByText('You are offline'));
  const input = bob.page.getByRole('textbox', { name: 'Message' });
  await input.fill('written on the train');
  await input.press('Enter');
  await visible(messageItem(bob.page, 'written on the train').getByRole('img', { name: 'Sending' }));
  await bob.context.setOffline(false);
  await visible(messageItem(alice.page, 'written on the train'), 20_000);
  await visible(messageItem(bob.page, 'written on the train').getByRole('img', { name: /Sent|Delivered|Read/ }));
  await alice.page.waitForTimeout(300);
  assert.equal(await messageItem(alice.page, 'written on the train').count(), 1);
});

test('search finds a message and jumps to it', async () => {
  await bob.page.getByRole('searchbox', { name: 'Search messages' }).fill('edited');
  const hit = bob.page.locator('.search-hit').filter({ hasText: 'Hi Bob, edited!' });
  await visible(hit);
  assert.equal(await hit.locator('mark').first().textContent(), 'edited');
  await shot(bob.page, 'search');
  await hit.click();
  await visible(bob.page.locator('li.msg.flash', { hasText: 'Hi Bob, edited!' }));
  await bob.page.getByRole('searchbox', { name: 'Search messages' }).fill('');
  await visible(bob.page.getByRole('link', { name: /Alice Liddell/ }));
});

test('a reload keeps you signed in, and logging out signs you out', async () => {
  await bob.page.reload();
  await visible(bob.page.getByRole('button', { name: 'Log out' }));
  await visible(bob.page.getByRole('link', { name: /Alice Liddell/ }));
  await bob.page.getByRole('link', { name: /Alice Liddell/ }).click();
  await visible(messageItem(bob.page, 'missed three'));
  await bob.page.getByRole('button', { name: 'Log out' }).click();
  await visible(bob.page.getByRole('button', { name: 'Log in' }));
  await visible(alice.page.locator('.conv-subtitle', { hasText: /^last seen today at / }));
  await bob.page.getByLabel('Username').fill('bob');
  await bob.page.getByLabel('Password').fill('correct horse battery');
  await bob.page.getByRole('button', { name: 'Log in' }).click();
  await visible(bob.page.getByRole('link', { name: /Alice Liddell/ }));
});

test('the page cannot parse HTML from strings (Trusted Types), and needs not', async () => {
  // A page of its own: the refusal is logged to its console.
  const probe = await alice.context.newPage();
  await probe.goto('/');
  const outcome = await probe.evaluate(() => {
    try {
      document.createElement('div').innerHTML = '<b>x</b>';
      return 'allowed';
    } catch {
      return 'blocked';
    }
  });
  await probe.close();
  assert.equal(outcome, 'blocked');
});

test('nobody saw a console error', () => {
  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
});
