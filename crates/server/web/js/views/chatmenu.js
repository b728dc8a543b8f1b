// The menu of one chat in the list: Pin / Unpin, Archive / Unarchive,
// Mark as unread / Mark as read, Mute / Unmute. Opened by the row's "…"
// button, a right click, or the context-menu key (or Shift+F10) on the
// row. The marks are mine only and follow me to my other devices
// (chatflags.js).

import * as flags from '../chatflags.js';
import { chatName, state } from '../state/store.js';
import { openMenu } from './menu.js';

/** @typedef {import('./menu.js').MenuItem} MenuItem */

/**
 * The menu's items for a chat as it is now.
 * @param {string} chatId
 * @returns {MenuItem[]}
 */
export function chatMenuItems(chatId) {
  const summary = state.chats.get(chatId)?.summary;
  if (!summary) return [];
  const fail = () => {};
  /** @type {MenuItem[]} */
  const items = [];
  if (!summary.archived) {
    items.push(summary.pinned
      ? { label: 'Unpin', run: () => flags.setMarks(chatId, { pinned: false }).catch(fail) }
      : { label: 'Pin', run: () => flags.setMarks(chatId, { pinned: true }).catch(fail) });
  }
  // Archiving a pinned chat unpins it (as WhatsApp does).
  items.push(summary.archived
    ? { label: 'Unarchive', run: () => flags.setMarks(chatId, { archived: false }).catch(fail) }
    : { label: 'Archive', run: () => flags.setMarks(chatId, { archived: true, pinned: false }).catch(fail) });
  items.push(flags.looksUnread(summary)
    ? { label: 'Mark as read', run: () => flags.markRead(chatId).catch(fail) }
    : { label: 'Mark as unread', run: () => flags.setMarks(chatId, { marked_unread: true }).catch(fail) });
  items.push(summary.muted
    ? { label: 'Unmute', run: () => flags.setMuted(chatId, false).catch(fail) }
    : { label: 'Mute', run: () => flags.setMuted(chatId, true).catch(fail) });
  return items;
}

/**
 * Opens the chat's menu from `anchor` (its "…" button), or at a point.
 * @param {string} chatId
 * @param {HTMLElement} anchor
 * @param {{ x: number, y: number }} [at]
 */
export function openChatMenu(chatId, anchor, at) {
  const summary = state.chats.get(chatId)?.summary;
  if (!summary) return;
  openMenu(anchor, chatMenuItems(chatId), {
    label: `Chat options for ${chatName(summary)}`,
    at,
    // A row rebuilt meanwhile (its marks changed): its new button.
    returnFocus: () => document.querySelector(`.chat-item[data-chat-id="${CSS.escape(chatId)}"] .chat-row-more`),
  });
}
