// Messages on their way out. Each gets a client_msg_id when written and
// keeps it for every retry, so the server stores it once however often
// it goes out. Shown at once (optimistic), sent over the WebSocket,
// re-sent after a reconnect or when no answer comes, confirmed by
// `send.ok` (or by its own `message.new`); over REST when the socket
// stays down. Attachments upload first. Kept in IndexedDB (local.js)
// until confirmed, so a reload, a closed tab or a crash loses nothing:
// restore() puts them back, in the order written, and they go out again
// with the same client_msg_id (the server stores each once).

import * as api from './api.js';
import * as e2ee from './e2ee/engine.js';
import * as local from './local.js';
import * as plaintexts from './e2ee/plaintexts.js';
import * as ws from './ws.js';
import { uuid } from './format.js';
import { upload } from './upload.js';
import { emit, state } from './state/store.js';

/** @typedef {import('./state/store.js').Pending} Pending */
/** @typedef {import('./types.js').Message} Message */

/** Re-send a message that got no answer within this time. */
const ANSWER_TIMEOUT_MS = 10_000;
/** Server answers that may succeed when tried again. */
const TRANSIENT = new Set(['rate_limited', 'unavailable', 'internal', 'network']);
/** Types the server shows inline (it re-encodes them). */
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** @type {(message: Message) => void} */
let deliver = () => {};
/** Write order of each pending message, kept with it in IndexedDB so a
 * restore sends them in the order they were written. @type {WeakMap<Pending, number>} */
const orders = new WeakMap();
let lastOrder = 0;

/**
 * @param {(message: Message) => void} onConfirmed adds a confirmed own
 *   message to the store (sync.js, the same path as `message.new`)
 */
export function init(onConfirmed) {
  deliver = onConfirmed;
  setInterval(resendStale, ANSWER_TIMEOUT_MS / 2);
}

/**
 * @param {string} chatId
 * @param {string} content
 * @param {import('./types.js').Metadata} [metadata]
 */
export function sendText(chatId, content, metadata) {
  const encrypted = Boolean(state.chats.get(chatId)?.summary.e2ee);
  /** @type {Pending} */
  const pending = {
    client_msg_id: uuid(), chat_id: chatId, type: encrypted ? 'mls' : 'text', content, metadata,
    created_at: new Date().toISOString(), state: 'sending', sentAt: 0,
  };
  state.pending.set(pending.client_msg_id, pending);
  save(pending);
  emit('timeline', chatId);
  if (encrypted) void encryptThenSend(pending);
  else transmit(pending);
}

/**
 * An encrypted chat's text: `content` stays the plaintext (shown while
 * pending, kept as the message's plaintext once stored) and `wire` is
 * the MLS ciphertext that goes out, made once so that every retry sends
 * the same bytes.
 * @param {Pending} pending
 */
async function encryptThenSend(pending) {
  try {
    pending.wire = await e2ee.encrypt(pending.chat_id, pending.content);
  } catch (error) {
    fail(pending, error instanceof Error ? error.message : 'It could not be encrypted.');
    return;
  }
  save(pending);
  transmit(pending);
}

/**
 * Uploads a file (with progress) and then sends it as a message.
 * @param {string} chatId
 * @param {File} file
 * @param {string} [caption]
 */
export function sendFile(chatId, file, caption = '') {
  /** @type {Pending} */
  const pending = {
    client_msg_id: uuid(), chat_id: chatId, type: IMAGE_TYPES.has(file.type) ? 'image' : 'file',
    content: caption, created_at: new Date().toISOString(), state: 'uploading', sentAt: 0,
    file, progress: 0, previewUrl: file.type.startsWith('image/') ? URL.createObjectURL(file) : undefined,
  };
  state.pending.set(pending.client_msg_id, pending);
  save(pending);
  emit('timeline', chatId);
  void uploadThenSend(pending);
}

/**
 * Uploads a recorded voice note (with progress) and then sends it as a
 * `voice` message with its length (and waveform) in `metadata`.
 * @param {string} chatId
 * @param {File} file
 * @param {import('./types.js').Metadata} metadata
 */
