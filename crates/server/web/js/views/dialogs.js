// Modal dialogs on the native <dialog> element (focus trapping, Escape
// and the backdrop come with it): a generic frame, a confirmation, and
// the full-size image viewer.

import { h } from '../dom.js';
import { icon } from '../icons.js';

/**
 * Opens a modal with a title and content; removed from the page when
 * closed.
 * @param {string} title
 * @param {(close: () => void) => (Node | null)[]} content
 * @param {{ wide?: boolean }} [options]
 * @returns {HTMLDialogElement}
 */
export function openDialog(title, content, options = {}) {
  const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
  const dialog = h('dialog', { class: `dialog${options.wide ? ' wide' : ''}`, 'aria-labelledby': titleId });
  const close = () => dialog.close();
  dialog.append(
    h('header', { class: 'dialog-head' },
      h('h2', { id: titleId, text: title }),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', on: { click: close } }, icon('close'))),
    ...content(close).filter((node) => node !== null));
  dialog.addEventListener('close', () => dialog.remove());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) close(); // a click on the backdrop
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/**
 * Asks before doing something that cannot be undone.
 * @param {string} title
 * @param {string} text
 * @param {string} confirmLabel
 * @returns {Promise<boolean>}
 */
export function confirmDialog(title, text, confirmLabel) {
  return new Promise((resolve) => {
    let answered = false;
    const dialog = openDialog(title, (close) => [
      h('p', { text }),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'ghost', text: 'Cancel', on: { click: close } }),
        h('button', { type: 'button', class: 'danger', text: confirmLabel, on: { click: () => { answered = true; close(); } } })),
    ]);
    dialog.addEventListener('close', () => resolve(answered));
  });
}

/**
 * Shows an image at full size.
 * @param {import('../types.js').FileRef} file
 */
export function showImage(file) {
  openDialog(file.name, () => [
    h('div', { class: 'lightbox' }, h('img', { src: file.url, alt: file.name })),
    h('div', { class: 'dialog-actions' },
      h('a', { href: file.url, download: file.name, class: 'button-link', text: 'Download' })),
  ], { wide: true });
}
