// Shared pieces of the browser tests: start the real natter binary on a
// free port with a fresh data directory, launch Debian's Chromium through
// playwright-core, open one browser context per person, seed data through
// the REST API, and wait for what a person would see.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..');
export const artifacts = path.join(repoRoot, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });

export const PASSWORD = 'correct horse battery';

function binaryPath() {
  if (process.env.NATTER_BIN) return process.env.NATTER_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, 'target');
  return path.join(target, 'debug', 'natter');
}

/**
 * Starts `natter serve` on 127.0.0.1:0 with a fresh data directory and
 * cheap password hashing; resolves once it prints its address.
 * @param {Record<string, string>} [env] more settings, as NATTER_* variables
 * @returns {Promise<{ url: string, stop: () => Promise<void>, kill: () => Promise<void>, logs: () => string }>}
 */
export function startServer(env = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'natter-web-'));
  const child = spawn(binaryPath(), ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--rate-limit', 'off'], {
    env: {
      ...process.env,
      NATTER_AUTH__ARGON2_MEMORY_KIB: '256',
      NATTER_AUTH__ARGON2_ITERATIONS: '1',
      NATTER_LOG: process.env.NATTER_LOG ?? 'warn',
      // Browser tests run offline: no server-side fetches of the links
      // they send (linkpreview.test.js turns previews on).
      NATTER_LINK_PREVIEWS__ENABLED: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  // A process that exited, by itself or by a signal, has no `exit` to wait for.
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  /** SIGKILL: the process gets no chance to say goodbye. */
  const kill = async () => {
    if (running()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  };
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`natter did not start in time:\n${stderr}`)), 30_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /natter listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1].replace(/\/$/, ''), stop, kill, logs: () => stderr });
      }
    });
    child.once('error', (error) => { clearTimeout(timer); reject(error); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`natter exited with ${code}:\n${stderr}`)); });
  });
}

/**
 * Debian's Chromium, headless; never a downloaded browser.
 * @param {{ args?: string[] }} [options] command-line flags on top of the
 *   usual ones (a fake microphone, say)
 */
export function launchBrowser(options = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-quic', ...(options.args ?? []),
    ],
  });
}

/**
 * A person: their own browser context (cookies, storage) and one page,
 * with every console error and page error collected.
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {{ width?: number, height?: number }} [viewport]
 */
export async function person(browser, url, viewport = { width: 1100, height: 760 }) {
  const context = await browser.newContext({ viewport, baseURL: url });
  if (process.env.NATTER_WEB_FROM_DISK) await serveAssetsFromDisk(context);
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  await page.goto('/');
  return { context, page, errors };
}

/**
 * For working on the client without rebuilding the binary: answers
 * `/assets/...` from crates/server/web on disk (the binary embeds them).
 * @param {import('playwright-core').BrowserContext} context
 */
async function serveAssetsFromDisk(context) {
  const { readFile } = await import('node:fs/promises');
  const types = { js: 'text/javascript', css: 'text/css', svg: 'image/svg+xml' };
  await context.route(/\/assets\//, async (route) => {
    const relative = new URL(route.request().url()).pathname.replace(/^\/assets\/(v-[0-9a-f]+\/)?/, '');
    // The emoji list is made by the server, not a file on disk.
    if (relative === 'emoji.json') return route.continue();
    const extension = /** @type {keyof types} */ (relative.split('.').pop());
    const body = await readFile(path.join(repoRoot, 'crates/server/web', relative));
    await route.fulfill({ status: 200, body, contentType: types[extension] ?? 'application/octet-stream' });
  });
}

/**
 * Signs up through the screen.
 * @param {import('playwright-core').Page} page
 * @param {string} username
 * @param {string} displayName
 */
export async function signUp(page, username, displayName) {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Display name (optional)').fill(displayName);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/**
 * Waits until `check` returns a truthy value (or stops throwing).
 * @template T
 * @param {() => Promise<T> | T} check
 * @param {string} what shown when it times out
 * @param {number} [timeout]
 * @returns {Promise<T>}
 */
export async function until(check, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits for a locator to become visible.
 * @param {import('playwright-core').Locator} locator
 * @param {number} [timeout]
 */
export function visible(locator, timeout = 10_000) {
  return locator.first().waitFor({ state: 'visible', timeout });
}

/** The message whose own text (not a quote of it) contains `text`.
 * @param {import('playwright-core').Page} page @param {string} text */
export function messageItem(page, text) {
  return page.locator('li.msg').filter({ has: page.locator('p.text', { hasText: text }) });
}

/** Texts of the messages on screen, in order.
 * @param {import('playwright-core').Page} page */
export function messageTexts(page) {
  return page.locator('li.msg:not(.pending) .text').allTextContents();
}

/**
 * A REST call as a logged-in user (for seeding).
 * @param {string} url
 * @param {string | null} token
 * @param {string} method
 * @param {string} route
 * @param {unknown} [body]
 */
export async function api(url, token, method, route, body) {
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}/api/v1${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Uploads a file through the API: the FileInfo.
 * @param {string} url @param {string} token @param {string} name @param {Buffer} bytes @param {string} type
 */
export async function uploadApi(url, token, name, bytes, type) {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  const response = await fetch(`${url}/api/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  if (!response.ok) throw new Error(`upload: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Registers through the API: { token, user }.
 * @param {string} url @param {string} username @param {string} [displayName] */
export async function registerApi(url, username, displayName) {
  const auth = await api(url, null, 'POST', '/auth/register', { username, password: PASSWORD, display_name: displayName });
  return { token: auth.access_token, user: auth.user };
}

/**
 * Runs `work` for every item with at most `limit` at a time.
 * @template T
 * @param {T[]} items
 * @param {number} limit
 * @param {(item: T) => Promise<unknown>} work
 */
export async function pool(items, limit, work) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await work(item);
    }
  }));
}

/** A small PNG (a colour gradient), made here so the test needs no files.
 * @param {number} width @param {number} height */
export function makePng(width, height) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x += 1) {
      raw[row + 1 + x * 3] = Math.round((x / width) * 255);
      raw[row + 2 + x * 3] = Math.round((y / height) * 255);
      raw[row + 3 + x * 3] = 160;
    }
  }
  /** @param {string} type @param {Buffer} data */
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** @param {Buffer} bytes */
function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}
