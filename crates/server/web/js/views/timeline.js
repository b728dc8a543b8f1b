// The scrolling message list of the open chat: day separators, messages
// (nodes cached by signature), pending messages, loading older history
// when scrolled to the top and newer after a jump, keeping the scroll
// position steady, following new messages at the bottom, and scrolling
// to (and flashing) a searched or quoted message. Deleting a message
// (for me, or for everyone where allowed) happens here too; a refusal
// shows in a line under the messages.

import * as history from '../history.js';
import * as messages from '../messages.js';
import * as outbox from '../outbox.js';
import * as sync from '../sync.js';
import * as timeline from '../state/timeline.js';
import { buildMessage, buildPending, signature } from './message.js';
import { coalesce, h, patchChildren } from '../dom.js';
import { openDialog, showImage } from './dialogs.js';
import { dayKey, dayLabel } from '../format.js';
import { on, state } from '../state/store.js';
import { canPost } from '../chats.js';

/** Load more when this close (px) to an end. */
const EDGE_PX = 400;
/** A run of messages by one sender is broken after this long. */
const RUN_BREAK_MS = 5 * 60_000;

/**
 * @param {HTMLElement} host
 * @param {string} chatId
 * @param {{ onReply: (message: import('../types.js').Message) => void, onEdit: (message: import('../types.js').Message) => void }} handlers
 * @returns {{ dispose: () => void, scrollToEnd: () => void }}
 */
