// "@" suggestions in the composer: while the word before the caret starts
// with @, members whose username or name starts with what follows are
// offered in a list; Up/Down choose, Enter or Tab insert, Escape closes.

import * as users from '../users.js';
import { h } from '../dom.js';
import { state } from '../state/store.js';
import { suggestionList } from './suggestions.js';

const MAX_SUGGESTIONS = 6;

/** @typedef {{ userId: string, username: string }} Mention */

/**
 * @param {HTMLTextAreaElement} input
 * @param {string} chatId
 * @returns {{ element: HTMLElement, onKeydown: (event: KeyboardEvent) => boolean, update: () => void }}
 */
export function mentionSuggestions(input, chatId) {
  const list = suggestionList(input, {
    id: `mentions-${chatId}`,
    label: 'People to mention',
    className: 'mention-list',
    option: (/** @type {Mention} */ option) => [h('strong', { text: users.name(option.userId) }), h('span', { class: 'muted', text: ` @${option.username}` })],
    pick: insert,
  });

  /** The "@prefix" just before the caret, if any. */
  function query() {
    const before = input.value.slice(0, input.selectionStart ?? input.value.length);
    const match = /(^|\s)@([a-z0-9_.-]*)$/i.exec(before);
    return match ? { prefix: match[2].toLowerCase(), start: before.length - match[2].length - 1 } : null;
  }

  function update() {
    const found = query();
    const members = state.chats.get(chatId)?.members ?? [];
    /** @type {Mention[]} */
    const options = [];
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
    list.show(options, list.selectedIndex());
  }

  /** @param {Mention} option */
  function insert(option) {
    const found = query();
    if (!found) return;
    const caret = input.selectionStart ?? input.value.length;
    const text = `@${option.username} `;
    input.value = input.value.slice(0, found.start) + text + input.value.slice(caret);
    const at = found.start + text.length;
    input.setSelectionRange(at, at);
    input.dispatchEvent(new Event('input'));
  }

  return { element: list.element, onKeydown: list.onKeydown, update };
}
