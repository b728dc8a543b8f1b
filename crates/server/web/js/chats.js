// The chat list and membership: loading and merging summaries, members,
// creating direct chats, groups and channels, renaming and changing a
// group's profile (topic, description, avatar), adding and
// removing members, leaving. Updates the store; views only call these.

import * as api from './api.js';
import * as e2ee from './e2ee/engine.js';
import * as users from './users.js';
import { emit, newChatState, state } from './state/store.js';

/** @typedef {import('./types.js').ChatSummary} ChatSummary */

/** @type {Promise<void> | null} */
let loading = null;

/**
 * Fetches the list and merges it into the store (loaded windows stay).
 * Concurrent callers share one request.
 * @returns {Promise<void>}
 */
export function loadChats() {
  if (!loading) {
    loading = (async () => {
      const { chats } = await api.chats();
      const seen = new Set();
      for (const summary of chats) {
        seen.add(summary.chat_id);
        upsert(summary);
      }
      for (const chatId of Array.from(state.chats.keys())) {
        if (!seen.has(chatId)) forget(chatId);
      }
      state.chatsLoaded = true;
      emit('chats');
      for (const summary of chats) {
        if (summary.peer_id) void users.load(summary.peer_id);
      }
    })().finally(() => {
      loading = null;
    });
  }
  return loading;
}

/**
 * Adds a chat or replaces its summary, keeping what was loaded for it.
 * @param {ChatSummary} summary
 */
export function upsert(summary) {
  const chat = state.chats.get(summary.chat_id);
  if (chat) {
    const keepNewer = chat.summary.last_seq > summary.last_seq;
    chat.summary = keepNewer ? { ...summary, last_seq: chat.summary.last_seq, last_message: chat.summary.last_message } : summary;
  } else {
    state.chats.set(summary.chat_id, newChatState(summary));
  }
}

/** Drops a chat we no longer belong to.
 * @param {string} chatId */
export function forget(chatId) {
  state.chats.delete(chatId);
  for (const [id, pending] of state.pending) {
    if (pending.chat_id === chatId) state.pending.delete(id);
  }
  if (state.activeChatId === chatId) {
    state.activeChatId = null;
    window.history.replaceState(null, '', '#/');
    emit('active');
  }
}

/**
 * The members of a chat (and their profiles, for names).
 * @param {string} chatId
 */
export async function loadMembers(chatId) {
  const detail = await api.chat(chatId);
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const { members, ...summary } = detail;
  chat.members = members;
  chat.summary = {
    ...chat.summary, name: summary.name, role: summary.role, member_count: summary.member_count,
    topic: summary.topic, avatar_url: summary.avatar_url,
  };
  chat.description = detail.description ?? null;
  await Promise.all(members.map((member) => users.load(member.user_id)));
  emit('chats');
  emit('timeline', chatId);
}

/**
 * Opens (or finds) the direct chat with a user.
 * @param {string} userId
 * @returns {Promise<string>} chat id
 */
export async function startDirect(userId) {
  return adopt(await api.createChat('direct', [userId]));
}

/**
 * @param {'group' | 'channel'} type
 * @param {string} name
 * @param {string[]} memberIds
 * @returns {Promise<string>} chat id
 */
export async function createGroup(type, name, memberIds) {
  return adopt(await api.createChat(type, memberIds, name));
}

/**
 * An end-to-end encrypted chat: made on the server, then its MLS group
 * with the members' devices (e2ee/engine.js). An existing encrypted
 * direct chat with the same person is opened instead.
 * @param {'direct' | 'group'} type
 * @param {string[]} memberIds the others
 * @param {string} [name]
 * @returns {Promise<string>} chat id
 */
export async function startEncrypted(type, memberIds, name) {
  const detail = await api.createChat(type, memberIds, name, true);
  const chatId = adopt(detail);
  await e2ee.setUp(chatId, detail.mls_epoch ?? 0, memberIds);
  return chatId;
}

/** @param {import('./types.js').ChatDetail} detail */
function adopt(detail) {
  const { members, ...summary } = detail;
  upsert(summary);
  const chat = state.chats.get(summary.chat_id);
  if (chat) {
    chat.members = members;
    chat.description = detail.description ?? null;
  }
  emit('chats');
  return summary.chat_id;
}

/** @param {string} chatId @param {string} name */
export async function rename(chatId, name) {
  adopt(await api.renameChat(chatId, name));
}

/**
 * Changes a group's name, topic, description or avatar (owner, admins).
 * @param {string} chatId
 * @param {Parameters<typeof api.updateChat>[1]} update
 */
export async function updateProfile(chatId, update) {
  adopt(await api.updateChat(chatId, update));
  emit('timeline', chatId);
}

/** @param {string} chatId @param {string} userId */
export async function addMember(chatId, userId) {
  adopt(await api.addMember(chatId, userId));
  emit('timeline', chatId);
}

/** @param {string} chatId @param {string} userId */
export async function removeMember(chatId, userId) {
  await api.removeMember(chatId, userId);
  memberRemoved(chatId, userId);
}

/** @param {string} chatId */
export async function leave(chatId) {
  const me = state.me?.user_id;
  if (!me) return;
  await api.removeMember(chatId, me);
  forget(chatId);
  emit('chats');
}

/** A member joined (event or own action).
 * @param {string} chatId @param {string} userId */
export function memberAdded(chatId, userId) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  if (chat.members && !chat.members.some((member) => member.user_id === userId)) {
    chat.members.push({ user_id: userId, role: 'member', joined_at: new Date().toISOString() });
    chat.summary.member_count = chat.members.length;
    void users.load(userId);
  } else if (!chat.members) {
    chat.summary.member_count += 1;
  }
  emit('chats');
  emit('timeline', chatId);
}

/** A member left or was removed (event or own action).
 * @param {string} chatId @param {string} userId */
export function memberRemoved(chatId, userId) {
  if (userId === state.me?.user_id) {
    forget(chatId);
    emit('chats');
    return;
  }
  const chat = state.chats.get(chatId);
  if (!chat) return;
  if (chat.members) {
    const before = chat.members.length;
    chat.members = chat.members.filter((member) => member.user_id !== userId);
    if (chat.members.length !== before) chat.summary.member_count = chat.members.length;
  } else {
    chat.summary.member_count = Math.max(0, chat.summary.member_count - 1);
  }
  chat.typing.delete(userId);
  emit('chats');
  emit('timeline', chatId);
}

/** Whether I may post in a chat (channels: owner and admins only).
 * @param {ChatSummary} summary */
export function canPost(summary) {
  return summary.type !== 'channel' || summary.role !== 'member';
}

/** @param {ChatSummary} summary */
export function canManage(summary) {
  return summary.type !== 'direct' && summary.role !== 'member';
}