export function mountTimeline(host, chatId, handlers) {
  const list = h('ol', { class: 'messages' });
  const jump = h('button', { type: 'button', class: 'jump-latest', hidden: true, text: 'Jump to latest ↓', on: { click: jumpToLatest } });
  const scroller = h('div', { class: 'timeline', role: 'log', 'aria-label': 'Messages', tabindex: 0 }, list);
  // What went wrong with the last delete, until dismissed or the next one.
  const failureText = h('span', { class: 'form-error' });
  const failure = h('div', { class: 'timeline-error', role: 'alert', hidden: true }, failureText,
    h('button', { type: 'button', class: 'ghost', text: 'Dismiss', on: { click: () => showFailure('') } }));
  host.replaceChildren(scroller, jump, failure);
  /** @param {string} text what failed ('' hides the line) */
  function showFailure(text) {
    failureText.textContent = text;
    failure.hidden = !text;
  }
  /** @type {Map<string, { signature: string, node: HTMLElement }>} */
  const cache = new Map();
  /** @type {string | null} */
  let paletteFor = null;
  /** Whether the view follows the newest message (was at the bottom). */
  let following = true;
  let firstRender = true;
  const opened = state.chats.get(chatId)?.summary;
  /** The first message that was unread when the chat opened: a "New messages" line goes above it. */
  const unreadFrom = opened && opened.unread_count > 0 ? opened.read_seq + 1 : null;
  let placedUnreadLine = false;

  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
  sync.setBottomCheck(() => atBottom() && !document.hidden);

  const render = coalesce(() => {
    const chat = state.chats.get(chatId);
    if (!chat) return;
    const window = chat.window;
    if (!window) {
      list.replaceChildren(h('li', { class: 'timeline-note', text: 'Loading messages…' }));
      return;
    }
    const wasAtBottom = following;
    const anchor = wasAtBottom ? null : anchorOf();
    patchChildren(list, items(chat, window));
    const focus = state.focusSeq;
    if (focus !== null && window.messages.has(focus)) {
      state.focusSeq = null;
      reveal(focus);
    } else if (!placedUnreadLine && unreadLine()) {
      // Opening with unread messages: start at the first of them.
      placedUnreadLine = true;
      unreadLine()?.scrollIntoView({ block: 'start' });
      following = atBottom();
    } else if (wasAtBottom && !window.hasMoreAfter) {
      scroller.scrollTop = scroller.scrollHeight;
    } else if (anchor) {
      const node = document.getElementById(anchor.id);
      if (node) scroller.scrollTop = node.offsetTop - anchor.offset;
    }
    updateJump(window);
    if (firstRender && window.messages.size) {
      firstRender = false;
      performance.mark('natter:chat-open-rendered');
    }
    sync.readIfVisible();
    if (!window.hasMoreAfter && scroller.scrollTop < EDGE_PX && window.lo > 1 && scroller.scrollHeight <= scroller.clientHeight + EDGE_PX) {
      quietly(history.loadOlder(chatId)); // the first page did not fill the screen
    }
  });

  /** "Jump to latest" when the newest messages are a screen or more away.
   * @param {import('../state/store.js').HistoryWindow} window */
  function updateJump(window) {
    const gap = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    jump.hidden = !window.hasMoreAfter && gap < scroller.clientHeight;
  }

  /** @returns {HTMLElement | null} */
  function unreadLine() {
    return /** @type {HTMLElement | null} */ (list.querySelector('.unread-separator'));
  }

  /** The first message at least partly visible, and where it sits. */
  function anchorOf() {
    const top = scroller.scrollTop;
    for (const node of list.children) {
      const element = /** @type {HTMLElement} */ (node);
      if (element.id && element.offsetTop + element.offsetHeight > top) return { id: element.id, offset: element.offsetTop - top };
    }
    return null;
  }

  /** @param {number} seq */
  function reveal(seq) {
    const node = document.getElementById(`msg-${seq}`);
    if (!node) return;
    node.scrollIntoView({ block: 'center' });
    node.classList.remove('flash');
    void node.offsetWidth; // restart the animation
    node.classList.add('flash');
    /** @type {HTMLElement | null} */ (node.querySelector('.bubble'))?.setAttribute('tabindex', '-1');
    /** @type {HTMLElement | null} */ (node.querySelector('.bubble'))?.focus({ preventScroll: true });
  }

  /**
   * @param {import('../state/store.js').ChatState} chat
   * @param {import('../state/store.js').HistoryWindow} window
   */
  function items(chat, window) {
    const me = state.me?.user_id ?? '';
    const group = chat.summary.type !== 'direct';
    // Channel readers cannot post (so not reply), but they can react.
    const canReply = canPost(chat.summary);
    const canReact = true;
    /** @type {HTMLElement[]} */
    const nodes = [];
    if (window.lo > 1) nodes.push(cached('top', 'more', () => h('li', { class: 'timeline-note', text: 'Loading older messages…' })));
    else nodes.push(cached('top', 'start', () => h('li', { class: 'timeline-note', text: 'This is the beginning of the conversation.' })));
    let day = '';
    let prevSender = '';
    let prevTime = 0;
    for (const message of timeline.ordered(window)) {
      // Hidden for me ("Delete for me"): keeps its seq in the window only.
      if (message.hidden) continue;
      const key = dayKey(message.created_at);
      if (key !== day) {
        day = key;
        prevSender = '';
        nodes.push(cached(`day-${key}`, dayLabel(message.created_at), () => separator(message.created_at)));
      }
      const time = Date.parse(message.created_at);
      const mine = message.sender_id === me;
      if (message.seq === unreadFrom && !mine) {
        nodes.push(cached('unread', '', () => h('li', { class: 'unread-separator', role: 'separator', 'aria-label': 'New messages' }, h('span', { text: 'New messages' }))));
        prevSender = '';
      }
      const showSender = group && !mine && (message.sender_id !== prevSender || time - prevTime > RUN_BREAK_MS);
      prevSender = message.sender_id;
      prevTime = time;
      const replyTo = message.metadata.reply_to;
      /** @type {import('./message.js').MessageContext} */
      const ctx = {
        message, mine, status: mine ? timeline.statusOf(chat, message) : message.status, showSender,
        canDelete: !message.deleted && mayDeleteForEveryone(chat.summary, mine), canReact, canReply,
        reply: replyTo && !message.deleted ? messages.replyTarget(chatId, replyTo) : null,
        paletteOpen: paletteFor === message.message_id,
        onReply: () => handlers.onReply(message),
        onEdit: () => handlers.onEdit(message),
        onDelete: () => void confirmDelete(message),
        onReact: (emoji) => {
          paletteFor = null;
          void messages.toggleReaction(message, emoji).catch(() => {});
          render();
        },
        onTogglePalette: () => {
          paletteFor = paletteFor === message.message_id ? null : message.message_id;
          render();
        },
        linkFresh: messages.linkFresh,
        onStaleLinks: () => messages.renewLinks(message),
        onOpenFile: (download) => quietly(messages.freshFile(message).then((file) => {
          if (!file) return;
          if (download) h('a', { href: file.url, download: file.name }).click();
          else showImage(file);
        })),
        onJump: (messageId) => quietly(jumpTo(messageId)),
      };
      nodes.push(cached(`m-${message.message_id}`, signature(ctx), () => buildMessage(ctx)));
    }
    if (window.hasMoreAfter) {
      nodes.push(cached('bottom', 'more', () => h('li', { class: 'timeline-note', text: 'Loading newer messages…' })));
    } else {
      const today = dayKey(new Date().toISOString());
      for (const pending of state.pending.values()) {
        if (pending.chat_id !== chatId) continue;
        if (day !== today) {
          day = today;
          nodes.push(cached(`day-${today}`, 'Today', () => separator(new Date().toISOString())));
        }
        const sig = JSON.stringify([pending.state, pending.error, Math.round((pending.progress ?? 0) * 100)]);
        nodes.push(cached(`p-${pending.client_msg_id}`, sig, () => buildPending(pending, {
          onRetry: () => outbox.retry(pending.client_msg_id),
          onDiscard: () => outbox.discard(pending.client_msg_id),
        })));
      }
    }
    for (const key of cache.keys()) {
      if (!nodes.some((node) => node.dataset.key === key)) cache.delete(key);
    }
    return nodes;
  }

  /**
   * @param {string} key
   * @param {string} sig
   * @param {() => HTMLElement} build
   */
  function cached(key, sig, build) {
    const hit = cache.get(key);
    if (hit && hit.signature === sig) return hit.node;
    const node = build();
    node.dataset.key = key;
    cache.set(key, { signature: sig, node });
    return node;
  }

  /**
   * "Delete for me" is offered for every message; "Delete for everyone"
   * where the server allows it (mayDeleteForEveryone). A refusal shows
   * under the messages until the next delete.
   * @param {import('../types.js').Message} message
   */
  async function confirmDelete(message) {
    const chat = state.chats.get(chatId);
    const mine = message.sender_id === state.me?.user_id;
    const forEveryone = !message.deleted && chat !== undefined && mayDeleteForEveryone(chat.summary, mine);
    const choice = await chooseDelete(forEveryone);
    if (!choice) return;
    showFailure('');
    try {
      if (choice === 'everyone') await messages.remove(message);
      else await messages.hide(message);
    } catch (error) {
      const what = choice === 'everyone' ? 'for everyone' : 'for you';
      showFailure(`Could not delete the message ${what}: ${error instanceof Error ? error.message : 'error'}`);
    }
  }

  /** @param {string} messageId */
  async function jumpTo(messageId) {
    const chat = state.chats.get(chatId);
    const target = chat?.window ? timeline.findById(chat.window, messageId) : messages.replyTarget(chatId, messageId);
    if (!target) return;
    state.focusSeq = target.seq;
    await history.ensureLoaded(chatId, target.seq);
    render();
  }

  function jumpToLatest() {
    const chat = state.chats.get(chatId);
    following = true;
    if (chat?.window?.hasMoreAfter) quietly(history.loadLatest(chatId));
    else render();
  }

  scroller.addEventListener('scroll', () => {
    const chat = state.chats.get(chatId);
    const window = chat?.window;
    if (!window) return;
    following = atBottom() && !window.hasMoreAfter;
    if (scroller.scrollTop < EDGE_PX && window.lo > 1) quietly(history.loadOlder(chatId));
    const bottomGap = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    if (bottomGap < EDGE_PX && window.hasMoreAfter) quietly(history.loadNewer(chatId));
    updateJump(window);
    if (atBottom()) sync.readIfVisible();
  }, { passive: true });

  scroller.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && paletteFor) {
      paletteFor = null;
      render();
    }
  });

  // Images without known dimensions change the height when they load.
  scroller.addEventListener('load', () => {
    if (following) scroller.scrollTop = scroller.scrollHeight;
  }, true);

  const offs = [
    on('timeline', (/** @type {string} */ id) => { if (id === chatId) render(); }),
    on('users', render),
    // An encrypted chat's messages read differently once this device has
    // joined its group or has loaded what it decrypted before.
    on('e2ee', () => { if (state.chats.get(chatId)?.summary.e2ee) render(); }),
  ];
  render();
  return {
    dispose: () => {
      for (const off of offs) off();
      sync.setBottomCheck(() => false);
    },
    scrollToEnd: jumpToLatest,
  };
}

