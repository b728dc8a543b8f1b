// The avatar crop before upload: the chosen picture in a round frame, to
// be moved (drag, or the arrow keys) and zoomed (the slider, the wheel, or
// + and -) until the face is where it should be; the square under the
// frame is what gets uploaded, 512 px, as JPEG. Decoding happens here, in
// the browser, so a file that is no picture is refused before any upload.

import { h } from '../dom.js';
import { upload } from '../upload.js';

/** Side of the uploaded square, px: sharp at twice the largest size shown. */
const OUTPUT = 512;
/** Side of the preview canvas's bitmap (shown at 240 CSS px). */
const VIEW = 480;
/** How far the arrow keys move the picture, in preview px. */
const STEP = 16;

/**
 * @typedef {{
 *   element: HTMLElement,
 *   toBlob: () => Promise<Blob>,
 * }} Cropper
 */

/**
 * Decodes `file` and returns the crop control; rejects with a sentence
 * for a person if it is not a picture the browser can read.
 * @param {File} file
 * @returns {Promise<Cropper>}
 */
export async function cropper(file) {
  /** @type {ImageBitmap} */
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`“${file.name}” is not a picture this browser can open.`);
  }
  const canvas = h('canvas', {
    width: VIEW, height: VIEW, tabindex: '0', role: 'img',
    'aria-label': 'Avatar preview. Drag or use the arrow keys to move the picture, + and - to zoom.',
  });
  const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  // `cover`: the smallest scale at which the picture fills the frame.
  const cover = Math.max(VIEW / bitmap.width, VIEW / bitmap.height);
  let zoom = 1;
  // The picture's top-left corner in preview px, centred at first.
  let x = (VIEW - bitmap.width * cover) / 2;
  let y = (VIEW - bitmap.height * cover) / 2;

  const slider = h('input', {
    type: 'range', min: '1', max: '4', step: '0.01', value: '1', 'aria-label': 'Zoom',
    on: { input: () => zoomTo(Number(slider.value)) },
  });

  /** Keeps the frame covered: the picture may not be dragged off it. */
  function clamp() {
    const scale = cover * zoom;
    x = Math.min(0, Math.max(VIEW - bitmap.width * scale, x));
    y = Math.min(0, Math.max(VIEW - bitmap.height * scale, y));
  }

  function draw() {
    clamp();
    const scale = cover * zoom;
    context.clearRect(0, 0, VIEW, VIEW);
    context.drawImage(bitmap, x, y, bitmap.width * scale, bitmap.height * scale);
  }

  /** Zooms about the frame's centre. @param {number} next */
  function zoomTo(next) {
    const clamped = Math.min(4, Math.max(1, next));
    const ratio = clamped / zoom;
    x = VIEW / 2 - (VIEW / 2 - x) * ratio;
    y = VIEW / 2 - (VIEW / 2 - y) * ratio;
    zoom = clamped;
    slider.value = String(zoom);
    draw();
  }

  /** @type {{ id: number, x: number, y: number } | null} */
  let drag = null;
  canvas.addEventListener('pointerdown', (event) => {
    drag = { id: event.pointerId, x: event.clientX, y: event.clientY };
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!drag || drag.id !== event.pointerId) return;
    // CSS px to bitmap px.
    const ratio = VIEW / (canvas.getBoundingClientRect().width || VIEW);
    x += (event.clientX - drag.x) * ratio;
    y += (event.clientY - drag.y) * ratio;
    drag = { id: event.pointerId, x: event.clientX, y: event.clientY };
    draw();
  });
  const endDrag = () => { drag = null; };
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);
  canvas.addEventListener('wheel', (event) => {
    event.preventDefault();
    zoomTo(zoom * (event.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, { passive: false });
  canvas.addEventListener('keydown', (event) => {
    /** @type {Record<string, () => void>} */
    const keys = {
      ArrowLeft: () => { x += STEP; }, ArrowRight: () => { x -= STEP; },
      ArrowUp: () => { y += STEP; }, ArrowDown: () => { y -= STEP; },
      '+': () => zoomTo(zoom * 1.1), '=': () => zoomTo(zoom * 1.1), '-': () => zoomTo(zoom / 1.1),
    };
    const act = keys[event.key];
    if (!act) return;
    event.preventDefault();
    act();
    draw();
  });
  draw();

  return {
    element: h('div', { class: 'avatar-crop' }, canvas, slider),
    toBlob: () => {
      const out = h('canvas', { width: OUTPUT, height: OUTPUT });
      const outContext = /** @type {CanvasRenderingContext2D} */ (out.getContext('2d'));
      const ratio = OUTPUT / VIEW;
      const scale = cover * zoom * ratio;
      // JPEG has no transparency: a transparent picture gets a white ground.
      outContext.fillStyle = '#fff';
      outContext.fillRect(0, 0, OUTPUT, OUTPUT);
      outContext.drawImage(bitmap, x * ratio, y * ratio, bitmap.width * scale, bitmap.height * scale);
      return new Promise((resolve, reject) => {
        out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The picture could not be prepared.'))), 'image/jpeg', 0.9);
      });
    },
  };
}

/** A failure's sentence for a person, or `fallback`.
 * @param {unknown} failure @param {string} fallback */
export const reason = (failure, fallback) => (failure instanceof Error && failure.message ? failure.message : fallback);

/**
 * Wires a file input to choosing a photo: the picture is cropped in
 * `cropHost`, and Save uploads it as a JPEG named `fileName` and hands its
 * file id to `save` (the profile's and a group's photo work alike).
 * @param {{ fileInput: HTMLInputElement, cropHost: HTMLElement, fileName: string,
 *   status: HTMLElement, say: (text: string) => void, fail: (text: string) => void,
 *   save: (fileId: string) => Promise<void> }} options
 */
export function pickPhoto({ fileInput, cropHost, fileName, status, say, fail, save }) {
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (!file) return;
    say('');
    let crop;
    try {
      crop = await cropper(file);
    } catch (failure) {
      fail(reason(failure, 'That picture cannot be used.'));
      return;
    }
    const saveButton = h('button', { type: 'button', class: 'primary', text: 'Save photo' });
    const cancelButton = h('button', { type: 'button', class: 'ghost', text: 'Cancel', on: { click: () => cropHost.replaceChildren() } });
    saveButton.addEventListener('click', async () => {
      saveButton.disabled = true;
      cancelButton.disabled = true;
      try {
        const blob = await crop.toBlob();
        const stored = await upload(new File([blob], fileName, { type: 'image/jpeg' }), (fraction) => {
          status.textContent = `Uploading… ${Math.round(fraction * 100)} %`;
        });
        await save(stored.file_id);
        cropHost.replaceChildren();
        say('Photo saved.');
      } catch (failure) {
        saveButton.disabled = false;
        cancelButton.disabled = false;
        fail(reason(failure, 'The photo could not be saved.'));
      }
    });
    cropHost.replaceChildren(
      h('p', { class: 'muted small', text: 'Drag the picture to place it in the circle; zoom with the slider.' }),
      crop.element,
      h('div', { class: 'settings-actions' }, saveButton, cancelButton));
  });
}
