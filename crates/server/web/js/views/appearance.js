// The "Appearance" section of Settings: the theme, system (the default),
// light or dark, for this browser (theme.js keeps and applies it).

import * as theme from '../theme.js';
import { h } from '../dom.js';

/** @type {{ value: import('../theme.js').Theme, label: string }[]} */
const CHOICES = [
  { value: 'system', label: 'System' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

/** @returns {HTMLElement} */
export function appearanceSection() {
  const chosen = theme.current();
  const choices = h('fieldset', { class: 'theme-choices' },
    h('legend', { class: 'visually-hidden', text: 'Theme' }),
    ...CHOICES.map(({ value, label }) => {
      const id = `settings-theme-${value}`;
      const radio = h('input', {
        type: 'radio', name: 'settings-theme', id, value, checked: value === chosen,
        on: { change: () => theme.choose(value) },
      });
      return h('label', { for: id }, radio, label);
    }));
  return h('section', { class: 'settings-section', 'aria-labelledby': 'settings-appearance' },
    h('h3', { class: 'section-title', id: 'settings-appearance', text: 'Appearance' }),
    choices,
    h('p', { class: 'muted small', text: 'System follows your device’s light or dark setting. Kept in this browser.' }));
}
