// The web client on a two-node cluster: a database of the test's own on
// the machine's PostgreSQL, a nats-server of its own on a free port, and
// two natter nodes given both, with one shared file directory. Alice's
// browser talks to node 1, Bob's to node 2: they sign up, find each
// other, chat both ways with typing, ticks turning to read, a reaction
// and an image, each seeing the other online; when Bob's node is killed,
// Alice sees him go offline.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  artifacts, launchBrowser, makePng, messageItem, person, signUp, startServer, until, visible,
} from './helpers.js';

const adminUrl = process.env.NATTER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `natter_web_${process.pid}_${Date.now()}`;
const shared = mkdtempSync(path.join(tmpdir(), 'natter-cluster-web-'));

/** @type {import('node:child_process').ChildProcess} */
let nats;
/** @type {Awaited<ReturnType<typeof startServer>>[]} */
const nodes = [];
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>} */
let alice;
/** @type {Awaited<ReturnType<typeof person>>} */
let bob;

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** @param {string} statement */
function psql(statement) {
  execFileSync('psql', [adminUrl, '-q', '-v', 'ON_ERROR_STOP=1', '-c', statement], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** @param {number} port */
async function listening(port) {
  await until(() => new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  }), `nats-server on port ${port}`);
}

before(async () => {
  psql(`CREATE DATABASE ${database}`);
  const natsPort = await freePort();
  nats = spawn('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(natsPort)], { stdio: 'ignore' });
  await listening(natsPort);
  const server = adminUrl.slice(0, adminUrl.lastIndexOf('/'));
  const env = {
    NATTER_DATABASE_URL: `${server}/${database}`,
    NATTER_BUS_URL: `nats://127.0.0.1:${natsPort}`,
    NATTER_BLOB_URL: `file://${shared}`,
    NATTER_CLUSTER__HEARTBEAT_MS: '250',
    NATTER_CLUSTER__DEAD_AFTER_MS: '1500',
    NATTER_CLUSTER__PRESENCE_GRACE_MS: '1000',
  };
  nodes.push(...await Promise.all([startServer(env), startServer(env)]));
  browser = await launchBrowser();
  alice = await person(browser, nodes[0].url);
  bob = await person(browser, nodes[1].url);
});

after(async () => {
  await browser?.close();
  for (const node of nodes) await node.stop();
  nats?.kill('SIGKILL');
  rmSync(shared, { recursive: true, force: true });
  psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

/** @param {import('playwright-core').Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

/** @param {import('playwright-core').Page} page @param {string} text */
async function send(page, text) {
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.fill(text);
  await input.press('Enter');
  await visible(messageItem(page, text));
}

test('people on different nodes find each other and chat as on one server', async () => {
  await signUp(alice.page, 'alice', 'Alice Liddell');
  await signUp(bob.page, 'bob', 'Bob Builder');
  await alice.page.getByRole('button', { name: 'New chat' }).click();
  await alice.page.getByLabel('Find people').fill('bo');
  await alice.page.getByRole('button', { name: 'Message Bob Builder' }).click();
  await visible(alice.page.getByRole('heading', { name: 'Bob Builder' }));
  // Bob's connection is on the other node: presence is cluster-wide.
  await visible(alice.page.locator('.conv-subtitle', { hasText: 'online' }));

  await send(alice.page, 'Hello from node one');
  const row = bob.page.getByRole('link', { name: /Alice Liddell/ });
  await visible(row.getByText('Hello from node one'));
  await row.click();
  await visible(messageItem(bob.page, 'Hello from node one'));
  await visible(messageItem(alice.page, 'Hello from node one').getByRole('img', { name: 'Read' }));

  const bobInput = bob.page.getByRole('textbox', { name: 'Message' });
  await bobInput.pressSequentially('And hello from no', { delay: 20 });
  await visible(alice.page.getByText('Bob Builder is typing…'));
  await bobInput.pressSequentially('de two');
  await bobInput.press('Enter');
  await visible(messageItem(alice.page, 'And hello from node two'));

  const item = messageItem(bob.page, 'Hello from node one');
  await item.hover();
  await item.getByRole('button', { name: 'React', exact: true }).click();
  await bob.page.getByRole('button', { name: 'React with 👍' }).click();
  await visible(messageItem(alice.page, 'Hello from node one').getByRole('button', { name: '👍 1' }));
  await shot(alice.page, 'cluster-chat');
});

test('an image uploaded through one node shows on the other', async () => {
  await alice.page.locator('#composer-file').setInputFiles({
    name: 'cluster.png', mimeType: 'image/png', buffer: makePng(120, 80),
  });
  const thumb = bob.page.getByRole('button', { name: 'Open image cluster.png' });
  await visible(thumb, 15_000);
  await until(() => thumb.locator('img').evaluate((img) => /** @type {HTMLImageElement} */ (img).complete && /** @type {HTMLImageElement} */ (img).naturalWidth > 0),
    'the image to load through the other node');
});

test('when a node dies, people on the other node see its users go offline', async () => {
  await nodes[1].kill();
  await visible(alice.page.locator('.conv-subtitle', { hasText: /^last seen today at / }), 30_000);
  assert.deepEqual(alice.errors, []);
});