export function sendVoice(chatId, file, metadata) {
  /** @type {Pending} */
  const pending = {
    client_msg_id: uuid(), chat_id: chatId, type: 'voice', content: '', metadata,
    created_at: new Date().toISOString(), state: 'uploading', sentAt: 0, file, progress: 0,
  };
  state.pending.set(pending.client_msg_id, pending);
  save(pending);
  emit('timeline', chatId);
  void uploadThenSend(pending);
}

/**
 * Writes `pending` to IndexedDB as it is now (the file itself too, until
 * it is uploaded; never the page-local preview URL).
 * @param {Pending} pending
 */
function save(pending) {
  if (!state.pending.has(pending.client_msg_id)) return;
  let order = orders.get(pending);
  if (order === undefined) {
    order = lastOrder = Math.max(Date.now(), lastOrder + 1);
    orders.set(pending, order);
  }
  const { previewUrl: _url, progress: _progress, sentAt: _sentAt, ...kept } = pending;
  if (kept.file_id) delete kept.file;
  void local.put('outbox', pending.client_msg_id, { ...kept, order });
}

/**
 * After sign-in (local.open was called): what was still unsent when the
 * page last closed comes back on screen and goes out again, in order.
 * @returns {Promise<void>}
 */
export async function restore() {
  const found = await local.entries('outbox');
  /** @type {{ pending: Pending, order: number }[]} */
  const restored = [];
  for (const [id, record] of found) {
    if (!record || typeof record !== 'object' || state.pending.has(id) || typeof record.chat_id !== 'string') continue;
    const { order, ...rest } = record;
    /** @type {Pending} */
    const pending = { ...rest, client_msg_id: id, sentAt: 0 };
    // An upload cut off by the reload starts again; a refused one stays
    // "Not sent" (with Retry) rather than failing again on every reload.
    if (pending.state === 'uploading') pending.progress = 0;
    if (pending.file && pending.file.type.startsWith('image/')) pending.previewUrl = URL.createObjectURL(pending.file);
    restored.push({ pending, order: Number(order) || 0 });
  }
  restored.sort((a, b) => a.order - b.order);
  for (const { pending, order } of restored) {
    orders.set(pending, order);
    lastOrder = Math.max(lastOrder, order);
    state.pending.set(pending.client_msg_id, pending);
  }
  for (const chatId of new Set(restored.map(({ pending }) => pending.chat_id))) emit('timeline', chatId);
  for (const { pending } of restored) {
    if (pending.state === 'uploading') void uploadThenSend(pending);
    else if (pending.type === 'mls' && !pending.wire) void encryptThenSend(pending);
    // Not yet ready: `ready` sends them (resendAll).
    else if (ws.isReady()) transmit(pending);
  }
}

/** @param {Pending} pending */
async function uploadThenSend(pending) {
  if (!pending.file) return;
  pending.state = 'uploading';
  pending.error = undefined;
  emit('timeline', pending.chat_id);
  try {
    const info = await upload(pending.file, (fraction) => {
      pending.progress = fraction;
      emit('timeline', pending.chat_id);
    });
    pending.file_id = info.file_id;
    pending.fileRef = info;
    if (pending.type !== 'voice') pending.type = IMAGE_TYPES.has(info.mime) ? 'image' : 'file';
    pending.state = 'sending';
    save(pending);
    emit('timeline', pending.chat_id);
    transmit(pending);
  } catch (error) {
    fail(pending, error instanceof api.ApiError ? error.message : 'The upload failed.');
  }
}

/** @param {Pending} pending */
function transmit(pending) {
  if (!state.pending.has(pending.client_msg_id) || pending.state !== 'sending') return;
  if (pending.type === 'mls' && !pending.wire) return; // still being encrypted
  pending.sentAt = Date.now();
  ws.send({
    type: 'send', client_msg_id: pending.client_msg_id, chat_id: pending.chat_id,
    content: pending.wire ?? pending.content, message_type: pending.type, file_id: pending.file_id,
    metadata: pending.metadata,
  });
}

/** After `ready`: everything still waiting goes out again, in order. */
export function resendAll() {
  for (const pending of state.pending.values()) transmit(pending);
}

/** Every few seconds: what got no answer goes out again, over REST if
 * the socket cannot be had (a proxy without WebSockets, say). */
function resendStale() {
  const now = Date.now();
  for (const pending of state.pending.values()) {
    if (pending.state !== 'sending' || now - pending.sentAt < ANSWER_TIMEOUT_MS) continue;
    if (pending.type === 'mls' && !pending.wire) continue;
    if (ws.isReady()) transmit(pending);
    else if (navigator.onLine) void sendOverRest(pending);
  }
}

