// Settings as a person uses them (issue 15 items 1 and 9): change the
// display name and the photo (cropped in a round preview before the
// upload), change the password (the other device is signed out at once,
// this one goes on), pick a theme that holds across a reload from the
// very first paint; and the people picker finding "Bob Builder" by any
// word of his name. Every check reads the screen.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, artifacts, launchBrowser, makePng, person, registerApi, signUp, startServer, until, visible,
} from './helpers.js';

const NEW_PASSWORD = 'a much better secret';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>} */
let alice;
/** Alice again, on her phone. @type {Awaited<ReturnType<typeof person>>} */
let phone;
/** @type {Awaited<ReturnType<typeof person>>} */
let carol;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await registerApi(server.url, 'bobby', 'Bob Builder');
  await registerApi(server.url, 'builder', 'Barbara Smith');
  alice = await person(browser, server.url);
  carol = await person(browser, server.url);
  await signUp(alice.page, 'alice', 'Alice Liddell');
  await signUp(carol.page, 'carol', 'Carol Danvers');
});

after(async () => {
  for (const someone of [alice, phone, carol]) {
    if (someone) assert.deepEqual(someone.errors, [], `no console errors (${someone === phone ? 'phone' : someone === alice ? 'alice' : 'carol'})`);
  }
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

/**
 * A wrong password on purpose: the browser logs its 401 answer as a
 * console error, which is the network log, not the app failing. Takes
 * exactly that entry off `someone`'s errors.
 * @param {Awaited<ReturnType<typeof person>>} someone
 */
async function forgiveOne401(someone) {
  const is401 = (/** @type {string} */ error) => /status of 401 \(Unauthorized\)/.test(error);
  await until(() => someone.errors.some(is401), 'the refused attempt');
  someone.errors.splice(someone.errors.findIndex(is401), 1);
}

/** @param {import('playwright-core').Page} page */
async function openSettings(page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  await visible(dialog);
  return dialog;
}

/** @param {import('playwright-core').Page} page */
async function closeDialog(page) {
  await page.getByRole('dialog').getByRole('button', { name: 'Close', exact: true }).click();
  await page.getByRole('dialog').waitFor({ state: 'detached' });
}

test('the people picker finds Bob Builder by any word of his name, in any case', async () => {
  const page = alice.page;
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByLabel('Find people').fill('build');
  const dialog = page.getByRole('dialog');
  await visible(dialog.getByRole('button', { name: 'Message Bob Builder' }));
  // The username "builder" still matches by its prefix.
  await visible(dialog.getByRole('button', { name: 'Message Barbara Smith' }));
  await shot(page, 'people-search-by-word');
  await page.getByLabel('Find people').fill('BUILDER');
  await visible(dialog.getByRole('button', { name: 'Message Bob Builder' }));
  await page.getByLabel('Find people').fill('bob bu');
  await visible(dialog.getByRole('button', { name: 'Message Bob Builder' }));
  await until(async () => (await dialog.getByRole('button', { name: 'Message Barbara Smith' }).count()) === 0,
    'Barbara to drop out for "bob bu"');
  await page.getByLabel('Find people').fill('uilder');
  await until(async () => (await dialog.getByRole('button', { name: /^Message / }).count()) === 0,
    'no one for a word\'s inside');
  await closeDialog(page);
});

test('a new display name shows in the sidebar and others find it', async () => {
  const page = alice.page;
  const dialog = await openSettings(page);
  const name = dialog.getByLabel('Display name');
  assert.equal(await name.inputValue(), 'Alice Liddell');
  await name.fill('Alice Kingsleigh');
  await dialog.getByRole('button', { name: 'Save name' }).click();
  await visible(dialog.getByRole('status').filter({ hasText: 'Name saved.' }));
  await closeDialog(page);
  await visible(page.locator('.sidebar .me strong', { hasText: 'Alice Kingsleigh' }));

  // Carol finds her by a word of the new name, not the old one.
  await carol.page.getByRole('button', { name: 'New chat' }).click();
  await carol.page.getByLabel('Find people').fill('kingsl');
  await visible(carol.page.getByRole('dialog').getByRole('button', { name: 'Message Alice Kingsleigh' }));
  await carol.page.getByLabel('Find people').fill('liddell');
  await until(async () => (await carol.page.getByRole('dialog').getByRole('button', { name: /^Message / }).count()) === 0,
    'the old surname to find no one');
  await closeDialog(carol.page);
});

test('a photo is cropped in a round preview, then uploaded and shown', async () => {
  const page = alice.page;
  const dialog = await openSettings(page);
  // Not a picture: refused before any upload.
  await dialog.getByLabel('Choose a photo').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await visible(dialog.getByRole('alert').filter({ hasText: 'is not a picture' }));

  await dialog.getByLabel('Choose a photo').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: makePng(300, 200) });
  const preview = dialog.getByRole('img', { name: /Avatar preview/ });
  await visible(preview);
  assert.equal(await dialog.getByRole('alert').filter({ hasText: /\S/ }).count(), 0, 'the old error is gone');
  // Move and zoom the way a person would: drag, keys, the slider.
  const box = await preview.boundingBox();
  assert.ok(box && Math.round(box.width) === Math.round(box.height), 'a square frame');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 30, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await preview.focus();
  await page.keyboard.press('ArrowLeft');
  await dialog.getByRole('slider', { name: 'Zoom' }).fill('1.5');
  await shot(page, 'settings-avatar-crop');
  await dialog.getByRole('button', { name: 'Save photo' }).click();
  await visible(dialog.getByRole('status').filter({ hasText: 'Photo saved.' }));
  assert.equal(await preview.count(), 0, 'the crop closes once saved');
  await visible(dialog.getByRole('button', { name: 'Change photo' }));
  await closeDialog(page);

  // The sidebar shows the photo (loaded, square as cropped), not initials.
  const img = page.locator('.sidebar .me .avatar img');
  await visible(img);
  const size = await until(() => img.evaluate((node) => {
    const image = /** @type {HTMLImageElement} */ (node);
    return image.complete && image.naturalWidth > 0 ? [image.naturalWidth, image.naturalHeight] : null;
  }), 'the photo to load');
  assert.equal(size[0], size[1], 'the uploaded photo is the square of the crop');
  // After a reload it is still there.
  await page.reload();
  await visible(page.locator('.sidebar .me .avatar img'));
});

