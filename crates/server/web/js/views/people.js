// A search box for people (GET /users?q=prefix) with a result list; each
// result has one action button. Used to start chats and add members.

import * as api from '../api.js';
import * as users from '../users.js';
import { h } from '../dom.js';
import { initials } from '../format.js';
import { state } from '../state/store.js';

const DEBOUNCE_MS = 200;

/**
 * @param {{
 *   label: string,
 *   action: (user: import('../types.js').User) => string,
 *   onPick: (user: import('../types.js').User) => void | Promise<void>,
 *   exclude?: () => Set<string>,
 * }} options
 * @returns {HTMLElement}
 */
export function peoplePicker(options) {
  const id = `people-${Math.random().toString(36).slice(2)}`;
  const input = h('input', { id, type: 'search', autocomplete: 'off', placeholder: 'Name or username' });
  const status = h('p', { class: 'muted small', role: 'status' });
  const list = h('ul', { class: 'people' });
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let generation = 0;

  async function search() {
    const query = input.value.trim();
    const mine = ++generation;
    if (!query) {
      list.replaceChildren();
      status.textContent = '';
      return;
    }
    try {
      const { users: found } = await api.searchUsers(query);
      if (mine !== generation) return;
      const excluded = options.exclude?.() ?? new Set();
      const shown = found.filter((user) => user.user_id !== state.me?.user_id && !excluded.has(user.user_id));
      for (const user of shown) users.remember(user);
      status.textContent = shown.length ? '' : 'Nobody found.';
      list.replaceChildren(...shown.map((user) => h('li', { class: 'person' },
        h('span', { class: 'avatar small', 'aria-hidden': 'true', text: initials(user.display_name) }),
        h('span', { class: 'person-names' }, h('strong', { text: user.display_name }), h('span', { class: 'muted', text: ` @${user.username}` })),
        h('button', {
          type: 'button', class: 'small-button', text: options.action(user),
          on: { click: async () => { await options.onPick(user); void search(); } },
        }))));
    } catch {
      if (mine === generation) status.textContent = 'Search failed.';
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  return h('div', { class: 'people-picker' },
    h('label', { for: id, text: options.label }), input, status, list);
}
