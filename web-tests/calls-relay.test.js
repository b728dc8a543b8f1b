// A video call through a real TURN relay: a private coturn (Debian's
// turnserver, .ci/run installs it) on a free 127.0.0.1 port with the
// TURN REST secret natter shares (docs/API.md, "TURN"), natter handing
// out its credentials, and both people with "Always relay calls" turned
// on in Settings. The call connects (Bob's remote <video> has a size,
// both count received bytes), and on both sides the candidate pair in
// use is a relay one and no other kind of local candidate was gathered:
// the peer never learned a device's own address. A missing turnserver
// fails the test (with what to install), it does not skip it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { api, launchBrowser, person, registerApi, signUp, startServer, until, visible } from './helpers.js';

const MEDIA_ARGS = [
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
];
/** How many UDP ports coturn may relay from (two allocations per call). */
const RELAY_PORTS = 16;

/** @type {Awaited<ReturnType<typeof startTurn>>} */
let turn;
/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof person>>} */
let alice;
/** @type {Awaited<ReturnType<typeof person>>} */
let bob;

/** The turnserver binary on PATH (or Debian's place), or a clear failure. */
function turnserverPath() {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'turnserver');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  throw new Error('turnserver (coturn) is not installed: apt-get install -y coturn (.ci/run installs it)');
}

/** Whether `port` can be bound on 127.0.0.1 over UDP (and TCP, if asked).
 * @param {number} port @param {boolean} tcp */
async function free(port, tcp) {
  const udp = await new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
  if (!udp || !tcp) return udp;
  return new Promise((resolve) => {
    const listener = createServer();
    listener.once('error', () => resolve(false));
    listener.listen(port, '127.0.0.1', () => listener.close(() => resolve(true)));
  });
}

/** A listening port and a relay range, all free now, below the kernel's
 * ephemeral ports (which the browsers' own sockets take). */
async function freePorts() {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20_000 + Math.floor(Math.random() * 10_000);
    const ports = Array.from({ length: RELAY_PORTS + 1 }, (_, i) => base + i);
    let ok = true;
    for (const [i, port] of ports.entries()) {
      if (!(await free(port, i === 0))) { ok = false; break; }
    }
    if (ok) return { listening: base, min: base + 1, max: base + RELAY_PORTS };
  }
  throw new Error('no free ports for turnserver');
}

/** Whether a STUN Binding request to 127.0.0.1:`port` gets a success answer.
 * @param {number} port */
function stunAnswers(port) {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const transaction = randomBytes(12);
    const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), transaction]);
    const done = (/** @type {boolean} */ answered) => {
      clearTimeout(timer);
      socket.close();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), 300);
    socket.on('message', (reply) => done(reply.readUInt16BE(0) === 0x0101 && reply.subarray(8, 20).equals(transaction)));
    socket.once('error', () => done(false));
    socket.send(request, port, '127.0.0.1');
  });
}

/** Starts a private coturn on 127.0.0.1 checking TURN REST credentials
 * made with `secret`; resolves once it answers STUN.
 * @param {string} secret */
async function startTurn(secret) {
  const binary = turnserverPath();
  const ports = await freePorts();
  const dir = mkdtempSync(path.join(tmpdir(), 'natter-turn-'));
  const child = spawn(binary, [
    '-n', // no /etc/turnserver.conf: only these flags
    '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${ports.listening}`,
    `--min-port=${ports.min}`, `--max-port=${ports.max}`,
    '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=natter.test',
    '--no-tls', '--no-dtls', '--no-cli', '--no-rfc5780',
    // Both relay addresses are on 127.0.0.1: coturn refuses loopback
    // peers unless told otherwise.
    '--allow-loopback-peers', '--no-multicast-peers',
    `--userdb=${path.join(dir, 'turndb')}`, `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    '--log-file=stdout', '--simple-log',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (/** @type {Buffer} */ chunk) => { log = (log + chunk).slice(-20_000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(async () => {
      if (!running()) throw new Error(`turnserver exited:\n${log}`);
      return stunAnswers(ports.listening);
    }, 'turnserver to answer STUN', 15_000);
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : error}\n${log}`);
  }
  return { uri: `turn:127.0.0.1:${ports.listening}?transport=udp`, stop, log: () => log };
}

