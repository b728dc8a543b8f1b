// The emoji picker: a modal <dialog> (focus stays inside, Escape closes)
// with a search box, one tab per Unicode group, "Recently used" first,
// and every emoji as a button named by its Unicode name. Used for
// reactions (the palette's "More reactions") and by the composer's emoji
// button. Keyboard: arrows move through the grid (Up/Down by row, also
// across groups), Home/End, Enter picks, ArrowDown from the search box
// enters the grid and Enter there picks the first match. On a phone it
// is a sheet along the bottom of the screen; elsewhere it opens beside
// the button that opened it. Closing returns focus to that button (or to
// what `returnFocus` names when the button is gone).

import * as emoji from '../emoji.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';

/** At most this many search results are shown. */
const MAX_RESULTS = 160;
const PHONE = '(max-width: 700px)';

/**
 * @typedef {{
 *   title: string,
 *   anchor: HTMLElement,
 *   onPick: (emoji: string) => boolean | void,
 *   returnFocus?: () => HTMLElement | null,
 * }} PickerOptions
 */
// `onPick` returns true when it has put the focus somewhere itself (the
// composer's text box); otherwise focus goes back to `anchor`, or where
// `returnFocus` says when the anchor was replaced meanwhile.

/**
 * Opens the picker; it closes itself after a pick or on Escape.
 * @param {PickerOptions} options
 * @returns {HTMLDialogElement}
 */
