// Link previews: Alice sends a link to a page this test serves itself
// (node:http on 127.0.0.1, Open Graph tags and a PNG); Bob sees a card
// with its title, description and image under the message, opening the
// page in a new tab; links to pages with nothing to preview get no card
// and no console error. Turning previews off for the chat in Chat info
// hides the card; the setting is this device's and survives a reload.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, makePng, messageItem, person, registerApi, startServer, until, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('node:http').Server} */
let site;
let siteUrl = '';
/** @type {Record<string, number>} */
const hits = {};

before(async () => {
  const png = makePng(400, 200);
  site = createServer((request, response) => {
    const path = request.url ?? '/';
    hits[path] = (hits[path] ?? 0) + 1;
    if (path === '/article') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><html><head><title>fallback</title>
        <meta property="og:title" content="Rust on the moon">
        <meta property="og:description" content="How a small team shipped a rover in Rust.">
        <meta property="og:site_name" content="Lunar Weekly">
        <meta property="og:image" content="/cover.png"></head><body>story</body></html>`);
    } else if (path === '/retry') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><title>Asked twice</title><meta property="og:site_name" content="Retry Site">');
    } else if (path === '/plain') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><p>nothing to preview here</p>');
    } else if (path === '/cover.png') {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(png);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (site.address());
  siteUrl = `http://127.0.0.1:${address.port}`;
  server = await startServer({
    NATTER_LINK_PREVIEWS__ENABLED: 'true',
    NATTER_LINK_PREVIEWS__ALLOW_PRIVATE_ADDRESSES: 'true',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((resolve) => site?.close(() => resolve(undefined)));
});

test('a link gets a preview card that the chat can turn off', async () => {
  const alice = await registerApi(server.url, 'alice', 'Alice Liddell');
  const bob = await registerApi(server.url, 'bob', 'Bob Builder');
  const chat = await api(server.url, alice.token, 'POST', '/chats', { type: 'direct', member_ids: [bob.user.user_id] });
  const text = `Look at this: ${siteUrl}/article`;
  await api(server.url, alice.token, 'POST', '/messages', { chat_id: chat.chat_id, type: 'text', content: text, client_msg_id: 'link-1' });
  await api(server.url, alice.token, 'POST', '/messages', { chat_id: chat.chat_id, type: 'text', content: 'No link in this one', client_msg_id: 'plain-1' });
  await api(server.url, alice.token, 'POST', '/messages', { chat_id: chat.chat_id, type: 'text', content: `Bare page: ${siteUrl}/plain`, client_msg_id: 'bare-1' });
  await api(server.url, alice.token, 'POST', '/messages', { chat_id: chat.chat_id, type: 'text', content: `Gone page: ${siteUrl}/missing`, client_msg_id: 'gone-1' });

  const { page, errors } = await person(browser, server.url);
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('link', { name: /Alice Liddell/ }).click();

  const message = messageItem(page, 'Look at this');
  const card = message.getByRole('link', { name: /^Link preview: Lunar Weekly: Rust on the moon/ });
  await visible(card);
  await visible(card.getByText('How a small team shipped a rover in Rust.'));
  assert.equal(await card.getAttribute('href'), `${siteUrl}/article`);
  assert.equal(await card.getAttribute('target'), '_blank');
  assert.equal(await card.getAttribute('rel'), 'noopener noreferrer');
  const image = card.locator('img');
  await until(() => image.evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth > 0), 'the preview image');
  const { natural, src } = await image.evaluate((img) => ({
    natural: /** @type {HTMLImageElement} */ (img).naturalWidth,
    src: /** @type {HTMLImageElement} */ (img).getAttribute('src') ?? '',
  }));
  assert.ok(natural <= 320, `a thumbnail, not the original: ${natural}`);
  assert.ok(src.startsWith('/api/v1/link-preview/images/'), `served by natter, not the site: ${src}`);
  assert.equal(await messageItem(page, 'No link in this one').locator('.link-preview').count(), 0);
  // Links with nothing to preview get no card, and the page logs no
  // failed request for them (checked with the other errors at the end).
  await until(() => hits['/plain'] === 1 && hits['/missing'] === 1, 'the pages without a preview to be asked about');
  await page.waitForTimeout(300);
  for (const bare of ['Bare page', 'Gone page']) {
    assert.equal(await messageItem(page, bare).locator('.link-preview').count(), 0, bare);
  }
  assert.equal(hits['/article'], 1, 'the server fetched the page once');
  await page.screenshot({ path: path.join(artifacts, 'linkpreview-card.png') });

  // Chat info: previews off for this chat.
  await page.getByRole('button', { name: 'Chat info' }).click();
  const dialog = page.getByRole('dialog');
  const toggle = dialog.getByRole('checkbox', { name: 'Show link previews' });
  assert.equal(await toggle.isChecked(), true, 'on by default');
  await toggle.uncheck();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await until(async () => (await message.locator('.link-preview').count()) === 0, 'the card to go');
  await visible(message.getByRole('link', { name: `${siteUrl}/article` }));

  // Kept on this device.
  await page.reload();
  await visible(messageItem(page, 'Look at this'));
  await page.waitForTimeout(500);
  assert.equal(await messageItem(page, 'Look at this').locator('.link-preview').count(), 0);

  // Back on: the card returns.
  await page.getByRole('button', { name: 'Chat info' }).click();
  await page.getByRole('dialog').getByRole('checkbox', { name: 'Show link previews' }).check();
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
  await visible(messageItem(page, 'Look at this').getByRole('link', { name: /^Link preview: / }));
  assert.equal(hits['/article'], 1, 'served from the cache');
  assert.deepEqual(errors, []);
});

test('a preview refused with 429 is asked again after Retry-After, and server info is read once', async () => {
  const alice = await registerApi(server.url, 'alice2', 'Alice Two');
  const bob = await registerApi(server.url, 'bob2', 'Bob Two');
  const chat = await api(server.url, alice.token, 'POST', '/chats', { type: 'direct', member_ids: [bob.user.user_id] });
  await api(server.url, alice.token, 'POST', '/messages', {
    chat_id: chat.chat_id, type: 'text', content: `Try this: ${siteUrl}/retry`, client_msg_id: 'retry-1',
  });

  const { page, errors } = await person(browser, server.url);
  let infoLoads = 0;
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/v1/server') infoLoads += 1;
  });
  let refused = 0;
  await page.route('**/api/v1/link-preview?*', async (route) => {
    if (refused === 0) {
      refused += 1;
      await route.fulfill({
        status: 429,
        headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
        body: JSON.stringify({ type: 'about:blank', title: 'Too Many Requests', status: 429, code: 'rate_limited', detail: 'slow down' }),
      });
    } else {
      await route.continue();
    }
  });
  await page.getByLabel('Username').fill('bob2');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('link', { name: /Alice Two/ }).click();

  await visible(messageItem(page, 'Try this').getByRole('link', { name: /^Link preview: Retry Site: Asked twice/ }));
  assert.equal(refused, 1, 'the first ask was refused');
  assert.equal(hits['/retry'], 1, 'the second ask reached the server');
  assert.equal(infoLoads, 1, 'the server info document is loaded once');
  // The refused request itself is the one error Chromium logs.
  assert.deepEqual(errors.filter((error) => !error.includes('429')), []);
});
