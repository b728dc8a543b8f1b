// The message formatting language, parsed without any HTML: a message's
// text becomes a tree of blocks (paragraphs, fenced code, quotes, lists)
// holding inline runs (**bold**, _italic_ or *italic*, `code`, links,
// mentions, plain text). Pure data, no DOM: views/markup.js turns the tree
// into nodes, `plainText` into a one-line preview. The stored text is
// never changed; this is only how it is shown.

/**
 * @typedef {{ type: 'text', text: string }
 *   | { type: 'strong' | 'em', children: Inline[] }
 *   | { type: 'code', text: string }
 *   | { type: 'link', href: string, text: string }
 *   | { type: 'mention', text: string }} Inline
 * @typedef {{ type: 'para', inline: Inline[] }
 *   | { type: 'pre', text: string }
 *   | { type: 'quote', inline: Inline[] }
 *   | { type: 'list', ordered: boolean, start: number, items: Inline[][] }} Block
 * @typedef {{ start: number, end: number, node: Inline }} Range
 */

/** Emphasis inside emphasis this deep is shown as it was typed. */
const MAX_DEPTH = 4;
const FENCE = '```';
const BULLET = /^[-*•] +(.*)$/;
// Up to three digits, so that "2024. What a year" stays a sentence.
const NUMBERED = /^(\d{1,3})[.)] +(.*)$/;
// "> " or a lone ">": ">_<" and the like stay text.
const QUOTE = /^>(?: (.*))?$/;

/**
 * The blocks of a message. `mentioned` holds the lowercase usernames the
 * message's metadata names: only those `@name`s become mentions.
 * @param {string} text
 * @param {Set<string>} [mentioned]
 * @returns {Block[]}
 */
export function parse(text, mentioned = new Set()) {
  const lines = text.split('\n');
  /** @type {Block[]} */
  const blocks = [];
  /** @type {string[]} */
  let para = [];
  const flush = () => {
    // Blank lines next to a block only separate; inside a paragraph they stay.
    while (para.length && !para[0].trim()) para.shift();
    while (para.length && !para[para.length - 1].trim()) para.pop();
    if (para.length) blocks.push({ type: 'para', inline: inline(para.join('\n'), mentioned) });
    para = [];
  };
  // Once a fence found no closing line, none after it will either.
  const unclosed = { from: Infinity };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fenced = fence(lines, i, unclosed);
    if (fenced) {
      flush();
      blocks.push({ type: 'pre', text: fenced.text });
      i = fenced.next;
      continue;
    }
    const run = (/** @type {RegExp} */ pattern) => {
      /** @type {RegExpExecArray[]} */
      const found = [];
      for (let match; i < lines.length && (match = pattern.exec(lines[i])); i += 1) found.push(match);
      return found;
    };
    if (QUOTE.test(line)) {
      flush();
      blocks.push({ type: 'quote', inline: inline(run(QUOTE).map((match) => match[1] ?? '').join('\n'), mentioned) });
    } else if (BULLET.test(line)) {
      flush();
      blocks.push({ type: 'list', ordered: false, start: 1, items: run(BULLET).map((match) => inline(match[1], mentioned)) });
    } else if (NUMBERED.test(line)) {
      flush();
      const items = run(NUMBERED);
      blocks.push({ type: 'list', ordered: true, start: Number(items[0][1]), items: items.map((match) => inline(match[2], mentioned)) });
    } else {
      para.push(line);
      i += 1;
    }
  }
  flush();
  return blocks;
}

/**
 * A fenced code block starting at line `at`: "```" (an optional language
 * word after it is dropped) up to a line that is "```"; or "```code```"
 * on one line. An unclosed fence is plain text.
 * @param {string[]} lines @param {number} at
 * @param {{ from: number }} unclosed the first fence known to have no end
 * @returns {{ text: string, next: number } | null}
 */
