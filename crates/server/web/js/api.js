// The REST API (docs/API.md) as functions. Adds the Bearer token,
// refreshes it once on a 401 and retries, and turns problem details into
// ApiError. Knows nothing of the screen.

import * as session from './session.js';

/** @typedef {import('./types.js').AuthResponse} AuthResponse */
/** @typedef {import('./types.js').ChatDetail} ChatDetail */
/** @typedef {import('./types.js').ChatSummary} ChatSummary */
/** @typedef {import('./types.js').ChatNotifications} ChatNotifications */
/** @typedef {import('./types.js').ChatType} ChatType */
/** @typedef {import('./types.js').Device} Device */
/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').MessagePage} MessagePage */
/** @typedef {import('./types.js').MessageType} MessageType */
/** @typedef {import('./types.js').Metadata} Metadata */
/** @typedef {import('./types.js').MyNotifications} MyNotifications */
/** @typedef {import('./types.js').PushSubscriptionInfo} PushSubscriptionInfo */
/** @typedef {import('./types.js').SearchHit} SearchHit */
/** @typedef {import('./types.js').SendAck} SendAck */
/** @typedef {import('./types.js').User} User */

/** A failed call: `code` is the API's error code, or `network`;
 * `retryAfter` the seconds of a `Retry-After` header, if any. */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} detail @param {number | null} [retryAfter] */
  constructor(status, code, detail, retryAfter = null) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * `retryUnauthorized: false` is for calls whose 401 means a wrong
 * password rather than a stale token: refreshing and asking again would
 * only count a second failed guess.
 * @param {string} method
 * @param {string} path below /api/v1
 * @param {{ body?: unknown, query?: Record<string, string | number | undefined>, auth?: boolean, retryUnauthorized?: boolean }} [options]
 * @returns {Promise<any>}
 */
export async function call(method, path, options = {}) {
  const { body, query, auth = true, retryUnauthorized = true } = options;
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
  if (response.status === 401 && token && retryUnauthorized) {
    response = await attempt(await session.refresh(token));
  }
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await response.json() : null;
  if (!response.ok) {
    const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
    throw new ApiError(response.status, data?.code ?? 'internal', data?.detail ?? response.statusText,
      Number.isSafeInteger(retryAfter) && retryAfter >= 0 ? retryAfter : null);
  }
  return data;
}

/** @param {string} text */
const enc = (text) => encodeURIComponent(text);

// --- auth ---------------------------------------------------------------

/** `deviceName` names this login in the device list.
 * @param {string} username @param {string} password @param {string} [displayName] @param {string} [deviceName]
 * @returns {Promise<AuthResponse>} */
export const register = (username, password, displayName, deviceName) =>
  call('POST', '/auth/register', {
    auth: false, body: { username, password, display_name: displayName || undefined, device_name: deviceName || undefined },
  });

/** @param {string} username @param {string} password @param {string} [deviceName] @returns {Promise<AuthResponse>} */
export const login = (username, password, deviceName) =>
  call('POST', '/auth/login', { auth: false, body: { username, password, device_name: deviceName || undefined } });

/** Ends every other session of mine. A wrong current password is 401
 * `unauthorized`, not a reason to refresh.
 * @param {string} currentPassword @param {string} newPassword @returns {Promise<null>} */
export const changePassword = (currentPassword, newPassword) =>
  call('POST', '/auth/password', { body: { current_password: currentPassword, new_password: newPassword }, retryUnauthorized: false });

/** @param {string} refreshToken @returns {Promise<null>} */
export const logout = (refreshToken) => call('POST', '/auth/logout', { auth: false, body: { refresh_token: refreshToken } });

// --- users --------------------------------------------------------------

/** @returns {Promise<User>} */
export const me = () => call('GET', '/users/me');

/** Absent fields stay; `avatar_file_id` is an image I uploaded.
 * @param {{ display_name?: string, avatar_file_id?: string }} update @returns {Promise<User>} */
export const updateMe = (update) => call('PATCH', '/users/me', { body: update });

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
 * @param {boolean} [e2ee] end-to-end encrypted (direct and group only)
 * @returns {Promise<ChatDetail>} */
export const createChat = (type, memberIds, name, e2ee = false) =>
  call('POST', '/chats', { body: { type, name, member_ids: memberIds, e2ee: e2ee || undefined } });

/** @param {string} chatId @param {string} name @returns {Promise<ChatDetail>} */
export const renameChat = (chatId, name) => call('PATCH', `/chats/${enc(chatId)}`, { body: { name } });