/** @param {Pending} pending */
async function sendOverRest(pending) {
  pending.sentAt = Date.now();
  try {
    const ack = await api.send({
      chat_id: pending.chat_id, content: pending.wire ?? pending.content, type: pending.type,
      client_msg_id: pending.client_msg_id, file_id: pending.file_id, metadata: pending.metadata,
    });
    confirmed(pending.client_msg_id, ack);
  } catch (error) {
    if (error instanceof api.ApiError && !TRANSIENT.has(error.code)) fail(pending, error.message);
  }
}

/**
 * `send.ok`: the message is stored. Builds it locally from what was sent
 * (its `message.new` may come before or after; both are deduplicated).
 * @param {string} clientMsgId
 * @param {{ message_id: string, seq: number, created_at: string }} ack
 */
export function confirmed(clientMsgId, ack) {
  const pending = state.pending.get(clientMsgId);
  const me = state.me?.user_id;
  if (!pending || !me) return;
  keepPlaintext(pending, ack.message_id);
  /** @type {Message} */
  const message = {
    message_id: ack.message_id, chat_id: pending.chat_id, seq: ack.seq, version: 0, sender_id: me,
    type: pending.type, content: pending.wire ?? pending.content, metadata: pending.metadata ?? {},
    reactions: [], status: 'sent', created_at: ack.created_at, deleted: false, client_msg_id: clientMsgId,
  };
  if (pending.fileRef) {
    const { sha256: _sha, ...file } = /** @type {import('./types.js').FileInfo} */ (pending.fileRef);
    message.file = file;
  }
  settle(clientMsgId);
  deliver(message);
}

/**
 * A sender cannot decrypt its own MLS message: what it said is kept
 * from the outbox, under the id the server gave it.
 * @param {Pending} pending @param {string} messageId
 */
function keepPlaintext(pending, messageId) {
  if (pending.type === 'mls') void plaintexts.remember(messageId, { kind: 'text', text: pending.content });
}

/** My own message came back (`message.new`) before its `send.ok`.
 * @param {Message} message */
export function echoed(message) {
  const pending = message.client_msg_id ? state.pending.get(message.client_msg_id) : undefined;
  if (pending) keepPlaintext(pending, message.message_id);
}

/** The server has it (by `send.ok` or its own `message.new`): forget it.
 * @param {string} clientMsgId */
export function settle(clientMsgId) {
  const pending = state.pending.get(clientMsgId);
  if (!pending) return;
  state.pending.delete(clientMsgId);
  void local.put('outbox', clientMsgId, undefined);
  if (pending.previewUrl) {
    const url = pending.previewUrl;
    setTimeout(() => URL.revokeObjectURL(url), 30_000);
  }
  emit('timeline', pending.chat_id);
}

/**
 * An `error` frame about a send.
 * @param {string} clientMsgId @param {string} code @param {string} detail
 */
export function refused(clientMsgId, code, detail) {
  const pending = state.pending.get(clientMsgId);
  if (!pending) return;
  if (TRANSIENT.has(code)) {
    pending.sentAt = Date.now(); // resendStale tries again later
    return;
  }
  fail(pending, detail);
}

/** @param {Pending} pending @param {string} reason */
function fail(pending, reason) {
  pending.state = 'failed';
  pending.error = reason;
  save(pending);
  emit('timeline', pending.chat_id);
}

/** "Retry" on a failed message: same client_msg_id, so never a duplicate.
 * @param {string} clientMsgId */
export function retry(clientMsgId) {
  const pending = state.pending.get(clientMsgId);
  if (!pending || pending.state !== 'failed') return;
  if (pending.file && !pending.file_id) {
    void uploadThenSend(pending);
    return;
  }
  pending.state = 'sending';
  pending.error = undefined;
  save(pending);
  emit('timeline', pending.chat_id);
  // Encryption itself failed (not joined yet, say): encrypt again.
  if (pending.type === 'mls' && !pending.wire) void encryptThenSend(pending);
  else transmit(pending);
}

/** "Discard" on a failed message. @param {string} clientMsgId */
export function discard(clientMsgId) {
  settle(clientMsgId);
}
