// One message in the timeline, built from data: sender, reply quote,
// text (formatted by views/markup.js: mentions, links, bold, code, lists
// and the rest), image thumbnail, file card or voice player
// (views/voice.js), tombstone, time, "edited",
// ticks, reactions and the action buttons (with "Info" on my own).
// Also the optimistic (pending) version of a message.

import * as users from '../users.js';
import { callText, clock, fileSize, preview } from '../format.js';
import { formattedText } from './markup.js';
import { collapsible } from './longtext.js';
import { h } from '../dom.js';
import { linkPreviewSlot } from './linkpreview.js';
import { icon } from '../icons.js';
import { openEmojiPicker } from './emojipicker.js';
import { openMessageInfo } from './messageinfo.js';
import { messageActionsButton } from './messageactions.js';
import { state } from '../state/store.js';
import { voiceNote, voicePending } from './voice.js';
import { commitNote, isCommit, mlsBody, mlsSignature } from './e2ee.js';

/** @typedef {import('../types.js').Message} Message */

/** Reactions offered by the "React" button. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🎉'];

/**
 * @typedef {{
 *   message: Message, mine: boolean, status: import('../types.js').MessageStatus,
 *   showSender: boolean, canDelete: boolean, canReact: boolean, canReply: boolean,
 *   reply: Message | null | undefined, paletteOpen: boolean,
 *   onReply: () => void, onEdit: () => void, onDelete: () => void,
 *   onReact: (emoji: string) => void, onTogglePalette: () => void,
 *   onOpenFile: (download: boolean) => void, linkFresh: (url: string) => boolean,
 *   onStaleLinks: () => void,
 *   onJump: (messageId: string) => void,
 * }} MessageContext
 */

/** What a message node depends on, to know when to rebuild it.
 * @param {MessageContext} ctx */
export function signature(ctx) {
  const { message, reply } = ctx;
  return JSON.stringify([
    message.message_id, message.content, message.deleted, message.edited_at, message.reactions, ctx.status,
    ctx.showSender, ctx.showSender ? users.name(message.sender_id) : '', ctx.paletteOpen, ctx.canDelete,
    reply === undefined ? 0 : reply === null ? 1 : [reply.content, reply.deleted, users.name(reply.sender_id)],
    (message.metadata.mentions ?? []).map((id) => users.username(id)),
    message.file?.url,
    message.type === 'mls' ? mlsSignature(message) : '',
  ]);
}

/** @param {MessageContext} ctx */
export function buildMessage(ctx) {
  const { message, mine } = ctx;
  if (isCommit(message)) {
    return h('li', { class: 'msg system', id: `msg-${message.seq}`, 'data-seq': message.seq, 'data-message-id': message.message_id },
      commitNote(message));
  }
  const classes = ['msg', mine ? 'own' : 'other'];
  if (message.deleted) classes.push('deleted');
  const bubble = h('div', { class: 'bubble' },
    ctx.showSender ? h('div', { class: 'sender', text: users.name(message.sender_id) }) : null,
    message.metadata.reply_to && !message.deleted ? quote(ctx) : null,
    body(ctx),
    h('div', { class: 'meta' },
      message.edited_at && !message.deleted ? h('span', { class: 'edited', text: 'edited' }) : null,
      h('time', { datetime: message.created_at, title: new Date(message.created_at).toLocaleString(), text: clock(message.created_at) }),
      mine ? tick(ctx.status, isGroup(message)) : null));
  if (mentionsMe(message)) classes.push('mentions-me');
  return h('li', { class: classes.join(' '), id: `msg-${message.seq}`, 'data-seq': message.seq, 'data-message-id': message.message_id },
    bubble,
    message.reactions.length ? reactions(ctx) : null,
    message.deleted ? tombstoneActions(ctx) : actions(ctx),
    messageActionsButton(message.message_id),
    ctx.paletteOpen ? palette(ctx) : null);
}

/** @param {Message} message */
function mentionsMe(message) {
  const me = state.me?.user_id;
  return Boolean(me && (message.metadata.mentions ?? []).includes(me));
}

/** @param {MessageContext} ctx */
function quote(ctx) {
  const target = ctx.reply;
  const name = target ? users.name(target.sender_id) : '';
  const text = target === undefined ? 'Loading…' : target === null ? 'Message not available' : preview(target);
  return h('button', {
    type: 'button', class: 'quote', 'aria-label': `Quoted message${name ? ` from ${name}` : ''}: ${text}. Show it`,
    on: { click: () => { if (ctx.message.metadata.reply_to) ctx.onJump(ctx.message.metadata.reply_to); } },
  }, h('span', { class: 'quote-name', text: name }), h('span', { class: 'quote-text', text }));
}

