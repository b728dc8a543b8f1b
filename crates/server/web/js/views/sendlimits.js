// The server's limits where someone writes (issue 15 item 7): a character
// counter that appears near the message limit and says how far over it
// is (the composer then refuses to send: nothing is cut off silently),
// and the check of a file's size before its upload starts.

import * as limits from '../limits.js';
import { h } from '../dom.js';

/** The counter appears once this share of the limit is used. */
const SHOW_AT = 0.9;

/**
 * @param {HTMLTextAreaElement} input
 * @param {HTMLButtonElement} send disabled while over the limit
 * @param {HTMLElement} error where the composer says why it did not
 *   send; a "too long" there goes once the text fits again
 * @returns {{ element: HTMLElement, update: () => void, over: () => number, refuse: () => void }}
 *   `over`: how many characters too many (0 when it may be sent)
 */
export function characterCounter(input, send, error) {
  // Asked once per page; asked again here if that failed (offline).
  void limits.load().then(() => update());
  const element = h('span', { class: 'char-counter', 'aria-live': 'polite', hidden: true });
  let excess = 0;
  function update() {
    const max = limits.current().max_message_chars;
    const count = limits.charCount(input.value);
    excess = Math.max(0, count - max);
    element.hidden = count < max * SHOW_AT;
    element.classList.toggle('over', excess > 0);
    element.textContent = excess > 0
      ? `${excess.toLocaleString()} too many (${count.toLocaleString()} / ${max.toLocaleString()})`
      : `${count.toLocaleString()} / ${max.toLocaleString()}`;
    input.toggleAttribute('aria-invalid', excess > 0);
    send.disabled = excess > 0;
    if (!excess && error.dataset.reason === 'too-long') {
      error.textContent = '';
      delete error.dataset.reason;
    }
  }
  /** Says, in `error`, that the text is too long to send. */
  function refuse() {
    error.textContent = tooLongMessage(excess);
    error.dataset.reason = 'too-long';
  }
  return { element, update, over: () => excess, refuse };
}

/** What the composer says when a message is over the limit.
 * @param {number} excess */
function tooLongMessage(excess) {
  const max = limits.current().max_message_chars;
  return `This message is ${excess.toLocaleString()} ${excess === 1 ? 'character' : 'characters'} too long: messages can be up to ${max.toLocaleString()} characters. Shorten it or send it in parts.`;
}

/**
 * Splits files into those the server takes and a sentence naming the
 * others ('' when all fit).
 * @param {File[]} files
 * @returns {{ fits: File[], refusal: string }}
 */
export function checkSizes(files) {
  const max = limits.current().max_upload_bytes;
  const fits = files.filter((file) => file.size <= max);
  const big = files.filter((file) => file.size > max);
  if (!big.length) return { fits, refusal: '' };
  const names = big.map((file) => `“${file.name || 'pasted file'}”`).join(', ');
  const verb = big.length === 1 ? 'is' : 'are';
  return { fits, refusal: `${names} ${verb} too big to send. Files can be up to ${limits.sizeLabel(max)}.` };
}
