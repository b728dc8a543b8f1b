// The "Chat info" dialog: my notification settings for the chat, members
// with their roles and presence; for owners and admins renaming, adding
// and removing members; leaving for everyone in a group or channel.

import * as chats from '../chats.js';
import * as users from '../users.js';
import { chatName, on, state } from '../state/store.js';
import { chatNotifications } from './chatnotify.js';
import { confirmDialog, openDialog } from './dialogs.js';
import { h } from '../dom.js';
import { initials, lastSeen } from '../format.js';
import { peoplePicker } from './people.js';

/** @param {string} chatId */
export function openChatInfo(chatId) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const error = h('p', { class: 'form-error', role: 'alert' });
  const memberList = h('ul', { class: 'people', 'aria-label': 'Members' });
  const heading = h('h3', { class: 'section-title' });
  const manage = chats.canManage(chat.summary);

  const renderMembers = () => {
    const current = state.chats.get(chatId);
    if (!current) return;
    const me = state.me?.user_id;
    const members = current.members ?? [];
    heading.textContent = `Members (${current.summary.member_count})`;
    memberList.replaceChildren(...members.map((member) => {
      const name = users.name(member.user_id);
      const presence = users.presence(member.user_id);
      const removable = member.user_id !== me && current.summary.type !== 'direct'
        && (current.summary.role === 'owner' || (current.summary.role === 'admin' && member.role === 'member'));
      return h('li', { class: 'person' },
        h('span', { class: 'avatar small', 'aria-hidden': 'true', text: initials(name) }),
        h('span', { class: 'person-names' },
          h('strong', { text: member.user_id === me ? `${name} (you)` : name }),
          h('span', { class: 'muted', text: ` ${member.role}` }),
          h('span', { class: 'muted small block', text: presence?.status === 'online' ? 'online' : presence ? lastSeen(presence.last_seen) : '' })),
        removable ? h('button', {
          type: 'button', class: 'small-button danger', text: `Remove ${name}`,
          on: { click: () => void act(() => chats.removeMember(chatId, member.user_id)) },
        }) : null);
    }));
  };

  /** @param {() => Promise<void>} work */
  async function act(work) {
    error.textContent = '';
    try {
      await work();
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : 'That did not work.';
    }
  }

  const dialog = openDialog(chatName(chat.summary), (close) => {
    const nameInput = h('input', { id: 'chat-rename', value: chat.summary.name ?? '', maxlength: 100 });
    const rename = manage ? h('form', {
      class: 'rename-form',
      on: { submit: (/** @type {Event} */ event) => { event.preventDefault(); void act(() => chats.rename(chatId, nameInput.value.trim())); } },
    }, h('label', { for: 'chat-rename', text: 'Chat name' }), h('div', { class: 'row' }, nameInput, h('button', { type: 'submit', text: 'Rename' }))) : null;
    const add = manage ? peoplePicker({
      label: 'Add people',
      action: (user) => `Add ${user.display_name}`,
      exclude: () => new Set((state.chats.get(chatId)?.members ?? []).map((member) => member.user_id)),
      onPick: (user) => act(() => chats.addMember(chatId, user.user_id)),
    }) : null;
    const leave = chat.summary.type !== 'direct' ? h('button', {
      type: 'button', class: 'danger', text: 'Leave chat',
      on: {
        click: async () => {
          const sure = await confirmDialog('Leave this chat?', 'You will stop receiving its messages and lose access to its history.', 'Leave');
          if (!sure) return;
          await act(async () => {
            await chats.leave(chatId);
            close();
            location.hash = '#/';
          });
        },
      },
    }) : null;
    return [
      rename,
      chatNotifications(chatId, chat.summary.type),
      heading,
      memberList, add, error,
      h('div', { class: 'dialog-actions' }, leave),
    ];
  });

  const offs = [on('timeline', (/** @type {string} */ id) => { if (id === chatId) renderMembers(); }), on('users', renderMembers)];
  dialog.addEventListener('close', () => { for (const off of offs) off(); });
  renderMembers();
  if (!chat.members) void chats.loadMembers(chatId).catch(() => {});
}
