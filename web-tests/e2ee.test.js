// End-to-end encrypted chats between the web client (ts-mls, in
// Chromium) and the Rust client (openmls, driven through its `natter-chat`
// command-line program): each side makes a chat the other joins by its
// Welcome, messages go both ways, a page reload keeps decrypting, and the
// server's own copy of the history holds none of the plaintexts. A new
// browser of the same person joins by itself (external Commit): it reads
// what is sent after, and says it cannot read what came before.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, messageItem, person, repoRoot, signUp, startServer, until, visible,
} from './helpers.js';

const run = promisify(execFile);

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>} */
let alice;
/** The encrypted direct chat carol makes in the first test. */
let directChat = '';
/** The Rust client's device directory. */
const carolState = mkdtempSync(path.join(tmpdir(), 'natter-chat-'));

function cliPath() {
  if (process.env.NATTER_CHAT_BIN) return process.env.NATTER_CHAT_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, 'target');
  return path.join(target, 'debug', 'natter-chat');
}

/** Runs natter-chat as carol; its standard output. @param {string[]} args */
async function carol(...args) {
  const { stdout } = await run(cliPath(), ['--server', server.url, '--state', carolState, ...args], {
    env: { ...process.env, NATTER_PASSWORD: PASSWORD },
  });
  return stdout;
}

/** What carol's `receive` prints until it shows `text`. @param {string} text */
async function carolReceives(text) {
  /** @type {string} */
  let seen = '';
  await until(async () => {
    seen += await carol('receive', '--once');
    return seen.includes(text);
  }, `natter-chat to print ${text}`, 20_000);
  return seen;
}

/** @param {import('playwright-core').Page} page @param {string} text */
async function send(page, text) {
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.fill(text);
  await input.press('Enter');
  await visible(messageItem(page, text).locator('.tick[aria-label="Sent"], .tick[aria-label="Delivered"], .tick[aria-label="Read"]'));
}

/** The server's raw history of a chat, as carol sees it over the API. @param {string} chatId */
async function rawHistory(chatId) {
  const auth = await api(server.url, null, 'POST', '/auth/login', { username: 'carol', password: PASSWORD });
  return JSON.stringify(await api(server.url, auth.access_token, 'GET', `/chats/${chatId}/messages?limit=100`));
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  alice = await person(browser, server.url);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(carolState, { recursive: true, force: true });
});

test('a Rust-client user starts an encrypted chat and the web client reads and answers it', async () => {
  await carol('register', 'carol');
  const published = alice.page.waitForResponse((response) =>
    response.url().endsWith('/api/v1/mls/key-packages') && response.request().method() === 'POST' && response.status() === 201);
  await signUp(alice.page, 'alice', 'Alice Liddell');
  await published;

  const chatId = (await carol('create', '--e2ee', '--with', 'alice')).trim();
  directChat = chatId;
  await carol('send', chatId, 'openmls to ts-mls: marker-rust-1');
  const row = alice.page.getByRole('link', { name: /^carol/ });
  await visible(row);
  await visible(row.getByTitle('End-to-end encrypted'));
  await row.click();
  await visible(alice.page.getByText('End-to-end encrypted.', { exact: false }));
  await visible(alice.page.getByText('not searchable on the server', { exact: false }));
  await visible(messageItem(alice.page, 'openmls to ts-mls: marker-rust-1'));

  await send(alice.page, 'ts-mls to openmls: marker-web-1');
  await carolReceives('ts-mls to openmls: marker-web-1');

  // After a reload the page still shows what it read, and decrypts more.
  await alice.page.reload();
  await visible(messageItem(alice.page, 'openmls to ts-mls: marker-rust-1'));
  await visible(messageItem(alice.page, 'ts-mls to openmls: marker-web-1'));
  await carol('send', chatId, 'after the reload: marker-rust-2');
  await visible(messageItem(alice.page, 'after the reload: marker-rust-2'));
  await send(alice.page, 'still encrypting after the reload: marker-web-2');
  await carolReceives('marker-web-2');
  await alice.page.screenshot({ path: path.join(artifacts, 'e2ee-chat.png') });

  const raw = await rawHistory(chatId);
  assert.match(raw, /"type":"mls"/);
  for (const marker of ['marker-rust-1', 'marker-web-1', 'marker-rust-2', 'marker-web-2']) {
    assert.ok(!raw.includes(marker), `the server's history holds ${marker} in the clear`);
  }
  assert.deepEqual(alice.errors, []);
});

