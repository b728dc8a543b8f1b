// Link preview cards: under a text message, for its first http(s) or www
// link (as markup.js finds links), a card with what the server found on
// the page (GET /api/v1/link-preview, docs/API.md "Link previews"): site
// name, title, description, image. Loaded when the message comes near
// the screen, kept in memory per URL (a 204, nothing to preview, too: no
// card), opened in a new tab without telling the site where it came from.
// Only answers (200, 204) are kept: after a 429, a network error or any
// other failure the URL is asked again when its slot is next near the
// screen, once Retry-After (else RETRY_MS) has passed. Whether the server
// makes previews at all comes from the server info document limits.js
// loads anyway.
//
// Whether cards show is a setting of this device, not of the account: a
// default in Settings and a switch per chat in Chat info, kept in
// localStorage per signed-in user (default on). It only decides what this
// browser shows and asks for; other devices keep their own choice.

import * as api from '../api.js';
import { h } from '../dom.js';
import { serverInfo } from '../limits.js';
import { parse } from '../markup.js';
import { state } from '../state/store.js';

/**
 * @typedef {{ url: string, title?: string, description?: string, site_name?: string,
 *   image?: { url: string, width: number, height: number } }} Preview
 * @typedef {{ default?: boolean, chats?: Record<string, boolean> }} Choices
 */

/** A cached preview is asked for again after this (its image link expires). */
const FRESH_MS = 30 * 60 * 1000;

/** After a failure without Retry-After, a URL is not asked again sooner. */
const RETRY_MS = 30 * 1000;
/** After a refusal that will not change soon (400, 404), not sooner. */
const REFUSED_MS = FRESH_MS;

/** Answers (200 and 204) and the requests in flight, per URL.
 * @type {Map<string, { at: number, preview: Promise<Preview | null> }>} */
const cache = new Map();
/** @type {Map<string, Preview | null>} */
const settled = new Map();
/** Per URL whose last ask failed: when it may be asked again (ms).
 * @type {Map<string, number>} */
const notBefore = new Map();

/** A preview that is not known now: ask again in `waitMs`. */
class NotNow extends Error {
  /** @param {number} waitMs */
  constructor(waitMs) {
    super('no link preview now');
    this.waitMs = waitMs;
  }
}

/** Whether this server makes previews, from the one server info load;
 * NotNow while that document cannot be read. */
async function serverPreviews() {
  const info = await serverInfo();
  if (!info) throw new NotNow(RETRY_MS);
  return info.link_previews === true;
}

/** How long to wait after `error` before asking again. @param {unknown} error */
function waitAfter(error) {
  if (error instanceof NotNow) return error.waitMs;
  if (error instanceof api.ApiError) {
    if (error.retryAfter !== null && error.retryAfter !== undefined) return error.retryAfter * 1000;
    if (error.code === 'network' || error.status === 429 || error.status >= 500) return RETRY_MS;
    return REFUSED_MS;
  }
  return RETRY_MS;
}

function storageKey() {
  return `natter-link-previews-${state.me?.user_id ?? 'anonymous'}`;
}

/** @returns {Choices} */
function choices() {
  try {
    const stored = JSON.parse(localStorage.getItem(storageKey()) ?? '{}');
    return stored && typeof stored === 'object' ? stored : {};
  } catch {
    return {};
  }
}

/** @param {Choices} next */
function save(next) {
  try {
    localStorage.setItem(storageKey(), JSON.stringify(next));
  } catch {
    // Storage refused (private window): the choice lasts for this page only.
  }
  refreshAll();
}

/** The default for chats without a choice of their own. */
export function previewsByDefault() {
  return choices().default !== false;
}

/** @param {string} chatId */
export function previewsShown(chatId) {
  const chosen = choices().chats?.[chatId];
  return chosen ?? previewsByDefault();
}

/** @param {boolean} on */
export function setPreviewsByDefault(on) {
  save({ ...choices(), default: on });
}

/** @param {string} chatId @param {boolean} on */
export function setPreviewsShown(chatId, on) {
  const current = choices();
  save({ ...current, chats: { ...current.chats, [chatId]: on } });
}

/**
 * The first link of a message's text, as the formatter shows links.
 * @param {string} text
 * @returns {string | null}
 */
export function firstLink(text) {
  /** @param {import('../markup.js').Inline[]} runs @returns {string | null} */
  const find = (runs) => {
    for (const run of runs) {
      if (run.type === 'link') return run.href;
      if ('children' in run) {
        const inner = find(run.children);
        if (inner) return inner;
      }
    }
    return null;
  };
  for (const block of parse(text)) {
    const runs = block.type === 'list' ? block.items.flat() : block.type === 'pre' ? [] : block.inline;
    const found = find(runs);
    if (found && /^https?:\/\//i.test(found)) return found;
  }
  return null;
}

/**
 * The preview of `url`, from memory or the server; `null` for none (a
 * 204, or previews off). Rejects with NotNow when there is no answer to
 * keep (429, network, other failures): nothing is cached then.
 * @param {string} url
 * @returns {Promise<Preview | null>}
 */
function load(url) {
  const known = cache.get(url);
  if (known && Date.now() - known.at < FRESH_MS) return known.preview;
  const wait = (notBefore.get(url) ?? 0) - Date.now();
  if (wait > 0) return Promise.reject(new NotNow(wait));
  const preview = serverPreviews().then((on) => (on
    ? api.call('GET', '/link-preview', { query: { url } }).then((/** @type {Preview | null} */ found) => found)
    : null));
  const entry = { at: Date.now(), preview };
  cache.set(url, entry);
  return preview.then((found) => {
    settled.set(url, found);
    notBefore.delete(url);
    return found;
  }, (error) => {
    const waitMs = waitAfter(error);
    if (cache.get(url) === entry) cache.delete(url);
    notBefore.set(url, Date.now() + waitMs);
    throw new NotNow(waitMs);
  });
}

/** Slots observed and not yet near the screen. A slot replaced or
 * detached before then is never reported by the observer: sweep() drops
 * it, so detached messages are not kept alive. @type {Set<HTMLElement>} */
const watched = new Set();
/** @type {ReturnType<typeof setTimeout> | null} */
let sweepTimer = null;

/** Loads slots when they come near the screen. */
const watcher = typeof IntersectionObserver === 'undefined' ? null : new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    const slot = /** @type {HTMLElement} */ (entry.target);
    unwatch(slot);
    if (slot.isConnected) void fill(slot);
  }
}, { rootMargin: '300px 0px' });

