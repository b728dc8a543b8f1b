// Message search in the sidebar: results replace the chat list while a
// query is typed; each shows the chat, sender, time and the server's
// highlighted snippet (rebuilt as nodes, not parsed as HTML) and jumps to
// the message when chosen.

import * as api from '../api.js';
import * as users from '../users.js';
import { chatName, state } from '../state/store.js';
import { h, highlightNodes } from '../dom.js';
import { listTime } from '../format.js';

const DEBOUNCE_MS = 250;

/**
 * @param {HTMLElement} sidebar where the search box goes
 * @param {HTMLElement} listHost hidden while results show
 * @param {HTMLElement} resultsHost
 */
export function mountSearch(sidebar, listHost, resultsHost) {
  const input = h('input', { id: 'search-input', type: 'search', placeholder: 'Search messages', autocomplete: 'off' });
  const form = h('form', { role: 'search', class: 'search-form', on: { submit: (/** @type {Event} */ event) => { event.preventDefault(); void run(); } } },
    h('label', { for: 'search-input', class: 'visually-hidden', text: 'Search messages' }), input);
  sidebar.append(form);
  const status = h('p', { class: 'empty-note', role: 'status' });
  const list = h('ul', { class: 'search-results', 'aria-label': 'Search results' });
  resultsHost.replaceChildren(status, list);

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let generation = 0;

  const show = (/** @type {boolean} */ results) => {
    resultsHost.hidden = !results;
    listHost.hidden = results;
  };

  async function run() {
    clearTimeout(timer);
    const query = input.value.trim();
    const mine = ++generation;
    if (!query) {
      show(false);
      return;
    }
    show(true);
    status.textContent = 'Searching…';
    try {
      const { results } = await api.searchMessages(query);
      await Promise.all([...new Set(results.map((hit) => hit.message.sender_id))].map((id) => users.load(id)));
      if (mine !== generation) return;
      status.textContent = results.length ? `${results.length} result${results.length === 1 ? '' : 's'}` : 'No messages found.';
      list.replaceChildren(...results.map(resultRow));
    } catch (error) {
      if (mine !== generation) return;
      list.replaceChildren();
      status.textContent = error instanceof api.ApiError && error.code === 'invalid_request' ? 'Type a word to search for.' : 'Search failed. Try again.';
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      input.value = '';
      void run();
    }
  });
}

/** @param {import('../types.js').SearchHit} hit */
function resultRow(hit) {
  const { message } = hit;
  const chat = state.chats.get(message.chat_id);
  const where = chat ? chatName(chat.summary) : 'A chat';
  const who = users.name(message.sender_id);
  return h('li', {},
    h('a', { class: 'search-hit', href: `#/chat/${encodeURIComponent(message.chat_id)}/${message.seq}` },
      h('span', { class: 'search-hit-top' },
        h('strong', { text: where }),
        h('time', { datetime: message.created_at, text: listTime(message.created_at) })),
      h('span', { class: 'search-hit-sender', text: who }),
      h('span', { class: 'search-hit-text' }, ...highlightNodes(hit.highlight))));
}
