// The device list of the settings dialog: every live login of my account
// (name, when last active, which one is this device), renamed in place
// and removed with the password. Removing this device signs out here.

import * as api from '../api.js';
import * as session from '../session.js';
import { h } from '../dom.js';
import { dayAndTime } from '../format.js';
import { openDialog } from './dialogs.js';

/** @typedef {import('../types.js').Device} Device */

/** @returns {HTMLElement} */
export function devicesSection() {
  const headingId = `devices-${Math.random().toString(36).slice(2)}`;
  const list = h('ul', { class: 'devices', 'aria-labelledby': headingId });
  const status = h('p', { class: 'muted small', role: 'status' });
  const error = h('p', { class: 'form-error', role: 'alert' });

  async function load() {
    error.textContent = '';
    try {
      const { devices } = await api.devices();
      list.replaceChildren(...devices.map(row));
    } catch (failure) {
      if (failure instanceof session.SessionEnded) return;
      error.textContent = failure instanceof Error ? failure.message : 'The devices could not be loaded.';
    }
  }

  /** @param {Device} device */
  function row(device) {
    const name = device.name || 'Unnamed device';
    const label = device.current ? `${name} (this device)` : name;
    const item = h('li', { class: 'device' });
    const view = () => item.replaceChildren(
      h('span', { class: 'device-names' },
        h('strong', { text: name }),
        device.current ? h('span', { class: 'tag', text: 'this device' }) : null,
        h('span', { class: 'muted small block', text: `Last active ${dayAndTime(device.last_seen_at)}` })),
      h('span', { class: 'device-actions' },
        h('button', { type: 'button', class: 'small-button', text: 'Rename', 'aria-label': `Rename ${label}`, on: { click: edit } }),
        h('button', {
          type: 'button', class: 'small-button danger', text: 'Remove', 'aria-label': `Remove ${label}`,
          on: { click: () => confirmRemoval(device, name, load) },
        })));
    const edit = () => {
      const id = `device-name-${device.device_id}`;
      const input = h('input', { id, value: device.name, maxlength: 64, required: true, autocomplete: 'off' });
      const form = h('form', {
        class: 'rename-form device-rename',
        on: {
          submit: async (/** @type {Event} */ event) => {
            event.preventDefault();
            const wanted = input.value.trim();
            if (!wanted) return;
            try {
              await api.renameDevice(device.device_id, wanted);
              status.textContent = `Renamed to ${wanted}.`;
              await load();
            } catch (failure) {
              error.textContent = failure instanceof Error ? failure.message : 'The device could not be renamed.';
            }
          },
        },
      },
      h('label', { for: id, text: 'Device name' }),
      h('div', { class: 'row' }, input,
        h('button', { type: 'submit', text: 'Save' }),
        h('button', { type: 'button', class: 'ghost', text: 'Cancel', on: { click: view } })));
      item.replaceChildren(form);
      input.focus();
    };
    view();
    return item;
  }

  void load();
  return h('section', { class: 'devices-section', 'aria-labelledby': headingId },
    h('h3', { class: 'section-title', id: headingId, text: 'Devices' }),
    h('p', { class: 'muted small', text: 'Every browser or app you signed in with. Removing one signs it out and stops its notifications.' }),
    list, status, error);
}

/**
 * Asks for the password, then removes the device: this one signs out,
 * another one leaves the list.
 * @param {Device} device
 * @param {string} name
 * @param {() => Promise<void>} reload
 */
function confirmRemoval(device, name, reload) {
  const id = `remove-password-${device.device_id}`;
  const password = h('input', { id, type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'danger', text: 'Remove device' });
  openDialog(`Remove ${name}?`, (close) => [
    h('form', {
      on: {
        submit: async (/** @type {Event} */ event) => {
          event.preventDefault();
          error.textContent = '';
          submit.disabled = true;
          try {
            await api.removeDevice(device.device_id, password.value);
          } catch (failure) {
            submit.disabled = false;
            error.textContent = failure instanceof api.ApiError && failure.code === 'unauthorized'
              ? 'Wrong password.'
              : failure instanceof Error ? failure.message : 'The device could not be removed.';
            return;
          }
          close();
          if (device.current) session.clear();
          else await reload();
        },
      },
    },
    h('p', { text: device.current ? 'This signs you out in this browser.' : 'This signs that device out at once and stops its notifications.' }),
    h('div', { class: 'field' }, h('label', { for: id, text: 'Your password' }), password),
    error,
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'ghost', text: 'Cancel', on: { click: close } }),
      submit)),
  ]);
  password.focus();
}