function fence(lines, at, unclosed) {
  const first = lines[at].trim();
  if (!first.startsWith(FENCE)) return null;
  if (first.length > 2 * FENCE.length && first.endsWith(FENCE)) {
    return { text: first.slice(FENCE.length, -FENCE.length), next: at + 1 };
  }
  if (!/^```[\w+#.-]*$/.test(first) || at > unclosed.from) return null;
  for (let end = at + 1; end < lines.length; end += 1) {
    if (lines[end].trim() === FENCE) return { text: lines.slice(at + 1, end).join('\n'), next: end + 1 };
  }
  unclosed.from = at;
  return null;
}

/**
 * Inline runs of one block's text.
 * @param {string} text @param {Set<string>} mentioned
 * @returns {Inline[]}
 */
export function inline(text, mentioned = new Set()) {
  const starts = new Map(atoms(text, mentioned).map((range) => [range.start, range]));
  return emphasis(text, 0, text.length, starts, 0);
}

/**
 * Spans whose insides are never emphasis: code, links and mentions, in
 * order and not overlapping (code first: a URL in backticks is code).
 * @param {string} text @param {Set<string>} mentioned
 * @returns {Range[]}
 */
function atoms(text, mentioned) {
  /** @type {Range[]} */
  const ranges = [];
  for (const match of text.matchAll(/`([^`\n]+)`/g)) {
    const start = match.index ?? 0;
    ranges.push({ start, end: start + match[0].length, node: { type: 'code', text: match[1] } });
  }
  const free = (/** @type {number} */ start, /** @type {number} */ end) => !ranges.some((range) => start < range.end && range.start < end);
  for (const match of text.matchAll(/(?:https?:\/\/|www\.)[^\s<>"'`]+/gi)) {
    const start = match.index ?? 0;
    if (start > 0 && /[\w.\/@:-]/.test(text[start - 1])) continue; // inside a word or another address
    const url = trimUrl(match[0]);
    if (/^www\.$/i.test(url) || /^https?:\/\/$/i.test(url)) continue;
    if (!free(start, start + url.length)) continue;
    const href = /^www\./i.test(url) ? `https://${url}` : url;
    ranges.push({ start, end: start + url.length, node: { type: 'link', href, text: url } });
  }
  for (const match of text.matchAll(/@[a-z0-9_.-]{3,32}/gi)) {
    const start = match.index ?? 0;
    // "@bob." ends a sentence and "_hi @bob_" closes an italic: try without them.
    const full = match[0].slice(1).replace(/[.\-]+$/, '');
    const name = [full, full.replace(/[._-]+$/, '')].find((candidate) => mentioned.has(candidate.toLowerCase()));
    if (!name || !free(start, start + name.length + 1)) continue;
    ranges.push({ start, end: start + name.length + 1, node: { type: 'mention', text: `@${name}` } });
  }
  return ranges.sort((a, b) => a.start - b.start);
}

/**
 * A URL without the punctuation that ends the sentence around it; a
 * closing bracket stays when the URL opened one (wiki links).
 * @param {string} url
 */
function trimUrl(url) {
  // Bracket counts kept while trimming, so a URL of thousands of `)`
  // costs one pass, not one per character.
  let open = count(url, '(') - count(url, ')');
  let square = count(url, '[') - count(url, ']');
  let end = url.length;
  for (;;) {
    const last = url[end - 1];
    if (/[.,;:!?*_~'"]/.test(last)) end -= 1;
    else if (last === ')' && open < 0) { end -= 1; open += 1; }
    else if (last === ']' && square < 0) { end -= 1; square += 1; }
    else break;
  }
  return url.slice(0, end);
}

/** @param {string} text @param {string} char */
function count(text, char) {
  return text.split(char).length - 1;
}

/**
 * Runs of `text[from, to)`: atoms as they are, `**`, `*` and `_` pairs
 * as emphasis (opening after a non-word character and before a
 * non-space, closing after a non-space and before a non-word character,
 * on the same line), everything else text.
 * @param {string} text @param {number} from @param {number} to
 * @param {Map<number, Range>} ranges atoms by where they start
 * @param {number} depth
 * @returns {Inline[]}
 */
function emphasis(text, from, to, ranges, depth) {
  /** @type {Inline[]} */
  const out = [];
  // Where a search for a closing mark found none: a later opener of the
  // same mark in that stretch cannot close either (keeps "*a *b *c ..." linear).
  /** @type {Map<string, { from: number, stop: number }>} */
  const failed = new Map();
  let plain = from;
  let i = from;
  const flushText = (/** @type {number} */ end) => {
    if (end > plain) out.push({ type: 'text', text: text.slice(plain, end) });
  };
  while (i < to) {
    const range = ranges.get(i);
    if (range && range.end <= to) {
      flushText(i);
      out.push(range.node);
      i = range.end;
      plain = i;
      continue;
    }
    const mark = delimiter(text, i);
    const miss = mark ? failed.get(mark) : undefined;
    const hopeless = miss !== undefined && i >= miss.from && i < miss.stop;
    if (mark && !hopeless && depth < MAX_DEPTH && opens(text, i, mark)) {
      const { close, stop } = closing(text, i + mark.length, to, mark, ranges);
      if (close < 0) failed.set(mark, { from: i, stop });
      else {
        flushText(i);
        out.push({ type: mark === '**' ? 'strong' : 'em', children: emphasis(text, i + mark.length, close, ranges, depth + 1) });
        i = close + mark.length;
        plain = i;
        continue;
      }
    }
    i += mark ? mark.length : 1;
  }
  flushText(to);
  return out;
}

/** @param {string} text @param {number} at */
function delimiter(text, at) {
  if (text.startsWith('**', at)) return '**';
  if (text[at] === '*' || text[at] === '_') return text[at];
  return null;
}

/** @param {string | undefined} char */
const isWord = (char) => char !== undefined && /[\p{L}\p{N}_]/u.test(char);
/** @param {string | undefined} char */
const isSpace = (char) => char === undefined || /\s/.test(char);

/** @param {string} text @param {number} at @param {string} mark */
function opens(text, at, mark) {
  const after = text[at + mark.length];
  return !isWord(text[at - 1]) && text[at - 1] !== '*' && !isSpace(after) && after !== mark[0];
}

/**
 * Where the emphasis opened before `from` closes (`close`, -1 for
 * nowhere) and where the search stopped.
 * @param {string} text @param {number} from @param {number} to
 * @param {string} mark @param {Map<number, Range>} ranges
 * @returns {{ close: number, stop: number }}
 */
function closing(text, from, to, mark, ranges) {
  for (let j = from; j + mark.length <= to; j += 1) {
    if (text[j] === '\n') return { close: -1, stop: j };
    const range = ranges.get(j);
    if (range) {
      j = range.end - 1;
      continue;
    }
    if (!text.startsWith(mark, j) || j === from) continue;
    if (mark === '*' && text[j + 1] === '*') {
      j += 1; // a "**" inside: bold of its own, not our end
      continue;
    }
    if (!isSpace(text[j - 1]) && !isWord(text[j + mark.length]) && text[j + mark.length] !== mark[0]) return { close: j, stop: j };
  }
  return { close: -1, stop: to };
}

/**
 * The text a person reads, markers dropped, on one line: for the chat
 * list, reply quotes and notifications.
 * @param {string} text
 * @returns {string}
 */
export function plainText(text) {
  /** @param {Inline[]} runs @returns {string} */
  const flat = (runs) => runs.map((run) => ('children' in run ? flat(run.children) : run.text)).join('');
  return parse(text).map((block) => {
    if (block.type === 'pre') return block.text;
    if (block.type === 'list') return block.items.map(flat).join(', ');
    return flat(block.inline);
  }).join(' ').replace(/\s+/g, ' ').trim();
}
