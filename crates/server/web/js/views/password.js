// The "Password" section of Settings: the current password, the new one
// twice. Changing it signs me out everywhere else at once (the server
// ends every other session), which the section says before and after.

import * as api from '../api.js';
import { h } from '../dom.js';

/**
 * @param {{ onChanged: () => void }} actions `onChanged`: other devices are gone
 * @returns {HTMLElement}
 */
export function passwordSection(actions) {
  const status = h('p', { class: 'muted small', role: 'status' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  /** @param {string} id @param {string} label @param {string} autocomplete */
  const field = (id, label, autocomplete) => {
    const input = h('input', { type: 'password', id, autocomplete, required: true });
    return { input, element: h('div', { class: 'field' }, h('label', { for: id, text: label }), input) };
  };
  const current = field('settings-current-password', 'Current password', 'current-password');
  const next = field('settings-new-password', 'New password', 'new-password');
  const again = field('settings-new-password-again', 'New password again', 'new-password');
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Change password' });

  const form = h('form', {
    on: {
      submit: async (/** @type {Event} */ event) => {
        event.preventDefault();
        status.textContent = '';
        error.textContent = '';
        if (next.input.value.length < 8) {
          error.textContent = 'The new password needs at least 8 characters.';
          next.input.focus();
          return;
        }
        if (next.input.value !== again.input.value) {
          error.textContent = 'The new passwords do not match.';
          again.input.focus();
          return;
        }
        submit.disabled = true;
        try {
          await api.changePassword(current.input.value, next.input.value);
          for (const input of [current.input, next.input, again.input]) input.value = '';
          status.textContent = 'Password changed. You were signed out on your other devices.';
          actions.onChanged();
        } catch (failure) {
          const code = failure instanceof api.ApiError ? failure.code : '';
          error.textContent = code === 'unauthorized'
            ? 'The current password is wrong.'
            : code === 'rate_limited'
              ? 'Too many tries. Wait a minute and try again.'
              : failure instanceof Error ? failure.message : 'The password could not be changed.';
          if (code === 'unauthorized') current.input.select();
        } finally {
          submit.disabled = false;
        }
      },
    },
  },
  current.element, next.element, again.element,
  h('p', { class: 'muted small', text: 'At least 8 characters. Changing it signs you out on every other device.' }),
  h('div', { class: 'settings-actions' }, submit));

  return h('section', { class: 'settings-section', 'aria-labelledby': 'settings-password' },
    h('h3', { class: 'section-title', id: 'settings-password', text: 'Password' }),
    form, status, error);
}