/**
 * Whether I may delete a message for everyone (what the server allows):
 * in a direct chat only its sender (the chat's creator is its "owner",
 * but that gives no say over the other's messages); in a group or
 * channel its sender, an owner or an admin.
 * @param {import('../types.js').ChatSummary} summary
 * @param {boolean} mine whether I sent the message
 */
export function mayDeleteForEveryone(summary, mine) {
  if (mine) return true;
  return summary.type !== 'direct' && (summary.role === 'owner' || summary.role === 'admin');
}

/** Loading more is retried by the next scroll; a failure needs no alarm.
 * @param {Promise<unknown>} promise */
function quietly(promise) {
  promise.catch(() => {});
}

/** @param {string} iso */
function separator(iso) {
  return h('li', { class: 'day-separator', role: 'separator', 'aria-label': dayLabel(iso) }, h('span', { text: dayLabel(iso) }));
}

/**
 * Asks how to delete a message: for me only, or (if allowed) for
 * everyone; each button says which. Resolves with the choice, or null.
 * @param {boolean} forEveryone whether "Delete for everyone" is offered
 * @returns {Promise<'me' | 'everyone' | null>}
 */
function chooseDelete(forEveryone) {
  return new Promise((resolve) => {
    /** @type {'me' | 'everyone' | null} */
    let choice = null;
    const pick = (/** @type {'me' | 'everyone'} */ value, /** @type {() => void} */ close) => () => { choice = value; close(); };
    const text = forEveryone
      ? '“Delete for me” removes it from your devices only. “Delete for everyone” leaves “This message was deleted” for all members.'
      : '“Delete for me” removes it from your devices only; the others still see it.';
    const dialog = openDialog('Delete message?', (close) => [
      h('p', { text }),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'ghost', text: 'Cancel', on: { click: close } }),
        h('button', { type: 'button', class: 'danger', text: 'Delete for me', on: { click: pick('me', close) } }),
        forEveryone ? h('button', { type: 'button', class: 'danger', text: 'Delete for everyone', on: { click: pick('everyone', close) } }) : null),
    ]);
    dialog.addEventListener('close', () => resolve(choice));
  });
}