test('the web client starts an encrypted group that the Rust client joins by its Welcome', async () => {
  const page = alice.page;
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByLabel('Group').check();
  await page.getByLabel('End-to-end encrypted').check();
  await page.getByLabel('Name').fill('Secret plans');
  await page.getByLabel('Find people').fill('car');
  await page.getByRole('button', { name: 'Add carol' }).click();
  await page.getByRole('button', { name: 'Create encrypted group' }).click();
  await visible(page.getByRole('heading', { name: 'Secret plans' }));
  await visible(page.getByText('End-to-end encrypted.', { exact: false }));

  await send(page, 'web-made group: marker-web-3');
  const seen = await carolReceives('web-made group: marker-web-3');
  const chatId = /^(\S+) #\d+ alice: web-made group: marker-web-3$/m.exec(seen)?.[1];
  assert.ok(chatId, `natter-chat names the chat:\n${seen}`);
  await carol('send', chatId, 'openmls in a ts-mls group: marker-rust-3');
  await visible(messageItem(page, 'openmls in a ts-mls group: marker-rust-3'));

  // Attachments are not offered in encrypted chats.
  assert.equal(await page.getByRole('button', { name: 'Attach file' }).count(), 0);
  const raw = await rawHistory(chatId);
  assert.ok(!raw.includes('marker-web-3') && !raw.includes('marker-rust-3'), 'no plaintext on the server');
  assert.deepEqual(alice.errors, []);
});

test('a new browser of the same person joins by itself and reads only what comes after', async () => {
  const laptop = await person(browser, server.url);
  await laptop.page.getByLabel('Username').fill('alice');
  await laptop.page.getByLabel('Password').fill(PASSWORD);
  await laptop.page.getByRole('button', { name: 'Log in' }).click();
  const row = laptop.page.getByRole('link', { name: /^carol/ });
  await visible(row);
  await row.click();
  await visible(laptop.page.getByText('sent before this device joined', { exact: false }).first(), 20_000);
  assert.equal(await messageItem(laptop.page, 'marker-rust-1').count(), 0, 'nothing from before it joined is readable');
  await laptop.page.screenshot({ path: path.join(artifacts, 'e2ee-new-device.png') });

  await carol('send', directChat, 'for both of alice’s devices: marker-rust-4');
  await visible(messageItem(laptop.page, 'for both of alice’s devices: marker-rust-4'));
  await alice.page.getByRole('link', { name: /^carol/ }).click();
  await visible(messageItem(alice.page, 'for both of alice’s devices: marker-rust-4'));
  await send(laptop.page, 'from the new browser: marker-web-5');
  await carolReceives('marker-web-5');
  await visible(messageItem(alice.page, 'from the new browser: marker-web-5'));
  assert.deepEqual(laptop.errors, []);
  assert.deepEqual(alice.errors, []);
});

test('without its MLS library the client says encrypted chats are unavailable, and the rest works', async () => {
  const context = await browser.newContext({ baseURL: server.url });
  // As a build that could not fetch ts-mls serves it: an empty module.
  await context.route(/\/vendor\/ts-mls\.js$/, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }));
  const page = await context.newPage();
  await page.goto('/');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('link', { name: /^carol/ }).click();
  await visible(page.getByText('Encrypted chats are not available in this build: its MLS library (ts-mls) could not be fetched when it was built.').first());
  await page.getByRole('link', { name: /^Secret plans/ }).click();
  await visible(page.getByRole('heading', { name: 'Secret plans' }));
  await context.close();
});
