// The server's limits where people meet them (issue 15 item 7): a file
// over the upload limit is refused before any upload starts, naming the
// limit; a character counter appears near the message limit and, past
// it, blocks sending (nothing is cut off); long messages arrive folded
// with "Show more" / "Show less", here on a phone-sized screen.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, messageItem, person, registerApi, startServer, until, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>} */
let alice;
/** @type {Awaited<ReturnType<typeof person>>} */
let bob;
/** @type {string} */
let chatId;
/** @type {string} */
let aliceToken;

const MB = 1024 * 1024;

before(async () => {
  server = await startServer({ NATTER_FILES__MAX_UPLOAD_BYTES: String(2 * MB) });
  browser = await launchBrowser();
  const aliceAccount = await registerApi(server.url, 'alice', 'Alice Liddell');
  aliceToken = aliceAccount.token;
  const bobAccount = await registerApi(server.url, 'bob', 'Bob Builder');
  const chat = await api(server.url, aliceToken, 'POST', '/chats', { type: 'direct', member_ids: [bobAccount.user.user_id] });
  chatId = chat.chat_id;
  await api(server.url, bobAccount.token, 'POST', '/messages', { chat_id: chatId, content: 'Send me the report?' });
  alice = await person(browser, server.url);
  await logIn(alice.page, 'alice');
  await alice.page.getByRole('link', { name: /Bob Builder/ }).click();
  await visible(messageItem(alice.page, 'Send me the report?'));
  bob = await person(browser, server.url, { width: 390, height: 780 });
  await logIn(bob.page, 'bob');
  await bob.page.getByRole('link', { name: /Alice Liddell/ }).click();
  await visible(messageItem(bob.page, 'Send me the report?'));
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

/** @param {import('playwright-core').Page} page */
const composer = (page) => page.getByRole('textbox', { name: 'Message' });

test('the server names its limits without a token', async () => {
  const response = await fetch(`${server.url}/api/v1/server`);
  assert.equal(response.status, 200);
  const info = await response.json();
  assert.equal(info.limits.max_upload_bytes, 2 * MB);
  assert.equal(info.limits.max_message_chars, 16_384);
  assert.equal(typeof info.version, 'string');
  assert.equal(info.push, false);
});

test('a file over the limit is refused before it uploads, and the limit is named', async () => {
  /** @type {string[]} */
  const uploads = [];
  alice.page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/v1/files') uploads.push(request.url());
  });
  await alice.page.locator('#composer-file').setInputFiles({
    name: 'holiday-video.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(2 * MB + 1, 7),
  });
  await visible(alice.page.getByRole('alert').filter({ hasText: '“holiday-video.mp4” is too big to send. Files can be up to 2 MB.' }));
  assert.equal(await alice.page.locator('li.msg.pending').count(), 0, 'nothing is on its way');
  assert.deepEqual(uploads, [], 'no upload was started');

  await alice.page.locator('#composer-file').setInputFiles({
    name: 'report.txt', mimeType: 'text/plain', buffer: Buffer.from('Q3: all good\n'),
  });
  await visible(bob.page.getByRole('link', { name: /Download report\.txt/ }));
  assert.equal(uploads.length, 1, 'the small file uploaded');
  assert.equal(await alice.page.getByText('is too big to send').count(), 0, 'the refusal is gone');
});

