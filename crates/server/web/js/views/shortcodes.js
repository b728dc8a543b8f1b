// ":shortcode:" in the composer, built like views/mentions.js: while the
// word before the caret is ":" and at least two shortcode characters,
// matching emoji are offered in a list; Up/Down choose, Enter or Tab
// replace ":thu" with the emoji, Escape closes the list (until another
// word is started). Typing a whole ":thumbsup:" turns it into 👍 on the
// closing colon. The emoji list is fetched the first time a shortcode is
// typed (js/emoji.js).

import * as emoji from '../emoji.js';
import { h } from '../dom.js';
import { suggestionList } from './suggestions.js';

const MAX_SUGGESTIONS = 6;

/** @typedef {{ emoji: emoji.Emoji, code: string }} Suggestion */
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
  /** Where the shortcode closed with Escape starts, so it stays closed. */
  let dismissed = -1;
  const list = suggestionList(input, {
    id: `shortcodes-${chatId}`,
    label: 'Emoji',
    className: 'mention-list shortcode-list',
    option: (/** @type {Suggestion} */ option) => [h('span', { class: 'shortcode-emoji', text: option.emoji.e }), h('span', { text: ` :${option.code}:` }),
      h('span', { class: 'muted small', text: ` ${option.emoji.n}` })],
    pick: (option) => {
      const open = before(OPEN);
      if (open) replace(open.start, open.end, option.emoji.e);
    },
    escape: () => { dismissed = before(OPEN)?.start ?? -1; },
  });

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
      list.show([]);
      return;
    }
    if (!data) {
      // First use: fetch the list, then look again at what is typed then.
      void emoji.load().then(update, () => {});
      return;
    }
    const previous = list.current()?.code;
    const options = emoji.completions(data, open.code, MAX_SUGGESTIONS);
    list.show(options, Math.max(0, options.findIndex((option) => option.code === previous)));
  }

  /** @param {number} start @param {number} end @param {string} text */
  function replace(start, end, text) {
    input.setRangeText(text, start, end, 'end');
    emoji.remember(text);
    list.show([]);
    input.dispatchEvent(new Event('input'));
  }

  return { element: list.element, onKeydown: list.onKeydown, update };
}
