// Writing in the open chat: Enter sends, Shift+Enter starts a new line,
// Escape cancels a reply or an edit, Up edits my last message. Files come
// from the attach button, paste or drop; the mic button records a voice
// message (views/voice.js). Announces typing, turns
// "@username" of members into mentions, keeps a draft per chat. The
// emoji button opens the picker (inserting at the caret) and ":code"
// completes to emoji (views/shortcodes.js).

import * as drafts from '../drafts.js';
import * as messages from '../messages.js';
import * as outbox from '../outbox.js';
import * as sync from '../sync.js';
import * as timeline from '../state/timeline.js';
import * as users from '../users.js';
import { canPost } from '../chats.js';
import { h } from '../dom.js';
import { characterCounter, checkSizes } from './sendlimits.js';
import { icon } from '../icons.js';
import { mentionSuggestions } from './mentions.js';
import { openEmojiPicker } from './emojipicker.js';
import { preview } from '../format.js';
import { shortcodeSuggestions } from './shortcodes.js';
import { state } from '../state/store.js';
import { voiceRecorder } from './voice.js';
import { NO_ATTACHMENTS } from './e2ee.js';

/** @typedef {import('../types.js').Message} Message */

/**
 * @param {HTMLElement} host
 * @param {string} chatId
 * @param {{ onSent: () => void }} hooks
 */
