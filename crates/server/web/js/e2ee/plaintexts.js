// What each encrypted message said, by message_id, as this device saw
// it: an MLS application message can be decrypted once only (its key is
// deleted after use), so the timeline, previews and every later visit
// read it from here. Kept in IndexedDB (local.js, store `plaintext`) so a
// reload still shows what was read; own messages are written at send,
// since a sender cannot decrypt its own ciphertext.

import * as local from '../local.js';

/**
 * `text`: decrypted; `commit`: a change of the chat's devices (an MLS
 * Commit), shown as a note; `unreadable`: this device cannot decrypt it,
 * with the reason shown in its place.
 * @typedef {{ kind: 'text', text: string }
 *   | { kind: 'commit', epoch: number }
 *   | { kind: 'unreadable', reason: string }} Plaintext
 */

/** @type {Map<string, Plaintext>} */
const known = new Map();

/** After sign-in (local.open was called): what earlier visits decrypted. */
export async function load() {
  for (const [messageId, value] of await local.entries('plaintext')) {
    if (value && typeof value === 'object' && typeof value.kind === 'string') known.set(messageId, value);
  }
}

/** @param {string} messageId @returns {Plaintext | undefined} */
export function get(messageId) {
  return known.get(messageId);
}

/** Ids already looked up in IndexedDB since the page loaded. */
const lookedUp = new Set();

/**
 * One not in memory may have been decrypted by another tab of this
 * device since this page loaded: read it from IndexedDB (once per id).
 * @param {string} messageId
 * @returns {Promise<boolean>} whether it was found
 */
export async function lookUp(messageId) {
  if (known.has(messageId) || lookedUp.has(messageId)) return false;
  lookedUp.add(messageId);
  const value = await local.get('plaintext', messageId);
  if (!value || typeof value !== 'object' || typeof value.kind !== 'string') return false;
  known.set(messageId, value);
  return true;
}

/** @param {string} messageId @param {Plaintext} plaintext */
export function remember(messageId, plaintext) {
  known.set(messageId, plaintext);
  return local.put('plaintext', messageId, plaintext);
}

/** Sign-out: the database goes with local.forget; the memory here too. */
export function reset() {
  known.clear();
  lookedUp.clear();
}
