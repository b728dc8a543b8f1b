// A local Web Push service for the browser tests (no internet here): a
// node:http server on 127.0.0.1 that issues browser-like subscriptions
// (a P-256 key pair and an auth secret per endpoint), takes the server's
// pushes like a real push service (RFC 8030: POST, `TTL`, 201 with a
// `Location`), checks their VAPID signature (RFC 8292) and decrypts their
// `aes128gcm` payload (RFC 8291) with node:crypto, so a test reads exactly
// what a browser would hand its service worker. It does not deliver
// anything itself: the test takes the decrypted payload and hands it to
// the worker through the DevTools protocol.

import { createECDH, createPublicKey, createDecipheriv, hkdfSync, randomBytes, verify } from 'node:crypto';
import http from 'node:http';

/** The largest body a push service must take (RFC 8030 7.2). */
const MAX_BODY = 4096;

/**
 * @typedef {{ id: string, endpoint: string, keys: { p256dh: string, auth: string } }} Subscription
 * @typedef {{
 *   payload: Buffer, json: any, ttl: number, urgency: string | null, topic: string | null,
 *   subject: string, at: number
 * }} Received
 */

/** @param {Buffer | Uint8Array} bytes */
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/**
 * Starts the service on a free port of 127.0.0.1.
 * @returns {Promise<PushService>}
 */
export async function startPushService() {
  const service = new PushService();
  await service.listen();
  return service;
}