export function mountComposer(host, chatId, hooks) {
  const chat = state.chats.get(chatId);
  if (!chat) return { dispose() {}, reply() {}, edit() {}, addFiles() {} };
  if (!canPost(chat.summary)) {
    host.replaceChildren(h('p', { class: 'read-only-note', text: 'Only the owner and admins post in this channel.' }));
    return { dispose() {}, reply() {}, edit() {}, addFiles() {} };
  }
  /** @type {{ kind: 'reply' | 'edit', message: Message } | null} */
  let mode = null;
  const context = h('div', { class: 'composer-context', hidden: true });
  const input = h('textarea', {
    id: 'composer-input', class: 'composer-input', rows: 1, placeholder: 'Write a message…',
    'aria-label': 'Message', enterkeyhint: 'send',
  });
  input.value = drafts.get(chatId);
  const fileInput = h('input', { id: 'composer-file', type: 'file', multiple: true, class: 'visually-hidden', tabindex: -1, 'aria-hidden': 'true' });
  const attach = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Attach file', title: 'Attach file', on: { click: () => fileInput.click() } }, icon('attach'));
  const emojiButton = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Insert emoji', title: 'Insert emoji', 'aria-haspopup': 'dialog' }, icon('smile'));
  emojiButton.addEventListener('click', () => openEmojiPicker({
    title: 'Insert emoji', anchor: emojiButton,
    onPick: (emoji) => {
      input.focus();
      input.setRangeText(emoji, input.selectionStart, input.selectionEnd, 'end');
      input.dispatchEvent(new Event('input'));
      return true;
    },
  }));
  const send = h('button', { type: 'submit', class: 'primary send-button', text: 'Send' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  // While recording, the recorder's bar stands in for the text row.
  const voice = voiceRecorder({
    onActive: (active) => {
      form.hidden = active;
      hint.hidden = active;
      if (!active) input.focus();
    },
    onRecorded: (recorded) => sendVoice(recorded),
    onError: (text) => { error.textContent = text; },
  });
  const suggest = mentionSuggestions(input, chatId);
  const shortcodes = shortcodeSuggestions(input, chatId);
  // Encrypted chats send text only (files would need encrypting first).
  const encrypted = Boolean(chat.summary.e2ee);
  const form = h('form', { class: 'composer', on: { submit: (/** @type {Event} */ event) => { event.preventDefault(); void submit(); } } },
    encrypted ? null : attach, emojiButton, fileInput, input, encrypted ? null : voice?.button, send);
  // Formatting help (issue 15 item 3), shown while writing.
  const hint = h('p', { class: 'composer-hint', id: `composer-hint-${chatId}` },
    h('strong', { text: '**bold**' }), ' · ', h('em', { text: '_italic_' }), ' · ', h('code', { text: '`code`' }),
    ' · ', h('code', { text: '```code block```' }), ' · > quote · - list · 1. list');
  input.setAttribute('aria-describedby', hint.id);
  host.replaceChildren(context, error, suggest.element, shortcodes.element, form, ...(voice ? [voice.bar] : []), hint);
  const counter = characterCounter(input, send, error);
  host.insertBefore(counter.element, form);
  autosize();
  // Straight after a reload the stored drafts may still be on their way.
  void drafts.loaded().then(() => {
    if (input.isConnected && !input.value && !mode && drafts.get(chatId)) {
      input.value = drafts.get(chatId);
      autosize();
    }
  });

  fileInput.addEventListener('change', () => {
    addFiles(Array.from(fileInput.files ?? []));
    fileInput.value = '';
  });

  input.addEventListener('keydown', (event) => {
    if (suggest.onKeydown(event) || shortcodes.onKeydown(event)) return;
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void submit();
    } else if (event.key === 'Escape' && mode) {
      event.preventDefault();
      setMode(null);
    } else if (event.key === 'ArrowUp' && !event.altKey && !input.value && !mode) {
      const last = lastOwnText();
      if (last) {
        event.preventDefault();
        edit(last);
      }
    }
  });

  input.addEventListener('input', () => {
    autosize();
    suggest.update();
    shortcodes.update();
    if (mode?.kind !== 'edit') drafts.set(chatId, input.value);
    if (input.value.trim() && mode?.kind !== 'edit') sync.typed(chatId);
    else sync.stopTyping();
  });

  input.addEventListener('paste', (event) => {
    const files = Array.from(event.clipboardData?.files ?? []);
    if (files.length) {
      event.preventDefault();
      addFiles(files);
    }
  });

  function autosize() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
    counter.update();
  }

  async function submit() {
    const text = input.value;
    error.textContent = '';
    if (counter.over()) {
      counter.refuse();
      return;
    }
    if (mode?.kind === 'edit') {
      const target = mode.message;
      if (!text.trim() || text === target.content) {
        setMode(null);
        return;
      }
      try {
        await messages.edit(target, text);
        setMode(null);
      } catch (failure) {
        error.textContent = `Could not save the edit: ${failure instanceof Error ? failure.message : 'error'}`;
      }
      return;
    }
    if (!text.trim()) return;
    /** @type {import('../types.js').Metadata} */
    const metadata = {};
    if (mode?.kind === 'reply') metadata.reply_to = mode.message.message_id;
    const mentions = mentionsIn(text);
    if (mentions.length) metadata.mentions = mentions;
    outbox.sendText(chatId, text, Object.keys(metadata).length ? metadata : undefined);
    input.value = '';
    drafts.clear(chatId);
    sync.stopTyping();
    setMode(null);
    autosize();
    hooks.onSent();
  }

  /** Members named as @username in the text. @param {string} text */
  function mentionsIn(text) {
    const members = state.chats.get(chatId)?.members ?? [];
    const named = new Set(Array.from(text.matchAll(/@([a-z0-9_.-]{3,32})/gi), (match) => match[1].replace(/[.\-]+$/, '').toLowerCase()));
    return members.map((member) => member.user_id).filter((id) => {
      const name = users.username(id);
      return name !== null && named.has(name) && id !== state.me?.user_id;
    });
  }

  function lastOwnText() {
    const window = state.chats.get(chatId)?.window;
    if (!window) return null;
    const own = timeline.ordered(window).filter((message) => message.sender_id === state.me?.user_id && message.type === 'text' && !message.deleted);
    return own.at(-1) ?? null;
  }

  /** @param {{ kind: 'reply' | 'edit', message: Message } | null} next */
  function setMode(next) {
    const leavingEdit = mode?.kind === 'edit';
    mode = next;
    context.replaceChildren();
    context.hidden = !mode;
    send.textContent = mode?.kind === 'edit' ? 'Save' : 'Send';
    if (leavingEdit && !mode) input.value = drafts.get(chatId);
    if (mode) {
      const label = mode.kind === 'edit' ? 'Editing message' : `Replying to ${users.name(mode.message.sender_id)}`;
      context.append(
        h('div', { class: 'composer-context-text' }, h('strong', { text: label }), h('span', { text: preview(mode.message) })),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': mode.kind === 'edit' ? 'Cancel edit' : 'Cancel reply', on: { click: () => setMode(null) } }, icon('close')));
    }
    autosize();
    input.focus();
  }

  /** @param {Message} message */
  function reply(message) {
    setMode({ kind: 'reply', message });
  }

  /** @param {Message} message */
  function edit(message) {
    setMode({ kind: 'edit', message });
    input.value = message.content;
    autosize();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  /**
   * A finished recording goes out as a voice message (answering the
   * message being replied to, if any).
   * @param {import('../recording.js').Recording} recorded
   */
  function sendVoice(recorded) {
    const { refusal } = checkSizes([recorded.file]);
    if (refusal) {
      error.textContent = refusal;
      return;
    }
    /** @type {import('../types.js').Metadata} */
    const metadata = { duration_ms: recorded.durationMs };
    if (recorded.waveform) metadata.waveform = recorded.waveform;
    if (mode?.kind === 'reply') {
      metadata.reply_to = mode.message.message_id;
      setMode(null);
    }
    outbox.sendVoice(chatId, recorded.file, metadata);
    hooks.onSent();
  }

  /** @param {File[]} files */
  function addFiles(files) {
    if (encrypted) {
      if (files.length) error.textContent = NO_ATTACHMENTS;
      return;
    }
    const { fits, refusal } = checkSizes(files);
    error.textContent = refusal;
    for (const file of fits) outbox.sendFile(chatId, file);
    if (fits.length) hooks.onSent();
  }

  return {
    dispose: () => {
      sync.stopTyping();
      voice?.dispose();
    },
    reply,
    edit,
    addFiles,
  };
}
