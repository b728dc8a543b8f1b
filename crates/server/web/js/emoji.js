// The emoji list behind the picker and the `:shortcode:` completion:
// loaded from the server's /assets/…/emoji.json the first time either is
// wanted (never on page load), searched by name and shortcode words, and
// the recently used ones, kept per person in localStorage. No DOM here.

import { state } from './state/store.js';

/**
 * One emoji as the server lists it (see crates/server/src/http/emoji.rs).
 * @typedef {{ e: string, n: string, g: string, s: string[] }} Emoji
 */

/**
 * The list with what searching needs, made once.
 * @typedef {{
 *   all: Emoji[], byGroup: Map<string, Emoji[]>, byEmoji: Map<string, Emoji>,
 *   byCode: Map<string, Emoji>, words: Map<Emoji, string[]>,
 * }} EmojiData
 */

/** Unicode's groups, in Unicode's order, with their tab icons. */
export const GROUPS = [
  { key: 'smileys', label: 'Smileys & emotion', icon: 'smile' },
  { key: 'people', label: 'People & body', icon: 'person' },
  { key: 'animals', label: 'Animals & nature', icon: 'leaf' },
  { key: 'food', label: 'Food & drink', icon: 'cup' },
  { key: 'travel', label: 'Travel & places', icon: 'car' },
  { key: 'activities', label: 'Activities', icon: 'ball' },
  { key: 'objects', label: 'Objects', icon: 'bulb' },
  { key: 'symbols', label: 'Symbols', icon: 'heart' },
  { key: 'flags', label: 'Flags', icon: 'flag' },
];

/** How many recently used emoji are kept. */
export const MAX_RECENT = 24;

/** @type {Promise<EmojiData> | null} */
let loading = null;
/** @type {EmojiData | null} */
let loaded = null;

/**
 * The list, fetched once (a failed fetch is tried again next time). The
 * URL is relative to this module, so it carries the same asset version
 * and is cached as long.
 * @returns {Promise<EmojiData>}
 */
export function load() {
  if (!loading) {
    loading = fetch(new URL('../emoji.json', import.meta.url))
      .then((response) => {
        if (!response.ok) throw new Error(`emoji list: HTTP ${response.status}`);
        return response.json();
      })
      .then((/** @type {Emoji[]} */ list) => {
        loaded = index(list);
        return loaded;
      });
    loading.catch(() => { loading = null; });
  }
  return loading;
}

/** The list if it has arrived, else null (and nothing is fetched). */
export function ready() {
  return loaded;
}

/** @param {Emoji[]} list @returns {EmojiData} */
function index(list) {
  /** @type {EmojiData} */
  const data = { all: list, byGroup: new Map(), byEmoji: new Map(), byCode: new Map(), words: new Map() };
  for (const emoji of list) {
    const group = data.byGroup.get(emoji.g);
    if (group) group.push(emoji);
    else data.byGroup.set(emoji.g, [emoji]);
    data.byEmoji.set(emoji.e, emoji);
    for (const code of emoji.s) if (!data.byCode.has(code)) data.byCode.set(code, emoji);
    data.words.set(emoji, wordsOf(emoji));
  }
  return data;
}

/** The name's words, each shortcode whole and its `_`/`-` parts.
 * @param {Emoji} emoji */
function wordsOf(emoji) {
  const words = new Set(emoji.n.toLowerCase().split(/[^\p{L}\p{N}+]+/u).filter(Boolean));
  for (const code of emoji.s) {
    words.add(code);
    for (const part of code.split(/[_-]+/)) if (part) words.add(part);
  }
  return Array.from(words);
}

/**
 * Emoji whose every query word starts one of their words ("thumb" finds
 * 👍 by its name "thumbs up" and its shortcode "thumbsup"). A shortcode
 * equal to the query ranks first, then shortcodes and names that start
 * with it, then the rest; Unicode order within each.
 * @param {EmojiData} data
 * @param {string} query
 * @param {number} [max]
 * @returns {Emoji[]}
 */
export function search(data, query, max = 120) {
  const text = query.trim().toLowerCase().replace(/^:|:$/g, '');
  const tokens = text.split(/[\s_:]+/).filter(Boolean);
  if (!tokens.length) return [];
  const joined = tokens.join('_');
  /** @type {{ emoji: Emoji, rank: number, at: number }[]} */
  const hits = [];
  data.all.forEach((emoji, at) => {
    const words = /** @type {string[]} */ (data.words.get(emoji));
    if (!tokens.every((token) => words.some((word) => word.startsWith(token)))) return;
    const rank = emoji.s.includes(joined) ? 0
      : emoji.s.some((code) => code.startsWith(joined)) || emoji.n.toLowerCase().startsWith(text) ? 1
        : 2;
    hits.push({ emoji, rank, at });
  });
  hits.sort((a, b) => a.rank - b.rank || a.at - b.at);
  return hits.slice(0, max).map((hit) => hit.emoji);
}

/**
 * Completions for `:prefix`: one per emoji, with the shortcode that
 * matched. Shortcodes that start with the prefix come first (shorter
 * first, so `:tada` offers `tada` before longer ones), then those with a
 * later `_` part that does.
 * @param {EmojiData} data
 * @param {string} prefix without the colon, lowercase
 * @param {number} max
 * @returns {{ emoji: Emoji, code: string }[]}
 */
export function completions(data, prefix, max) {
  /** @type {{ emoji: Emoji, code: string, rank: number, at: number }[]} */
  const hits = [];
  data.all.forEach((emoji, at) => {
    const start = emoji.s.find((code) => code.startsWith(prefix));
    if (start) {
      hits.push({ emoji, code: start, rank: start === prefix ? 0 : 1 + start.length / 1000, at });
      return;
    }
    const part = emoji.s.find((code) => code.split(/[_-]+/).some((word) => word.startsWith(prefix)));
    if (part) hits.push({ emoji, code: part, rank: 2, at });
  });
  hits.sort((a, b) => a.rank - b.rank || a.at - b.at);
  return hits.slice(0, max).map(({ emoji, code }) => ({ emoji, code }));
}

/** The emoji of an exact shortcode (without colons), if any.
 * @param {EmojiData} data @param {string} code */
export function byShortcode(data, code) {
  return data.byCode.get(code.toLowerCase()) ?? null;
}

function recentKey() {
  return `natter.emoji.recent.${state.me?.user_id ?? 'anyone'}`;
}

/**
 * The recently used emoji of the signed-in person, most recent first.
 * @returns {string[]}
 */
export function recent() {
  try {
    const stored = JSON.parse(localStorage.getItem(recentKey()) ?? '[]');
    return Array.isArray(stored) ? stored.filter((item) => typeof item === 'string').slice(0, MAX_RECENT) : [];
  } catch {
    return [];
  }
}

/**
 * Puts `emoji` first in the recently used list (once), keeping at most
 * MAX_RECENT. A browser that refuses storage simply does not remember.
 * @param {string} emoji
 */
export function remember(emoji) {
  const list = [emoji, ...recent().filter((item) => item !== emoji)].slice(0, MAX_RECENT);
  try {
    localStorage.setItem(recentKey(), JSON.stringify(list));
  } catch {
    // Storage full or refused: nothing to remember with.
  }
}
