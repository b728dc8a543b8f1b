// A small popup menu (WAI-ARIA menu button pattern) shared by the chat
// list's and the messages' "…" buttons: opens next to its button with
// the first item focused; Up/Down (wrapping), Home and End move; Enter
// or Space choose; Escape, Tab or a click elsewhere close it and focus
// goes back to the button; a second click on the button closes it too.
// It also closes when what it was opened for goes out of sight: another
// chat opened (the hash or the active chat changes), the window losing
// focus or changing size (its place would be stale). One menu is open at
// a time.

import { h } from '../dom.js';
import { on } from '../state/store.js';

/**
 * @typedef {{ label: string, run: () => unknown, danger?: boolean }} MenuItem
 * @typedef {{
 *   label: string,
 *   at?: { x: number, y: number },
 *   returnFocus?: () => HTMLElement | null,
 * }} MenuOptions
 */

/** @type {(() => void) | null} */
let closeOpen = null;
/** The button of the open menu. @type {HTMLElement | null} */
let openAnchor = null;

/** Closes the open menu, if any. */
export function closeMenu() {
  closeOpen?.();
}

/**
 * Opens a menu for `anchor` (the button that opens it; its
 * `aria-expanded` follows the menu). `at` places it at a point instead
 * (a right click). `returnFocus` finds where focus goes back to when the
 * anchor was rebuilt meanwhile. Called again for the anchor whose menu
 * is open (a second click on "…"), it closes that menu instead and
 * returns null.
 * @param {HTMLElement} anchor
 * @param {MenuItem[]} items
 * @param {MenuOptions} options
 * @returns {HTMLElement | null}
 */
export function openMenu(anchor, items, options) {
  if (closeOpen && openAnchor === anchor) {
    closeMenu();
    anchor.focus();
    return null;
  }
  closeMenu();
  const buttons = items.map((item) => h('button', {
    type: 'button', role: 'menuitem', tabindex: '-1', class: item.danger ? 'danger-text' : undefined, text: item.label,
  }));
  const menu = h('div', { class: 'popmenu', role: 'menu', 'aria-label': options.label }, ...buttons);
  /** @param {number} index */
  const focusAt = (index) => buttons[(index + buttons.length) % buttons.length]?.focus();
  const back = () => {
    const target = anchor.isConnected ? anchor : options.returnFocus?.() ?? null;
    target?.focus();
  };

  /** @param {boolean} restoreFocus */
  const close = (restoreFocus) => {
    if (closeOpen !== onClose) return;
    closeOpen = null;
    openAnchor = null;
    menu.remove();
    anchor.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    removeEventListener('hashchange', onClose);
    removeEventListener('resize', onClose);
    removeEventListener('blur', onBlur);
    offActive();
    if (restoreFocus) back();
  };
  const onClose = () => close(false);
  /** Only the window's own blur (focus left the page), not an element's.
   * @param {FocusEvent} event */
  const onBlur = (event) => {
    if (event.target === window) close(false);
  };
  /** @type {() => void} */
  let offActive = () => {};
  /** @param {PointerEvent} event */
  const outside = (event) => {
    if (event.target instanceof Node && (menu.contains(event.target) || anchor.contains(event.target))) return;
    close(false);
  };

  buttons.forEach((button, index) => {
    button.addEventListener('click', () => {
      close(true);
      void Promise.resolve().then(() => items[index].run()).catch(() => {});
    });
  });
  menu.addEventListener('keydown', (event) => {
    const current = buttons.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    if (event.key === 'ArrowDown') focusAt(current + 1);
    else if (event.key === 'ArrowUp') focusAt(current - 1);
    else if (event.key === 'Home') focusAt(0);
    else if (event.key === 'End') focusAt(buttons.length - 1);
    else if (event.key === 'Escape') close(true);
    else if (event.key === 'Tab') close(true);
    else return;
    event.preventDefault();
    event.stopPropagation();
  });

  // Inside an open modal dialog the menu must be in it to be usable.
  const host = anchor.closest('dialog[open]') ?? document.body;
  host.append(menu);
  place(menu, anchor, options.at);
  anchor.setAttribute('aria-expanded', 'true');
  closeOpen = onClose;
  openAnchor = anchor;
  document.addEventListener('pointerdown', outside, true);
  addEventListener('hashchange', onClose);
  addEventListener('resize', onClose);
  addEventListener('blur', onBlur);
  offActive = on('active', onClose);
  focusAt(0);
  return menu;
}

/**
 * Puts the menu below its button (or at a point), inside the viewport.
 * @param {HTMLElement} menu @param {HTMLElement} anchor @param {{ x: number, y: number } | undefined} at
 */
function place(menu, anchor, at) {
  const rect = anchor.getBoundingClientRect();
  const width = menu.offsetWidth;
  const height = menu.offsetHeight;
  let left = at ? at.x : rect.right - width;
  let top = at ? at.y : rect.bottom + 4;
  if (top + height > innerHeight - 4) top = Math.max(4, (at ? at.y : rect.top - 4) - height);
  left = Math.min(Math.max(4, left), innerWidth - width - 4);
  menu.style.left = `${Math.round(left)}px`;
  menu.style.top = `${Math.round(top)}px`;
}
