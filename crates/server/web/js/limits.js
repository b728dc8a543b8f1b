// The server's limits (GET /api/v1/server, docs/API.md "Server info"),
// read once per page so the composer can refuse a too-big file before
// uploading it and count characters before the server would refuse the
// message. Until the answer arrives (or if it never does) the server's
// defaults apply; the server enforces its limits either way. The rest of
// the document (whether link previews are on) is kept for serverInfo().

/** @typedef {{ max_upload_bytes: number, max_message_chars: number, max_json_body: number, max_voice_duration_ms: number }} Limits */

/** @type {Limits} */
const limits = {
  max_upload_bytes: 25 * 1024 * 1024, max_message_chars: 16_384, max_json_body: 256 * 1024,
  max_voice_duration_ms: 15 * 60 * 1000,
};
/** @type {Promise<void> | null} */
let loading = null;
/** The server info document as last read; null until one was.
 * @type {Record<string, any> | null} */
let info = null;

/** Asks the server once (no token needed); later calls share the answer. */
export function load() {
  loading ??= fetch('/api/v1/server').then(async (response) => {
    if (!response.ok) return;
    info = await response.json();
    for (const key of /** @type {(keyof Limits)[]} */ (Object.keys(limits))) {
      const value = info?.limits?.[key];
      if (Number.isSafeInteger(value) && value > 0) limits[key] = value;
    }
  }).catch(() => {
    loading = null; // offline: ask again next time
  });
  return loading;
}

/** The server info document (one load per page, shared with the limits),
 * or null if it could not be read.
 * @returns {Promise<Readonly<Record<string, any>> | null>} */
export async function serverInfo() {
  await load();
  return info;
}

/** @returns {Readonly<Limits>} */
export function current() {
  return limits;
}

/** Characters as the server counts them (Unicode scalar values, so an
 * emoji made of one code point counts once). @param {string} text */
export function charCount(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** "25 MB", "512 KB": a limit as people say it (powers of 1024, as the
 * server's defaults are). @param {number} bytes */
export function sizeLabel(bytes) {
  const mb = bytes / (1024 * 1024);
  if (mb >= 1) return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
  const kb = bytes / 1024;
  if (kb >= 1) return `${Number.isInteger(kb) ? kb : kb.toFixed(1)} KB`;
  return `${bytes} bytes`;
}
