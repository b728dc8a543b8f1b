// Telling the person about new messages when they are not looking: the
// unread total in the tab title, and a system notification (Notification
// API) while the tab is hidden. Permission is only asked from a click.

import * as users from './users.js';
import { chatName, emit, state, unreadTotal } from './state/store.js';
import { preview } from './format.js';

const BASE_TITLE = 'natter';

/** Whether the "Enable notifications" button makes sense. */
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
