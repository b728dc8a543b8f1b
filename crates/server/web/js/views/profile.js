// The "Profile" section of Settings: my display name and my photo. A new
// photo is cropped first (avatarcrop.js), then uploaded and set; either
// change shows at once in the sidebar (the 'me' event) and reaches others
// with my profile.

import * as api from '../api.js';
import * as users from '../users.js';
import { pickPhoto, reason } from './avatarcrop.js';
import { emit, state } from '../state/store.js';
import { h } from '../dom.js';
import { initials } from '../format.js';

/** @typedef {import('../types.js').User} User */

/**
 * My avatar: the photo if I have one, else my initials.
 * @param {User} me
 * @param {string} [size] an extra class: 'small', 'large'
 * @returns {HTMLElement}
 */
export function myAvatar(me, size = '') {
  const avatar = h('span', { class: `avatar ${size}`.trim(), 'aria-hidden': 'true' });
  if (me.avatar_url) avatar.append(h('img', { src: me.avatar_url, alt: '' }));
  else avatar.textContent = initials(me.display_name);
  return avatar;
}

/** Takes a profile the server answered with as mine, everywhere.
 * @param {User} user */
function becomeMe(user) {
  state.me = user;
  users.remember(user);
  emit('me', user);
}


/** @returns {HTMLElement} */
export function profileSection() {
  const me = /** @type {User} */ (state.me);
  const status = h('p', { class: 'muted small', role: 'status' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const say = (/** @type {string} */ done) => { error.textContent = ''; status.textContent = done; };
  const fail = (/** @type {string} */ text) => { status.textContent = ''; error.textContent = text; };

  // --- photo ---
  const avatarHost = h('div', { class: 'profile-avatar-current' }, myAvatar(me, 'large'));
  const fileInput = h('input', { type: 'file', accept: 'image/*', hidden: true, 'aria-label': 'Choose a photo' });
  const chooseButton = h('button', { type: 'button', text: me.avatar_url ? 'Change photo' : 'Add a photo', on: { click: () => fileInput.click() } });
  const cropHost = h('div', { class: 'profile-crop' });
  const avatarRow = h('div', { class: 'profile-avatar-row' }, avatarHost, chooseButton, fileInput);

  pickPhoto({
    fileInput, cropHost, fileName: 'avatar.jpg', status, say, fail,
    save: async (fileId) => {
      const user = await api.updateMe({ avatar_file_id: fileId });
      becomeMe(user);
      avatarHost.replaceChildren(myAvatar(user, 'large'));
      chooseButton.textContent = 'Change photo';
    },
  });

  // --- display name ---
  const nameInput = h('input', { type: 'text', id: 'settings-display-name', value: me.display_name, maxlength: '64', autocomplete: 'name', required: true });
  const nameForm = h('form', {
    class: 'field',
    on: {
      submit: async (/** @type {Event} */ event) => {
        event.preventDefault();
        const name = nameInput.value.trim();
        if (!name) {
          fail('Your name cannot be empty.');
          return;
        }
        try {
          const user = await api.updateMe({ display_name: name });
          becomeMe(user);
          nameInput.value = user.display_name;
          if (!user.avatar_url) avatarHost.replaceChildren(myAvatar(user, 'large'));
          say('Name saved.');
        } catch (failure) {
          fail(reason(failure, 'The name could not be saved.'));
        }
      },
    },
  },
  h('label', { for: 'settings-display-name', text: 'Display name' }),
  h('div', { class: 'row' }, nameInput, h('button', { type: 'submit', text: 'Save name' })),
  h('p', { class: 'muted small', text: `Others see this name; they can also find you by @${me.username}.` }));

  return h('section', { class: 'settings-section', 'aria-labelledby': 'settings-profile' },
    h('h3', { class: 'section-title', id: 'settings-profile', text: 'Profile' }),
    avatarRow, cropHost, nameForm, status, error);
}