/** @param {MessageContext} ctx */
function body(ctx) {
  const { message } = ctx;
  if (message.deleted) return h('p', { class: 'tombstone', text: 'This message was deleted' });
  if (message.type === 'call') return h('div', { class: 'body' }, h('p', { class: 'call-entry', text: callText(message) }));
  if (message.type === 'mls') return mlsBody(message, mentionedNames(message.metadata.mentions));
  const caption = message.content ? collapsible(formattedText(message.content, mentionedNames(message.metadata.mentions)), message.content, message.message_id) : null;
  const file = message.file;
  if (message.type === 'image' && file) {
    const size = fitted(file.width, file.height);
    const src = file.thumbnail_url ?? file.url;
    // An expired link would fail: show the box and fetch new links.
    const fresh = ctx.linkFresh(src);
    if (!fresh) ctx.onStaleLinks();
    return h('div', { class: 'body' },
      h('button', { type: 'button', class: 'thumb', 'aria-label': `Open image ${file.name}`, on: { click: () => ctx.onOpenFile(false) } },
        h('img', { src: fresh ? src : false, alt: file.name, width: size?.width ?? 240, height: size?.height ?? 180, decoding: 'async' })),
      caption);
  }
  if (message.type === 'voice' && file) return h('div', { class: 'body' }, voiceNote(message), caption);
  if (message.type === 'file' && file) {
    const card = fileCard(file.name, file.size, file.url);
    card.addEventListener('click', (event) => {
      if (ctx.linkFresh(file.url)) return;
      event.preventDefault();
      ctx.onOpenFile(true);
    });
    return h('div', { class: 'body' }, card, caption);
  }
  return h('div', { class: 'body' }, caption, linkPreviewSlot(message));
}

/**
 * Thumbnail box size keeping the aspect ratio, so the layout does not
 * jump when the image arrives.
 * @param {number | undefined} width @param {number | undefined} height
 */
