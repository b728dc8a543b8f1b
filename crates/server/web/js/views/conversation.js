// The conversation pane: header (name, presence or last seen, member
// count, typing, chat info), the timeline and the composer, with file
// drop onto the whole pane. Rebuilt when another chat is opened.

import * as chats from '../chats.js';
import * as history from '../history.js';
import * as users from '../users.js';
import { chatName, emit, on, state } from '../state/store.js';
import { coalesce, h } from '../dom.js';
import { icon } from '../icons.js';
import { initials, lastSeen } from '../format.js';
import { mountComposer } from './composer.js';
import { mountTimeline } from './timeline.js';
import { openChatInfo } from './chatinfo.js';
import { callButtons } from './call.js';
import { encryptionNote, lockBadge } from './e2ee.js';

/** @param {HTMLElement} main */
export function mountConversation(main) {
  /** @type {(() => void) | null} */
  let dispose = null;
  /** @type {string | null} */
  let shown = null;

  const open = () => {
    const chatId = state.activeChatId;
    const chat = chatId ? state.chats.get(chatId) : undefined;
    if (chatId && chatId === shown && chat) {
      // Same chat: only a new focus target (a search hit) to load.
      if (state.focusSeq !== null) {
        void history.ensureLoaded(chatId, state.focusSeq).then(() => emit('timeline', chatId), () => {});
      }
      return;
    }
    dispose?.();
    dispose = null;
    shown = null;
    if (!chatId) {
      main.replaceChildren(h('div', { class: 'placeholder' },
        h('p', { text: 'Choose a chat on the left, or start a new one.' })));
      return;
    }
    if (!chat) {
      main.replaceChildren(h('div', { class: 'placeholder' },
        h('p', { text: state.chatsLoaded ? 'This chat is not available.' : 'Loading…' })));
      return;
    }
    shown = chatId;
    dispose = mountChat(main, chatId);
  };
  on('active', open);
  on('chats', () => {
    // The open chat may have appeared (first load) or gone (left, removed).
    const present = state.activeChatId ? state.chats.has(state.activeChatId) : false;
    if ((present && shown !== state.activeChatId) || (!present && shown)) open();
  });
  open();
}

/**
 * @param {HTMLElement} main
 * @param {string} chatId
 * @returns {() => void}
 */
function mountChat(main, chatId) {
  const chat = /** @type {import('../state/store.js').ChatState} */ (state.chats.get(chatId));
  performance.mark('natter:chat-open-start');
  const title = h('h2', { class: 'conv-title' });
  const subtitle = h('p', { class: 'conv-subtitle', 'aria-live': 'polite' });
  const topicLine = h('p', { class: 'conv-topic', hidden: true });
  const avatar = h('span', { class: `avatar kind-${chat.summary.type}`, 'aria-hidden': 'true' });
  const infoButton = h('button', { type: 'button', class: 'ghost', text: 'Chat info', on: { click: () => openChatInfo(chatId) } });
  const encrypted = Boolean(chat.summary.e2ee);
  const header = h('header', { class: 'conv-head' },
    h('a', { class: 'back-link', href: '#/', 'aria-label': 'Back to chats' }, icon('back')),
    avatar, h('div', { class: 'conv-names' }, h('div', { class: 'conv-title-row' }, title, encrypted ? lockBadge() : null), topicLine, subtitle),
    ...callButtons(chat.summary), infoButton);
  const note = encrypted ? encryptionNote(chatId) : null;
  const timelineHost = h('div', { class: 'timeline-host' });
  const typingLine = h('p', { class: 'typing-line', 'aria-live': 'polite' });
  const composerHost = h('div', { class: 'composer-host' });
  const dropHint = h('div', { class: 'drop-hint', 'aria-hidden': 'true', text: 'Drop files to send them' });
  const pane = h('section', { class: 'conversation', 'aria-label': chatName(chat.summary) },
    header, note?.element ?? null, timelineHost, typingLine, composerHost, dropHint);
  main.replaceChildren(pane);

  const view = mountTimeline(timelineHost, chatId, {
    onReply: (message) => composer.reply(message),
    onEdit: (message) => composer.edit(message),
  });
  const composer = mountComposer(composerHost, chatId, { onSent: () => view.scrollToEnd() });

  const renderHeader = coalesce(() => {
    const current = state.chats.get(chatId);
    if (!current) return;
    const { summary } = current;
    const name = chatName(summary);
    title.textContent = name;
    showChatAvatar(avatar, summary, name);
    topicLine.textContent = summary.topic ?? '';
    topicLine.title = summary.topic ?? '';
    topicLine.hidden = !summary.topic;
    pane.setAttribute('aria-label', name);
    const typers = Array.from(current.typing.keys()).map((id) => users.name(id));
    typingLine.textContent = typingText(typers);
    if (summary.type === 'direct' && summary.peer_id) {
      const presence = users.presence(summary.peer_id);
      const status = presence?.status;
      subtitle.textContent = typers.length ? 'typing…' : status === 'online' ? 'online' : status === 'away' ? 'away' : presence ? lastSeen(presence.last_seen) : '';
      subtitle.classList.toggle('online', status === 'online');
    } else {
      const count = `${summary.member_count} member${summary.member_count === 1 ? '' : 's'}`;
      subtitle.textContent = summary.type === 'channel' ? `Channel · ${count}` : count;
    }
  });

  let depth = 0;
  const onDrag = (/** @type {DragEvent} */ event) => {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    if (event.type === 'dragenter') depth += 1;
    if (event.type === 'dragleave') depth -= 1;
    pane.classList.toggle('dragging', depth > 0);
  };
  pane.addEventListener('dragenter', onDrag);
  pane.addEventListener('dragover', onDrag);
  pane.addEventListener('dragleave', onDrag);
  pane.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    pane.classList.remove('dragging');
    composer.addFiles(Array.from(event.dataTransfer?.files ?? []));
  });

  const offs = [on('chats', renderHeader), on('users', renderHeader), on('typing', renderHeader)];
  renderHeader();

  void history.ensureLoaded(chatId, state.focusSeq).catch(() => {});
  if (chat.summary.type !== 'direct' || !chat.members) void chats.loadMembers(chatId).catch(() => {});
  if (chat.summary.peer_id) void users.load(chat.summary.peer_id, true);

  return () => {
    for (const off of offs) off();
    note?.dispose();
    view.dispose();
    composer.dispose();
  };
}

/**
 * A chat's avatar: a group's picture if it has one (the element keeps its
 * image while the link stays the same), else '#' or the initials.
 * @param {HTMLElement} avatar
 * @param {import('../types.js').ChatSummary} summary
 * @param {string} name
 */
function showChatAvatar(avatar, summary, name) {
  const url = summary.type !== 'direct' ? summary.avatar_url : undefined;
  if (url) {
    const shown = avatar.querySelector('img');
    if (shown?.getAttribute('src') !== url) avatar.replaceChildren(h('img', { src: url, alt: '' }));
  } else {
    avatar.textContent = summary.type === 'channel' ? '#' : initials(name);
  }
}

/** "Alice is typing…", "Alice and Bob are typing…", "3 people are typing…".
 * @param {string[]} names */
function typingText(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
