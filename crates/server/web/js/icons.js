// The client's UI icons as inline SVG, built with DOM calls (no markup
// is parsed: Trusted Types allow none). Emoji glyphs used to stand in for
// them and showed as empty boxes where no emoji font is installed; these
// are simple stroked line drawings on a 24×24 grid that take the text
// colour (currentColor), so themes and states (a read tick is blue)
// colour them through CSS. The path data is this project's own.

const SVG = 'http://www.w3.org/2000/svg';

/** A circle of radius 9 about (12, 12), as a path. */
const RING = 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z';

/** @type {Record<string, string>} */
const PATHS = {
  attach: 'M20 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.6 1.6 0 0 1-2.3-2.3l7.8-7.8',
  file: 'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5M8.5 13h7M8.5 17h5',
  download: 'M12 4v11M7 10l5 5l5-5M5 20h14',
  clock: `${RING}M12 7v5l3.5 2`,
  alert: `${RING}M12 7.5v5.5M12 16.5v.5`,
  check: 'M4.5 12.5l4.5 4.5L19.5 6.5',
  checks: 'M2 12.5l4.5 4.5L17 6.5M10.5 15.5l1.5 1.5L22.5 6.5',
  close: 'M6 6l12 12M18 6L6 18',
  lock: 'M8 11V8a4 4 0 0 1 8 0v3M6 11h12v9H6zM12 14.5v2',
  plus: 'M12 5v14M5 12h14',
  back: 'M19 12H5M11 6l-6 6l6 6',
  search: 'M10.5 4a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13zM20 20l-4.8-4.8',
  smile: `${RING}M8 14c1 1.4 2.3 2 4 2s3-.6 4-2M9 9.5v.5M15 9.5v.5`,
  person: 'M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8zM4.5 20.5a7.5 7.5 0 0 1 15 0',
  leaf: 'M5 19C5 10 10.5 4.5 20 4.5C20 14 14 19 5 19zM5 19l8.5-8.5',
  cup: 'M4 8h12v4.5a5.5 5.5 0 0 1-5.5 5.5h-1A5.5 5.5 0 0 1 4 12.5zM16 9.5h1.5a2.5 2.5 0 0 1 0 5H16M4 21h12M8 3.5v2M12 3.5v2',
  car: 'M3.5 17v-4.5L5.5 7h13l2 5.5V17zM3.5 12.5h17M7 17v2.5M17 17v2.5M7 14.5h1M16 14.5h1',
  ball: `${RING}M3 12h18M12 3c3.2 3 3.2 15 0 18M12 3c-3.2 3-3.2 15 0 18`,
  bulb: 'M9 17.5h6M10 21h4M12 3a6 6 0 0 0-4 10.5c.8.8 1 1.6 1 2.5h6c0-.9.2-1.7 1-2.5A6 6 0 0 0 12 3z',
  heart: 'M12 20s-7.5-4.6-7.5-10.2A4.2 4.2 0 0 1 12 7.3a4.2 4.2 0 0 1 7.5 2.5C19.5 15.4 12 20 12 20z',
  flag: 'M5.5 21V3.5M5.5 4h12l-2.5 4.5l2.5 4.5h-12',
  pin: 'M9 3.5h6M10 3.5v6l-3.5 4h11L14 9.5v-6M12 13.5V21',
  archive: 'M3.5 4.5h17v4h-17zM5 8.5V19a1.5 1.5 0 0 0 1.5 1.5h11A1.5 1.5 0 0 0 19 19V8.5M9.5 12.5h5',
  muted: 'M6 9.5a6 6 0 0 1 9.7-4.7M18 10v3.5l2 3H8M4 4l16 16M10 19.5a2 2 0 0 0 4 0',
  more: 'M5 11.2v1.6M12 11.2v1.6M19 11.2v1.6',
  mic: 'M12 3a3 3 0 0 0-3 3v5a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7',
  play: 'M8 5.5v13l10.5-6.5z',
  pause: 'M8.5 5.5v13M15.5 5.5v13',
  stop: 'M6.5 6.5h11v11h-11z',
  phone: 'M5 4h3.5l1.5 4.5l-2 1.5a11 11 0 0 0 6 6l1.5-2l4.5 1.5V19a1.5 1.5 0 0 1-1.5 1.5A16 16 0 0 1 3.5 5.5A1.5 1.5 0 0 1 5 4z',
  video: 'M3.5 7h11a1.5 1.5 0 0 1 1.5 1.5v7a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 2 15.5v-7A1.5 1.5 0 0 1 3.5 7zM16 10.5l5.5-3v9l-5.5-3z',
};

/** Icons drawn with a heavier line: dots that must read at small sizes. */
const HEAVY = new Set(['more']);

/**
 * An icon. With a `label` it is an image of that name (role=img), for an
 * icon that carries meaning on its own; without one it is hidden from
 * assistive technology, for icons beside or inside something already
 * named (a button's aria-label, a link's text).
 * @param {string} name one of the keys of PATHS
 * @param {{ label?: string, class?: string }} [options]
 * @returns {SVGSVGElement}
 */
export function icon(name, options = {}) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${name}${options.class ? ` ${options.class}` : ''}`);
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', HEAVY.has(name) ? '3' : '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  svg.setAttribute('focusable', 'false');
  if (options.label) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', options.label);
  } else {
    svg.setAttribute('aria-hidden', 'true');
  }
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', PATHS[name] ?? PATHS.alert);
  svg.append(path);
  return svg;
}
