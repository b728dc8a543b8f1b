// Entry point: shows the sign-in screen or the app, wires the WebSocket
// to the sync layer and Web Push to the service worker, and follows the
// URL hash (`#/chat/ID` opens a chat, `#/chat/ID/SEQ` a message in it) so
// Back works on phones and a notification's click can open its chat.

import * as api from './api.js';
import * as calls from './calls.js';
import * as chats from './chats.js';
import * as drafts from './drafts.js';
import * as e2ee from './e2ee/engine.js';
import * as limits from './limits.js';
import * as local from './local.js';
import * as outbox from './outbox.js';
import * as push from './push.js';
import * as session from './session.js';
import * as sync from './sync.js';
import * as users from './users.js';
import * as ws from './ws.js';
import { byId } from './dom.js';
import { emit, reset, state } from './state/store.js';
import { renderLogin } from './views/login.js';
import { renderShell } from './views/shell.js';
import { mountCallScreen } from './views/call.js';

const root = byId('app');
let running = false;

function boot() {
  outbox.init((message) => sync.received(message));
  session.subscribe((stored) => {
    if (!stored && running) signedOut();
  });
  const stored = session.current();
  if (stored) start(stored.user);
  else renderLogin(root, start);
}

/** @param {import('./types.js').User} user */
function start(user) {
  running = true;
  state.me = user;
  // Drafts and unsent messages from before the reload (issue 15 item 6).
  void local.open(user.user_id);
  void drafts.load();
  void outbox.restore();
  void e2ee.start();
  void limits.load();
  renderShell(root, { onLogout: logout });
  mountCallScreen();
  ws.start((event) => {
    calls.handle(event);
    sync.handle(event);
    e2ee.handle(event);
  }, (status, retryInMs) => {
    state.connection = status;
    emit('connection', { status, retryInMs });
  });
  route();
  chats.loadChats().catch(() => {});
  void push.init();
  // The stored profile may be old (display name changed elsewhere).
  api.me().then((fresh) => {
    state.me = fresh;
    users.remember(fresh);
    emit('me', fresh); // a fresh avatar link, too
  }, () => {});
}

function signedOut() {
  running = false;
  calls.hangUp();
  ws.stop();
  void push.forget();
  if (state.me) local.forget(state.me.user_id);
  drafts.reset();
  e2ee.reset();
  reset();
  // The open chat lets go of what it holds (a recording's microphone).
  emit('active');
  // Dialogs live on <body>, outside the screen about to be replaced.
  for (const dialog of document.querySelectorAll('dialog')) dialog.close();
  history.replaceState(null, '', location.pathname);
  renderLogin(root, start);
}

async function logout() {
  const stored = session.current();
  ws.stop();
  if (stored) await api.logout(stored.refresh_token).catch(() => {});
  session.clear();
}

function route() {
  const match = /^#\/chat\/([^/]+)(?:\/(\d+))?$/.exec(location.hash);
  const chatId = match ? decodeURIComponent(match[1]) : null;
  state.focusSeq = match?.[2] ? Number(match[2]) : null;
  state.activeChatId = chatId;
  // Forget the message part so choosing the same search hit again works.
  if (match?.[2]) history.replaceState(null, '', `#/chat/${match[1]}`);
  emit('active');
}

window.addEventListener('hashchange', () => {
  if (running) route();
});

boot();
