// What encrypted chats look like: the lock on their rows and header, the
// note at the top of such a chat (what end-to-end encryption means here:
// nothing searchable on the server, no history for a device that joins
// later, no attachments yet) with this device's state in it, and the body
// of an encrypted message (its plaintext, a note for a change of devices,
// or why this device cannot read it).

import * as e2ee from '../e2ee/engine.js';
import * as plaintexts from '../e2ee/plaintexts.js';
import * as users from '../users.js';
import { formattedText } from './markup.js';
import { collapsible } from './longtext.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { emit, on } from '../state/store.js';

/** Said in an encrypted chat's composer when files are dropped or pasted. */
export const NO_ATTACHMENTS = 'Attachments are not available in encrypted chats yet: send text.';

/** The lock beside an encrypted chat's name. */
export function lockBadge() {
  return h('span', { class: 'e2ee-lock', title: 'End-to-end encrypted' },
    icon('lock'), h('span', { class: 'visually-hidden', text: ' (end-to-end encrypted)' }));
}

/**
 * The note at the top of an encrypted chat; follows this device's state.
 * @param {string} chatId
 * @returns {{ element: HTMLElement, dispose: () => void }}
 */
export function encryptionNote(chatId) {
  const state = h('p', { class: 'e2ee-state', role: 'status' });
  const element = h('div', { class: 'e2ee-note' },
    h('p', {}, icon('lock'), h('strong', { text: ' End-to-end encrypted.' }),
      ' Only the members’ devices can read these messages. Their content is not searchable on the server, '
      + 'and a new device does not see messages from before it joined. Attachments are not available in encrypted chats yet.'),
    state);
  const render = () => {
    const { status, reason } = e2ee.status(chatId);
    const missing = e2ee.unreachableMembers(chatId).map((id) => users.name(id));
    state.hidden = status === 'ready' && !missing.length;
    state.textContent = status === 'unavailable' ? reason ?? ''
      : status === 'waiting' ? 'This device has not been added to the chat’s encryption yet: its messages appear once another member’s device adds it.'
        : `Not readable by ${missing.join(', ')}: none of their devices had encryption keys published when the chat was made.`;
  };
  const off = on('e2ee', render);
  render();
  return { element, dispose: off };
}

/** What a message's rendering depends on. @param {import('../types.js').Message} message */
export function mlsSignature(message) {
  const known = plaintexts.get(message.message_id);
  return known ? JSON.stringify(known) : e2ee.status(message.chat_id).status;
}

/**
 * An encrypted message's body.
 * @param {import('../types.js').Message} message
 * @param {Set<string>} mentioned display names of the mentioned, for formatting
 */
export function mlsBody(message, mentioned) {
  const known = plaintexts.get(message.message_id);
  if (known?.kind === 'text') {
    return h('div', { class: 'body' }, collapsible(formattedText(known.text, mentioned), known.text, message.message_id));
  }
  if (known?.kind === 'unreadable') return h('div', { class: 'body' }, h('p', { class: 'e2ee-unreadable', text: known.reason }));
  const { status, reason } = e2ee.status(message.chat_id);
  if (status === 'ready') {
    void plaintexts.lookUp(message.message_id).then((found) => { if (found) emit('timeline', message.chat_id); });
  }
  const text = status === 'unavailable' ? reason ?? ''
    : status === 'waiting' ? 'Encrypted message: this device cannot read it until it is added to the chat’s encryption.'
      : 'Decrypting…';
  return h('div', { class: 'body' }, h('p', { class: 'e2ee-unreadable', text }));
}

/** Is this stored message an MLS Commit (a change of the chat's devices)?
 * @param {import('../types.js').Message} message */
export function isCommit(message) {
  return message.type === 'mls' && message.metadata.mls?.kind === 'commit';
}

/** The line shown for a Commit. @param {import('../types.js').Message} message */
export function commitNote(message) {
  const epoch = message.metadata.mls?.epoch ?? 0;
  return h('p', { class: 'e2ee-commit' }, icon('lock'),
    epoch === 0 ? ' Encryption set up for this chat’s devices' : ' The devices in this chat changed');
}
