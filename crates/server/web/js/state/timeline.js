// Rules for one chat's loaded history window (store.HistoryWindow):
// merging pages and live messages deduplicated by seq, edits, tombstones,
// reactions and the tick status of own messages. Pure data, no I/O.

/** @typedef {import('./store.js').ChatState} ChatState */
/** @typedef {import('./store.js').HistoryWindow} HistoryWindow */
/** @typedef {import('../types.js').Message} Message */

/**
 * A window made from one page of history.
 * @param {Message[]} messages ascending
 * @param {number} lastSeq the chat's newest seq as known
 * @param {boolean} hasMoreAfter
 * @returns {HistoryWindow}
 */
export function windowFrom(messages, lastSeq, hasMoreAfter) {
  const map = new Map(messages.map((message) => [message.seq, message]));
  const lo = messages.length ? messages[0].seq : lastSeq + 1;
  const hi = messages.length ? messages[messages.length - 1].seq : lastSeq;
  return { messages: map, lo, hi, hasMoreAfter, loadingBefore: false, loadingAfter: false };
}

/**
 * Merges a page of older messages (ending just before `lo`).
 * @param {HistoryWindow} window
 * @param {Message[]} messages
 */
export function prepend(window, messages) {
  for (const message of messages) {
    if (message.seq < window.lo) window.messages.set(message.seq, message);
  }
  if (messages.length) window.lo = Math.min(window.lo, messages[0].seq);
}

/**
 * Merges messages newer than `hi` (a page fetched with `after=`), keeping
 * the window contiguous: a message beyond a hole is not taken.
 * @param {HistoryWindow} window
 * @param {Message[]} messages ascending
 * @returns {boolean} whether the window grew
 */
export function extend(window, messages) {
  let grew = false;
  for (const message of messages) {
    if (message.seq <= window.hi) {
      replace(window, message);
    } else if (message.seq === window.hi + 1) {
      window.messages.set(message.seq, message);
      window.hi = message.seq;
      grew = true;
    }
  }
  return grew;
}

/**
 * A live `message.new`: `'added'`, `'duplicate'`, or `'gap'` when messages
 * before it are missing (the caller fetches them with `after=hi`).
 * @param {HistoryWindow} window
 * @param {Message} message
 * @returns {'added' | 'duplicate' | 'gap' | 'outside'}
 */
export function addLive(window, message) {
  if (window.hasMoreAfter) return 'outside';
  if (message.seq <= window.hi) return 'duplicate';
  if (message.seq === window.hi + 1) {
    window.messages.set(message.seq, message);
    window.hi = message.seq;
    return 'added';
  }
  return 'gap';
}

/**
 * Whether a change at `version` is news to `message`: every message
 * carries the chat version of its last change, so an older copy (a page
 * fetched before a live event) never overwrites a newer one.
 * @param {Message} message
 * @param {number | undefined} version
 */
function isNewer(message, version) {
  return version === undefined || version >= (message.version ?? 0);
}

/**
 * Replaces a loaded message by a newer version of it (edit, refreshed
 * status); unknown messages and older copies are ignored.
 * @param {HistoryWindow} window
 * @param {Message} message
 */
export function replace(window, message) {
  const held = window.messages.get(message.seq);
  if (held && isNewer(held, message.version)) window.messages.set(message.seq, message);
}

/**
 * @param {HistoryWindow} window
 * @param {number} seq
 * @param {number} [version] the tombstone's version
 */
export function tombstone(window, seq, version) {
  const message = window.messages.get(seq);
  if (!message || !isNewer(message, version)) return;
  const { file: _file, ...rest } = message;
  window.messages.set(seq, {
    ...rest, deleted: true, content: '', reactions: [], version: version ?? message.version,
  });
}

/**
 * Applies a reaction event to a message (idempotent per user and emoji);
 * one older than the message's own version is already in it.
 * @param {Message} message
 * @param {string} emoji
 * @param {string} userId
 * @param {boolean} added
 * @param {number} [version] the message's version after the change
 * @returns {Message}
 */
export function react(message, emoji, userId, added, version) {
  if (version !== undefined && version <= (message.version ?? 0)) return message;
  const changed = version === undefined ? message : { ...message, version };
  return toggled(changed, emoji, userId, added);
}

/**
 * @param {Message} message
 * @param {string} emoji
 * @param {string} userId
 * @param {boolean} added
 * @returns {Message}
 */
function toggled(message, emoji, userId, added) {
  const reactions = message.reactions.map((reaction) => ({ ...reaction, user_ids: [...reaction.user_ids] }));
  const entry = reactions.find((reaction) => reaction.emoji === emoji);
  if (added) {
    if (entry?.user_ids.includes(userId)) return message;
    if (entry) entry.user_ids.push(userId);
    else reactions.push({ emoji, count: 0, user_ids: [userId] });
  } else {
    if (!entry || !entry.user_ids.includes(userId)) return message;
    entry.user_ids = entry.user_ids.filter((id) => id !== userId);
  }
  for (const reaction of reactions) reaction.count = reaction.user_ids.length;
  return { ...message, reactions: reactions.filter((reaction) => reaction.count > 0) };
}

/** @param {HistoryWindow} window @param {string} messageId */
export function findById(window, messageId) {
  for (const message of window.messages.values()) {
    if (message.message_id === messageId) return message;
  }
  return undefined;
}

const RANK = { sent: 0, delivered: 1, read: 2 };

/**
 * The tick of an own message: its status when loaded, advanced by the
 * receipts heard since.
 * @param {ChatState} chat
 * @param {Message} message
 * @returns {import('../types.js').MessageStatus}
 */
export function statusOf(chat, message) {
  /** @type {import('../types.js').MessageStatus} */
  const live = message.seq <= chat.peerRead ? 'read' : message.seq <= chat.peerDelivered ? 'delivered' : 'sent';
  return RANK[live] > RANK[message.status] ? live : message.status;
}

/** Messages of the window in seq order.
 * @param {HistoryWindow} window */
export function ordered(window) {
  return Array.from(window.messages.values()).sort((a, b) => a.seq - b.seq);
}
