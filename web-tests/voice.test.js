// Voice messages in the real web client, with Chromium's fake microphone
// (a beeping tone, permission granted without a prompt): Alice records
// about two seconds and sends; Bob sees a voice bubble with its duration
// (from the message's metadata: a MediaRecorder WebM has none) and the
// chat list says "Voice message 0:02"; he plays it and the audio runs.
// Cancel discards a recording; on a phone (390x844) recording and playing
// fit the screen. No console errors anywhere.
//
// The microphone is let go when the chat is left or its person signs out
// while the browser is still asking, when recording cannot start, and
// when it ends by itself (what was recorded goes if it is 1 s or more);
// a note that cannot be played says so with a download link; resuming
// after a link refresh goes on from where it was paused; the waveform is
// decoded at 8 kHz (little memory on a phone).

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, person, registerApi, startServer, until, visible,
} from './helpers.js';

/** Chromium's fake capture devices, allowed without asking. */
const FAKE_MICROPHONE = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/**
 * Lets a test watch the microphone: every track getUserMedia hands out
 * (`__tracks`), getUserMedia held while `__holdMic` until `__releaseMic()`,
 * MediaRecorder.start throwing while `__failStart`, and the sample rates
 * of OfflineAudioContexts made (`__rates`).
 */
const INSTRUMENT = () => {
  const page = /** @type {any} */ (window);
  page.__tracks = [];
  page.__rates = [];
  page.__holdMic = false;
  page.__failStart = false;
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints) => {
    if (page.__holdMic) await new Promise((resolve) => { page.__releaseMic = resolve; });
    const stream = await getUserMedia(constraints);
    page.__tracks.push(...stream.getTracks());
    return stream;
  };
  const start = MediaRecorder.prototype.start;
  MediaRecorder.prototype.start = function (/** @type {number | undefined} */ timeslice) {
    if (page.__failStart) throw new DOMException('refused by the test', 'NotSupportedError');
    return start.call(this, timeslice);
  };
  const Offline = window.OfflineAudioContext;
  window.OfflineAudioContext = class extends Offline {
    /** @param {any[]} args */
    constructor(...args) {
      // @ts-ignore: passed on as given
      super(...args);
      page.__rates.push(this.sampleRate);
    }
  };
};

/** The readyState of every microphone track handed out so far.
 * @param {import('playwright-core').Page} page */
const trackStates = (page) => page.evaluate(() => /** @type {any} */ (window).__tracks.map((/** @type {MediaStreamTrack} */ track) => track.readyState));

/** Voice messages in a chat, read through the API.
 * @param {string} token @param {string} chatId */
async function voiceMessages(token, chatId) {
  const page = await api(server.url, token, 'GET', `/chats/${chatId}/messages`);
  return page.messages.filter((/** @type {{ type: string }} */ message) => message.type === 'voice');
}

/** @type {{ alice: { token: string }, bob: { token: string }, chatId: string }} */
let accounts;

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
 * @param {boolean} [instrument] with INSTRUMENT watching the microphone
 */
