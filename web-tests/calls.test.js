// A video call between two people in two browser contexts, on Chromium's
// fake camera and microphone: Alice calls from the chat's header, Bob's
// incoming-call screen shows and he accepts; the video reaches him (his
// remote <video> has a size and the connection's stats count received
// bytes), the timer runs, and hanging up leaves the call entry with its
// duration in both timelines. Bob is on a phone. The tones: Bob's screen
// rings while the invite shows and stops once he answers; Alice hears the
// ring-back until the call connects. An ICE restart mid-call (what a
// network change needs) is renegotiated through the server. This server
// has no TURN: "Always
// relay calls" is shown disabled with the reason, and a call made with
// it on ends at once saying so (calls-relay.test.js makes relayed calls
// through a real coturn). No console errors.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { artifacts, launchBrowser, person, signUp, startServer, until, visible } from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>} */
let alice;
/** @type {Awaited<ReturnType<typeof person>>} */
let bob;

const MEDIA_ARGS = [
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
];

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ args: MEDIA_ARGS });
  alice = await person(browser, server.url);
  // Bob on a phone: the incoming-call screen must fit one.
  bob = await person(browser, server.url, { width: 390, height: 844 });
  for (const { context } of [alice, bob]) {
    await context.grantPermissions(['camera', 'microphone'], { origin: server.url });
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

/** Bytes received over the page's peer connections so far (inbound RTP).
 * The connections are found through the page's own RTCPeerConnection,
 * wrapped by an init script to remember them.
 * @param {import('playwright-core').Page} page */
function bytesReceived(page) {
  return page.evaluate(async () => {
    let total = 0;
    for (const pc of /** @type {any} */ (window).__peerConnections ?? []) {
      const stats = await pc.getStats();
      stats.forEach((/** @type {any} */ report) => {
        if (report.type === 'inbound-rtp') total += report.bytesReceived ?? 0;
      });
    }
    return total;
  });
}

/** The ICE username fragment of the other side, as the page's newest
 * peer connection holds it (it changes with every ICE restart).
 * @param {import('playwright-core').Page} page */
function remoteUfrag(page) {
  return page.evaluate(() => {
    const connections = /** @type {any} */ (window).__peerConnections ?? [];
    const sdp = connections[connections.length - 1]?.remoteDescription?.sdp ?? '';
    return /a=ice-ufrag:(\S+)/.exec(sdp)?.[1] ?? null;
  });
}

test('a video call rings, connects with media, and leaves its duration in both timelines', async () => {
  for (const { context } of [alice, bob]) {
    await context.addInitScript(() => {
      const Native = window.RTCPeerConnection;
      /** @type {RTCPeerConnection[]} */
      const seen = [];
      /** @type {any} */ (window).__peerConnections = seen;
      window.RTCPeerConnection = class extends Native {
        /** @param {RTCConfiguration} [config] */
        constructor(config) {
          super(config);
          seen.push(this);
        }
      };
    });
  }
  await alice.page.reload();
  await bob.page.reload();
  await signUp(alice.page, 'alice', 'Alice Liddell');
  await signUp(bob.page, 'bob', 'Bob Builder');
  await alice.page.getByRole('button', { name: 'New chat' }).click();
  await alice.page.getByLabel('Find people').fill('bo');
  await alice.page.getByRole('button', { name: 'Message Bob Builder' }).click();
  await visible(alice.page.getByRole('heading', { name: 'Bob Builder' }));
  const input = alice.page.getByRole('textbox', { name: 'Message' });
  await input.fill('Call you in a second');
  await input.press('Enter');
  await bob.page.getByRole('link', { name: /Alice Liddell/ }).click();
  await visible(bob.page.getByRole('heading', { name: 'Alice Liddell' }));

  await alice.page.getByRole('button', { name: 'Video call' }).click();
  const aliceScreen = alice.page.getByRole('dialog', { name: 'Call' });
  await visible(aliceScreen.getByText('Calling…'));
  const bobScreen = bob.page.getByRole('dialog', { name: 'Call' });
  await visible(bobScreen.getByText('Alice Liddell is calling'));
  await visible(bobScreen.getByText('Incoming video call'));
  await until(async () => (await bobScreen.getAttribute('data-ringing')) === 'incoming', "Bob's ring");
  assert.equal(await aliceScreen.getAttribute('data-ringing'), 'outgoing', "Alice's ring-back while Bob's rings");
  await shot(bob.page, 'call-incoming');
  for (const name of ['Accept video', 'Accept voice', 'Decline']) {
    const box = await bobScreen.getByRole('button', { name }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${name} fits the phone's width`);
  }
  await bobScreen.getByRole('button', { name: 'Accept video' }).click();
  await until(async () => (await bobScreen.getAttribute('data-ringing')) === null, "Bob's ring to stop on answering");

  await until(() => bob.page.evaluate(() => {
    const video = /** @type {HTMLVideoElement | null} */ (document.querySelector('video.call-remote'));
    return video !== null && video.videoWidth > 0;
  }), "Alice's video on Bob's screen", 20_000);
  await until(async () => (await bytesReceived(bob.page)) > 0, 'bytes received by Bob', 20_000);
  await until(async () => (await bytesReceived(alice.page)) > 0, 'bytes received by Alice', 20_000);
  await visible(aliceScreen.locator('.call-status', { hasText: /^\d+:\d\d$/ }), 20_000);
  await visible(bobScreen.locator('.call-status', { hasText: /^\d+:\d\d$/ }), 20_000);
  assert.equal(await aliceScreen.getAttribute('data-ringing'), null, "Alice's ring-back stopped once connected");
  await visible(bobScreen.getByRole('button', { name: 'Mute' }));
  await bobScreen.getByRole('button', { name: 'Camera off' }).click();
  await visible(bobScreen.getByRole('button', { name: 'Camera on' }));
  await shot(alice.page, 'call-connected');
  await shot(bob.page, 'call-connected-phone');

  // An ICE restart (what a network change calls for) is renegotiated
  // through natter's `call.negotiate`: new ICE credentials on both sides,
  // and the media flow on.
  const aliceUfrag = await remoteUfrag(alice.page);
  const bobUfrag = await remoteUfrag(bob.page);
  assert.ok(aliceUfrag && bobUfrag, 'both sides hold ICE credentials of the other');
  await alice.page.evaluate(() => {
    const connections = /** @type {any} */ (window).__peerConnections;
    connections[connections.length - 1].restartIce();
  });
  await until(async () => (await remoteUfrag(bob.page)) !== bobUfrag, "Alice's new ICE credentials at Bob's");
  await until(async () => (await remoteUfrag(alice.page)) !== aliceUfrag, "Bob's new ICE credentials at Alice's");
  const receivedBefore = await bytesReceived(bob.page);
  await until(async () => (await bytesReceived(bob.page)) > receivedBefore, 'media after the restart', 20_000);

  await bobScreen.getByRole('button', { name: 'Hang up' }).click();
  for (const { page } of [alice, bob]) {
    const entry = page.locator('li.msg .call-entry', { hasText: /^Video call · \d+:\d\d$/ });
    await visible(entry, 15_000);
    await until(async () => !(await page.getByRole('dialog', { name: 'Call' }).isVisible()), 'the call screen to close');
  }
  await shot(alice.page, 'call-entry');
  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
});

test('without a TURN relay, "Always relay calls" is unavailable and a relayed call ends saying why', async () => {
  const { page } = alice;
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await visible(settings.getByText('Not available: this server has no TURN relay.'));
  const toggle = settings.getByRole('checkbox', { name: 'Always relay calls' });
  assert.equal(await toggle.isDisabled(), true);
  assert.equal(await toggle.isChecked(), false);
  await settings.getByRole('button', { name: 'Close' }).click();

  // Turned on while the server still had a relay (as calls-relay.test.js
  // does through the switch), then the relay went away.
  await page.evaluate(() => localStorage.setItem('natter.always-relay', 'on'));
  await page.getByRole('button', { name: 'Video call' }).click();
  const screen = page.getByRole('dialog', { name: 'Call' });
  await visible(screen.getByText('Always relay calls is on, but this server has no TURN relay'));
  assert.equal(await bob.page.getByRole('dialog', { name: 'Call' }).isVisible(), false, 'Bob never rang');
  await until(async () => !(await screen.isVisible()), 'the notice to go');

  // Still on without a relay: it can be turned off (and not on again).
  await page.getByRole('button', { name: 'Settings' }).click();
  await visible(settings.getByText('Not available: this server has no TURN relay.'));
  assert.equal(await toggle.isChecked(), true);
  await until(() => toggle.isEnabled(), 'the switch to be there to turn off');
  await toggle.uncheck();
  assert.equal(await toggle.isDisabled(), true);
  await settings.getByRole('button', { name: 'Close' }).click();
  assert.deepEqual(alice.errors, []);
});
