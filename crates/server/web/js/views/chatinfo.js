// The "Chat info" dialog: a group's or channel's profile (photo, topic,
// description: read-only for plain members, edited by owners and admins,
// the photo cropped first as in Settings), my notification settings for
// the chat, members with their roles and presence; for owners and admins
// renaming, adding and removing members; leaving for everyone in a group
// or channel. What others change shows while the dialog is open.

import * as chats from '../chats.js';
import * as users from '../users.js';
import { pickPhoto, reason } from './avatarcrop.js';
import { chatName, on, state } from '../state/store.js';
import { chatNotifications } from './chatnotify.js';
import { confirmDialog, openDialog } from './dialogs.js';
import { h } from '../dom.js';
import { initials, lastSeen } from '../format.js';
import { chatPreviewsSection } from './linkpreview.js';
import { peoplePicker } from './people.js';

/** @param {string} chatId */
export function openChatInfo(chatId) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const error = h('p', { class: 'form-error', role: 'alert' });
  const memberList = h('ul', { class: 'people', 'aria-label': 'Members' });
  const heading = h('h3', { class: 'section-title' });
  const manage = chats.canManage(chat.summary);
  const profile = chat.summary.type !== 'direct' ? profileSection(chatId, manage) : null;

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
      profile?.element ?? null,
      chatNotifications(chatId, chat.summary.type),
      chatPreviewsSection(chatId),
      heading,
      memberList, add, error,
      h('div', { class: 'dialog-actions' }, leave),
    ];
  });

  const offs = [
    on('timeline', (/** @type {string} */ id) => { if (id === chatId) { renderMembers(); profile?.refresh(); } }),
    on('chats', () => profile?.refresh()),
    on('users', renderMembers),
  ];
  dialog.addEventListener('close', () => { for (const off of offs) off(); });
  renderMembers();
  // Always: the description lives in the chat object, not the summary.
  void chats.loadMembers(chatId).catch(() => {});
}


/**
 * The profile of a group or channel: its photo, topic and description.
 * Owners and admins get a form (name, topic, description) and photo
 * buttons; plain members read them. `refresh` shows the latest state
 * (without touching what a manager is typing).
 * @param {string} chatId
 * @param {boolean} manage
 * @returns {{ element: HTMLElement, refresh: () => void }}
 */
function profileSection(chatId, manage) {
  const avatarHost = h('div', { class: 'chat-profile-avatar' });
  const topicText = h('p', { class: 'chat-profile-topic' });
  const descriptionText = h('p', { class: 'chat-profile-description' });
  const status = h('p', { class: 'muted small', role: 'status' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const say = (/** @type {string} */ done) => { error.textContent = ''; status.textContent = done; };
  const fail = (/** @type {string} */ text) => { status.textContent = ''; error.textContent = text; };
  const current = () => state.chats.get(chatId);

  /** @type {string | undefined} */
  let shownAvatar;
  const refresh = () => {
    const chat = current();
    if (!chat) return;
    const { summary } = chat;
    const url = summary.avatar_url;
    if (url !== shownAvatar) {
      shownAvatar = url;
      const avatar = h('span', { class: `avatar large kind-${summary.type}`, role: url ? 'img' : null, 'aria-label': url ? 'Chat photo' : null, 'aria-hidden': url ? null : 'true' });
      if (url) avatar.append(h('img', { src: url, alt: '' }));
      else avatar.textContent = summary.type === 'channel' ? '#' : initials(chatName(summary));
      avatarHost.replaceChildren(avatar);
    }
    if (manage) {
      chooseButton.textContent = url ? 'Change photo' : 'Add a photo';
      removeButton.hidden = !url;
      return;
    }
    topicText.textContent = summary.topic ?? '';
    topicText.hidden = !summary.topic;
    descriptionText.textContent = chat.description ?? '';
    descriptionText.hidden = !chat.description;
  };

  // --- photo (owners and admins) ---
  const fileInput = h('input', { type: 'file', accept: 'image/*', hidden: true, 'aria-label': 'Choose a chat photo' });
  const chooseButton = h('button', { type: 'button', text: 'Add a photo', on: { click: () => fileInput.click() } });
  const removeButton = h('button', {
    type: 'button', class: 'ghost', text: 'Remove photo', hidden: true,
    on: {
      click: async () => {
        try {
          await chats.updateProfile(chatId, { avatar_file_id: null });
          say('Photo removed.');
        } catch (failure) {
          fail(reason(failure, 'The photo could not be removed.'));
        }
      },
    },
  });
  const cropHost = h('div', { class: 'profile-crop' });
  pickPhoto({
    fileInput, cropHost, fileName: 'chat-photo.jpg', status, say, fail,
    save: async (fileId) => { await chats.updateProfile(chatId, { avatar_file_id: fileId }); },
  });

  if (!manage) {
    refresh();
    return {
      element: h('section', { class: 'chat-profile', 'aria-label': 'About this chat' }, avatarHost, topicText, descriptionText),
      refresh,
    };
  }

  // --- name, topic, description (owners and admins) ---
  const chat = current();
  const nameInput = h('input', { id: 'chat-rename', value: chat?.summary.name ?? '', maxlength: '100', required: true });
  const topicInput = h('input', { id: 'chat-topic', value: chat?.summary.topic ?? '', maxlength: '250', placeholder: 'One line, shown under the name' });
  const descriptionInput = h('textarea', { id: 'chat-description', maxlength: '2000', rows: '3', placeholder: 'What this chat is about' });
  descriptionInput.value = chat?.description ?? '';
  // Filled in once the chat object (with its description) arrives, unless typed into.
  let descriptionTouched = false;
  descriptionInput.addEventListener('input', () => { descriptionTouched = true; });
  const fillDescription = () => {
    if (!descriptionTouched) descriptionInput.value = current()?.description ?? '';
  };
  const form = h('form', {
    class: 'rename-form chat-profile-form',
    on: {
      submit: async (/** @type {Event} */ event) => {
        event.preventDefault();
        const name = nameInput.value.trim();
        if (!name) {
          fail('The chat needs a name.');
          return;
        }
        try {
          await chats.updateProfile(chatId, { name, topic: topicInput.value.trim(), description: descriptionInput.value.trim() });
          descriptionTouched = false;
          say('Saved.');
        } catch (failure) {
          fail(reason(failure, 'The changes could not be saved.'));
        }
      },
    },
  },
  h('label', { for: 'chat-rename', text: 'Chat name' }), nameInput,
  h('label', { for: 'chat-topic', text: 'Topic' }), topicInput,
  h('label', { for: 'chat-description', text: 'Description' }), descriptionInput,
  h('div', { class: 'row' }, h('button', { type: 'submit', text: 'Save changes' })));
  const refreshAll = () => { refresh(); fillDescription(); };
  refreshAll();
  return {
    element: h('section', { class: 'chat-profile', 'aria-label': 'About this chat' },
      h('div', { class: 'profile-avatar-row' }, avatarHost, chooseButton, removeButton, fileInput),
      cropHost, form, status, error),
    refresh: refreshAll,
  };
}
