// Tokens: the access token is short-lived and the refresh token single
// use (a reused one revokes the session). Two tabs refreshing at once
// must rotate once, not sign each other out; a revoked session returns
// to the sign-in screen.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PASSWORD, api, launchBrowser, person, registerApi, startServer, until, visible } from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  // 32 s access tokens: the client renews them 30 s before they expire.
  server = await startServer({ NATTER_AUTH__ACCESS_TTL_SECS: '32' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page */
const stored = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('natter.session') ?? 'null'));

test('two tabs renew the tokens together without signing out', async () => {
  await registerApi(server.url, 'carol', 'Carol Danvers');
  const { context, page, errors } = await person(browser, server.url);
  await page.getByLabel('Username').fill('carol');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await visible(page.getByText('No chats yet'));
  const before = await stored(page);

  await page.waitForTimeout(2_500); // now inside the renewal window
  const second = await context.newPage();
  /** @type {string[]} */
  const secondErrors = [];
  second.on('console', (message) => { if (message.type() === 'error') secondErrors.push(message.text()); });
  await Promise.all([page.reload(), second.goto('/')]);
  await visible(page.getByText('No chats yet'));
  await visible(second.getByText('No chats yet'));
  // The list may show before the renewal's answer is kept: wait for it.
  const after = await until(async () => {
    const now = await stored(page);
    return now?.refresh_token !== before.refresh_token ? now : null;
  }, 'the refresh token to be rotated');
  await api(server.url, after.access_token, 'GET', '/users/me');
  await page.waitForTimeout(1_000);
  await visible(page.getByRole('button', { name: 'Log out' }));
  await visible(second.getByRole('button', { name: 'Log out' }));
  assert.deepEqual(errors, []);
  assert.deepEqual(secondErrors, []);
});

test('a revoked session goes back to the sign-in screen', async () => {
  const { page } = await person(browser, server.url);
  await page.getByLabel('Username').fill('carol');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await visible(page.getByText('No chats yet'));
  const session = await stored(page);
  await api(server.url, null, 'POST', '/auth/logout', { refresh_token: session.refresh_token });
  await page.reload();
  await until(async () => page.getByRole('button', { name: 'Log in' }).isVisible(), 'the sign-in screen', 15_000);
});