export function openEmojiPicker(options) {
  const search = h('input', {
    type: 'search', class: 'emoji-search', placeholder: 'Search emoji', 'aria-label': 'Search emoji',
    autocomplete: 'off', spellcheck: 'false', enterkeyhint: 'search',
  });
  const closeButton = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', title: 'Close' }, icon('close'));
  const tabs = h('div', { class: 'emoji-tabs', role: 'group', 'aria-label': 'Emoji groups' });
  const status = h('p', { class: 'emoji-status', role: 'status', text: 'Loading emoji…' });
  const body = h('div', { class: 'emoji-scroll' });
  const dialog = h('dialog', { class: 'emoji-picker', 'aria-label': options.title },
    h('div', { class: 'emoji-head' }, h('span', { class: 'emoji-search-icon' }, icon('search')), search, closeButton),
    tabs, status, body);
  /** @type {emoji.EmojiData | null} */
  let data = emoji.ready();
  /** @type {HTMLButtonElement | null} the grid's one tabbable button */
  let current = null;
  let picked = false;
  let focusHandled = false;

  function close() {
    dialog.close();
  }

  /** @param {string} glyph */
  function pick(glyph) {
    if (picked) return;
    picked = true;
    emoji.remember(glyph);
    close();
    focusHandled = options.onPick(glyph) === true;
  }

  /**
   * A section of emoji buttons under a heading.
   * @param {string} key @param {string} label @param {emoji.Emoji[]} list
   */
  function section(key, label, list) {
    const headingId = `emoji-group-${key}-${Math.random().toString(36).slice(2, 8)}`;
    return h('section', { class: 'emoji-section', 'data-group': key, 'aria-labelledby': headingId },
      h('h3', { class: 'emoji-group-title', id: headingId, text: label }),
      h('div', { class: 'emoji-grid', role: 'group', 'aria-labelledby': headingId },
        ...list.map((item) => h('button', {
          type: 'button', class: 'emoji-option', tabindex: -1, 'aria-label': item.n,
          title: item.s.length ? `${item.n} :${item.s[0]}:` : item.n, text: item.e,
          'data-emoji': item.e,
        }))));
  }

  function renderGroups() {
    if (!data) return;
    const loadedData = data;
    const recent = emoji.recent()
      .map((glyph) => loadedData.byEmoji.get(glyph) ?? { e: glyph, n: glyph, g: 'recent', s: [] });
    const groups = [
      ...(recent.length ? [{ key: 'recent', label: 'Recently used', icon: 'clock', list: recent }] : []),
      ...emoji.GROUPS.map((group) => ({ ...group, list: loadedData.byGroup.get(group.key) ?? [] })),
    ].filter((group) => group.list.length);
    body.replaceChildren(...groups.map((group) => section(group.key, group.label, group.list)));
    tabs.replaceChildren(...groups.map((group, index) => h('button', {
      type: 'button', class: 'emoji-tab', 'aria-label': group.label, title: group.label,
      'aria-current': index === 0 ? 'true' : false, 'data-group': group.key,
      on: { click: () => showGroup(group.key) },
    }, icon(group.icon))));
    tabs.hidden = false;
    status.textContent = '';
    status.hidden = true;
    setCurrent(firstOption());
  }

  function renderResults() {
    if (!data) return;
    const query = search.value.trim();
    if (!query) {
      renderGroups();
      return;
    }
    const found = emoji.search(data, query, MAX_RESULTS);
    tabs.hidden = true;
    status.hidden = false;
    status.textContent = found.length ? `${found.length === MAX_RESULTS ? 'Many' : found.length} found` : `No emoji match “${query}”`;
    body.replaceChildren(found.length ? section('results', 'Search results', found) : '');
    body.scrollTop = 0;
    setCurrent(firstOption());
  }

  /** @param {string} key */
  function showGroup(key) {
    const target = body.querySelector(`section[data-group="${key}"]`);
    if (!(target instanceof HTMLElement)) return;
    // The scroll box is the sections' offset parent (position: relative).
    body.scrollTop = target.offsetTop;
    markTab(key);
    const first = target.querySelector('.emoji-option');
    if (first instanceof HTMLButtonElement) setCurrent(first);
  }

  /** @param {string} key */
  function markTab(key) {
    for (const tab of tabs.querySelectorAll('.emoji-tab')) {
      if (tab instanceof HTMLElement && tab.dataset.group === key) tab.setAttribute('aria-current', 'true');
      else tab.removeAttribute('aria-current');
    }
  }

  body.addEventListener('scroll', () => {
    if (tabs.hidden) return;
    let key = '';
    for (const node of body.querySelectorAll('.emoji-section')) {
      if (node instanceof HTMLElement && node.offsetTop <= body.scrollTop + 8) key = node.dataset.group ?? '';
    }
    if (key) markTab(key);
  }, { passive: true });

  function allOptions() {
    return /** @type {HTMLButtonElement[]} */ (Array.from(body.querySelectorAll('.emoji-option')));
  }

  function firstOption() {
    const first = body.querySelector('.emoji-option');
    return first instanceof HTMLButtonElement ? first : null;
  }

  /** @param {HTMLButtonElement | null} button */
  function setCurrent(button) {
    if (current && current !== button) current.tabIndex = -1;
    current = button;
    if (button) button.tabIndex = 0;
  }

  /** @param {HTMLButtonElement} button */
  function moveTo(button) {
    setCurrent(button);
    button.focus();
    button.scrollIntoView({ block: 'nearest' });
  }

  /**
   * The button a row above or below `from`, nearest in x: rows are read
   * from the layout, so this works across groups and any column count.
   * @param {HTMLButtonElement[]} all @param {number} at @param {1 | -1} step
   */
  function vertical(all, at, step) {
    const from = all[at].getBoundingClientRect();
    /** @type {HTMLButtonElement | null} */
    let best = null;
    let rowTop = NaN;
    let bestGap = Infinity;
    // Two rows' worth of neighbours hold the nearest row.
    for (let i = at + step; i >= 0 && i < all.length && Math.abs(i - at) <= 64; i += step) {
      const rect = all[i].getBoundingClientRect();
      const beyond = step > 0 ? rect.top > from.top + 2 : rect.top < from.top - 2;
      if (!beyond) continue;
      if (Number.isNaN(rowTop)) rowTop = rect.top;
      else if (Math.abs(rect.top - rowTop) > 2) break;
      const gap = Math.abs(rect.left - from.left);
      if (gap < bestGap) {
        bestGap = gap;
        best = all[i];
      }
    }
    return best;
  }

  body.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target.closest('.emoji-option') : null;
    if (target instanceof HTMLElement && target.dataset.emoji) pick(target.dataset.emoji);
  });

  body.addEventListener('focusin', (event) => {
    if (event.target instanceof HTMLButtonElement && event.target.classList.contains('emoji-option')) setCurrent(event.target);
  });

  body.addEventListener('keydown', (event) => {
    const all = allOptions();
    const at = current ? all.indexOf(current) : -1;
    if (at < 0) return;
    /** @type {HTMLButtonElement | null} */
    let next = null;
    if (event.key === 'ArrowRight') next = all[at + 1] ?? null;
    else if (event.key === 'ArrowLeft') next = all[at - 1] ?? null;
    else if (event.key === 'ArrowDown') next = vertical(all, at, 1);
    else if (event.key === 'ArrowUp') {
      next = vertical(all, at, -1);
      if (!next) {
        event.preventDefault();
        search.focus();
        return;
      }
    } else if (event.key === 'Home') next = all[0];
    else if (event.key === 'End') next = all[all.length - 1];
    else return;
    event.preventDefault();
    if (next) moveTo(next);
  });

  search.addEventListener('input', renderResults);
  search.addEventListener('keydown', (event) => {
    // Keys that finish an IME composition belong to it.
    if (event.isComposing) return;
    if (event.key === 'ArrowDown' && current) {
      event.preventDefault();
      moveTo(current);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const first = search.value.trim() ? firstOption() : null;
      if (first?.dataset.emoji) pick(first.dataset.emoji);
    }
  });

  closeButton.addEventListener('click', close);
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) close(); // a click on the backdrop
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    // After the caller's re-render (a microtask), which may have replaced
    // the button that opened the picker.
    setTimeout(() => {
      if (!focusHandled) restoreFocus(options);
    }, 0);
  });

  document.body.append(dialog);
  dialog.showModal();
  place(dialog, options.anchor);
  search.focus();
  if (data) renderGroups();
  else {
    tabs.hidden = true;
    emoji.load().then((list) => {
      data = list;
      if (dialog.open) renderResults();
    }, () => {
      status.textContent = 'Could not load the emoji list. Close and try again.';
    });
  }
  return dialog;
}

