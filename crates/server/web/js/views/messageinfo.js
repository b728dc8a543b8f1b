// The "Message info" dialog for one of my messages: who read it and who
// it was delivered to, per member with times, from
// GET /messages/{id}/receipts; fetched again while open whenever the
// chat's receipts move, so it stays current. In a group it says plainly
// that blue ticks mean at least one member read it, and how many did.

import * as api from '../api.js';
import * as timeline from '../state/timeline.js';
import * as users from '../users.js';
import { dayAndTime, initials, preview } from '../format.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { on, state } from '../state/store.js';
import { openDialog } from './dialogs.js';

/** @typedef {import('../types.js').Message} Message */
/** @typedef {import('../types.js').Receipt} Receipt */

/**
 * Opens the dialog for `message` (mine, already stored).
 * @param {Message} message
 */
export function openMessageInfo(message) {
  const group = state.chats.get(message.chat_id)?.summary.type !== 'direct';
  const summary = h('p', { class: 'info-summary', 'aria-live': 'polite', text: 'Loading…' });
  const explain = group
    ? h('p', { class: 'muted small' },
      h('span', { class: 'tick tick-read' }, icon('checks')), ' In a group, blue double ticks mean at least one member has read the message.')
    : null;
  const lists = h('div', { class: 'info-lists' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  /** @type {Receipt[] | null} */
  let receipts = null;

  const dialog = openDialog('Message info', () => [
    h('blockquote', { class: 'info-message', text: preview(current(message)) }),
    h('p', { class: 'muted small', text: `Sent ${dayAndTime(message.created_at)}` }),
    summary, explain, lists, error,
  ]);
  dialog.classList.add('message-info');

  function render() {
    if (!receipts) return;
    const all = byName(receipts);
    const read = all.filter((receipt) => receipt.read_at);
    const delivered = all.filter((receipt) => receipt.delivered_at && !receipt.read_at);
    const waiting = all.filter((receipt) => !receipt.delivered_at && !receipt.read_at);
    const total = receipts.length;
    summary.textContent = group
      ? `Seen by ${read.length} of ${total} · delivered to ${read.length + delivered.length} of ${total}`
      : read.length ? `Read ${dayAndTime(/** @type {string} */ (read[0].read_at))}`
        : delivered.length ? `Delivered ${dayAndTime(/** @type {string} */ (delivered[0].delivered_at))}, not read yet`
          : 'Not delivered yet';
    lists.replaceChildren(...[
      section('Read by', read, (receipt) => receipt.read_at, (receipt) => receipt.delivered_at),
      section('Delivered to', delivered, (receipt) => receipt.delivered_at),
      section('Not delivered yet', waiting, () => null),
    ].filter((node) => node !== null));
  }

  let fetching = false;
  let again = false;
  async function refresh() {
    if (fetching) {
      again = true; // one more fetch once this one answers: nothing is missed
      return;
    }
    fetching = true;
    try {
      const answer = await api.receipts(message.message_id);
      receipts = answer.receipts;
      error.textContent = '';
      render();
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : 'Could not load who has seen it.';
      if (!receipts) summary.textContent = '';
    } finally {
      fetching = false;
      if (again && dialog.open) {
        again = false;
        void refresh();
      }
    }
  }

  // A receipt event (or anything else in the chat) may move the markers.
  const offs = [
    on('timeline', (/** @type {string} */ chatId) => { if (chatId === message.chat_id) void refresh(); }),
    on('users', render),
  ];
  dialog.addEventListener('close', () => { for (const off of offs) off(); });
  void refresh();
}

/**
 * The message as the timeline holds it now (it may have been edited).
 * @param {Message} message
 */
function current(message) {
  const window = state.chats.get(message.chat_id)?.window;
  return (window && timeline.findById(window, message.message_id)) || message;
}

/** @param {Receipt[]} receipts */
function byName(receipts) {
  return [...receipts].sort((a, b) => users.name(a.user_id).localeCompare(users.name(b.user_id)));
}

/**
 * A titled list of members with the time of their receipt; nothing when
 * it would be empty.
 * @param {string} title
 * @param {Receipt[]} receipts
 * @param {(receipt: Receipt) => string | null | undefined} time
 * @param {(receipt: Receipt) => string | null | undefined} [earlier] the delivery of a read message, as a tooltip
 */
function section(title, receipts, time, earlier = () => null) {
  if (!receipts.length) return null;
  const id = `info-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return h('section', { class: 'info-section', 'aria-labelledby': id },
    h('h3', { class: 'section-title', id, text: `${title} (${receipts.length})` }),
    h('ul', { class: 'people' }, ...receipts.map((receipt) => {
      const name = users.name(receipt.user_id);
      const at = time(receipt);
      const before = earlier(receipt);
      return h('li', { class: 'person' },
        h('span', { class: 'avatar small', 'aria-hidden': 'true', text: initials(name) }),
        h('span', { class: 'person-names', text: name }),
        at ? h('time', { class: 'muted small', datetime: at, title: before ? `Delivered ${dayAndTime(before)}` : false, text: dayAndTime(at) }) : null);
    })));
}
