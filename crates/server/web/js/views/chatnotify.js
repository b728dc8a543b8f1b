// The "Notifications" part of the chat info dialog: how much of this chat
// notifies me (all messages, mentions only, nothing) and muting it for a
// while or until I unmute. Saved on the server at once (they hold for
// every device, with or without push on this one).

import * as api from '../api.js';
import { FOREVER, fromNow, untilPicker } from './until.js';
import { h } from '../dom.js';

/** @typedef {import('../types.js').ChatNotifications} ChatNotifications */
/** @typedef {import('../types.js').NotificationLevel} NotificationLevel */

const HOUR = 3_600_000;

/** @type {[NotificationLevel, string][]} */
const LEVELS = [['all', 'All messages'], ['mentions', 'Mentions only'], ['none', 'Nothing']];

/**
 * @param {string} chatId
 * @param {import('../types.js').ChatType} chatType
 * @returns {HTMLElement}
 */
export function chatNotifications(chatId, chatType) {
  const headingId = `chat-notify-${Math.random().toString(36).slice(2)}`;
  const error = h('p', { class: 'form-error', role: 'alert' });
  /** Until the server answers: its defaults. @type {ChatNotifications} */
  let settings = { level: chatType === 'channel' ? 'mentions' : 'all', muted_until: null };

  const radios = LEVELS.map(([value]) => h('input', {
    type: 'radio', name: `${headingId}-level`, value,
    on: { change: () => void save({ ...settings, level: value }).catch(() => {}) },
  }));
  const levels = h('fieldset', { class: 'kinds' },
    h('legend', { text: 'Notify me about' }),
    ...LEVELS.map(([, label], index) => h('label', { class: 'radio' }, radios[index], ` ${label}`)));
  const mute = untilPicker({
    label: 'Mute notifications',
    onWord: 'Muted',
    foreverNote: 'Muted until you unmute',
    choices: [
      { value: 'off', label: 'Not muted', until: () => null },
      { value: '1h', label: 'For 1 hour', until: () => fromNow(HOUR) },
      { value: '8h', label: 'For 8 hours', until: () => fromNow(8 * HOUR) },
      { value: '1w', label: 'For 1 week', until: () => fromNow(7 * 24 * HOUR) },
      { value: 'forever', label: 'Until I unmute', until: () => FOREVER },
    ],
    onChoose: async (until) => (await save({ ...settings, muted_until: until })).muted_until,
  });

  /** @param {ChatNotifications} next */
  function show(next) {
    settings = next;
    for (const radio of radios) radio.checked = radio.value === next.level;
    mute.show(next.muted_until);
  }

  /** @param {ChatNotifications} next */
  async function save(next) {
    error.textContent = '';
    try {
      const saved = await api.setChatNotifications(chatId, { level: next.level, muted_until: next.muted_until ?? null });
      show(saved);
      return saved;
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : 'That did not work.';
      show(settings);
      throw failure;
    }
  }

  // Closed until the settings are in, so that a choice is not overwritten.
  const controls = h('fieldset', { class: 'plain', disabled: true }, levels, mute.element);
  show(settings);
  api.chatNotifications(chatId).then((loaded) => {
    show(loaded);
    controls.disabled = false;
  }, () => {
    error.textContent = 'The notification settings could not be loaded.';
  });
  return h('section', { class: 'notify-settings', 'aria-labelledby': headingId },
    h('h3', { class: 'section-title', id: headingId, text: 'Notifications' }), controls, error);
}
