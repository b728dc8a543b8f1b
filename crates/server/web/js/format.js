// Presentation helpers with no state: times, day labels, "last seen",
// "tomorrow at 8:00", file sizes, lengths ("0:07"), message previews
// (formatting markers dropped), and ids for optimistic sends.

import * as plaintexts from './e2ee/plaintexts.js';
import { plainText } from './markup.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const shortDayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

/** @param {string} iso */
export function clock(iso) {
  return timeFormat.format(new Date(iso));
}

/** Local calendar day of a timestamp, as a sortable key.
 * @param {string} iso */
export function dayKey(iso) {
  const date = new Date(iso);
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

/** @param {Date} date @param {number} days */
function daysBefore(date, days) {
  const copy = new Date(date);
  copy.setDate(copy.getDate() - days);
  return copy;
}

/** "Today", "Yesterday" or the full date, for day separators.
 * @param {string} iso */
export function dayLabel(iso) {
  const key = dayKey(iso);
  const now = new Date();
  if (key === dayKey(now.toISOString())) return 'Today';
  if (key === dayKey(daysBefore(now, 1).toISOString())) return 'Yesterday';
  return dayFormat.format(new Date(iso));
}

/** A compact time for the chat list: the time today, else the date.
 * @param {string} iso */
export function listTime(iso) {
  return dayKey(iso) === dayKey(new Date().toISOString()) ? clock(iso) : shortDayFormat.format(new Date(iso));
}

/** "last seen today at 10:32" and the like.
 * @param {string | null | undefined} iso */
export function lastSeen(iso) {
  if (!iso) return 'offline';
  return `last seen ${dayAndTime(iso)}`;
}

/** "today at 10:32", "yesterday at 9:15", "tomorrow at 8:00" or
 * "on 4 Dec at 18:00", for times past and to come.
 * @param {string} iso */
export function dayAndTime(iso) {
  const key = dayKey(iso);
  const now = new Date();
  /** @param {number} days */
  const is = (days) => key === dayKey(daysBefore(now, days).toISOString());
  const day = is(0) ? 'today' : is(1) ? 'yesterday' : is(-1) ? 'tomorrow' : `on ${shortDayFormat.format(new Date(iso))}`;
  return `${day} at ${clock(iso)}`;
}

/** @param {number} bytes */
export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * A length as "0:07", "12:30" or "1:02:03": rounded to the nearest second
 * (a voice note's length), or down with `running` (a clock counting up
 * shows 0:01 only once a second has passed).
 * @param {number} ms @param {boolean} [running]
 */
export function duration(ms, running = false) {
  const total = Math.max(0, running ? Math.floor(ms / 1000) : Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor(total / 60) % 60;
  const seconds = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** One line describing a message, for previews and notifications.
 * @param {import('./types.js').Message} message */
export function preview(message) {
  if (message.deleted) return 'This message was deleted';
  // Words, not 📷/📎: a preview is plain text, and emoji glyphs are empty
  // boxes where no emoji font is installed.
  if (message.type === 'image') return message.content ? `Photo: ${message.content}` : 'Photo';
  if (message.type === 'file') return `File: ${message.file?.name ?? message.content ?? 'file'}`;
  if (message.type === 'call') return callText(message);
  if (message.type === 'voice') return `Voice message ${duration(message.metadata.duration_ms ?? 0)}`;
  if (message.type === 'mls') {
    if (message.metadata.mls?.kind === 'commit') return 'Encryption updated';
    const known = plaintexts.get(message.message_id);
    return known?.kind === 'text' ? plainText(known.text) : 'Encrypted message';
  }
  return plainText(message.content);
}

/** What a call entry says: "Missed video call", "Declined voice call",
 * "Video call · 1:05". @param {import('./types.js').Message} message */
export function callText(message) {
  const call = message.metadata.call;
  const kind = call?.video ? 'video call' : 'voice call';
  if (!call || call.outcome === 'missed') return `Missed ${kind}`;
  if (call.outcome === 'declined') return `Declined ${kind}`;
  return `${call.video ? 'Video' : 'Voice'} call · ${callDuration(call.duration_ms ?? 0)}`;
}

/** m:ss (h:mm:ss from an hour) of a duration. @param {number} ms */
export function callDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const seconds = String(total % 60).padStart(2, '0');
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}:${seconds}`;
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${seconds}`;
}

/** A random UUID (v4), also outside secure contexts where
 * `crypto.randomUUID` is missing. */
export function uuid() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Initials for an avatar circle.
 * @param {string} name */
export function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : [name.trim()];
  return letters.map((word) => Array.from(word)[0] ?? '').join('').toUpperCase() || '?';
}
