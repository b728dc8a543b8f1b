// Telling the person about new messages when they are not looking: the
// unread total in the tab title, system notifications, and the state of
// the "Enable notifications" control. With Web Push on this device
// (push.js) the service worker shows them, also with no tab open; without
// it (the browser or the server cannot) a hidden tab shows them itself
// (Notification API). Permission is only asked from a click.

import * as push from './push.js';
import * as users from './users.js';
import { chatName, emit, state, unreadTotal } from './state/store.js';
import { preview } from './format.js';

const BASE_TITLE = 'natter';

/**
 * What the sidebar's notifications control offers:
 * - `enable`: a button that turns notifications on;
 * - `pending`: push is being set up (waiting for its activation);
 * - `on`: push is on;
 * - `none`: nothing to offer (in-page notifications allowed or blocked,
 *   or the state is not known yet).
 * `pending` and `on` can be turned off.
 * @typedef {'enable' | 'pending' | 'on' | 'none'} Control
 * @returns {Control}
 */
export function control() {
  switch (push.status()) {
    case 'off': return 'enable';
    case 'pending': return 'pending';
    case 'on': return 'on';
    case 'unsupported':
    case 'unavailable': return canAsk() ? 'enable' : 'none';
    default: return 'none';
  }
}

/** Turns notifications on: Web Push where the browser and the server
 * can, else in-page ones. Call only from a user gesture. */
export async function enable() {
  const where = push.status();
  if (where === 'unsupported' || where === 'unavailable') await ask();
  else await push.enable();
}

/** Turns Web Push off on this device. */
export function disable() {
  return push.disable();
}

/** Whether asking for in-page notifications makes sense. */
export function canAsk() {
  return 'Notification' in window && Notification.permission === 'default';
}

/** Asks for permission; call only from a user gesture. */
export async function ask() {
  if (!('Notification' in window)) return;
  await Notification.requestPermission();
  emit('chats');
}

/**
 * A new message from someone else arrived.
 * @param {import('./state/store.js').ChatState} chat
 * @param {import('./types.js').Message} message
 */
export function message(chat, message) {
  if (document.visibilityState === 'visible') return;
  // A hidden tab counts as away, so the server pushes this to the worker.
  if (push.status() === 'on') return;
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  const sender = users.name(message.sender_id);
  const title = chat.summary.type === 'direct' ? sender : `${sender} in ${chatName(chat.summary)}`;
  try {
    const notification = new Notification(title, {
      body: preview(message),
      tag: chat.summary.chat_id,
      icon: '/assets/icon.svg',
    });
    notification.addEventListener('click', () => {
      window.focus();
      location.hash = `#/chat/${encodeURIComponent(chat.summary.chat_id)}`;
      notification.close();
    });
  } catch {
    // Some platforms only allow notifications from a service worker.
  }
}

/** Keeps the tab title in step with the unread total. */
export function updateTitle() {
  const total = unreadTotal();
  const active = state.activeChatId ? state.chats.get(state.activeChatId) : undefined;
  const where = active ? `${chatName(active.summary)} · ${BASE_TITLE}` : BASE_TITLE;
  document.title = total > 0 ? `(${total}) ${where}` : where;
}
