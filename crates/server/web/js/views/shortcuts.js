// The keyboard shortcuts of the signed-in screen, installed once per page:
// Ctrl+K / Cmd+K opens the quick switcher, Alt+Up / Alt+Down open the
// previous / next chat of the list as it is shown, and `?` (outside text
// fields) lists the shortcuts in a dialog. None of them acts while
// another dialog is open (Ctrl+K in the open switcher only focuses its
// box). On macOS Option+Up/Down moves the caret in a text field, so there
// Alt+Up/Down walks the list only outside text fields.

import { h } from '../dom.js';
import { listedChats } from './chatlist.js';
import { openDialog } from './dialogs.js';
import { openQuickSwitcher } from './quickswitch.js';
import { state } from '../state/store.js';

/** Whether this is a Mac, where Option+Up/Down moves the caret. */
export function isMac() {
  const platform = /** @type {{ userAgentData?: { platform?: string } }} */ (navigator).userAgentData?.platform
    ?? navigator.platform;
  return /^mac/i.test(platform);
}

/** What the `?` dialog lists: keys, then what they do.
 * @returns {[string, string][]} */
export function shortcuts() {
  return [
    ['Ctrl+K (⌘K)', 'Go to a chat by name'],
    isMac()
      ? ['Option+↑ / Option+↓', 'Previous / next chat in the list (outside text fields, where they move the caret)']
      : ['Alt+↑ / Alt+↓', 'Previous / next chat in the list (in the message box too)'],
    ['Tab, then Enter on “…”', 'Open the actions of a message or chat'],
    ['↑ / ↓ in a menu', 'Move between its items; Escape closes it'],
    ['Menu key or Shift+F10', 'Options of the chat in focus'],
    ['Enter', 'Send the message (Shift+Enter: new line)'],
    ['Escape', 'Close a dialog or menu'],
    ['?', 'Show these shortcuts'],
  ];
}

let installed = false;

/** Starts listening (once; later calls do nothing). */
export function installShortcuts() {
  if (installed) return;
  installed = true;
  document.addEventListener('keydown', onKey);
}

/** @param {EventTarget | null} target */
function typingIn(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLTextAreaElement
    || target instanceof HTMLSelectElement
    || (target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit'].includes(target.type));
}

/** @param {KeyboardEvent} event */
function onKey(event) {
  if (!state.me || event.defaultPrevented) return;
  const key = event.key;
  const dialogs = Array.from(document.querySelectorAll('dialog[open]'));
  if ((event.ctrlKey || event.metaKey) && !event.altKey && key.toLowerCase() === 'k') {
    // Not over another dialog (a confirmation, the picker, Chat info…):
    // only into the open switcher.
    if (dialogs.some((dialog) => !dialog.classList.contains('quick-dialog'))) return;
    event.preventDefault();
    openQuickSwitcher();
    return;
  }
  // Inside a dialog (the switcher too) nothing else applies.
  if (dialogs.length) return;
  if (event.altKey && !event.ctrlKey && !event.metaKey && (key === 'ArrowDown' || key === 'ArrowUp')) {
    if (typingIn(event.target) && isMac()) return; // Option+Up/Down moves the caret there
    event.preventDefault();
    step(key === 'ArrowDown' ? 1 : -1);
    return;
  }
  if (key === '?' && !event.ctrlKey && !event.metaKey && !event.altKey && !typingIn(event.target)) {
    event.preventDefault();
    showShortcuts();
  }
}

/** Opens the chat `delta` places from the open one in the list.
 * @param {number} delta */
function step(delta) {
  const chats = listedChats();
  if (!chats.length) return;
  const at = chats.findIndex((chat) => chat.summary.chat_id === state.activeChatId);
  const next = at < 0 ? (delta > 0 ? 0 : chats.length - 1) : Math.min(chats.length - 1, Math.max(0, at + delta));
  if (next === at) return;
  location.hash = `#/chat/${encodeURIComponent(chats[next].summary.chat_id)}`;
}

/** The `?` dialog. */
export function showShortcuts() {
  openDialog('Keyboard shortcuts', () => [
    h('dl', { class: 'shortcut-list' },
      ...shortcuts().flatMap(([keys, what]) => [h('dt', {}, h('kbd', { text: keys })), h('dd', { text: what })])),
  ]);
}
