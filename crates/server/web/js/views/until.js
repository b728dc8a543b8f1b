// A labelled choice of "until when" (do not disturb, muting a chat): a
// <select> that applies what is picked at once, and says until when the
// current setting lasts. The server keeps only a time, so "until I
// unmute" is a time that never comes (FOREVER).

import { h } from '../dom.js';
import { dayAndTime } from '../format.js';

/** The end of time as the API takes it: "until I turn it off". */
export const FOREVER = '9999-12-31T23:59:59.999Z';

/**
 * @typedef {{ value: string, label: string, until: () => string | null }} Choice
 * `until` null turns the setting off.
 */

/** @param {string | null | undefined} iso */
export function isActive(iso) {
  return Boolean(iso) && Date.parse(/** @type {string} */ (iso)) > Date.now();
}

/** @param {string} iso */
function isForever(iso) {
  return new Date(iso).getUTCFullYear() >= 9999;
}

/**
 * @param {{
 *   label: string,
 *   choices: Choice[],
 *   onWord: string,
 *   foreverNote: string,
 *   onChoose: (until: string | null) => Promise<string | null | undefined>,
 * }} options `choices[0]` is "off"; `onWord` says what is on ("Muted"), `foreverNote` that
 * it lasts until turned off;
 * `onChoose` saves and resolves to what is set now, or reports its
 * failure and throws
 * @returns {{ element: HTMLElement, show: (until: string | null | undefined) => void }}
 */
export function untilPicker(options) {
  const id = `until-${Math.random().toString(36).slice(2)}`;
  const select = h('select', { id });
  const note = h('p', { class: 'muted small', role: 'status', 'aria-live': 'polite' });
  /** @type {string | null | undefined} */
  let shown = null;

  /** @param {string | null | undefined} until */
  const show = (until) => {
    shown = until;
    const active = isActive(until);
    const forever = active && isForever(/** @type {string} */ (until));
    const current = active && !forever
      ? h('option', { value: 'current', text: `Until ${dayAndTime(/** @type {string} */ (until))}` })
      : null;
    select.replaceChildren(...[current, ...options.choices.map((choice) => h('option', { value: choice.value, text: choice.label }))]
      .filter((option) => option !== null));
    const foreverChoice = options.choices.find((choice) => choice.until() === FOREVER);
    select.value = !active ? options.choices[0].value : forever && foreverChoice ? foreverChoice.value : 'current';
    note.textContent = !active ? '' : forever ? options.foreverNote : `${options.onWord} until ${dayAndTime(/** @type {string} */ (until))}`;
  };

  select.addEventListener('change', async () => {
    const choice = options.choices.find((candidate) => candidate.value === select.value);
    if (!choice) return;
    select.disabled = true;
    try {
      show(await options.onChoose(choice.until()));
    } catch {
      show(shown); // what still holds
    } finally {
      select.disabled = false;
    }
  });

  const element = h('div', { class: 'field' }, h('label', { for: id, text: options.label }), select, note);
  return { element, show };
}

/** @param {number} ms from now */
export function fromNow(ms) {
  return new Date(Date.now() + ms).toISOString();
}

/** Tomorrow at `hour`:00, local time. @param {number} hour */
export function tomorrowAt(hour) {
  const at = new Date();
  at.setDate(at.getDate() + 1);
  at.setHours(hour, 0, 0, 0);
  return at.toISOString();
}
