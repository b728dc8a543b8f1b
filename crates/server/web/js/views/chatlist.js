// The chat list: one link per chat, most recently active first, with
// name, last message, time, unread badge and, for direct chats, an online
// dot. Rows are cached and rebuilt only when what they show changes.

import * as drafts from '../drafts.js';
import * as notify from '../notify.js';
import * as users from '../users.js';
import { activity, chatName, on, sortedChats, state } from '../state/store.js';
import { coalesce, h, patchChildren } from '../dom.js';
import { initials, listTime, preview } from '../format.js';

/** @typedef {import('../state/store.js').ChatState} ChatState */

/** @param {HTMLElement} host */
export function mountChatList(host) {
  const list = h('ul', { class: 'chat-list' });
  const empty = h('p', { class: 'empty-note' });
  host.replaceChildren(list, empty);
  /** @type {Map<string, { signature: string, node: HTMLLIElement }>} */
  const rows = new Map();
  let painted = false;

  const render = coalesce(() => {
    notify.updateTitle();
    if (!state.chatsLoaded) {
      empty.textContent = 'Loading chats…';
      return;
    }
    const chats = sortedChats();
    empty.textContent = chats.length ? '' : 'No chats yet. Start one with “New chat”.';
    empty.hidden = chats.length > 0;
    /** @type {HTMLLIElement[]} */
    const nodes = [];
    for (const chat of chats) {
      const signature = signatureOf(chat);
      let row = rows.get(chat.summary.chat_id);
      if (!row || row.signature !== signature) {
        row = { signature, node: buildRow(chat) };
        rows.set(chat.summary.chat_id, row);
      }
      nodes.push(row.node);
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
  const active = state.activeChatId === summary.chat_id;
  return h('li', {},
    h('a', {
      class: `chat-row${unread ? ' has-unread' : ''}`,
      href: `#/chat/${encodeURIComponent(summary.chat_id)}`,
      'aria-current': active ? 'page' : false,
      'data-chat-id': summary.chat_id,
    },
    h('span', { class: `avatar kind-${summary.type}`, 'aria-hidden': 'true' },
      summary.type === 'channel' ? '#' : initials(name),
      online ? h('span', { class: 'online-dot' }) : null),
    h('span', { class: 'chat-row-main' },
      h('span', { class: 'chat-row-top' },
        h('span', { class: 'chat-row-name', text: name }),
        online ? h('span', { class: 'visually-hidden', text: ' (online)' }) : null,
        h('time', { class: 'chat-row-time', datetime: activity(summary), text: listTime(activity(summary)) })),
      h('span', { class: 'chat-row-bottom' },
        typing || !draftOf(chat)
          ? h('span', { class: `chat-row-preview${typing ? ' typing' : ''}`, text: typing ? 'typing…' : line })
          : h('span', { class: 'chat-row-preview' }, h('span', { class: 'draft-marker', text: 'Draft:' }), ` ${draftOf(chat)}`),
        unread ? h('span', { class: 'badge' }, h('span', { text: String(unread) }), h('span', { class: 'visually-hidden', text: ' unread' })) : null))));
}