test('a counter appears near the message limit and blocks sending past it', async () => {
  const input = composer(alice.page);
  const counter = alice.page.locator('.char-counter');
  await input.fill('a'.repeat(14_000));
  assert.equal(await counter.isVisible(), false, 'no counter far from the limit');
  await input.fill('a'.repeat(15_000));
  await visible(counter.filter({ hasText: '15,000 / 16,384' }));

  // Pasted past the limit: kept whole (no silent cut), counted as the
  // server counts (one per character, emoji included), not sendable.
  const over = `${'a'.repeat(16_382)}éé🙂`;
  await input.fill(over);
  assert.equal(await input.inputValue(), over, 'nothing was cut off');
  await visible(counter.filter({ hasText: '1 too many (16,385 / 16,384)' }));
  assert.equal(await alice.page.getByRole('button', { name: 'Send' }).isDisabled(), true);
  await input.press('Enter');
  await visible(alice.page.getByRole('alert').filter({ hasText: 'This message is 1 character too long: messages can be up to 16,384 characters.' }));
  assert.equal(await alice.page.locator('li.msg.pending').count(), 0, 'not sent');
  await alice.page.screenshot({ path: path.join(artifacts, 'limits-counter.png') });

  await input.press('End');
  await input.press('Backspace');
  await visible(counter.filter({ hasText: '16,384 / 16,384' }));
  assert.equal(await alice.page.getByText('characters too long', { exact: false }).count() + await alice.page.getByText('character too long').count(), 0, 'the refusal goes once it fits');
  assert.equal(await alice.page.getByRole('button', { name: 'Send' }).isDisabled(), false);
  await input.press('Enter');
  await until(async () => (await input.inputValue()) === '', 'the composer to empty');
  assert.equal(await counter.isVisible(), false, 'the counter goes with the text');
  await until(async () => {
    const page = await api(server.url, aliceToken, 'GET', `/chats/${chatId}/messages`);
    return page.messages.some((/** @type {any} */ m) => m.content === `${'a'.repeat(16_382)}éé`);
  }, 'the whole message stored');
});

test('a long message arrives folded with "Show more" on a phone, and folds again', async () => {
  const lines = Array.from({ length: 40 }, (_, i) => `Agenda point ${i + 1}`);
  await composer(alice.page).fill(lines.join('\n'));
  await composer(alice.page).press('Enter');
  await composer(alice.page).fill('short and sweet');
  await composer(alice.page).press('Enter');

  const long = bob.page.locator('li.msg', { hasText: 'Agenda point 1' });
  await visible(long);
  const more = long.getByRole('button', { name: 'Show more' });
  await visible(more);
  const text = long.locator('.text');
  /** How much of the text's height is on screen, and all of it. */
  const heights = () => text.evaluate((node) => ({ shown: node.clientHeight, all: node.scrollHeight }));
  const folded = await heights();
  assert.ok(folded.shown < folded.all / 2, `folded: ${JSON.stringify(folded)}`);
  /** Whether the words sit below the visible part of the text. @param {string} words */
  const belowFold = (words) => text.evaluate((node, wanted) => {
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    for (let at = walker.nextNode(); at; at = walker.nextNode()) {
      const index = /** @type {Text} */ (at).data.indexOf(wanted);
      if (index < 0) continue;
      const range = document.createRange();
      range.setStart(at, index);
      range.setEnd(at, index + wanted.length);
      return range.getBoundingClientRect().top >= node.getBoundingClientRect().bottom;
    }
    return null;
  }, words);
  assert.equal(await belowFold('Agenda point 2'), false, 'the start is on screen');
  assert.equal(await belowFold('Agenda point 40'), true, 'the last point is below the fold');
  await bob.page.screenshot({ path: path.join(artifacts, 'limits-show-more-phone.png') });

  await more.click();
  await visible(long.getByRole('button', { name: 'Show less' }));
  const open = await heights();
  assert.ok(open.shown >= open.all, `open: ${JSON.stringify(open)}`);
  assert.equal(await belowFold('Agenda point 40'), false, 'all of it is on screen');
  assert.equal(await long.getByRole('button', { name: 'Show less' }).getAttribute('aria-expanded'), 'true');
  await long.getByRole('button', { name: 'Show less' }).click();
  await visible(long.getByRole('button', { name: 'Show more' }));

  assert.equal(await messageItem(bob.page, 'short and sweet').getByRole('button', { name: 'Show more' }).count(), 0, 'short messages are never folded');
  // The 16,384-character message of the previous test is folded as well.
  await visible(bob.page.locator('li.msg', { hasText: 'aaaaaaaaaaéé' }).getByRole('button', { name: 'Show more' }));
  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
});