/** How long focus follows a rebuilt view after the picker closed (ms). */
const FOLLOW_MS = 4000;

/**
 * Focus back to the anchor, or where `returnFocus` says once the anchor
 * is gone. The view may be rebuilt again a little later (a reaction is
 * drawn once when picked and again when the server confirms it), which
 * drops the focus to the page: for a few seconds, while nothing else has
 * taken it, it is put back each time.
 * @param {PickerOptions} options
 */
function restoreFocus(options) {
  let target = options.anchor.isConnected ? options.anchor : options.returnFocus?.() ?? null;
  if (!target) return;
  target.focus();
  const observer = new MutationObserver(() => {
    if (!target || target.isConnected) return;
    if (document.activeElement && document.activeElement !== document.body) {
      observer.disconnect();
      return;
    }
    target = options.returnFocus?.() ?? null;
    target?.focus();
  });
  observer.observe(document.body, { childList: true, subtree: true });
  setTimeout(() => observer.disconnect(), FOLLOW_MS);
}

/**
 * Beside the anchor (above it when there is room, else below), inside the
 * window; a phone's layout is CSS's (a bottom sheet).
 * @param {HTMLDialogElement} dialog @param {HTMLElement} anchor
 */
function place(dialog, anchor) {
  if (window.matchMedia(PHONE).matches) return;
  const margin = 8;
  const from = anchor.getBoundingClientRect();
  const size = dialog.getBoundingClientRect();
  let top = from.top - size.height - margin;
  if (top < margin) top = Math.min(from.bottom + margin, window.innerHeight - size.height - margin);
  const left = Math.min(from.left, window.innerWidth - size.width - margin);
  dialog.style.top = `${Math.max(margin, top)}px`;
  dialog.style.left = `${Math.max(margin, left)}px`;
}
