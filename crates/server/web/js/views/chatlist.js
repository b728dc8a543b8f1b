// The chat list: one link per chat, most recently active first, with
// name, last message, time, unread badge and, for direct chats, an online
// dot. Rows are cached and rebuilt only when what they show changes.
// Pinned chats come first (most recently active first among them, with a
// pin), archived ones are apart under an "Archived" entry at the bottom
// (with how many of them are unread), a chat I marked unread shows a dot,
// a muted one a crossed bell. Each row has a "…" menu (views/chatmenu.js),
// also opened by a right click or the context-menu key.

import * as drafts from '../drafts.js';
import * as notify from '../notify.js';
import * as users from '../users.js';
import { activity, chatName, on, sortedChats, state } from '../state/store.js';
import { coalesce, h, patchChildren } from '../dom.js';
import { initials, listTime, preview } from '../format.js';
import { icon } from '../icons.js';
import { looksUnread } from '../chatflags.js';
import { openChatMenu } from './chatmenu.js';
import { lockBadge } from './e2ee.js';

/** @typedef {import('../state/store.js').ChatState} ChatState */

/**
 * Whether I opened (true) or closed (false) the "Archived" entry; null
 * until I touch it, while it is open only when the open chat is an
 * archived one. My choice wins: closed stays closed with an archived
 * chat open.
 * @type {boolean | null}
 */
let archivedChoice = null;

/** Whether the archived chats are shown.
 * @param {ChatState[]} archived */
function archivedShown(archived) {
  return archivedChoice ?? archived.some((chat) => chat.summary.chat_id === state.activeChatId);
}

/**
 * The list's three parts: pinned chats, the others, the archived ones;
 * each most recently active first.
 */
function sections() {
  /** @type {ChatState[]} */
  const pinned = [];
  /** @type {ChatState[]} */
  const rest = [];
  /** @type {ChatState[]} */
  const archived = [];
  for (const chat of sortedChats()) {
    if (chat.summary.archived) archived.push(chat);
    else if (chat.summary.pinned) pinned.push(chat);
    else rest.push(chat);
  }
  return { pinned, rest, archived };
}

/**
 * The chats in the order the list shows them (archived ones only while
 * their entry is open): what Alt+Up and Alt+Down walk through.
 * @returns {ChatState[]}
 */
export function listedChats() {
  const { pinned, rest, archived } = sections();
  return [...pinned, ...rest, ...(archivedShown(archived) ? archived : [])];
}

/** @param {HTMLElement} host */
export function mountChatList(host) {
  const list = h('ul', { class: 'chat-list' });
  const empty = h('p', { class: 'empty-note' });
  host.replaceChildren(list, empty);
  /** @type {Map<string, { signature: string, node: HTMLLIElement }>} */
  const rows = new Map();
  /** @type {{ signature: string, node: HTMLLIElement } | null} */
  let archivedEntry = null;
  let painted = false;

  const render = coalesce(() => {
    notify.updateTitle();
    if (!state.chatsLoaded) {
      empty.textContent = 'Loading chats…';
      return;
    }
    const { pinned, rest, archived } = sections();
    const chats = [...pinned, ...rest];
    empty.textContent = chats.length || archived.length ? '' : 'No chats yet. Start one with “New chat”.';
    empty.hidden = chats.length + archived.length > 0;
    /** @type {HTMLLIElement[]} */
    const nodes = [];
    /** @param {ChatState} chat */
    const rowOf = (chat) => {
      const signature = signatureOf(chat);
      let row = rows.get(chat.summary.chat_id);
      if (!row || row.signature !== signature) {
        row = { signature, node: buildRow(chat) };
        rows.set(chat.summary.chat_id, row);
      }
      return row.node;
    };
    for (const chat of chats) nodes.push(rowOf(chat));
    if (archived.length) {
      const open = archivedShown(archived);
      const unreadChats = archived.filter((chat) => looksUnread(chat.summary)).length;
      const signature = [archived.length, unreadChats, open].join('\u0001');
      if (!archivedEntry || archivedEntry.signature !== signature) {
        archivedEntry = { signature, node: buildArchivedEntry(archived.length, unreadChats, open, () => {
          archivedChoice = !open;
          render();
        }) };
      }
      nodes.push(archivedEntry.node);
      if (open) for (const chat of archived) nodes.push(rowOf(chat));
    }
    for (const chatId of rows.keys()) {
      if (!state.chats.has(chatId)) rows.delete(chatId);
    }
    patchChildren(list, nodes);
    if (!painted && chats.length) {
      painted = true;
      performance.mark('natter:chat-list-painted');
    }
  });

  for (const topic of ['chats', 'users', 'typing', 'active']) on(topic, render);
  render();
}

/** Everything a row shows, as one comparable string.
 * @param {ChatState} chat */
function signatureOf(chat) {
  const { summary } = chat;
  const last = summary.last_message;
  const peer = summary.peer_id ? users.presence(summary.peer_id)?.status : '';
  const sender = last && summary.type !== 'direct' ? users.name(last.sender_id) : '';
  return [
    summary.name, summary.unread_count, last?.message_id, last?.content, last?.deleted, activity(summary),
    peer, sender, chat.typing.size, state.activeChatId === summary.chat_id, draftOf(chat),
    summary.pinned, summary.archived, summary.marked_unread, summary.muted,
    summary.avatar_url, summary.e2ee, last ? preview(last) : '',
  ].join('\u0001');
}

