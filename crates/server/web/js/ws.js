// The one WebSocket to /api/v1/ws: authenticates with an `auth` frame
// (browsers cannot set headers on an upgrade), reconnects with jittered
// exponential backoff, notices dead links with pings, and stays quiet
// while the browser is offline. It hands every frame to one handler;
// resuming after `ready` is sync.js's job.

import * as session from './session.js';

/** @typedef {import('./types.js').ServerEvent} ServerEvent */
/** @typedef {'connecting' | 'online' | 'offline'} Status */

const PING_EVERY_MS = 25_000;
/** No frame for this long (the server answers pings) means a dead link. */
const SILENCE_LIMIT_MS = 60_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15_000;

/** @type {WebSocket | null} */
let socket = null;
let ready = false;
let wanted = false;
let attempt = 0;
let lastHeard = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let retryTimer;
/** @type {ReturnType<typeof setInterval> | undefined} */
let pingTimer;
/** @type {(event: ServerEvent) => void} */
let handler = () => {};
/** @type {(status: Status, retryInMs?: number) => void} */
let reportStatus = () => {};

/**
 * Connects and keeps connecting until stop().
 * @param {(event: ServerEvent) => void} onEvent
 * @param {(status: Status, retryInMs?: number) => void} onStatus
 */
export function start(onEvent, onStatus) {
  handler = onEvent;
  reportStatus = onStatus;
  wanted = true;
  attempt = 0;
  connect();
}

export function stop() {
  wanted = false;
  clearTimeout(retryTimer);
  drop();
}

/** True once `ready` arrived on the current socket. */
export function isReady() {
  return ready && socket?.readyState === WebSocket.OPEN;
}

/**
 * Sends a frame if the session is ready.
 * @param {import('./types.js').ClientFrame} frame
 * @returns {boolean} whether it went out
 */
export function send(frame) {
  if (!socket || !isReady()) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

/** Skips the wait of the backoff (a "Reconnect now" button). */
export function reconnectNow() {
  if (!wanted || socket) return;
  clearTimeout(retryTimer);
  attempt = 0;
  connect();
}

async function connect() {
  clearTimeout(retryTimer);
  if (!wanted || socket) return;
  if (!navigator.onLine) {
    reportStatus('offline');
    return; // the 'online' event brings us back
  }
  reportStatus('connecting');
  let token;
  try {
    token = await session.accessToken();
  } catch (error) {
    if (error instanceof session.SessionEnded) return;
    scheduleRetry();
    return;
  }
  if (!wanted || socket) return;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${scheme}//${location.host}/api/v1/ws`);
  socket = ws;
  ws.addEventListener('open', () => {
    lastHeard = Date.now();
    ws.send(JSON.stringify({ type: 'auth', token }));
  });
  ws.addEventListener('message', (message) => {
    if (ws !== socket) return;
    lastHeard = Date.now();
    /** @type {ServerEvent} */
    let event;
    try {
      event = JSON.parse(String(message.data));
    } catch {
      return;
    }
    if (event.type === 'ready') {
      ready = true;
      attempt = 0;
      startPings(ws);
      reportStatus('online');
    }
    handler(event);
  });
  ws.addEventListener('close', (event) => {
    if (ws !== socket) return;
    // A refused token, or a session ended elsewhere (logout, this device
    // removed): the refresh tells which, and signs out if it has ended.
    const refused = event.code === 1008 && /auth|session/i.test(event.reason);
    drop();
    if (!wanted) return;
    if (refused) {
      // Most likely an access token that expired in flight: refresh first
      // (an ended session signs out there; a failed refresh tries again).
      session.refresh(token).then(() => scheduleRetry(), (error) => {
        if (!(error instanceof session.SessionEnded)) scheduleRetry();
      });
      return;
    }
    scheduleRetry();
  });
}

function scheduleRetry() {
  if (!wanted) return;
  if (!navigator.onLine) {
    reportStatus('offline');
    return;
  }
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  attempt += 1;
  reportStatus('connecting', delay);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, delay);
}

/** Forgets the current socket, closing it if it is still open. */
function drop() {
  clearInterval(pingTimer);
  const ws = socket;
  socket = null;
  ready = false;
  if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
}

/** @param {WebSocket} ws */
function startPings(ws) {
  clearInterval(pingTimer);
  pingTimer = setInterval(() => {
    if (ws !== socket) return;
    if (Date.now() - lastHeard > SILENCE_LIMIT_MS) {
      drop();
      scheduleRetry();
      return;
    }
    ws.send(JSON.stringify({ type: 'ping' }));
  }, PING_EVERY_MS);
}

window.addEventListener('offline', () => {
  if (!wanted) return;
  drop();
  reportStatus('offline');
});

window.addEventListener('online', () => {
  if (!wanted) return;
  attempt = 0;
  connect();
});
