// The quick switcher (Ctrl+K / Cmd+K): a dialog with a search box that
// filters every chat (archived ones too) by name as you type; Up and Down
// move through the matches, Enter (or a click) opens one, Escape closes.
// The box owns focus throughout (a combobox with a listbox popup).

import { chatName, state } from '../state/store.js';
import { h } from '../dom.js';
import { listedChats } from './chatlist.js';
import { openDialog } from './dialogs.js';

/** Most matches listed at once. */
const MAX_SHOWN = 30;

/** The open switcher, so a second Ctrl+K does not stack another. */
let open = /** @type {HTMLDialogElement | null} */ (null);

/** Chats in list order (pinned first), then the archived ones not listed. */
function candidates() {
  const listed = listedChats();
  const seen = new Set(listed.map((chat) => chat.summary.chat_id));
  const archived = Array.from(state.chats.values()).filter((chat) => !seen.has(chat.summary.chat_id));
  return [...listed, ...archived];
}

/** Opens the switcher (or focuses the open one). */
export function openQuickSwitcher() {
  if (open?.open) {
    open.querySelector('input')?.focus();
    return;
  }
  const listId = `quick-${Math.random().toString(36).slice(2)}`;
  const input = h('input', {
    type: 'search', class: 'quick-input', placeholder: 'Type a chat name', 'aria-label': 'Chat name',
    role: 'combobox', 'aria-expanded': 'true', 'aria-controls': listId, 'aria-autocomplete': 'list', autocomplete: 'off',
  });
  const list = h('ul', { class: 'quick-list', id: listId, role: 'listbox', 'aria-label': 'Matching chats' });
  const none = h('p', { class: 'empty-note', text: 'No chat has that name.', hidden: true });
  /** @type {string[]} */
  let shown = [];
  let active = 0;
  /** @type {() => void} */
  let closeDialog = () => {};

  /** @param {string} chatId */
  const go = (chatId) => {
    closeDialog();
    location.hash = `#/chat/${encodeURIComponent(chatId)}`;
  };
  const paint = () => {
    const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const matches = candidates().filter((chat) => {
      const name = chatName(chat.summary).toLowerCase();
      return words.every((word) => name.includes(word));
    }).slice(0, MAX_SHOWN);
    shown = matches.map((chat) => chat.summary.chat_id);
    active = Math.min(active, Math.max(0, shown.length - 1));
    list.replaceChildren(...matches.map((chat, index) => h('li', {
      id: `${listId}-${index}`, role: 'option', class: 'quick-option', 'aria-selected': String(index === active),
      on: { click: () => go(chat.summary.chat_id) },
    }, h('span', { text: chatName(chat.summary) }),
    chat.summary.archived ? h('span', { class: 'muted small', text: ' · archived' }) : null)));
    none.hidden = shown.length > 0;
    if (shown.length) {
      input.setAttribute('aria-activedescendant', `${listId}-${active}`);
      list.children[active]?.scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  };
  input.addEventListener('input', () => {
    active = 0;
    paint();
  });
  input.addEventListener('keydown', (event) => {
    // Keys that finish an IME composition belong to it.
    if (event.isComposing) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (!shown.length) return;
      active = (active + (event.key === 'ArrowDown' ? 1 : -1) + shown.length) % shown.length;
      paint();
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (shown[active]) go(shown[active]);
    }
  });

  open = openDialog('Go to chat', (close) => {
    closeDialog = close;
    return [h('div', { class: 'quick-switcher' }, input, list, none)];
  });
  open.classList.add('quick-dialog');
  paint();
  input.focus();
}
