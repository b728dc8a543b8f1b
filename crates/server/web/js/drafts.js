// Drafts: what someone typed in a chat and did not send, kept per chat in
// memory and in IndexedDB (local.js), so that switching chats or
// reloading the page loses nothing. The chat list shows them ("Draft:
// ..."), the composer restores them. Cleared when the message is sent.

import * as local from './local.js';
import { emit } from './state/store.js';

/** @type {Map<string, string>} */
const drafts = new Map();
/** @type {Promise<void>} */
let loading = Promise.resolve();

/**
 * After sign-in: reads the stored drafts (local.open was called).
 * @returns {Promise<void>}
 */
export function load() {
  loading = local.entries('drafts').then((found) => {
    for (const [chatId, text] of found) {
      // A draft typed since the page started wins over the stored one.
      if (typeof text === 'string' && text && !drafts.has(chatId)) drafts.set(chatId, text);
    }
    if (found.length) emit('chats');
  });
  return loading;
}

/** Resolves once the stored drafts are in memory. */
export function loaded() {
  return loading;
}

/** @param {string} chatId @returns {string} */
export function get(chatId) {
  return drafts.get(chatId) ?? '';
}

/**
 * Keeps `text` as the chat's draft (an empty or blank one removes it).
 * @param {string} chatId @param {string} text
 */
export function set(chatId, text) {
  const had = drafts.has(chatId);
  if (text.trim()) drafts.set(chatId, text);
  else drafts.delete(chatId);
  if (!text.trim() && !had) return;
  void local.put('drafts', chatId, text.trim() ? text : undefined);
}

/** The message was sent: no draft any more. @param {string} chatId */
export function clear(chatId) {
  set(chatId, '');
}

/** Sign-out. */
export function reset() {
  drafts.clear();
}
