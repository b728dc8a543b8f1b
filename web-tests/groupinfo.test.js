// A group's profile as two people see it (issue 15 item 10): Alice, the
// owner, gives "Book club" a topic, a description and a photo (cropped
// first) in Chat info; Bob, a plain member, sees the topic under the name
// in the header and the photo in the header and his chat list while they
// change, and reads them in Chat info without any way to edit them.
// Bob's screen is phone-sized. Every check reads the screen.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, makePng, person, registerApi, startServer, until, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>} */
let alice;
/** @type {Awaited<ReturnType<typeof person>>} */
let bob;

const TOPIC = 'Next up: Dune, Friday at seven';
const DESCRIPTION = 'Bring snacks.\nOne part a week, no spoilers.';

/** @param {import('playwright-core').Page} page @param {string} username */
async function logIn(page, username) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Whether an <img> has loaded with real pixels.
 * @param {import('playwright-core').Locator} image */
const loaded = (image) => image.evaluate((node) => {
  const img = /** @type {HTMLImageElement} */ (node);
  return img.complete && img.naturalWidth > 0;
});

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const owner = await registerApi(server.url, 'alice', 'Alice Liddell');
  const member = await registerApi(server.url, 'bob', 'Bob Builder');
  await api(server.url, owner.token, 'POST', '/chats', { type: 'group', name: 'Book club', member_ids: [member.user.user_id] });
  alice = await person(browser, server.url);
  bob = await person(browser, server.url, { width: 390, height: 844 });
  await logIn(alice.page, 'alice');
  await logIn(bob.page, 'bob');
  await alice.page.getByRole('link', { name: /Book club/ }).click();
  await bob.page.getByRole('link', { name: /Book club/ }).click();
  await visible(bob.page.getByRole('heading', { name: 'Book club' }));
});

after(async () => {
  for (const [who, someone] of [['alice', alice], ['bob', bob]]) {
    if (someone && typeof someone !== 'string') assert.deepEqual(someone.errors, [], `no console errors (${who})`);
  }
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

test('the owner sets a topic and a description; the member sees the topic live', async () => {
  await alice.page.getByRole('button', { name: 'Chat info' }).click();
  const info = alice.page.getByRole('dialog');
  await info.getByLabel('Topic').fill(TOPIC);
  await info.getByLabel('Description').fill(DESCRIPTION);
  await info.getByRole('button', { name: 'Save changes' }).click();
  await visible(info.getByText('Saved.'));
  await visible(alice.page.locator('.conv-head').getByText(TOPIC));

  // Bob did nothing: the topic appears under the name in his header.
  await visible(bob.page.locator('.conv-head').getByText(TOPIC));
  await shot(bob.page, 'groupinfo-topic-phone');

  // Bob reads both in Chat info, and cannot change them.
  await bob.page.getByRole('button', { name: 'Chat info' }).click();
  const bobsInfo = bob.page.getByRole('dialog');
  const about = bobsInfo.getByRole('region', { name: 'About this chat' });
  await visible(about.getByText(TOPIC));
  await until(async () => (await about.locator('.chat-profile-description').innerText()) === DESCRIPTION, 'the description, both lines');
  assert.equal(await bobsInfo.getByRole('button', { name: 'Save changes' }).count(), 0, 'no form for a plain member');
  assert.equal(await bobsInfo.getByLabel('Topic').count(), 0);
  assert.equal(await bobsInfo.getByRole('button', { name: /photo/i }).count(), 0);

  // While his Chat info is open, a change shows there too.
  await info.getByLabel('Description').fill('Bring snacks.');
  await info.getByRole('button', { name: 'Save changes' }).click();
  await until(async () => (await about.locator('.chat-profile-description').innerText()) === 'Bring snacks.', 'the new description for Bob');
  await bobsInfo.getByRole('button', { name: 'Close' }).click();
});

test('a photo is cropped, saved, and loads for the member in header and list', async () => {
  const info = alice.page.getByRole('dialog');
  await info.getByLabel('Choose a chat photo').setInputFiles({ name: 'books.png', mimeType: 'image/png', buffer: makePng(400, 300) });
  await visible(info.getByRole('img', { name: /Avatar preview/ }));
  await info.getByRole('button', { name: 'Save photo' }).click();
  await visible(info.getByText('Photo saved.'));
  await visible(info.getByRole('button', { name: 'Change photo' }));
  await visible(info.getByRole('button', { name: 'Remove photo' }));
  await until(() => loaded(info.getByRole('img', { name: 'Chat photo' }).locator('img')), 'the photo in Alice’s Chat info');
  await info.getByRole('button', { name: 'Close' }).click();

  // Bob's header shows the picture, loaded from its signed link.
  const header = bob.page.locator('.conv-head .avatar img');
  await until(() => loaded(header), 'the photo in Bob’s header');
  const size = await header.evaluate((node) => [/** @type {HTMLImageElement} */ (node).naturalWidth, /** @type {HTMLImageElement} */ (node).naturalHeight]);
  assert.equal(size[0], size[1], 'square, as cropped');
  // And his chat list row (phone: back to the list).
  await bob.page.getByRole('link', { name: 'Back to chats' }).click();
  const row = bob.page.getByRole('link', { name: /Book club/ });
  await until(() => loaded(row.locator('.avatar img')), 'the photo in Bob’s chat list');
  await shot(bob.page, 'groupinfo-list-phone');
  await row.click();
  await visible(bob.page.locator('.conv-head').getByText(TOPIC));

  // Removed: initials again, for both.
  await alice.page.getByRole('button', { name: 'Chat info' }).click();
  await info.getByRole('button', { name: 'Remove photo' }).click();
  await visible(info.getByText('Photo removed.'));
  await info.getByRole('button', { name: 'Close' }).click();
  await until(async () => (await bob.page.locator('.conv-head .avatar img').count()) === 0, 'the photo to go from Bob’s header');
  assert.equal(await bob.page.locator('.conv-head .avatar').innerText(), 'BC');
});

test('after a reload the member still sees the topic', async () => {
  await bob.page.reload();
  // The address still names the chat: it opens again by itself.
  await visible(bob.page.locator('.conv-head').getByText(TOPIC));
});
