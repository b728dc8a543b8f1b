// Voice messages in the real web client, with Chromium's fake microphone
// (a beeping tone, permission granted without a prompt): Alice records
// about two seconds and sends; Bob sees a voice bubble with its duration
// (from the message's metadata: a MediaRecorder WebM has none) and the
// chat list says "Voice message 0:02"; he plays it and the audio runs.
// Cancel discards a recording; on a phone (390x844) recording and playing
// fit the screen. No console errors anywhere.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, person, registerApi, startServer, until, visible,
} from './helpers.js';

/** Chromium's fake capture devices, allowed without asking. */
const FAKE_MICROPHONE = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>[]} */
const people = [];

/** @param {import('playwright-core').Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

/**
 * Logs `username` in (microphone allowed) and opens the chat with `other`.
 * @param {string} username @param {string} other @param {{ width: number, height: number }} [viewport]
 */
async function openChat(username, other, viewport) {
  const someone = await person(browser, server.url, viewport);
  people.push(someone);
  await someone.context.grantPermissions(['microphone'], { origin: server.url });
  await someone.page.getByLabel('Username').fill(username);
  await someone.page.getByLabel('Password').fill(PASSWORD);
  await someone.page.getByRole('button', { name: 'Log in' }).click();
  await someone.page.getByRole('link', { name: new RegExp(other) }).click();
  await visible(someone.page.locator('li.msg .text', { hasText: 'Can you hear me?' }));
  await visible(someone.page.getByRole('textbox', { name: 'Message' }));
  return someone;
}

/** The voice notes on screen, sent (not pending).
 * @param {import('playwright-core').Page} page */
const voiceNotes = (page) => page.locator('li.msg:not(.pending) .voice-note');

/** Seconds in an "m:ss" label. @param {string} label */
function seconds(label) {
  const match = /^(\d+):(\d\d)$/.exec(label.trim());
  assert.ok(match, `an m:ss duration, not ${JSON.stringify(label)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/**
 * Records until the timer shows `shown` and then presses `button`.
 * @param {import('playwright-core').Page} page @param {string} shown @param {string} button
 */
async function record(page, shown, button) {
  await page.getByRole('button', { name: 'Record voice message' }).click();
  const timer = page.getByRole('timer', { name: 'Recording time' });
  await visible(timer);
  await until(async () => (await timer.textContent()) === shown, `the recording timer to show ${shown}`);
  await page.getByRole('button', { name: button }).click();
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ args: FAKE_MICROPHONE });
  const alice = await registerApi(server.url, 'alice', 'Alice Liddell');
  const bob = await registerApi(server.url, 'bob', 'Bob Builder');
  const chat = await api(server.url, alice.token, 'POST', '/chats', { type: 'direct', member_ids: [bob.user.user_id] });
  await api(server.url, alice.token, 'POST', '/messages', { chat_id: chat.chat_id, content: 'Can you hear me?' });
});

after(async () => {
  for (const [index, someone] of people.entries()) assert.deepEqual(someone.errors, [], `no console errors (page ${index})`);
  await browser?.close();
  await server?.stop();
});

test('Alice records about two seconds and sends; Bob sees the duration and plays it', async () => {
  const alice = await openChat('alice', 'Bob Builder');
  const bob = await openChat('bob', 'Alice Liddell');
  await record(alice.page, '0:02', 'Send voice message');
  // The composer is back for typing as soon as the recording is sent.
  await visible(alice.page.getByRole('textbox', { name: 'Message' }));
  const mine = voiceNotes(alice.page).last();
  await visible(mine);
  await visible(alice.page.locator('li.msg.own').last().locator('.tick[aria-label="Read"]'));

  const note = voiceNotes(bob.page).last();
  await visible(note);
  const label = await note.locator('.voice-duration').textContent() ?? '';
  const length = seconds(label);
  assert.ok(length >= 1 && length <= 3, `about two seconds, not ${label}`);
  // The chat list's preview names it.
  await visible(bob.page.getByRole('link', { name: /Alice Liddell/ }).getByText(`Voice message ${label}`));
  await shot(bob.page, 'voice-bubble');

  await note.getByRole('button', { name: 'Play voice message' }).click();
  await until(() => note.locator('audio').evaluate((audio) => /** @type {HTMLAudioElement} */ (audio).currentTime > 0), 'the voice message to play');
  await visible(note.getByRole('button', { name: 'Pause voice message' }));
  await until(async () => (await note.locator('.voice-position').textContent()) !== '0:00', 'the position to move');
  // It plays to its end and is ready to play again.
  await visible(note.getByRole('button', { name: 'Play voice message' }), 15_000);

  // The sender plays her own note too.
  await mine.getByRole('button', { name: 'Play voice message' }).click();
  await until(() => mine.locator('audio').evaluate((audio) => /** @type {HTMLAudioElement} */ (audio).currentTime > 0), 'her own note to play');
  await mine.getByRole('button', { name: 'Pause voice message' }).click();
  await visible(mine.getByRole('button', { name: 'Play voice message' }));
});

test('Cancel discards the recording', async () => {
  const [alice, bob] = people;
  const before = await voiceNotes(alice.page).count();
  await record(alice.page, '0:01', 'Cancel recording');
  await visible(alice.page.getByRole('textbox', { name: 'Message' }));
  assert.equal(await alice.page.getByRole('timer', { name: 'Recording time' }).count(), 0, 'the recorder is gone');
  // Nothing goes out: a text sent after it is the next message both see.
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Never mind');
  await alice.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await visible(bob.page.locator('li.msg .text', { hasText: 'Never mind' }));
  assert.equal(await voiceNotes(alice.page).count(), before);
  assert.equal(await voiceNotes(bob.page).count(), before);
  assert.equal(await alice.page.locator('li.msg.pending').count(), 0);
});

test('on a phone, recording and playing fit the screen', async () => {
  const phone = await openChat('bob', 'Alice Liddell', { width: 390, height: 844 });
  const before = await voiceNotes(phone.page).count();
  const mic = phone.page.getByRole('button', { name: 'Record voice message' });
  const micBox = await mic.boundingBox();
  assert.ok(micBox && micBox.x >= 0 && micBox.x + micBox.width <= 390, `the mic button is on screen: ${JSON.stringify(micBox)}`);
  await mic.click();
  const timer = phone.page.getByRole('timer', { name: 'Recording time' });
  await until(async () => (await timer.textContent()) === '0:01', 'the timer on the phone');
  for (const name of ['Cancel recording', 'Send voice message']) {
    const box = await phone.page.getByRole('button', { name }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844, `${name} is on screen: ${JSON.stringify(box)}`);
  }
  await shot(phone.page, 'voice-recording-phone');
  await phone.page.getByRole('button', { name: 'Send voice message' }).click();
  await until(async () => (await voiceNotes(phone.page).count()) === before + 1, 'the phone’s voice note');
  const note = voiceNotes(phone.page).last();
  const box = await note.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `the bubble fits: ${JSON.stringify(box)}`);
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - 390);
  assert.ok(overflow <= 0, `no sideways scrolling (${overflow} px)`);
  await note.getByRole('button', { name: 'Play voice message' }).click();
  await until(() => note.locator('audio').evaluate((audio) => /** @type {HTMLAudioElement} */ (audio).currentTime > 0), 'playing on the phone');
  // Alice hears of it as well.
  const [alice] = people;
  await until(async () => (await voiceNotes(alice.page).count()) === before + 1, 'Alice gets the phone’s voice note');
});
