// Signed file links expire (an hour by default; seconds here): a page
// kept open past that still opens images and files, because the client
// asks for new links instead of using dead ones.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, launchBrowser, makePng, person, registerApi, startServer, until, uploadApi, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await startServer({ NATTER_FILES__LINK_TTL_SECS: '13' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an image opens full size after its links expired', async () => {
  const alice = await registerApi(server.url, 'alice', 'Alice Liddell');
  const bob = await registerApi(server.url, 'bob', 'Bob Builder');
  const chat = await api(server.url, alice.token, 'POST', '/chats', { type: 'direct', member_ids: [bob.user.user_id] });
  const file = await uploadApi(server.url, alice.token, 'sunset.png', makePng(320, 200), 'image/png');
  await api(server.url, alice.token, 'POST', '/messages', { chat_id: chat.chat_id, type: 'image', content: '', file_id: file.file_id, client_msg_id: 'img-1' });
  const note = await uploadApi(server.url, alice.token, 'agenda.txt', Buffer.from('1. links\n'), 'text/plain');
  await api(server.url, alice.token, 'POST', '/messages', { chat_id: chat.chat_id, type: 'file', content: '', file_id: note.file_id, client_msg_id: 'file-1' });

  const { page, errors } = await person(browser, server.url);
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('link', { name: /Alice Liddell/ }).click();
  const thumb = page.getByRole('button', { name: 'Open image sunset.png' });
  await visible(thumb);
  const first = Number(new URL(await thumb.locator('img').getAttribute('src') ?? '', server.url).searchParams.get('expires'));
  assert.ok(first * 1000 - Date.now() < 14_000, 'links are short-lived in this test');

  await page.waitForTimeout(4_000); // the links are now within the renewal margin
  await thumb.click();
  const full = page.getByRole('dialog').locator('img');
  await until(() => full.evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth === 320), 'the full image');
  const expires = Number(new URL(await full.getAttribute('src') ?? '', server.url).searchParams.get('expires'));
  assert.ok(expires * 1000 - Date.now() > 8_000, 'the dialog uses a renewed link');
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

  await page.waitForTimeout(4_000);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /Download agenda\.txt/ }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'agenda.txt');
  assert.deepEqual(errors, []);
});
