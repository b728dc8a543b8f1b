// A message's formatted text as DOM nodes, from the tree js/markup.js
// parses: every string becomes a text node, links are http(s) only and
// open in a new tab without the opener or referrer. Knows nothing of
// messages beyond their text and who they mention.

import { h } from '../dom.js';
import { parse } from '../markup.js';

/** @typedef {import('../markup.js').Inline} Inline */

/**
 * The body text of a message: a `p.text` when it is one paragraph (most
 * messages), else a `div.text` of blocks.
 * @param {string} text
 * @param {Set<string>} mentioned lowercase usernames the message mentions
 * @returns {HTMLElement}
 */
export function formattedText(text, mentioned) {
  const blocks = parse(text, mentioned);
  const only = blocks.length === 1 ? blocks[0] : null;
  if (!blocks.length || only?.type === 'para') return h('p', { class: 'text' }, ...inlineNodes(only?.type === 'para' ? only.inline : []));
  return h('div', { class: 'text rich' }, ...blocks.map((block) => {
    switch (block.type) {
      case 'para': return h('p', {}, ...inlineNodes(block.inline));
      case 'pre': return h('pre', { class: 'code-block' }, h('code', { text: block.text }));
      case 'quote': return h('blockquote', {}, ...inlineNodes(block.inline));
      case 'list': return h(block.ordered ? 'ol' : 'ul', { start: block.ordered && block.start !== 1 ? block.start : false },
        ...block.items.map((item) => h('li', {}, ...inlineNodes(item))));
    }
    return null;
  }));
}

/**
 * @param {Inline[]} runs
 * @returns {Node[]}
 */
export function inlineNodes(runs) {
  return runs.map((run) => {
    switch (run.type) {
      case 'text': return document.createTextNode(run.text);
      case 'strong': return h('strong', {}, ...inlineNodes(run.children));
      case 'em': return h('em', {}, ...inlineNodes(run.children));
      case 'code': return h('code', { class: 'inline-code', text: run.text });
      case 'mention': return h('span', { class: 'mention', text: run.text });
      case 'link': return h('a', { href: run.href, target: '_blank', rel: 'noopener noreferrer', text: run.text });
    }
    return document.createTextNode('');
  });
}