/** @param {HTMLElement} slot */
function watch(slot) {
  if (!watcher) return;
  watcher.observe(slot);
  watched.add(slot);
  sweepTimer ??= setTimeout(sweep, 5000);
}

/** @param {HTMLElement} slot */
function unwatch(slot) {
  watcher?.unobserve(slot);
  watched.delete(slot);
}

/** Stops observing slots no longer on the page. */
function sweep() {
  sweepTimer = null;
  for (const slot of watched) if (!slot.isConnected) unwatch(slot);
  if (watched.size > 0) sweepTimer = setTimeout(sweep, 5000);
}

/**
 * The place of a message's card, or null for a message that has no link
 * (or is not text). The card fills in later, or at once if known.
 * @param {import('../types.js').Message} message
 * @returns {HTMLElement | null}
 */
export function linkPreviewSlot(message) {
  if (message.type !== 'text' || message.deleted || !message.content) return null;
  const url = firstLink(message.content);
  if (!url) return null;
  const slot = h('div', { class: 'link-preview-slot', 'data-url': url, 'data-chat-id': message.chat_id });
  show(slot);
  return slot;
}

/** Shows what is known now; asks for the rest when near the screen.
 * @param {HTMLElement} slot */
function show(slot) {
  const url = slot.dataset.url ?? '';
  if (!previewsShown(slot.dataset.chatId ?? '')) {
    slot.replaceChildren();
    return;
  }
  const known = settled.get(url);
  const fresh = (cache.get(url)?.at ?? 0) > Date.now() - FRESH_MS;
  if (known !== undefined && fresh) {
    slot.replaceChildren(...(known ? [card(url, known)] : []));
  } else if (watcher) {
    watch(slot);
  } else {
    void fill(slot);
  }
}

/** @param {HTMLElement} slot */
async function fill(slot) {
  const url = slot.dataset.url ?? '';
  let preview;
  try {
    preview = await load(url);
  } catch (error) {
    // No answer now: look again once the wait is over, if the slot is
    // still on the page (and then only when it is near the screen).
    const waitMs = error instanceof NotNow ? error.waitMs : RETRY_MS;
    setTimeout(() => {
      if (slot.isConnected) show(slot);
    }, waitMs);
    return;
  }
  if (!slot.isConnected || !previewsShown(slot.dataset.chatId ?? '')) return;
  slot.replaceChildren(...(preview ? [card(url, preview)] : []));
}

/** Every card on the page again, after a setting changed. */
function refreshAll() {
  for (const slot of document.querySelectorAll('.link-preview-slot')) show(/** @type {HTMLElement} */ (slot));
}

/**
 * @param {string} href the link as the message has it
 * @param {Preview} preview
 */
function card(href, preview) {
  const image = preview.image;
  let host = '';
  try {
    host = new URL(href).hostname;
  } catch {
    // Shown without a host.
  }
  const label = [preview.site_name ?? host, preview.title].filter(Boolean).join(': ');
  return h('a', {
    class: 'link-preview', href, target: '_blank', rel: 'noopener noreferrer',
    'aria-label': `Link preview: ${label}`,
  },
  image ? h('img', {
    class: 'link-preview-image', src: image.url, alt: '', width: image.width, height: image.height,
    loading: 'lazy', decoding: 'async',
  }) : null,
  h('span', { class: 'link-preview-text' },
    h('span', { class: 'link-preview-site', text: preview.site_name ?? host }),
    preview.title ? h('strong', { class: 'link-preview-title', text: preview.title }) : null,
    preview.description ? h('span', { class: 'link-preview-description', text: preview.description }) : null));
}

/**
 * The switch for one chat, for Chat info.
 * @param {string} chatId
 */
export function chatPreviewsSection(chatId) {
  const box = h('input', {
    type: 'checkbox', id: 'chat-link-previews', checked: previewsShown(chatId),
    on: { change: () => setPreviewsShown(chatId, box.checked) },
  });
  return h('section', { class: 'link-preview-settings', 'aria-label': 'Link previews' },
    h('div', { class: 'check-row' }, box, h('label', { for: 'chat-link-previews', text: 'Show link previews' })),
    h('p', { class: 'muted small', text: 'On this device. The server fetches the page, not your browser.' }));
}

/** The default for all chats, for Settings. */
export function defaultPreviewsSection() {
  const box = h('input', {
    type: 'checkbox', id: 'settings-link-previews', checked: previewsByDefault(),
    on: { change: () => setPreviewsByDefault(box.checked) },
  });
  return h('section', { class: 'settings-section', 'aria-labelledby': 'settings-link-previews-title' },
    h('h3', { class: 'section-title', id: 'settings-link-previews-title', text: 'Link previews' }),
    h('div', { class: 'check-row' }, box, h('label', { for: 'settings-link-previews', text: 'Show link previews' })),
    h('p', { class: 'muted small', text: 'On this device, in chats where you have not chosen otherwise in Chat info.' }));
}
