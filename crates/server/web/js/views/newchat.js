// The "New chat" dialog: a direct message with one person found by
// search, or a group or channel with a name and chosen members; a direct
// chat or group may be end-to-end encrypted (e2ee/engine.js).

import * as chats from '../chats.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { openDialog } from './dialogs.js';
import { peoplePicker } from './people.js';

export function openNewChat() {
  /** @type {'direct' | 'group' | 'channel'} */
  let kind = 'direct';
  /** @type {Map<string, import('../types.js').User>} */
  const chosen = new Map();
  const error = h('p', { class: 'form-error', role: 'alert' });
  const nameInput = h('input', { id: 'new-chat-name', maxlength: 100, autocomplete: 'off' });
  const nameField = h('div', { class: 'field', hidden: true }, h('label', { for: 'new-chat-name', text: 'Name' }), nameInput);
  const chosenList = h('ul', { class: 'chips', 'aria-label': 'Chosen members' });
  const create = h('button', { type: 'submit', class: 'primary', hidden: true, text: 'Create group' });
  const encrypted = h('input', { type: 'checkbox', id: 'new-chat-e2ee', on: { change: () => setKind(kind) } });
  const encryptedField = h('div', { class: 'e2ee-option' },
    h('label', { class: 'radio' }, encrypted, ' End-to-end encrypted'),
    h('p', { class: 'hint', text: 'Only the members’ devices can read it: not searchable on the server, no attachments yet, and a device added later sees nothing from before.' }));

  /** @param {() => void} close */
  const build = (close) => {
    const picker = peoplePicker({
      label: 'Find people',
      action: (user) => (kind === 'direct' ? `Message ${user.display_name}` : `Add ${user.display_name}`),
      exclude: () => new Set(chosen.keys()),
      onPick: async (user) => {
        if (kind === 'direct') {
          try {
            const chatId = encrypted.checked ? await chats.startEncrypted('direct', [user.user_id]) : await chats.startDirect(user.user_id);
            close();
            location.hash = `#/chat/${encodeURIComponent(chatId)}`;
          } catch (failure) {
            error.textContent = failure instanceof Error ? failure.message : 'Could not start the chat.';
          }
          return;
        }
        chosen.set(user.user_id, user);
        renderChosen();
      },
    });
    const kinds = h('fieldset', { class: 'kinds' },
      h('legend', { text: 'Kind of chat' }),
      ...(/** @type {const} */ ([['direct', 'Direct message'], ['group', 'Group'], ['channel', 'Channel']])).map(([value, label]) =>
        h('label', { class: 'radio' },
          h('input', { type: 'radio', name: 'chat-kind', value, checked: value === kind, on: { change: () => setKind(value) } }),
          ` ${label}`)));
    const form = h('form', { class: 'new-chat-form', on: { submit: (/** @type {Event} */ event) => { event.preventDefault(); void submit(close); } } },
      kinds, encryptedField, nameField, picker, chosenList, error, h('div', { class: 'dialog-actions' }, create));
    return [form];
  };

  /** @param {'direct' | 'group' | 'channel'} next */
  function setKind(next) {
    kind = next;
    nameField.hidden = kind === 'direct';
    create.hidden = kind === 'direct';
    encryptedField.hidden = kind === 'channel';
    if (kind === 'channel') encrypted.checked = false;
    create.textContent = kind === 'channel' ? 'Create channel' : encrypted.checked ? 'Create encrypted group' : 'Create group';
    chosenList.hidden = kind === 'direct';
    nameInput.required = kind !== 'direct';
  }

  function renderChosen() {
    chosenList.replaceChildren(...Array.from(chosen.values(), (user) => h('li', { class: 'chip' },
      h('span', { text: user.display_name }),
      h('button', {
        type: 'button', class: 'chip-remove', 'aria-label': `Remove ${user.display_name}`,
        on: { click: () => { chosen.delete(user.user_id); renderChosen(); } },
      }, icon('close')))));
  }

  /** @param {() => void} close */
  async function submit(close) {
    if (kind === 'direct') return;
    const name = nameInput.value.trim();
    if (!name) {
      error.textContent = 'Give the chat a name.';
      return;
    }
    create.disabled = true;
    try {
      const members = Array.from(chosen.keys());
      const chatId = kind === 'group' && encrypted.checked
        ? await chats.startEncrypted('group', members, name)
        : await chats.createGroup(kind, name, members);
      close();
      location.hash = `#/chat/${encodeURIComponent(chatId)}`;
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : 'Could not create the chat.';
      create.disabled = false;
    }
  }

  openDialog('New chat', build);
  setKind('direct');
}