/**
 * A group's name and profile; `null` or '' clears topic, description and
 * avatar; absent fields stay.
 * @param {string} chatId
 * @param {{ name?: string, topic?: string | null, description?: string | null, avatar_file_id?: string | null }} update
 * @returns {Promise<ChatDetail>}
 */
export const updateChat = (chatId, update) => call('PATCH', `/chats/${enc(chatId)}`, { body: update });

/** @param {string} chatId @param {string} userId @returns {Promise<ChatDetail>} */
export const addMember = (chatId, userId) => call('POST', `/chats/${enc(chatId)}/members`, { body: { user_id: userId } });

/** @param {string} chatId @param {string} userId @returns {Promise<null>} */
export const removeMember = (chatId, userId) => call('DELETE', `/chats/${enc(chatId)}/members/${enc(userId)}`);

/** @param {string} chatId @param {number} seq @returns {Promise<null>} */
export const markRead = (chatId, seq) => call('POST', `/chats/${enc(chatId)}/read`, { body: { seq } });

/** My own marks on a chat: the summary as I see it.
 * @param {string} chatId
 * @param {{ pinned?: boolean, archived?: boolean, marked_unread?: boolean }} change
 * @returns {Promise<ChatSummary>} */
export const updateMyChat = (chatId, change) => call('PATCH', `/chats/${enc(chatId)}/me`, { body: change });

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

/** "Delete for me": hides the message for me only.
 * @param {string} messageId @returns {Promise<null>} */
export const hideMessage = (messageId) => call('DELETE', `/messages/${enc(messageId)}?for=me`);

/** @param {string} messageId @param {string} emoji @param {boolean} on @returns {Promise<null>} */
export const react = (messageId, emoji, on) => call(on ? 'PUT' : 'DELETE', `/messages/${enc(messageId)}/reactions/${enc(emoji)}`);

/** Who my message reached and who read it, per member (Message info).
 * @param {string} messageId @returns {Promise<{ receipts: import('./types.js').Receipt[] }>} */
export const receipts = (messageId) => call('GET', `/messages/${enc(messageId)}/receipts`);

/** @param {string} q @returns {Promise<{ results: SearchHit[] }>} */
export const searchMessages = (q) => call('GET', '/search/messages', { query: { q, limit: 30 } });

// --- devices ------------------------------------------------------------

/** @returns {Promise<{ devices: Device[] }>} */
export const devices = () => call('GET', '/devices');

/** @param {string} deviceId @param {string} name @returns {Promise<Device>} */
export const renameDevice = (deviceId, name) => call('PATCH', `/devices/${enc(deviceId)}`, { body: { name } });

/** A wrong password is 401 `unauthorized`, not a reason to refresh.
 * @param {string} deviceId @param {string} password @returns {Promise<null>} */
export const removeDevice = (deviceId, password) =>
  call('DELETE', `/devices/${enc(deviceId)}`, { body: { password }, retryUnauthorized: false });

// --- push notifications -------------------------------------------------

/** 404 when push is off on the server. @returns {Promise<{ public_key: string }>} */
export const vapidKey = () => call('GET', '/push/vapid', { auth: false });

/** @returns {Promise<{ subscriptions: PushSubscriptionInfo[] }>} */
export const pushSubscriptions = () => call('GET', '/push/subscriptions');

/** @param {{ endpoint: string, keys: { p256dh: string, auth: string } }} subscription
 * @returns {Promise<PushSubscriptionInfo>} */
export const subscribePush = (subscription) => call('POST', '/push/subscriptions', { body: subscription });

/** @param {string} subscriptionId @returns {Promise<null>} */
export const unsubscribePush = (subscriptionId) => call('DELETE', `/push/subscriptions/${enc(subscriptionId)}`);

/** @param {string} subscriptionId @param {string} token @returns {Promise<null>} */
export const activatePush = (subscriptionId, token) =>
  call('POST', `/push/subscriptions/${enc(subscriptionId)}/activate`, { body: { token } });

/** @param {string} chatId @returns {Promise<ChatNotifications>} */
export const chatNotifications = (chatId) => call('GET', `/chats/${enc(chatId)}/notifications`);

/** @param {string} chatId @param {ChatNotifications} settings @returns {Promise<ChatNotifications>} */
export const setChatNotifications = (chatId, settings) => call('PUT', `/chats/${enc(chatId)}/notifications`, { body: settings });

/** @returns {Promise<MyNotifications>} */
export const myNotifications = () => call('GET', '/users/me/notifications');

/** Absent fields stay; `dnd_until: null` ends do-not-disturb.
 * @param {import('./types.js').MyNotificationsUpdate} update @returns {Promise<MyNotifications>} */
export const updateMyNotifications = (update) => call('PATCH', '/users/me/notifications', { body: update });
