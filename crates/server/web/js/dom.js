// Building DOM nodes safely: every string becomes a text node (never
// parsed as HTML), attributes are set one by one. Also a keyed child
// patcher that moves only what changed, so focus and scroll survive.

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {{
 *   class?: string, text?: string, on?: Record<string, (event: any) => void>,
 *   [attribute: string]: any
 * }} Props
 */

/**
 * Creates an element. `props.text` sets textContent, `props.on` adds
 * listeners, `props.class` the class; other keys are attributes (false,
 * null and undefined leave them out, true sets them empty). A few are
 * properties (`value`, `checked`, `disabled`, `hidden`).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = String(value);
    else if (key === 'on') {
      for (const [name, listener] of Object.entries(/** @type {Record<string, EventListener>} */ (value))) {
        element.addEventListener(name, listener);
      }
    } else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'hidden') {
      /** @type {any} */ (element)[key] = value;
    } else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/**
 * @param {Node} parent
 * @param {(Child | Child[])[]} children
 */
function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/**
 * Makes `parent`'s children exactly `wanted`, in order, touching only the
 * nodes that are new, gone or out of place.
 * @param {Element} parent
 * @param {Node[]} wanted
 */
export function patchChildren(parent, wanted) {
  const keep = new Set(wanted);
  for (const child of Array.from(parent.childNodes)) {
    if (!keep.has(child)) child.remove();
  }
  let cursor = parent.firstChild;
  for (const node of wanted) {
    if (node === cursor) {
      cursor = cursor.nextSibling;
    } else {
      parent.insertBefore(node, cursor);
    }
  }
}

/**
 * Shorthand for a required element by id.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing`);
  return element;
}

/**
 * Text with `<mark>` runs from the server's search `highlight` (already
 * escaped HTML with only `<mark>` tags), rebuilt as nodes without any
 * HTML parsing.
 * @param {string} highlight
 * @returns {Node[]}
 */
export function highlightNodes(highlight) {
  /** @type {Node[]} */
  const nodes = [];
  let marked = false;
  for (const part of highlight.split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>') marked = true;
    else if (part === '</mark>') marked = false;
    else if (part) {
      const text = decodeEntities(part);
      nodes.push(marked ? h('mark', { text }) : document.createTextNode(text));
    }
  }
  return nodes;
}

/** @type {Record<string, string>} */
const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/**
 * Decodes the HTML character references an HTML escaper produces.
 * @param {string} text
 */
export function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/**
 * Wraps `render` so that many calls in one task run it once, at the end
 * of the task (a microtask: also in background tabs, unlike animation
 * frames, so hidden tabs stay current for notifications and the title).
 * @param {() => void} render
 * @returns {() => void}
 */
export function coalesce(render) {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      render();
    });
  };
}
