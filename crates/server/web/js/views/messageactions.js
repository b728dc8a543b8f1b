// A message's actions by keyboard and touch: a "…" button on each message
// (in the Tab order; it shows on hover and focus, and always in the
// phone layout, where there is no hover) opens a menu of the message's
// actions (Reply, React, Edit, Delete, Info: whichever the message offers
// in its hover bar, views/message.js; a deleted message offers Delete
// only, to remove it for me). Enter or Space opens it, arrows
// move, Escape closes (views/menu.js). Choosing an item presses the
// matching button of the bar, so both always do the same.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { openMenu } from './menu.js';

/** @typedef {import('./menu.js').MenuItem} MenuItem */

/**
 * The "…" button of a message (a deleted one's too: it can be deleted for
 * me).
 * @param {string} messageId
 * @returns {HTMLButtonElement}
 */
export function messageActionsButton(messageId) {
  const button = h('button', {
    type: 'button', class: 'msg-more', 'aria-label': 'Message actions', title: 'Message actions',
    'aria-haspopup': 'menu', 'aria-expanded': 'false',
  }, icon('more'));
  button.addEventListener('click', () => openMessageActions(messageId, button));
  return button;
}

/** @param {string} messageId */
function itemOf(messageId) {
  return document.querySelector(`li.msg[data-message-id="${CSS.escape(messageId)}"]`);
}

/**
 * Opens the actions menu of a message from its "…" button.
 * @param {string} messageId @param {HTMLElement} anchor
 */
export function openMessageActions(messageId, anchor) {
  const item = anchor.closest('li.msg') ?? itemOf(messageId);
  if (!item) return;
  /** @type {MenuItem[]} */
  const entries = Array.from(item.querySelectorAll('.actions button')).map((node) => {
    const button = /** @type {HTMLButtonElement} */ (node);
    const label = button.getAttribute('aria-label') || button.textContent || '';
    const reacting = button.hasAttribute('aria-expanded');
    return {
      label,
      run: () => {
        // The item may have been rebuilt since the menu opened.
        const fresh = itemOf(messageId);
        const target = Array.from(fresh?.querySelectorAll('.actions button') ?? [])
          .find((candidate) => (candidate.getAttribute('aria-label') || candidate.textContent) === label);
        if (!(target instanceof HTMLButtonElement)) return;
        target.click();
        // The reactions palette opens with the next render: focus its
        // first choice then.
        if (reacting) {
          setTimeout(() => {
            const first = itemOf(messageId)?.querySelector('.palette button');
            if (first instanceof HTMLElement) first.focus();
          }, 0);
        }
      },
    };
  });
  if (!entries.length) return;
  openMenu(anchor, entries, {
    label: 'Message actions',
    returnFocus: () => itemOf(messageId)?.querySelector('.msg-more') ?? null,
  });
}