export class PushService {
  constructor() {
    /** @type {Map<string, { ecdh: import('node:crypto').ECDH, publicKey: Buffer, auth: Buffer, received: Received[] }>} */
    this.endpoints = new Map();
    /** Requests that broke the rules, each with why; tests expect none. @type {string[]} */
    this.violations = [];
    /** @type {Set<() => void>} */
    this.waiters = new Set();
    this.origin = '';
    this.server = http.createServer((request, response) => {
      /** @type {Buffer[]} */
      const chunks = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        const [status, headers] = this.take(request, Buffer.concat(chunks));
        response.writeHead(status, headers);
        response.end();
      });
    });
  }

  /** @returns {Promise<void>} */
  listen() {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        const address = /** @type {import('node:net').AddressInfo} */ (this.server.address());
        this.origin = `http://127.0.0.1:${address.port}`;
        resolve();
      });
    });
  }

  /**
   * A new subscription, as a browser's `PushSubscription.toJSON()` has it.
   * @returns {Subscription}
   */
  subscribe() {
    const id = randomBytes(9).toString('base64url');
    const ecdh = createECDH('prime256v1');
    const publicKey = ecdh.generateKeys();
    const auth = randomBytes(16);
    this.endpoints.set(id, { ecdh, publicKey, auth, received: [] });
    return { id, endpoint: `${this.origin}/push/${id}`, keys: { p256dh: b64url(publicKey), auth: b64url(auth) } };
  }

  /**
   * Everything accepted for a subscription so far, oldest first.
   * @param {string} id
   * @returns {Received[]}
   */
  received(id) {
    return this.endpoints.get(id)?.received ?? [];
  }

  /**
   * Waits for the first push to `id` after the first `skip` whose JSON
   * satisfies `match`. The wait is bounded (a hang guard, not a timing).
   * @param {string} id
   * @param {(json: any) => boolean} match
   * @param {{ skip?: number, timeout?: number }} [options]
   * @returns {Promise<Received>}
   */
  next(id, match, options = {}) {
    const { skip = 0, timeout = 20_000 } = options;
    const find = () => this.received(id).slice(skip).find((push) => match(push.json));
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (!found) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no matching push for ${id}; got ${JSON.stringify(this.received(id).map((push) => push.json))}`));
      }, timeout);
      this.waiters.add(check);
      check();
    });
  }

  stop() {
    return new Promise((resolve) => this.server.close(() => resolve(undefined)));
  }

  /**
   * Checks and stores one request: the status and headers to answer.
   * @param {http.IncomingMessage} request
   * @param {Buffer} body
   * @returns {[number, Record<string, string>]}
   */
  take(request, body) {
    const match = /^\/push\/([A-Za-z0-9_-]+)$/.exec(request.url ?? '');
    const entry = match ? this.endpoints.get(match[1]) : undefined;
    if (!match || !entry) return [404, {}];
    /** @param {number} status @param {string} why @returns {[number, Record<string, string>]} */
    const refuse = (status, why) => {
      this.violations.push(`${request.method} ${request.url}: ${why}`);
      return [status, {}];
    };
    if (request.method !== 'POST') return refuse(405, 'not a POST');
    const ttl = request.headers.ttl;
    if (typeof ttl !== 'string' || !/^\d+$/.test(ttl)) return refuse(400, `TTL header missing or not an integer (${ttl})`);
    if (request.headers['content-encoding'] !== 'aes128gcm') return refuse(400, 'Content-Encoding is not aes128gcm');
    if (body.length > MAX_BODY) return refuse(413, `body of ${body.length} bytes`);
    const urgency = header(request, 'urgency');
    if (urgency !== null && !['very-low', 'low', 'normal', 'high'].includes(urgency)) return refuse(400, `bad Urgency ${urgency}`);
    const topic = header(request, 'topic');
    if (topic !== null && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return refuse(400, `bad Topic ${topic}`);
    let subject;
    try {
      subject = checkVapid(header(request, 'authorization') ?? '', this.origin);
    } catch (error) {
      return refuse(401, `VAPID: ${/** @type {Error} */ (error).message}`);
    }
    let payload;
    try {
      payload = decrypt(body, entry.ecdh, entry.publicKey, entry.auth);
    } catch (error) {
      return refuse(400, `cannot decrypt: ${/** @type {Error} */ (error).message}`);
    }
    let json = null;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      // Not JSON: the test sees `json: null` and the raw payload.
    }
    entry.received.push({ payload, json, ttl: Number(ttl), urgency, topic, subject, at: Date.now() });
    for (const waiter of Array.from(this.waiters)) waiter();
    return [201, { location: `${this.origin}/message/${randomBytes(6).toString('base64url')}` }];
  }
}

/** @param {http.IncomingMessage} request @param {string} name */
function header(request, name) {
  const value = request.headers[name];
  return typeof value === 'string' ? value : null;
}

/**
 * Verifies `Authorization: vapid t=JWT, k=KEY` (RFC 8292): an ES256 JWT
 * signed by KEY, for this origin, expiring within 24 hours, with a
 * `mailto:` or `https:` subject. Returns the subject.
 * @param {string} authorization
 * @param {string} origin
 */
function checkVapid(authorization, origin) {
  const match = /^vapid\s+(.+)$/i.exec(authorization);
  if (!match) throw new Error('no "vapid" Authorization');
  /** @type {Record<string, string>} */
  const params = {};
  for (const part of match[1].split(',')) {
    const [key, ...rest] = part.trim().split('=');
    params[key.trim()] = rest.join('=').trim();
  }
  const { t: jwt, k: key } = params;
  if (!jwt || !key) throw new Error('t= or k= missing');
  const point = Buffer.from(key, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const [head, claims, signature] = jwt.split('.');
  if (!signature) throw new Error('the JWT does not have three parts');
  const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
  if (header.alg !== 'ES256') throw new Error(`alg ${header.alg}`);
  if (header.typ !== undefined && header.typ !== 'JWT') throw new Error(`typ ${header.typ}`);
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) },
    format: 'jwk',
  });
  const signed = Buffer.from(`${head}.${claims}`, 'ascii');
  if (!verify('sha256', signed, { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))) {
    throw new Error('bad signature');
  }
  const body = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8'));
  if (body.aud !== origin) throw new Error(`aud ${body.aud}, not ${origin}`);
  const now = Date.now() / 1000;
  if (typeof body.exp !== 'number' || body.exp <= now || body.exp > now + 24 * 3600) throw new Error(`exp ${body.exp}`);
  if (typeof body.sub !== 'string' || !/^(mailto:|https:)/.test(body.sub)) throw new Error(`sub ${body.sub}`);
  return body.sub;
}

/**
 * Decrypts an `aes128gcm` Web Push body (RFC 8291, on RFC 8188's
 * framing) with the subscription's private key and auth secret.
 * @param {Buffer} body
 * @param {import('node:crypto').ECDH} ecdh the user agent's key pair
 * @param {Buffer} uaPublic its public key (65 bytes)
 * @param {Buffer} authSecret
 * @returns {Buffer} the plaintext
 */
export function decrypt(body, ecdh, uaPublic, authSecret) {
  // RFC 8188 2.1 header: salt (16), record size (4), key id length (1), key id.
  if (body.length < 21) throw new Error('shorter than the header');
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20];
  const asPublic = body.subarray(21, 21 + idLength);
  if (idLength !== 65) throw new Error(`key id of ${idLength} bytes, not the sender's 65-byte public key`);
  if (recordSize < 18) throw new Error(`record size ${recordSize}`);
  // RFC 8291 3.3 and 3.4: the shared secret, mixed with the auth secret.
  const ecdhSecret = ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0', 'ascii'), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0', 'ascii'), 16));
  const baseNonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0', 'ascii'), 12));
  const records = body.subarray(21 + idLength);
  /** @type {Buffer[]} */
  const plain = [];
  for (let index = 0, offset = 0; offset < records.length; index += 1, offset += recordSize) {
    const record = records.subarray(offset, offset + recordSize);
    const last = offset + recordSize >= records.length;
    const nonce = Buffer.from(baseNonce);
    // The record's sequence number XORed into the nonce's end (records
    // past 2^32 cannot occur in a 4 KiB body).
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ index) >>> 0, 8);
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    // Padding: the data, a delimiter (2 in the last record, 1 before), zeros.
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end -= 1;
    if (end < 0 || padded[end] !== (last ? 2 : 1)) throw new Error(`record ${index} has no ${last ? 'final' : ''} delimiter`);
    plain.push(padded.subarray(0, end));
  }
  return Buffer.concat(plain);
}