test('changing the password signs out the other device at once, and not this one', async () => {
  phone = await person(browser, server.url, { width: 390, height: 800 });
  await phone.page.getByLabel('Username').fill('alice');
  await phone.page.getByLabel('Password').fill(PASSWORD);
  await phone.page.getByRole('button', { name: 'Log in' }).click();
  await visible(phone.page.getByRole('button', { name: 'Log out' }));

  const page = alice.page;
  let dialog = await openSettings(page);
  await visible(dialog.locator('.device'), 10_000);
  await until(async () => (await dialog.locator('.device').count()) === 2, 'both of alice\'s devices listed');
  const current = dialog.getByLabel('Current password');
  const next = dialog.getByLabel('New password', { exact: true });
  const again = dialog.getByLabel('New password again');

  await current.fill('not my password');
  await next.fill(NEW_PASSWORD);
  await again.fill(NEW_PASSWORD);
  await dialog.getByRole('button', { name: 'Change password' }).click();
  await visible(dialog.getByRole('alert').filter({ hasText: 'The current password is wrong.' }));
  await forgiveOne401(alice);

  await current.fill(PASSWORD);
  await again.fill('something else entirely');
  await dialog.getByRole('button', { name: 'Change password' }).click();
  await visible(dialog.getByRole('alert').filter({ hasText: 'The new passwords do not match.' }));

  await again.fill(NEW_PASSWORD);
  await dialog.getByRole('button', { name: 'Change password' }).click();
  await visible(dialog.getByRole('status').filter({ hasText: 'Password changed. You were signed out on your other devices.' }));
  assert.equal(await current.inputValue(), '', 'the fields are emptied');
  await until(async () => (await dialog.locator('.device').count()) === 1, 'only this device left in the list');
  await visible(dialog.locator('.device', { hasText: 'this device' }));
  await shot(page, 'settings-password-changed');

  // The phone is back at the login screen without touching it.
  await visible(phone.page.getByRole('heading', { name: 'Log in to natter' }));
  // Its refresh learnt that the session is over: that 401 is expected.
  await forgiveOne401(phone);
  await shot(phone.page, 'settings-phone-signed-out');
  // This device goes on: it still talks to the server after a reload.
  await closeDialog(page);
  await page.reload();
  dialog = await openSettings(page);
  await visible(dialog.locator('.device', { hasText: 'this device' }));
  await closeDialog(page);

  // The old password no longer logs in; the new one does.
  await phone.page.getByLabel('Username').fill('alice');
  await phone.page.getByLabel('Password').fill(PASSWORD);
  await phone.page.getByRole('button', { name: 'Log in' }).click();
  await visible(phone.page.getByRole('alert').filter({ hasText: /\S/ }));
  await forgiveOne401(phone);
  await phone.page.getByLabel('Password').fill(NEW_PASSWORD);
  await phone.page.getByRole('button', { name: 'Log in' }).click();
  await visible(phone.page.getByRole('button', { name: 'Log out' }));
});

/** The page's background colour, as the person sees it.
 * @param {import('playwright-core').Page} page */
const background = (page) => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);

test('the theme choice holds across a reload from the first paint, in both directions', async () => {
  const page = alice.page;
  await page.emulateMedia({ colorScheme: 'light' });
  const light = await background(page);
  let dialog = await openSettings(page);
  assert.ok(await dialog.getByRole('radio', { name: 'System' }).isChecked(), 'system by default');
  await dialog.getByRole('radio', { name: 'Dark' }).check();
  const dark = await background(page);
  assert.notEqual(dark, light, 'dark at once, though the system is light');
  await closeDialog(page);

  // Record the theme as the <body> element comes into being: before any
  // paint, and before any module ran.
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body) {
        /** @type {any} */ (window).themeAtBody = document.documentElement.dataset.theme ?? 'none';
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await page.reload();
  await visible(page.getByRole('button', { name: 'Settings' }));
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).themeAtBody), 'dark');
  assert.equal(await background(page), dark);
  await shot(page, 'settings-theme-dark');

  // Light on a dark system; and System follows the system again.
  await page.emulateMedia({ colorScheme: 'dark' });
  dialog = await openSettings(page);
  assert.ok(await dialog.getByRole('radio', { name: 'Dark' }).isChecked());
  await dialog.getByRole('radio', { name: 'Light' }).check();
  assert.equal(await background(page), light);
  await page.reload();
  await visible(page.getByRole('button', { name: 'Settings' }));
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).themeAtBody), 'light');
  assert.equal(await background(page), light);
  dialog = await openSettings(page);
  await dialog.getByRole('radio', { name: 'System' }).check();
  assert.equal(await background(page), dark, 'the system is dark');
  await page.emulateMedia({ colorScheme: 'light' });
  assert.equal(await background(page), light);
  await closeDialog(page);
});
