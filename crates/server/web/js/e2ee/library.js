// The MLS library (ts-mls, RFC 9420), loaded on first use: bundled from
// npm when the server was built (crates/server/build.rs) and served as
// /assets/vendor/ts-mls.js beside the client, at the same versioned path
// (a relative URL keeps the version). An empty bundle means the build
// could not fetch it; a page without WebCrypto (plain http on another
// host) cannot run it. Either way encrypted chats say why, and the rest
// of the client works as before.

/** natter's one ciphersuite (docs/API.md, "End-to-end encryption"). */
export const CIPHERSUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';

export const MISSING = 'Encrypted chats are not available in this build: its MLS library (ts-mls) could not be fetched when it was built.';
const INSECURE = 'Encrypted chats need a secure page (HTTPS, or localhost): this browser offers no WebCrypto here.';

/** Encrypted chats cannot work in this page; the message says why. */
export class Unavailable extends Error {}

/**
 * The bundle's exports (see crates/server/web-vendor/entry.js), typed
 * loosely: the library's own types are not part of this tree.
 * @typedef {{ mls: Record<string, any>, suite: any }} Library
 */

/** @type {Promise<Library> | null} */
let loading = null;
/** @type {string | null} Why it cannot load, once known. */
let unavailable = null;

/** @returns {Promise<Library>} */
export function load() {
  if (!loading) {
    loading = open();
    // A network failure may pass: try again next time. A missing
    // library or WebCrypto will not.
    loading.catch((error) => {
      if (error instanceof Unavailable) unavailable = error.message;
      else loading = null;
    });
  }
  return loading;
}

/** Why encrypted chats cannot work here, if that is known already. */
export function whyUnavailable() {
  return unavailable;
}

/** @returns {Promise<Library>} */
async function open() {
  if (!globalThis.crypto?.subtle) throw new Unavailable(INSECURE);
  const url = new URL('../../vendor/ts-mls.js', import.meta.url).href;
  /** @type {Record<string, any>} */
  const mls = await import(url);
  if (typeof mls.createGroup !== 'function') throw new Unavailable(MISSING);
  const suite = await mls.getCiphersuiteImpl(mls.getCiphersuiteFromName(CIPHERSUITE));
  return { mls, suite };
}
