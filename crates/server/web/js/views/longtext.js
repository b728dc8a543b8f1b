// Long messages (issue 15 item 7): over LONG_LINES lines or LONG_CHARS
// characters, a message's text is shown cut short with "Show more", and
// "Show less" folds it again. Which ones are open is remembered for the
// page (by message id), so a re-render keeps them open. Only the view
// changes: the text is all there, for search, copy and screen readers
// once opened.

import { h } from '../dom.js';

const LONG_LINES = 30;
const LONG_CHARS = 3000;

/** Message ids the person opened. @type {Set<string>} */
const opened = new Set();

/** @param {string} content */
export function isLong(content) {
  if (content.length > LONG_CHARS) return true;
  let lines = 1;
  for (let at = content.indexOf('\n'); at !== -1; at = content.indexOf('\n', at + 1)) {
    lines += 1;
    if (lines > LONG_LINES) return true;
  }
  return false;
}

/**
 * `text` as is when `content` is short, else folded with a toggle.
 * @param {HTMLElement} text the rendered text of the message
 * @param {string} content what it renders
 * @param {string} messageId
 * @returns {HTMLElement}
 */
export function collapsible(text, content, messageId) {
  if (!isLong(content)) return text;
  const box = h('div', { class: 'long-text' }, text);
  const toggle = h('button', { type: 'button', class: 'show-more', on: { click: () => show(!opened.has(messageId), true) } });
  box.append(toggle);
  /** @param {boolean} open @param {boolean} byHand */
  function show(open, byHand) {
    if (open) opened.add(messageId);
    else opened.delete(messageId);
    box.classList.toggle('collapsed', !open);
    toggle.textContent = open ? 'Show less' : 'Show more';
    toggle.setAttribute('aria-expanded', String(open));
    // Folding a long text can leave its start far above: bring it back.
    if (byHand && !open) box.scrollIntoView({ block: 'nearest' });
  }
  show(opened.has(messageId), false);
  return box;
}
