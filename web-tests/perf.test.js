// Measures (prints, does not assert) two figures of the web client with
// real data seeded through the REST API: the first meaningful paint of a
// chat list of 100 chats on a returning visit, and switching to a chat
// with 10,000 messages. Writes them to test-artifacts/web-timings.json.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, messageItem, person, pool, registerApi, startServer, visible,
} from './helpers.js';

const CHATS = 100;
const BIG = Number(process.env.NATTER_PERF_MESSAGES ?? 10_000);

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Record<string, unknown>} */
const timings = { chats: CHATS, messages_in_big_chat: BIG };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const started = Date.now();
  const me = await registerApi(server.url, 'perf', 'Perf Tester');
  const peer = await registerApi(server.url, 'peer', 'Pat Peer');
  const names = Array.from({ length: CHATS - 1 }, (_, index) => `Chat ${String(index + 1).padStart(3, '0')}`);
  const big = await api(server.url, me.token, 'POST', '/chats', { type: 'group', name: 'Big chat', member_ids: [peer.user.user_id] });
  const seqs = Array.from({ length: BIG }, (_, index) => index + 1);
  await pool(seqs, 48, async (n) => {
    const who = n % 3 === 0 ? peer : me;
    await api(server.url, who.token, 'POST', '/messages', {
      chat_id: big.chat_id, content: `message ${n} of the big chat`, client_msg_id: `big-${n}`,
    });
  });
  timings.seed_big_chat_ms = Date.now() - started;
  await pool(names, 8, async (name) => {
    const chat = await api(server.url, me.token, 'POST', '/chats', { type: 'group', name, member_ids: [peer.user.user_id] });
    await api(server.url, peer.token, 'POST', '/messages', { chat_id: chat.chat_id, content: `last words in ${name}`, client_msg_id: name });
  });
  timings.seed_total_ms = Date.now() - started;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('chat list of 100 chats and switching to a chat of 10,000 messages', async () => {
  const me = await person(browser, server.url);
  const { page } = me;
  await page.getByLabel('Username').fill('perf');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await visible(page.getByRole('link', { name: /Chat 001/ }));

  // A returning visit: the session is stored, modules are cached.
  await page.reload();
  await visible(page.locator('.chat-row').nth(CHATS - 1));
  const list = await page.evaluate(() => ({
    painted: performance.getEntriesByName('natter:chat-list-painted')[0]?.startTime,
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    rows: document.querySelectorAll('.chat-row').length,
    navigation: performance.getEntriesByType('navigation').map((entry) => {
      const nav = /** @type {PerformanceNavigationTiming} */ (entry);
      return `html ${Math.round(nav.responseEnd)}, modules run ${Math.round(nav.domContentLoadedEventStart)}`;
    })[0],
    resources: performance.getEntriesByType('resource')
      .filter((entry) => entry.name.includes('/api/'))
      .map((entry) => `${new URL(entry.name).pathname} ${Math.round(entry.startTime)}+${Math.round(entry.duration)}`),
  }));
  console.log(`loading: ${list.navigation}; api calls (start+duration): ${list.resources.join(', ')}`);
  assert.equal(list.rows, CHATS);
  timings.chat_list_first_meaningful_paint_ms = Math.round(list.painted ?? -1);
  timings.first_contentful_paint_ms = Math.round(list.fcp ?? -1);

  const clicked = Date.now();
  await page.getByRole('link', { name: /Big chat/ }).click();
  await visible(messageItem(page, `message ${BIG} of the big chat`), 30_000);
  const wall = Date.now() - clicked;
  const marks = await page.evaluate(() => {
    const start = performance.getEntriesByName('natter:chat-open-start').at(-1)?.startTime ?? 0;
    const done = performance.getEntriesByName('natter:chat-open-rendered').at(-1)?.startTime ?? 0;
    return done - start;
  });
  timings.switch_to_big_chat_ms = Math.round(marks);
  timings.switch_to_big_chat_wall_ms = wall;

  // Scrolling up loads older pages with before=seq:N.
  const beforeCount = await page.locator('li.msg').count();
  const scrolled = Date.now();
  await page.locator('.timeline').evaluate((node) => { node.scrollTop = 0; });
  await page.waitForFunction((count) => document.querySelectorAll('li.msg').length > count, beforeCount);
  timings.load_older_page_ms = Date.now() - scrolled;

  // Long lists scroll inside their panes; the page itself never does.
  assert.equal(await page.evaluate(() => document.documentElement.scrollHeight <= innerHeight), true);
  await page.screenshot({ path: path.join(artifacts, 'big-chat.png') });
  timings.measured_at = new Date().toISOString();
  writeFileSync(path.join(artifacts, 'web-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
  console.log(`web timings: ${JSON.stringify(timings)}`);
  assert.deepEqual(me.errors, []);
});