before(async () => {
  const secret = randomBytes(18).toString('base64url');
  turn = await startTurn(secret);
  server = await startServer({
    NATTER_CALLS__TURN_URIS: JSON.stringify([turn.uri]),
    NATTER_CALLS__TURN_SECRET: secret,
  });
  browser = await launchBrowser({ args: MEDIA_ARGS });
  alice = await person(browser, server.url);
  bob = await person(browser, server.url);
  for (const { context } of [alice, bob]) {
    await context.grantPermissions(['camera', 'microphone'], { origin: server.url });
    // Remember the page's peer connections, to read their stats.
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
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await turn?.stop();
});

/** Bytes received over the page's peer connections so far (inbound RTP).
 * @param {import('playwright-core').Page} page */
function bytesReceived(page) {
  return page.evaluate(async () => {
    let total = 0;
    for (const pc of /** @type {any} */ (window).__peerConnections ?? []) {
      (await pc.getStats()).forEach((/** @type {any} */ report) => {
        if (report.type === 'inbound-rtp') total += report.bytesReceived ?? 0;
      });
    }
    return total;
  });
}

/** The candidate pair the page's call uses (the transport's selected
 * pair, else the nominated succeeded one): its state and local candidate
 * type, and the types of every local candidate gathered.
 * @param {import('playwright-core').Page} page */
function candidates(page) {
  return page.evaluate(async () => {
    const pcs = /** @type {any} */ (window).__peerConnections ?? [];
    const pc = pcs[pcs.length - 1];
    /** @type {Map<string, any>} */
    const reports = new Map();
    (await pc.getStats()).forEach((/** @type {any} */ report) => reports.set(report.id, report));
    const all = [...reports.values()];
    const transport = all.find((report) => report.type === 'transport' && report.selectedCandidatePairId);
    const pair = transport ? reports.get(transport.selectedCandidatePairId)
      : all.find((report) => report.type === 'candidate-pair' && report.state === 'succeeded' && report.nominated);
    return {
      state: pair?.state ?? null,
      local: pair ? reports.get(pair.localCandidateId)?.candidateType ?? null : null,
      gathered: [...new Set(all.filter((report) => report.type === 'local-candidate').map((report) => report.candidateType))],
    };
  });
}

test('with "Always relay calls" on both sides, a video call connects through the TURN relay only', async () => {
  // natter hands out the relay (else the switch below stays disabled).
  const probe = await registerApi(server.url, 'probe');
  const credentials = await api(server.url, probe.token, 'GET', '/calls/turn');
  assert.deepEqual(credentials.uris, [turn.uri]);

  for (const [who, name] of /** @type {const} */ ([[alice, 'Alice Liddell'], [bob, 'Bob Builder']])) {
    const { page } = who;
    await page.reload();
    await signUp(page, name.split(' ')[0].toLowerCase(), name);
    await page.getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    const toggle = settings.getByRole('checkbox', { name: 'Always relay calls' });
    await until(() => toggle.isEnabled(), 'the relay switch to be available');
    await toggle.check();
    await settings.getByRole('button', { name: 'Close' }).click();
  }
  // Kept on this device.
  await bob.page.reload();
  await bob.page.getByRole('button', { name: 'Log out' }).waitFor();

  await alice.page.getByRole('button', { name: 'New chat' }).click();
  await alice.page.getByLabel('Find people').fill('bo');
  await alice.page.getByRole('button', { name: 'Message Bob Builder' }).click();
  await visible(alice.page.getByRole('heading', { name: 'Bob Builder' }));
  await alice.page.getByRole('button', { name: 'Video call' }).click();
  const bobScreen = bob.page.getByRole('dialog', { name: 'Call' });
  await visible(bobScreen.getByText('Alice Liddell is calling'));
  await bobScreen.getByRole('button', { name: 'Accept video' }).click();

  const relayed = `the call through the relay (turnserver's log:\n${turn.log().slice(-3000)})`;
  await until(() => bob.page.evaluate(() => {
    const video = /** @type {HTMLVideoElement | null} */ (document.querySelector('video.call-remote'));
    return video !== null && video.videoWidth > 0;
  }), `Alice's video on Bob's screen: ${relayed}`, 20_000);
  await until(async () => (await bytesReceived(bob.page)) > 0, `bytes received by Bob: ${relayed}`, 20_000);
  await until(async () => (await bytesReceived(alice.page)) > 0, `bytes received by Alice: ${relayed}`, 20_000);

  for (const [who, label] of /** @type {const} */ ([[alice, 'Alice'], [bob, 'Bob']])) {
    const used = await until(async () => {
      const found = await candidates(who.page);
      return found.state === 'succeeded' ? found : null;
    }, `${label}'s selected candidate pair`);
    assert.equal(used.local, 'relay', `${label} sends through the relay`);
    assert.deepEqual(used.gathered, ['relay'], `${label} gathered relay candidates only`);
  }

  await alice.page.getByRole('dialog', { name: 'Call' }).getByRole('button', { name: 'Hang up' }).click();
  for (const { page } of [alice, bob]) {
    await until(async () => !(await page.getByRole('dialog', { name: 'Call' }).isVisible()), 'the call screen to close', 15_000);
  }
  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
});
