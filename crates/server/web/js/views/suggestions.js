// The suggestion list under the composer's text box, shared by "@"
// mentions (mentions.js) and ":shortcode:" emoji (shortcodes.js): a
// listbox whose selected option is named to the text box
// (aria-activedescendant), Up/Down to move, Enter or Tab to pick (not
// while an IME composes), Escape to close, closed when the box loses
// focus. What the options are and what picking does is the caller's.

import { h } from '../dom.js';

/**
 * @template T
 * @param {HTMLTextAreaElement} input
 * @param {{ id: string, label: string, className: string,
 *   option: (item: T) => (Node | string)[],
 *   pick: (item: T) => void,
 *   escape?: () => void }} how `option` draws an item; `pick` gets the
 *   chosen one after the list has closed; `escape` is told of Escape.
 */
export function suggestionList(input, how) {
  const list = h('ul', { class: how.className, role: 'listbox', id: how.id, 'aria-label': how.label, hidden: true });
  // Several lists may share the text box: name each.
  input.setAttribute('aria-controls', `${input.getAttribute('aria-controls') ?? ''} ${list.id}`.trim());
  input.setAttribute('aria-autocomplete', 'list');
  /** @type {T[]} */
  let items = [];
  let selected = 0;

  function render() {
    list.hidden = items.length === 0;
    list.replaceChildren(...items.map((item, index) => h('li', {
      role: 'option', id: `${list.id}-${index}`, class: 'mention-option', 'aria-selected': String(index === selected),
      on: { mousedown: (/** @type {Event} */ event) => { event.preventDefault(); pick(index); } },
    }, ...how.option(item))));
    if (items.length) input.setAttribute('aria-activedescendant', `${list.id}-${selected}`);
    else if (input.getAttribute('aria-activedescendant')?.startsWith(list.id)) input.removeAttribute('aria-activedescendant');
  }

  /** Shows `next` (none closes the list) with option `at` selected.
   * @param {T[]} next @param {number} [at] */
  function show(next, at = 0) {
    items = next;
    selected = Math.min(Math.max(0, at), Math.max(0, items.length - 1));
    render();
  }

  /** @param {number} index */
  function pick(index) {
    const item = items[index];
    if (item === undefined) return;
    show([]);
    how.pick(item);
  }

  /** @param {KeyboardEvent} event @returns {boolean} whether it was handled */
  function onKeydown(event) {
    // Keys that finish an IME composition belong to it.
    if (!items.length || event.isComposing) return false;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      selected = (selected + (event.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
      render();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      pick(selected);
    } else if (event.key === 'Escape') {
      how.escape?.();
      show([]);
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  input.addEventListener('blur', () => show([]));
  return {
    element: list,
    show,
    onKeydown,
    /** The selected item, if the list is open. @returns {T | undefined} */
    current: () => items[selected],
    /** Where the selection is. */
    selectedIndex: () => selected,
  };
}
