// ":shortcode:" in the composer, built like views/mentions.js: while the
// word before the caret is ":" and at least two shortcode characters,
// matching emoji are offered in a list; Up/Down choose, Enter or Tab
// replace ":thu" with the emoji, Escape closes the list (until another
// word is started). Typing a whole ":thumbsup:" turns it into 👍 on the
// closing colon. The emoji list is fetched the first time a shortcode is
// typed (js/emoji.js).

import * as emoji from '../emoji.js';
import { h } from '../dom.js';

const MAX_SUGGESTIONS = 6;
/** A shortcode being typed: after a space, "(" or the start. */
const OPEN = /(^|[\s(]):([a-z0-9_+-]{2,})$/i;
/** A finished shortcode, just closed with ":". */
const CLOSED = /(^|[\s(]):([a-z0-9_+-]+):$/i;

/**
 * @param {HTMLTextAreaElement} input
 * @param {string} chatId
 * @returns {{ element: HTMLElement, onKeydown: (event: KeyboardEvent) => boolean, update: () => void }}
 */
export function shortcodeSuggestions(input, chatId) {
  const list = h('ul', { class: 'mention-list shortcode-list', role: 'listbox', id: `shortcodes-${chatId}`, 'aria-label': 'Emoji', hidden: true });
  // The mention list shares the text box: name both.
  input.setAttribute('aria-controls', `${input.getAttribute('aria-controls') ?? ''} ${list.id}`.trim());
  input.setAttribute('aria-autocomplete', 'list');
  /** @type {{ emoji: emoji.Emoji, code: string }[]} */
  let options = [];
  let selected = 0;
  /** Where the shortcode closed with Escape starts, so it stays closed. */
  let dismissed = -1;

  /** @param {RegExp} pattern */
  function before(pattern) {
    const caret = input.selectionStart ?? input.value.length;
    if (caret !== (input.selectionEnd ?? caret)) return null;
    const text = input.value.slice(0, caret);
    const match = pattern.exec(text);
    if (!match) return null;
    return { code: match[2].toLowerCase(), start: match.index + match[1].length, end: caret };
  }

  function update() {
    const data = emoji.ready();
    const closed = before(CLOSED);
    if (closed) {
      if (!data) {
        void emoji.load().then(update, () => {});
        return;
      }
      const found = emoji.byShortcode(data, closed.code);
      if (found) {
        replace(closed.start, closed.end, found.e);
        return;
      }
    }
    const open = before(OPEN);
    if (!open || open.start === dismissed) {
      if (!open) dismissed = -1;
      options = [];
      render();
      return;
    }
    if (!data) {
      // First use: fetch the list, then look again at what is typed then.
      void emoji.load().then(update, () => {});
      return;
    }
    const previous = options[selected]?.code;
    options = emoji.completions(data, open.code, MAX_SUGGESTIONS);
    const again = options.findIndex((option) => option.code === previous);
    selected = again >= 0 ? again : 0;
    render();
  }

  function render() {
    list.hidden = options.length === 0;
    list.replaceChildren(...options.map((option, index) => h('li', {
      role: 'option', id: `${list.id}-${index}`, class: 'mention-option shortcode-option', 'aria-selected': String(index === selected),
      on: { mousedown: (/** @type {Event} */ event) => { event.preventDefault(); choose(index); } },
    }, h('span', { class: 'shortcode-emoji', text: option.emoji.e }), h('span', { text: ` :${option.code}:` }),
    h('span', { class: 'muted small', text: ` ${option.emoji.n}` }))));
    if (options.length) input.setAttribute('aria-activedescendant', `${list.id}-${selected}`);
    else if (input.getAttribute('aria-activedescendant')?.startsWith(list.id)) input.removeAttribute('aria-activedescendant');
  }

  /** @param {number} start @param {number} end @param {string} text */
  function replace(start, end, text) {
    input.setRangeText(text, start, end, 'end');
    emoji.remember(text);
    options = [];
    render();
    input.dispatchEvent(new Event('input'));
  }

  /** @param {number} index */
  function choose(index) {
    const option = options[index];
    const open = before(OPEN);
    if (!option || !open) return;
    replace(open.start, open.end, option.emoji.e);
  }

  /** @param {KeyboardEvent} event @returns {boolean} whether it was handled */
  function onKeydown(event) {
    if (!options.length || event.isComposing) return false;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      selected = (selected + (event.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
      render();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      choose(selected);
    } else if (event.key === 'Escape') {
      dismissed = before(OPEN)?.start ?? -1;
      options = [];
      render();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  input.addEventListener('blur', () => {
    options = [];
    render();
  });
  return { element: list, onKeydown, update };
}
