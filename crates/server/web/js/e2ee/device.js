// This browser as an MLS client: one per device, and a device is this
// session (`ready.session_id`). Owns the device's signature key pair and
// credential (identity "<user_id>:<device_id>"), and its KeyPackages: it
// keeps at least KEEP_UNCLAIMED of them (and a last-resort one) on the
// server so that others can add this device to encrypted chats, and
// keeps their private halves in IndexedDB until a Welcome uses them.

import * as api from '../api.js';
import * as local from '../local.js';
import { load } from './library.js';
import { encodeText, toBase64, toHex } from './codec.js';

/** Upload more when fewer than this many are left unclaimed. */
const KEEP_UNCLAIMED = 10;
/** How many there are after an upload. */
const TOP_UP_TO = 20;
/** KeyPackage lifetime: the server refuses ones longer than about a year. */
const LIFETIME_SECONDS = 90n * 24n * 3600n;
/** RFC 9420's last_resort KeyPackage extension (0x000a). */
const LAST_RESORT = 10;

/**
 * @typedef {{ user_id: string, device_id: string, sign_key: Uint8Array, public_key: Uint8Array }} DeviceKeys
 * @typedef {{ key_package: Uint8Array, private: any, last_resort: boolean }} StoredKeyPackage
 */

/** @type {{ userId: string, deviceId: string } | null} */
let current = null;
/** @type {Promise<DeviceKeys> | null} */
let keys = null;

/** From `ready`: who and which device this page is. @param {string} userId @param {string} deviceId */
export function identify(userId, deviceId) {
  if (current?.userId === userId && current.deviceId === deviceId) return;
  current = { userId, deviceId };
  keys = null;
}

/** Whether `ready` told us the device yet. */
export function known() {
  return current !== null;
}

/** This device's signature keys, made and saved on first use. @returns {Promise<DeviceKeys>} */
export function deviceKeys() {
  if (!current) return Promise.reject(new Error('not connected yet'));
  const { userId, deviceId } = current;
  keys ??= (async () => {
    const stored = await local.get('mls', 'device');
    if (stored && stored.user_id === userId && stored.device_id === deviceId) return stored;
    // A different session in this database (rare: a sign-in without a
    // sign-out): its keys are useless to this device.
    const { suite } = await load();
    const pair = await suite.signature.keygen();
    /** @type {DeviceKeys} */
    const made = { user_id: userId, device_id: deviceId, sign_key: pair.signKey, public_key: pair.publicKey };
    await local.putOrFail('mls', 'device', made);
    return made;
  })();
  keys.catch(() => { keys = null; });
  return keys;
}

/**
 * What this device's leaves support: the library's defaults, plus the
 * last_resort extension (a KeyPackage may carry only extensions its
 * leaf lists).
 * @param {Record<string, any>} mls
 */
export function capabilities(mls) {
  const defaults = mls.defaultCapabilities();
  return { ...defaults, extensions: [...defaults.extensions, LAST_RESORT] };
}

/** The credential every leaf of this device carries. @param {DeviceKeys} device */
export function credential(device) {
  return { credentialType: 'basic', identity: encodeText(`${device.user_id}:${device.device_id}`) };
}

/**
 * A fresh KeyPackage of this device, its private half saved under its
 * reference (what a Welcome names).
 * @param {boolean} lastResort
 * @returns {Promise<{ encoded: Uint8Array, publicPackage: any, privatePackage: any }>}
 */
export async function newKeyPackage(lastResort) {
  const { mls, suite } = await load();
  const device = await deviceKeys();
  const now = BigInt(Math.floor(Date.now() / 1000));
  const lifetime = { notBefore: now - 3600n, notAfter: now + LIFETIME_SECONDS };
  const extensions = lastResort ? [{ extensionType: LAST_RESORT, extensionData: new Uint8Array() }] : [];
  const { publicPackage, privatePackage } = await mls.generateKeyPackageWithKey(
    credential(device), capabilities(mls), lifetime, extensions,
    { signKey: device.sign_key, publicKey: device.public_key }, suite);
  const encoded = mls.encodeMlsMessage({ keyPackage: publicPackage, wireformat: 'mls_key_package', version: 'mls10' });
  const ref = await mls.makeKeyPackageRef(publicPackage, suite.hash);
  /** @type {StoredKeyPackage} */
  const stored = { key_package: encoded, private: privatePackage, last_resort: lastResort };
  await local.putOrFail('mls', `kp:${toHex(ref)}`, stored);
  return { encoded, publicPackage, privatePackage };
}

/** Keeps enough KeyPackages on the server (none made when there are). */
export async function replenish() {
  const have = await api.call('GET', '/mls/key-packages');
  const missing = have.count < KEEP_UNCLAIMED ? TOP_UP_TO - have.count : 0;
  if (missing === 0 && have.last_resort) return;
  /** @type {string[]} */
  const packages = [];
  for (let made = 0; made < missing; made += 1) packages.push(toBase64((await newKeyPackage(false)).encoded));
  const lastResort = have.last_resort ? undefined : toBase64((await newKeyPackage(true)).encoded);
  await api.call('POST', '/mls/key-packages', { body: { key_packages: packages, last_resort: lastResort } });
}

/**
 * The KeyPackage (public and private) a Welcome's secret names, if it is
 * one of this device's.
 * @param {Uint8Array} ref
 * @returns {Promise<{ key: string, publicPackage: any, privatePackage: any, lastResort: boolean } | null>}
 */
export async function keyPackageByRef(ref) {
  const key = `kp:${toHex(ref)}`;
  /** @type {StoredKeyPackage | undefined} */
  const stored = await local.get('mls', key);
  if (!stored) return null;
  const { mls } = await load();
  const decoded = mls.decodeMlsMessage(stored.key_package, 0)?.[0];
  if (decoded?.wireformat !== 'mls_key_package') return null;
  return { key, publicPackage: decoded.keyPackage, privatePackage: stored.private, lastResort: stored.last_resort };
}

/** A used ordinary KeyPackage's private keys are deleted (forward secrecy). @param {string} key */
export function forgetKeyPackage(key) {
  return local.putOrFail('mls', key, undefined);
}