export function fitted(width, height) {
  if (!width || !height) return null;
  const scale = Math.min(1, 280 / width, 280 / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** @param {string} name @param {number} size @param {string} url */
export function fileCard(name, size, url) {
  return h('a', { class: 'file-card', href: url, download: name, 'aria-label': `Download ${name} (${fileSize(size)})` },
    h('span', { class: 'file-icon', 'aria-hidden': 'true' }, icon('file')),
    h('span', { class: 'file-info' }, h('span', { class: 'file-name', text: name }), h('span', { class: 'file-size', text: fileSize(size) })),
    h('span', { class: 'file-download', 'aria-hidden': 'true' }, icon('download')));
}

/**
 * The lowercase usernames of the people a message mentions in
 * `metadata.mentions`: only those `@name`s are marked.
 * @param {string[] | undefined} mentions user ids
 */
function mentionedNames(mentions) {
  /** @type {Set<string>} */
  const names = new Set();
  for (const id of mentions ?? []) {
    const name = users.username(id);
    if (name) names.add(name.toLowerCase());
  }
  return names;
}

/** Whether the message is in a group or channel, not a direct chat.
 * @param {Message} message */
function isGroup(message) {
  const type = state.chats.get(message.chat_id)?.summary.type;
  return type !== undefined && type !== 'direct';
}

/**
 * In a group, "read" means at least one member read it: the tooltip says
 * so, and Message info tells who.
 * @param {import('../types.js').MessageStatus} status @param {boolean} group
 */
function tick(status, group) {
  const label = status === 'read' ? 'Read' : status === 'delivered' ? 'Delivered' : 'Sent';
  const title = !group || status === 'sent' ? label
    : `${label} by at least one member (Info shows who)`;
  return h('span', { class: `tick tick-${status}`, role: 'img', 'aria-label': label, title }, icon(status === 'sent' ? 'check' : 'checks'));
}

/** @param {MessageContext} ctx */
function reactions(ctx) {
  const me = state.me?.user_id ?? null;
  return h('div', { class: 'reactions', role: 'group', 'aria-label': 'Reactions' },
    ...ctx.message.reactions.map((reaction) => {
      const pressed = me !== null && reaction.user_ids.includes(me);
      return h('button', {
        type: 'button', class: 'reaction', 'aria-pressed': String(pressed), disabled: !ctx.canReact,
        title: reaction.user_ids.map((id) => users.name(id)).join(', '),
        text: `${reaction.emoji} ${reaction.count}`,
        on: { click: () => ctx.onReact(reaction.emoji) },
      });
    }));
}

/** @param {MessageContext} ctx */
function actions(ctx) {
  const { message, mine } = ctx;
  return h('div', { class: 'actions', role: 'group', 'aria-label': 'Message actions' },
    ctx.canReply ? h('button', { type: 'button', text: 'Reply', on: { click: ctx.onReply } }) : null,
    ctx.canReact ? h('button', { type: 'button', text: 'React', 'aria-expanded': String(ctx.paletteOpen), on: { click: ctx.onTogglePalette } }) : null,
    mine && message.type === 'text' ? h('button', { type: 'button', text: 'Edit', on: { click: ctx.onEdit } }) : null,
    // Every message can be deleted for me; for everyone where canDelete.
    h('button', { type: 'button', text: 'Delete', on: { click: ctx.onDelete } }),
    mine ? h('button', { type: 'button', text: 'Info', 'aria-label': 'Message info', on: { click: () => openMessageInfo(message) } }) : null);
}

/** A tombstone can still be deleted for me. @param {MessageContext} ctx */
function tombstoneActions(ctx) {
  return h('div', { class: 'actions', role: 'group', 'aria-label': 'Message actions' },
    h('button', { type: 'button', text: 'Delete', on: { click: ctx.onDelete } }));
}

/** The quick reactions, and "More reactions" for the full picker.
 * @param {MessageContext} ctx */
function palette(ctx) {
  const more = h('button', { type: 'button', class: 'palette-more', 'aria-label': 'More reactions', title: 'More reactions', 'aria-haspopup': 'dialog' }, icon('plus'));
  const id = ctx.message.message_id;
  let picked = '';
  more.addEventListener('click', () => openEmojiPicker({
    title: 'Add a reaction', anchor: more,
    // Picking adds: an emoji I already reacted with stays on.
    onPick: (emoji) => {
      picked = emoji;
      const me = state.me?.user_id;
      if (ctx.message.reactions.some((reaction) => reaction.emoji === emoji && me && reaction.user_ids.includes(me))) ctx.onTogglePalette();
      else ctx.onReact(emoji);
    },
    // The palette closes on a pick: to the reaction once it shows, else
    // to the message's React button.
    returnFocus: () => {
      const item = document.querySelector(`li[data-message-id="${id}"]`);
      const chip = Array.from(item?.querySelectorAll('.reactions .reaction') ?? []).find((node) => picked && node.textContent?.startsWith(`${picked} `));
      const button = chip ?? item?.querySelector('.actions button[aria-expanded]');
      return button instanceof HTMLElement ? button : null;
    },
  }));
  return h('div', { class: 'palette', role: 'group', 'aria-label': 'Pick a reaction' },
    ...QUICK_REACTIONS.map((emoji) => h('button', {
      type: 'button', 'aria-label': `React with ${emoji}`, text: emoji, on: { click: () => ctx.onReact(emoji) },
    })), more);
}

/**
 * A message that is still on its way.
 * @param {import('../state/store.js').Pending} pending
 * @param {{ onRetry: () => void, onDiscard: () => void }} handlers
 */
export function buildPending(pending, handlers) {
  /** @type {Node | null} */
  let content = null;
  if (pending.type === 'voice') {
    content = voicePending(pending);
  } else if (pending.previewUrl) {
    content = h('div', { class: 'body' }, h('img', { class: 'preview', src: pending.previewUrl, alt: pending.file?.name ?? 'image' }));
  } else if (pending.file) {
    content = h('div', { class: 'body' }, fileCard(pending.file.name, pending.file.size, '#'));
  }
  // Formatted already, so nothing changes when the stored message replaces it.
  const text = pending.content ? formattedText(pending.content, mentionedNames(pending.metadata?.mentions)) : null;
  const uploading = pending.state === 'uploading';
  const failed = pending.state === 'failed';
  const label = failed ? 'Not sent' : uploading ? 'Uploading' : 'Sending';
  return h('li', { class: `msg own pending${failed ? ' failed' : ''}`, 'data-client-id': pending.client_msg_id },
    h('div', { class: 'bubble' }, content, text,
      uploading ? h('progress', { max: 1, value: pending.progress ?? 0, 'aria-label': `Uploading ${pending.file?.name ?? 'file'}` }) : null,
      h('div', { class: 'meta' },
        h('span', { class: 'tick tick-pending', role: 'img', 'aria-label': label, title: label }, icon(failed ? 'alert' : 'clock')))),
    failed ? h('div', { class: 'send-error', role: 'alert' },
      h('span', { text: `Not sent: ${pending.error ?? 'error'}` }),
      h('button', { type: 'button', text: 'Retry', on: { click: handlers.onRetry } }),
      h('button', { type: 'button', text: 'Discard', on: { click: handlers.onDiscard } })) : null);
}