/** The start of the chat's draft, shown instead of its last message
 * while the chat is not open ('' when there is none).
 * @param {ChatState} chat */
function draftOf(chat) {
  if (state.activeChatId === chat.summary.chat_id) return '';
  return drafts.get(chat.summary.chat_id).trim().split('\n', 1)[0].slice(0, 80);
}

/** @param {ChatState} chat */
function buildRow(chat) {
  const { summary } = chat;
  const name = chatName(summary);
  const last = summary.last_message;
  const online = summary.peer_id ? users.presence(summary.peer_id)?.status === 'online' : false;
  let line = last ? preview(last) : summary.type === 'channel' ? 'Channel created' : 'No messages yet';
  if (last && !last.deleted) {
    if (last.sender_id === state.me?.user_id) line = `You: ${line}`;
    else if (summary.type !== 'direct') line = `${users.name(last.sender_id)}: ${line}`;
  }
  const typing = chat.typing.size > 0;
  const unread = summary.unread_count;
  const markedOnly = Boolean(summary.marked_unread) && !unread;
  const active = state.activeChatId === summary.chat_id;
  const chatId = summary.chat_id;
  const more = h('button', {
    type: 'button', class: 'chat-row-more', 'aria-label': `Chat options for ${name}`, title: 'Chat options',
    'aria-haspopup': 'menu', 'aria-expanded': 'false',
    on: { click: () => openChatMenu(chatId, more) },
  }, icon('more'));
  return h('li', {
    class: `chat-item${summary.pinned ? ' pinned' : ''}${summary.archived ? ' archived' : ''}`,
    'data-chat-id': chatId,
    on: {
      contextmenu: (/** @type {MouseEvent} */ event) => {
        event.preventDefault();
        if (more.getAttribute('aria-expanded') === 'true') return;
        // A keyboard's context-menu key gives no point: under the button.
        const pointed = event.clientX !== 0 || event.clientY !== 0;
        openChatMenu(chatId, more, pointed ? { x: event.clientX, y: event.clientY } : undefined);
      },
      keydown: (/** @type {KeyboardEvent} */ event) => {
        if (event.key === 'ContextMenu' || (event.shiftKey && event.key === 'F10')) {
          event.preventDefault();
          if (more.getAttribute('aria-expanded') !== 'true') openChatMenu(chatId, more);
        }
      },
    },
  },
    h('a', {
      class: `chat-row${unread || markedOnly ? ' has-unread' : ''}`,
      href: `#/chat/${encodeURIComponent(summary.chat_id)}`,
      'aria-current': active ? 'page' : false,
      'data-chat-id': summary.chat_id,
    },
    h('span', { class: `avatar kind-${summary.type}`, 'aria-hidden': 'true' },
      summary.avatar_url && summary.type !== 'direct' ? h('img', { src: summary.avatar_url, alt: '' })
        : summary.type === 'channel' ? '#' : initials(name),
      online ? h('span', { class: 'online-dot' }) : null),
    h('span', { class: 'chat-row-main' },
      h('span', { class: 'chat-row-top' },
        h('span', { class: 'chat-row-name', text: name }),
        summary.e2ee ? lockBadge() : null,
        online ? h('span', { class: 'visually-hidden', text: ' (online)' }) : null,
        summary.muted ? h('span', { class: 'chat-row-flag muted-flag', title: 'Muted' }, icon('muted'), h('span', { class: 'visually-hidden', text: ' (muted)' })) : null,
        summary.pinned ? h('span', { class: 'chat-row-flag pin-flag', title: 'Pinned' }, icon('pin'), h('span', { class: 'visually-hidden', text: ' (pinned)' })) : null,
        h('time', { class: 'chat-row-time', datetime: activity(summary), text: listTime(activity(summary)) })),
      h('span', { class: 'chat-row-bottom' },
        typing || !draftOf(chat)
          ? h('span', { class: `chat-row-preview${typing ? ' typing' : ''}`, text: typing ? 'typing…' : line })
          : h('span', { class: 'chat-row-preview' }, h('span', { class: 'draft-marker', text: 'Draft:' }), ` ${draftOf(chat)}`),
        unread ? h('span', { class: 'badge' }, h('span', { text: String(unread) }), h('span', { class: 'visually-hidden', text: ' unread' })) : null,
        markedOnly ? h('span', { class: 'unread-dot', title: 'Marked as unread' }, h('span', { class: 'visually-hidden', text: ' (marked unread)' })) : null))),
    more);
}

/**
 * The "Archived" entry at the bottom of the list: opens and closes the
 * archived chats below it.
 * @param {number} count archived chats
 * @param {number} unreadChats how many of them are unread
 * @param {boolean} open
 * @param {() => void} toggle
 */
function buildArchivedEntry(count, unreadChats, open, toggle) {
  return h('li', { class: 'archived-entry' },
    h('button', { type: 'button', class: 'archived-toggle', 'aria-expanded': String(open), on: { click: toggle } },
      h('span', { class: 'avatar kind-archive', 'aria-hidden': 'true' }, icon('archive')),
      h('span', { class: 'archived-label', text: 'Archived' }),
      h('span', { class: 'archived-count', text: `${count} ${count === 1 ? 'chat' : 'chats'}` }),
      unreadChats ? h('span', { class: 'badge' }, h('span', { text: String(unreadChats) }), h('span', { class: 'visually-hidden', text: ' unread' })) : null));
}