async function openChat(username, other, viewport, instrument = false) {
  const someone = await person(browser, server.url, viewport);
  people.push(someone);
  await someone.context.grantPermissions(['microphone'], { origin: server.url });
  if (instrument) {
    await someone.context.addInitScript(INSTRUMENT);
    await someone.page.reload();
  }
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
  accounts = { alice, bob, chatId: chat.chat_id };
  // A second chat of Alice's to switch to.
  const carol = await registerApi(server.url, 'carol', 'Carol Singer');
  const other = await api(server.url, alice.token, 'POST', '/chats', { type: 'direct', member_ids: [carol.user.user_id] });
  await api(server.url, carol.token, 'POST', '/messages', { chat_id: other.chat_id, content: 'Hi Alice' });
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

test('the waveform is decoded at 8 kHz, and a note that cannot be played says so', async () => {
  const alice = await openChat('alice', 'Bob Builder', undefined, true);
  const before = await voiceNotes(alice.page).count();
  await record(alice.page, '0:01', 'Send voice message');
  await until(async () => (await voiceNotes(alice.page).count()) === before + 1, 'the note to be sent');
  const rates = await alice.page.evaluate(() => /** @type {any} */ (window).__rates);
  assert.ok(rates.length > 0 && rates.every((/** @type {number} */ rate) => rate === 8000), `decoded at 8 kHz: ${JSON.stringify(rates)}`);
  const sent = (await voiceMessages(accounts.alice.token, accounts.chatId)).at(-1);
  assert.ok(sent.metadata.waveform?.length, 'the note has its waveform');

  // The file's bytes come back as something no browser can play.
  await alice.page.route('**/api/v1/files/**', (route) => route.fulfill({ status: 200, contentType: 'audio/webm', body: 'not audio at all' }));
  const note = voiceNotes(alice.page).last();
  await note.getByRole('button', { name: 'Play voice message' }).click();
  await visible(note.getByText("Can't play this voice message"));
  const link = note.getByRole('link', { name: 'Download it' });
  assert.match(await link.getAttribute('href') ?? '', /\/api\/v1\/files\//);
  await shot(alice.page, 'voice-cannot-play');
  await alice.page.unroute('**/api/v1/files/**');
  await alice.context.close();
});

test('resuming after a link refresh goes on from where it was paused', async () => {
  const bob = await openChat('bob', 'Alice Liddell', undefined, true);
  const note = voiceNotes(bob.page).first();
  const audio = note.locator('audio');
  await note.getByRole('button', { name: 'Play voice message' }).click();
  await until(() => audio.evaluate((element) => /** @type {HTMLAudioElement} */ (element).currentTime > 0.6), 'playing for a while');
  await note.getByRole('button', { name: 'Pause voice message' }).click();
  await visible(note.getByRole('button', { name: 'Play voice message' }));
  const at = await audio.evaluate((element) => /** @type {HTMLAudioElement} */ (element).currentTime);
  // A month later the link has expired: Play fetches a new one first.
  await audio.evaluate((element) => {
    const page = /** @type {any} */ (window);
    page.__realNow = Date.now;
    Date.now = () => page.__realNow() + 30 * 24 * 3600 * 1000;
    page.__resumedAt = null;
    element.addEventListener('playing', () => {
      page.__resumedAt = /** @type {HTMLAudioElement} */ (element).currentTime;
    }, { once: true });
  });
  const fetched = bob.page.waitForRequest((request) => /\/api\/v1\/messages\//.test(request.url()));
  await note.getByRole('button', { name: 'Play voice message' }).click();
  await fetched;
  await until(() => bob.page.evaluate(() => /** @type {any} */ (window).__resumedAt !== null), 'playback to resume');
  const resumedAt = await bob.page.evaluate(() => {
    const page = /** @type {any} */ (window);
    Date.now = page.__realNow;
    return page.__resumedAt;
  });
  assert.ok(resumedAt >= at - 0.05, `resumed at ${resumedAt} s, paused at ${at} s`);
  await bob.context.close();
});

test('leaving the chat while the browser asks for the microphone lets it go', async () => {
  const alice = await openChat('alice', 'Bob Builder', undefined, true);
  const before = (await voiceMessages(accounts.alice.token, accounts.chatId)).length;
  await alice.page.evaluate(() => { /** @type {any} */ (window).__holdMic = true; });
  await alice.page.getByRole('button', { name: 'Record voice message' }).click();
  await alice.page.getByRole('link', { name: /Carol Singer/ }).click();
  await visible(alice.page.locator('li.msg .text', { hasText: 'Hi Alice' }));
  await alice.page.evaluate(() => /** @type {any} */ (window).__releaseMic());
  await until(async () => {
    const states = await trackStates(alice.page);
    return states.length > 0 && states.every((state) => state === 'ended');
  }, 'the microphone to be let go');
  assert.equal(await alice.page.getByRole('timer', { name: 'Recording time' }).count(), 0, 'no recorder shows');
  await alice.page.getByRole('link', { name: /Bob Builder/ }).click();
  await visible(alice.page.getByRole('textbox', { name: 'Message' }));
  assert.equal(await alice.page.locator('.voice-recorder:not([hidden])').count(), 0, 'no recorder in the old chat');
  assert.equal((await voiceMessages(accounts.alice.token, accounts.chatId)).length, before, 'nothing was sent');
  await alice.context.close();
});

test('signing out while recording lets the microphone go and sends nothing', async () => {
  const alice = await openChat('alice', 'Bob Builder', undefined, true);
  const before = (await voiceMessages(accounts.bob.token, accounts.chatId)).length;
  await alice.page.getByRole('button', { name: 'Record voice message' }).click();
  const timer = alice.page.getByRole('timer', { name: 'Recording time' });
  await until(async () => (await timer.textContent()) === '0:01', 'recording for a second');
  await alice.page.getByRole('button', { name: 'Log out' }).click();
  await visible(alice.page.getByRole('button', { name: 'Log in' }));
  await until(async () => (await trackStates(alice.page)).every((state) => state === 'ended'), 'the microphone to be let go');
  assert.equal((await voiceMessages(accounts.bob.token, accounts.chatId)).length, before, 'nothing was sent');
  await alice.context.close();
});

test('a recording that cannot start lets the microphone go', async () => {
  const alice = await openChat('alice', 'Bob Builder', undefined, true);
  await alice.page.evaluate(() => { /** @type {any} */ (window).__failStart = true; });
  await alice.page.getByRole('button', { name: 'Record voice message' }).click();
  await visible(alice.page.getByText('Recording could not start.'));
  const states = await trackStates(alice.page);
  assert.ok(states.length === 1 && states[0] === 'ended', `the microphone is let go: ${JSON.stringify(states)}`);
  await alice.context.close();
});

test('a microphone that goes away ends the recording: sent from 1 s, else discarded', async () => {
  const alice = await openChat('alice', 'Bob Builder', undefined, true);
  const unplug = () => alice.page.evaluate(() => {
    const track = /** @type {any} */ (window).__tracks.at(-1);
    track.stop();
    // A track the page stops fires no `ended`; an unplugged one does.
    track.dispatchEvent(new Event('ended'));
  });
  const before = (await voiceMessages(accounts.alice.token, accounts.chatId)).length;
  const timer = alice.page.getByRole('timer', { name: 'Recording time' });
  await alice.page.getByRole('button', { name: 'Record voice message' }).click();
  await visible(timer);
  await unplug();
  await visible(alice.page.getByText('The microphone stopped, so nothing was recorded.'));
  assert.equal(await alice.page.locator('.voice-recorder:not([hidden])').count(), 0, 'the recorder is gone');

  await alice.page.getByRole('button', { name: 'Record voice message' }).click();
  await until(async () => (await timer.textContent()) === '0:02', 'recording for two seconds');
  await unplug();
  await visible(alice.page.getByRole('textbox', { name: 'Message' }));
  await until(async () => (await voiceMessages(accounts.alice.token, accounts.chatId)).length === before + 1, 'what was recorded to be sent');
  const sent = (await voiceMessages(accounts.alice.token, accounts.chatId)).at(-1);
  assert.ok(sent.metadata.duration_ms >= 1000, `about two seconds: ${sent.metadata.duration_ms} ms`);
  await alice.context.close();
});
