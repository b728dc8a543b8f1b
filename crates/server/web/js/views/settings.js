// The "Settings" dialog, opened from the sidebar: my profile (name and
// photo, profile.js), my password (password.js), the theme
// (appearance.js), my notification settings for all chats (do not
// disturb, keywords that notify me like a mention, previews of the text
// in notifications), link previews and calls (this device's) and my
// devices. Each change is saved at once.

import * as api from '../api.js';
import { fromNow, tomorrowAt, untilPicker } from './until.js';
import { appearanceSection } from './appearance.js';
import { devicesSection } from './devices.js';
import { defaultPreviewsSection } from './linkpreview.js';
import { h } from '../dom.js';
import { openDialog } from './dialogs.js';
import { passwordSection } from './password.js';
import { profileSection } from './profile.js';
import { relaySettingsSection } from './call.js';

/** @typedef {import('../types.js').MyNotifications} MyNotifications */

const HOUR = 3_600_000;

export function openSettings() {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const saved = h('p', { class: 'muted small', role: 'status' });
  /** @type {MyNotifications} */
  let settings = { dnd_until: null, keywords: [], previews: true };

  const dnd = untilPicker({
    label: 'Do not disturb',
    onWord: 'Do not disturb is on',
    foreverNote: 'Do not disturb is on until you turn it off',
    choices: [
      { value: 'off', label: 'Off', until: () => null },
      { value: '1h', label: 'For 1 hour', until: () => fromNow(HOUR) },
      { value: 'tomorrow', label: 'Until tomorrow at 8:00', until: () => tomorrowAt(8) },
    ],
    onChoose: async (until) => (await save({ dnd_until: until }, 'Do not disturb saved.')).dnd_until,
  });

  const keywordsInput = h('input', { id: 'settings-keywords', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'settings-keywords-hint' });
  const keywords = h('form', {
    class: 'rename-form',
    on: {
      submit: (/** @type {Event} */ event) => {
        event.preventDefault();
        const words = keywordsInput.value.split(/[\s,]+/).filter(Boolean);
        void save({ keywords: words }, 'Keywords saved.').catch(() => {});
      },
    },
  },
  h('label', { for: 'settings-keywords', text: 'Keywords' }),
  h('div', { class: 'row' }, keywordsInput, h('button', { type: 'submit', text: 'Save keywords' })),
  h('p', { id: 'settings-keywords-hint', class: 'muted small', text: 'Words that notify you like a mention, also in chats set to mentions only. Separate them with commas.' }));

  const previews = h('input', {
    type: 'checkbox', id: 'settings-previews',
    on: { change: () => void save({ previews: previews.checked }, 'Previews saved.').catch(() => {}) },
  });
  const previewsRow = h('div', { class: 'check-row' },
    previews, h('label', { for: 'settings-previews', text: 'Show the message and its sender in notifications' }));

  /** @param {MyNotifications} next */
  function show(next) {
    settings = next;
    dnd.show(next.dnd_until);
    keywordsInput.value = next.keywords.join(', ');
    previews.checked = next.previews;
  }

  /**
   * @param {import('../types.js').MyNotificationsUpdate} update
   * @param {string} done what to say when it is saved
   */
  async function save(update, done) {
    error.textContent = '';
    saved.textContent = '';
    try {
      const next = await api.updateMyNotifications(update);
      show(next);
      saved.textContent = done;
      return next;
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : 'That did not work.';
      show(settings);
      throw failure;
    }
  }

  // Closed until the settings are in, so that a choice is not overwritten.
  const controls = h('fieldset', { class: 'plain', disabled: true }, dnd.element, keywords, previewsRow);
  show(settings);
  api.myNotifications().then((loaded) => {
    show(loaded);
    controls.disabled = false;
  }, () => {
    error.textContent = 'The notification settings could not be loaded.';
  });

  // A password change ends the other devices: list them afresh.
  const devicesHost = h('div', { class: 'settings-section' }, devicesSection());
  openDialog('Settings', () => [
    profileSection(),
    passwordSection({ onChanged: () => devicesHost.replaceChildren(devicesSection()) }),
    appearanceSection(),
    h('section', { class: 'notify-settings settings-section', 'aria-labelledby': 'settings-notifications' },
      h('h3', { class: 'section-title', id: 'settings-notifications', text: 'Notifications' }),
      controls, saved, error),
    defaultPreviewsSection(),
    relaySettingsSection(),
    devicesHost,
  ]);
}
