// The REST API (docs/API.md) as functions. Adds the Bearer token,
// refreshes it once on a 401 and retries, and turns problem details into
// ApiError. Knows nothing of the screen.

import * as session from './session.js';

/** @typedef {import('./types.js').AuthResponse} AuthResponse */
/** @typedef {import('./types.js').ChatDetail} ChatDetail */
/** @typedef {import('./types.js').ChatSummary} ChatSummary */
/** @typedef {import('./types.js').ChatType} ChatType */
/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').MessagePage} MessagePage */
/** @typedef {import('./types.js').MessageType} MessageType */
/** @typedef {import('./types.js').Metadata} Metadata */
/** @typedef {import('./types.js').SearchHit} SearchHit */
/** @typedef {import('./types.js').SendAck} SendAck */
/** @typedef {import('./types.js').User} User */

/** A failed call: `code` is the API's error code, or `network`. */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} detail */
  constructor(status, code, detail) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {string} method
 * @param {string} path below /api/v1
 * @param {{ body?: unknown, query?: Record<string, string | number | undefined>, auth?: boolean }} [options]
 * @returns {Promise<any>}
 */
export async function call(method, path, options = {}) {
  const { body, query, auth = true } = options;
  let url = `/api/v1${path}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    url += `?${params}`;
  }
  /** @param {string | null} token */
  const attempt = async (token) => {
    /** @type {Record<string, string>} */
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      return await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, 'network', 'The server cannot be reached.');
    }
  };
  const token = auth ? await session.accessToken() : null;
  let response = await attempt(token);
  if (response.status === 401 && token) {
    response = await attempt(await session.refresh(token));
  }
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await response.json() : null;
  if (!response.ok) {
    throw new ApiError(response.status, data?.code ?? 'internal', data?.detail ?? response.statusText);
  }
  return data;
}

/** @param {string} text */
const enc = (text) => encodeURIComponent(text);

// --- auth ---------------------------------------------------------------

/** @param {string} username @param {string} password @param {string} [displayName]
 * @returns {Promise<AuthResponse>} */
export const register = (username, password, displayName) =>
  call('POST', '/auth/register', { auth: false, body: { username, password, display_name: displayName || undefined } });

/** @param {string} username @param {string} password @returns {Promise<AuthResponse>} */
export const login = (username, password) => call('POST', '/auth/login', { auth: false, body: { username, password } });

/** @param {string} refreshToken @returns {Promise<null>} */
export const logout = (refreshToken) => call('POST', '/auth/logout', { auth: false, body: { refresh_token: refreshToken } });

// --- users --------------------------------------------------------------

/** @returns {Promise<User>} */
export const me = () => call('GET', '/users/me');

/** @param {string} userId @returns {Promise<User>} */
export const user = (userId) => call('GET', `/users/${enc(userId)}`);

/** @param {string} prefix @returns {Promise<{ users: User[] }>} */
export const searchUsers = (prefix) => call('GET', '/users', { query: { q: prefix, limit: 20 } });

// --- chats --------------------------------------------------------------

/** @returns {Promise<{ chats: ChatSummary[] }>} */
export const chats = () => call('GET', '/chats');

/** @param {string} chatId @returns {Promise<ChatDetail>} */
export const chat = (chatId) => call('GET', `/chats/${enc(chatId)}`);

/** @param {ChatType} type @param {string[]} memberIds @param {string} [name]
 * @returns {Promise<ChatDetail>} */
export const createChat = (type, memberIds, name) => call('POST', '/chats', { body: { type, name, member_ids: memberIds } });

/** @param {string} chatId @param {string} name @returns {Promise<ChatDetail>} */
export const renameChat = (chatId, name) => call('PATCH', `/chats/${enc(chatId)}`, { body: { name } });

/** @param {string} chatId @param {string} userId @returns {Promise<ChatDetail>} */
export const addMember = (chatId, userId) => call('POST', `/chats/${enc(chatId)}/members`, { body: { user_id: userId } });

/** @param {string} chatId @param {string} userId @returns {Promise<null>} */
export const removeMember = (chatId, userId) => call('DELETE', `/chats/${enc(chatId)}/members/${enc(userId)}`);

/** @param {string} chatId @param {number} seq @returns {Promise<null>} */
export const markRead = (chatId, seq) => call('POST', `/chats/${enc(chatId)}/read`, { body: { seq } });

// --- messages -----------------------------------------------------------

/**
 * A page of history, ascending by seq; with `changedAfter` (a chat
 * version), the messages changed since, ascending by version.
 * @param {string} chatId
 * @param {{ before?: number, after?: number, changedAfter?: number, limit?: number }} cursor
 * @returns {Promise<MessagePage>}
 */
export const history = (chatId, cursor = {}) =>
  call('GET', `/chats/${enc(chatId)}/messages`, {
    query: {
      before: cursor.before === undefined ? undefined : `seq:${cursor.before}`,
      after: cursor.after === undefined ? undefined : `seq:${cursor.after}`,
      changed_after: cursor.changedAfter,
      limit: cursor.limit ?? 50,
    },
  });

/** @param {string} messageId @returns {Promise<Message>} */
export const message = (messageId) => call('GET', `/messages/${enc(messageId)}`);

/** @param {{ chat_id: string, content: string, type: MessageType, client_msg_id: string, file_id?: string, metadata?: Metadata }} body
 * @returns {Promise<SendAck>} */
export const send = (body) => call('POST', '/messages', { body });

/** @param {string} messageId @param {string} content @returns {Promise<Message>} */
export const editMessage = (messageId, content) => call('PATCH', `/messages/${enc(messageId)}`, { body: { content } });

/** @param {string} messageId @returns {Promise<null>} */
export const deleteMessage = (messageId) => call('DELETE', `/messages/${enc(messageId)}`);

/** @param {string} messageId @param {string} emoji @param {boolean} on @returns {Promise<null>} */
export const react = (messageId, emoji, on) => call(on ? 'PUT' : 'DELETE', `/messages/${enc(messageId)}/reactions/${enc(emoji)}`);

/** @param {string} q @returns {Promise<{ results: SearchHit[] }>} */
export const searchMessages = (q) => call('GET', '/search/messages', { query: { q, limit: 30 } });
