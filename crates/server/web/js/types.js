// Wire types of the natter API (docs/API.md, crates/proto) as JSDoc
// typedefs, for the type checker only: this module exports nothing at
// run time. Import a type with `import('./types.js').Message`.

/**
 * @typedef {'online' | 'away' | 'offline'} PresenceStatus
 * @typedef {{ status: PresenceStatus, last_seen?: string | null }} Presence
 * @typedef {{
 *   user_id: string, username: string, display_name: string,
 *   avatar_url?: string, presence: Presence
 * }} User
 * @typedef {{
 *   user: User, access_token: string, refresh_token: string, expires_in: number
 * }} AuthResponse
 */

/**
 * @typedef {'direct' | 'group' | 'channel'} ChatType
 * @typedef {'owner' | 'admin' | 'member'} Role
 * @typedef {{
 *   chat_id: string, type: ChatType, name: string | null, role: Role,
 *   member_count: number, last_message?: Message, last_seq: number,
 *   last_version: number, read_seq: number, unread_count: number, created_at: string,
 *   peer_id?: string,
 *   pinned?: boolean, archived?: boolean, marked_unread?: boolean, muted?: boolean,
 *   topic?: string, avatar_url?: string, e2ee?: boolean, mls_epoch?: number
 * }} ChatSummary
 * @typedef {{ user_id: string, role: Role, joined_at: string }} Member
 * @typedef {ChatSummary & { members: Member[], description?: string }} ChatDetail
 */

/**
 * @typedef {'text' | 'image' | 'file' | 'call' | 'voice' | 'mls'} MessageType
 * @typedef {'sent' | 'delivered' | 'read'} MessageStatus
 * @typedef {{
 *   reply_to?: string, mentions?: string[], duration_ms?: number, waveform?: number[],
 *   call?: CallRecord, mls?: { kind: 'commit', epoch: number }
 * }} Metadata
 * @typedef {{
 *   call_id: string, outcome: 'missed' | 'declined' | 'ended', duration_ms?: number, video: boolean
 * }} CallRecord
 * @typedef {{ type: 'offer' | 'answer', sdp: string }} SessionDescription
 * @typedef {{
 *   file_id: string, name: string, mime: string, size: number,
 *   width?: number, height?: number, url: string, thumbnail_url?: string
 * }} FileRef
 * @typedef {FileRef & { sha256: string }} FileInfo
 * @typedef {{ emoji: string, count: number, user_ids: string[] }} Reaction
 * @typedef {{
 *   message_id: string, chat_id: string, seq: number, version: number, sender_id: string,
 *   type: MessageType, content: string, file?: FileRef, metadata: Metadata,
 *   reactions: Reaction[], status: MessageStatus, created_at: string,
 *   edited_at?: string, deleted: boolean, client_msg_id?: string,
 *   hidden?: boolean
 * }} Message
 * @typedef {{ messages: Message[], has_more: boolean }} MessagePage
 * @typedef {{
 *   message_id: string, chat_id: string, seq: number, status: MessageStatus,
 *   created_at: string
 * }} SendAck
 * @typedef {{ message: Message, highlight: string }} SearchHit
 * @typedef {{ user_id: string, delivered_at?: string | null, read_at?: string | null }} Receipt
 */

/**
 * Devices and push notifications (docs/API.md, "Devices" and "Push
 * notifications").
 * @typedef {{
 *   device_id: string, name: string, created_at: string, last_seen_at: string, current: boolean
 * }} Device
 * @typedef {{
 *   subscription_id: string, endpoint: string, device_id: string,
 *   status: 'pending' | 'active', created_at: string
 * }} PushSubscriptionInfo
 * @typedef {'all' | 'mentions' | 'none'} NotificationLevel
 * @typedef {{ level: NotificationLevel, muted_until?: string | null }} ChatNotifications
 * @typedef {{ dnd_until: string | null, keywords: string[], previews: boolean }} MyNotifications
 * @typedef {{ dnd_until?: string | null, keywords?: string[], previews?: boolean }} MyNotificationsUpdate
 */

/**
 * Server -> client WebSocket frames.
 * @typedef {{ chat_id: string, last_seq: number, read_seq: number, last_version: number }} ChatCursor
 * @typedef {{ type: 'ready', user_id: string, session_id: string, chats: ChatCursor[], party_id?: string }
 *   | { type: 'message.new', message: Message }
 *   | { type: 'message.updated', message: Message }
 *   | { type: 'message.deleted', chat_id: string, message_id: string, seq: number, version: number }
 *   | { type: 'message.hidden', chat_id: string, message_id: string, seq: number }
 *   | { type: 'reaction.added' | 'reaction.removed', chat_id: string, message_id: string, emoji: string, user_id: string, version: number }
 *   | { type: 'receipt', chat_id: string, user_id: string, kind: 'delivered' | 'read', seq: number }
 *   | { type: 'typing', chat_id: string, user_id: string, active: boolean }
 *   | { type: 'presence', user_id: string, status: PresenceStatus, last_seen?: string | null }
 *   | { type: 'chat.created' | 'chat.updated', chat: ChatSummary }
 *   | { type: 'chat.member_added' | 'chat.member_removed', chat_id: string, user_id: string }
 *   | { type: 'send.ok', client_msg_id: string, message_id: string, seq: number, created_at: string }
 *   | { type: 'error', client_msg_id?: string, call_id?: string, code: string, detail: string }
 *   | { type: 'pong' }
 *   | { type: 'mls.welcome', welcome_id: string, chat_id: string, epoch: number, welcome: string }
 *   | { type: 'call.invite', call_id: string, chat_id: string, user_id: string, party_id: string, offer: SessionDescription, lifetime_ms: number, video: boolean }
 *   | { type: 'call.answer', call_id: string, chat_id: string, user_id: string, party_id: string, answer: SessionDescription }
 *   | { type: 'call.select_answer', call_id: string, chat_id: string, selected_party_id: string }
 *   | { type: 'call.candidates', call_id: string, chat_id: string, user_id: string, party_id: string, candidates: RTCIceCandidateInit[] }
 *   | { type: 'call.negotiate', call_id: string, chat_id: string, user_id: string, party_id: string, description: SessionDescription }
 *   | { type: 'call.reject', call_id: string, chat_id: string, user_id: string, party_id: string }
 *   | { type: 'call.hangup', call_id: string, chat_id: string, user_id: string, party_id: string, reason: string }} ServerEvent
 */

/**
 * Client -> server WebSocket frames.
 * @typedef {{ type: 'auth', token: string }
 *   | { type: 'send', client_msg_id: string, chat_id: string, content: string,
 *       message_type: MessageType, file_id?: string, metadata?: Metadata }
 *   | { type: 'ack' | 'read', chat_id: string, seq: number }
 *   | { type: 'typing', chat_id: string, active: boolean }
 *   | { type: 'presence', status: 'online' | 'away' }
 *   | { type: 'ping' }
 *   | { type: 'call.invite', call_id: string, chat_id: string, offer: SessionDescription, lifetime_ms?: number, video: boolean }
 *   | { type: 'call.answer', call_id: string, chat_id: string, answer: SessionDescription }
 *   | { type: 'call.candidates', call_id: string, chat_id: string, candidates: RTCIceCandidateInit[] }
 *   | { type: 'call.negotiate', call_id: string, chat_id: string, description: SessionDescription }
 *   | { type: 'call.reject', call_id: string, chat_id: string }
 *   | { type: 'call.hangup', call_id: string, chat_id: string, reason?: string }} ClientFrame
 */

export {};
