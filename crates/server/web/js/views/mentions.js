// "@" suggestions in the composer: while the word before the caret starts
// with @, members whose username or name starts with what follows are
// offered in a list; Up/Down choose, Enter or Tab insert, Escape closes.

import * as users from '../users.js';
import { h } from '../dom.js';
import { state } from '../state/store.js';

const MAX_SUGGESTIONS = 6;

/**
 * @param {HTMLTextAreaElement} input
 * @param {string} chatId
 * @returns {{ element: HTMLElement, onKeydown: (event: KeyboardEvent) => boolean, update: () => void }}
 */
export function mentionSuggestions(input, chatId) {
  const list = h('ul', { class: 'mention-list', role: 'listbox', id: `mentions-${chatId}`, 'aria-label': 'People to mention', hidden: true });
  input.setAttribute('aria-controls', list.id);
  input.setAttribute('aria-autocomplete', 'list');
  /** @type {{ userId: string, username: string }[]} */
  let options = [];
  let selected = 0;

  /** The "@prefix" just before the caret, if any. */
  function query() {
    const before = input.value.slice(0, input.selectionStart ?? input.value.length);
    const match = /(^|\s)@([a-z0-9_.-]*)$/i.exec(before);
    return match ? { prefix: match[2].toLowerCase(), start: before.length - match[2].length - 1 } : null;
  }

  function update() {
    const found = query();
    const members = state.chats.get(chatId)?.members ?? [];
    options = [];
    if (found) {
      for (const member of members) {
        if (member.user_id === state.me?.user_id) continue;
        const username = users.username(member.user_id);
        if (!username) continue;
        const name = users.name(member.user_id).toLowerCase();
        if (username.startsWith(found.prefix) || name.startsWith(found.prefix)) options.push({ userId: member.user_id, username });
        if (options.length === MAX_SUGGESTIONS) break;
      }
    }
    selected = Math.min(selected, Math.max(0, options.length - 1));
    render();
  }

  function render() {
    list.hidden = options.length === 0;
    list.replaceChildren(...options.map((option, index) => h('li', {
      role: 'option', id: `${list.id}-${index}`, class: 'mention-option', 'aria-selected': String(index === selected),
      on: { mousedown: (/** @type {Event} */ event) => { event.preventDefault(); choose(index); } },
    }, h('strong', { text: users.name(option.userId) }), h('span', { class: 'muted', text: ` @${option.username}` }))));
    if (options.length) input.setAttribute('aria-activedescendant', `${list.id}-${selected}`);
    else input.removeAttribute('aria-activedescendant');
  }

  /** @param {number} index */
  function choose(index) {
    const option = options[index];
    const found = query();
    if (!option || !found) return;
    const caret = input.selectionStart ?? input.value.length;
    const text = `@${option.username} `;
    input.value = input.value.slice(0, found.start) + text + input.value.slice(caret);
    const at = found.start + text.length;
    input.setSelectionRange(at, at);
    options = [];
    render();
    input.dispatchEvent(new Event('input'));
  }

  /** @param {KeyboardEvent} event @returns {boolean} whether it was handled */
  function onKeydown(event) {
    // Keys that finish an IME composition belong to it.
    if (!options.length || event.isComposing) return false;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      selected = (selected + (event.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
      render();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      choose(selected);
    } else if (event.key === 'Escape') {
      options = [];
      render();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  input.addEventListener('blur', () => {
    options = [];
    render();
  });
  return { element: list, onKeydown, update };
}
