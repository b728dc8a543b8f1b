// A device that is in an encrypted chat's natter membership but not in
// its MLS group (a member's new device, signed in after the chat was
// made) joins by itself with an external Commit (RFC 9420 §12.4.3.2) on
// the chat's latest GroupInfo, which the server keeps for this. It then
// reads what is sent from that epoch on; what came before says it was
// sent before this device joined. A device the group already lists (its
// Welcome is on its way) waits for the Welcome instead.

import * as api from '../api.js';
import * as plaintexts from './plaintexts.js';
import { adopt, groupInfoOf, ownLeaf, postCommit, record } from './groups.js';
import { deviceKeys } from './device.js';
import { load } from './library.js';
import { decodeText, fromBase64, toBase64 } from './codec.js';

/** Another member's Commit can win the epoch: try again this often. */
const ATTEMPTS = 3;

/**
 * Joins the chat's group by external Commit if this device is not in it.
 * @param {string} chatId
 * @returns {Promise<boolean>} whether it joined
 */
export async function joinExternally(chatId) {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    if (await record(chatId)) return false;
    try {
      return await attemptJoin(chatId);
    } catch (error) {
      if (!(error instanceof api.ApiError && error.status === 409) || attempt === ATTEMPTS) throw error;
    }
  }
  return false;
}

/** @param {string} chatId */
async function attemptJoin(chatId) {
  const { mls, suite } = await load();
  const path = `/chats/${encodeURIComponent(chatId)}/mls`;
  /** @type {{ epoch: number, group_info: string }} */
  let latest;
  try {
    latest = await api.call('GET', `${path}/group-info`);
  } catch (error) {
    // No GroupInfo yet: the group is being made, and a Welcome will come.
    if (error instanceof api.ApiError && error.status === 404) return false;
    throw error;
  }
  const decoded = mls.decodeMlsMessage(fromBase64(latest.group_info), 0)?.[0];
  if (decoded?.wireformat !== 'mls_group_info') return false;
  const info = decoded.groupInfo;
  if (await listsThisDevice(info)) return false;
  const own = await ownLeaf();
  const joined = await mls.joinGroupExternal(withBareExternalKey(info), own.publicPackage, own.privatePackage, false, suite);
  const commit = mls.encodeMlsMessage({ publicMessage: joined.publicMessage, wireformat: 'mls_public_message', version: 'mls10' });
  const groupInfo = await groupInfoOf(joined.newState);
  const accepted = await postCommit(chatId, {
    commit: toBase64(commit),
    group_info: toBase64(mls.encodeMlsMessage({ groupInfo, wireformat: 'mls_group_info', version: 'mls10' })),
  });
  await plaintexts.remember(accepted.message_id, { kind: 'commit', epoch: latest.epoch });
  await adopt(chatId, joined.newState);
  return true;
}

/** Does the GroupInfo's ratchet tree hold a leaf of this device?
 * @param {any} info */
async function listsThisDevice(info) {
  const { mls } = await load();
  const device = await deviceKeys();
  const identity = `${device.user_id}:${device.device_id}`;
  const extension = info.extensions.find((/** @type {any} */ ex) => ex.extensionType === 'ratchet_tree');
  if (!extension) return false;
  const tree = mls.decodeRatchetTree(extension.extensionData, 0)?.[0] ?? [];
  return tree.some((/** @type {any} */ node) => node?.nodeType === 'leaf'
    && node.leaf.credential.credentialType === 'basic' && decodeText(node.leaf.credential.identity) === identity);
}

/**
 * The GroupInfo as ts-mls 1.6.4's external join reads it: that version
 * takes `external_pub`'s data for the bare key, while RFC 9420 (and
 * OpenMLS, and groups.js) prefix it with its length. The signature is
 * still checked over the extensions as sent: only the lookup of
 * `external_pub` sees the bare key.
 * @param {any} info
 */
function withBareExternalKey(info) {
  /** @type {any[]} */
  const original = info.extensions;
  const extensions = [...original];
  /** @param {(extension: any) => boolean} predicate */
  const find = (predicate) => {
    const hit = original.find(predicate);
    if (hit?.extensionType !== 'external_pub') return hit;
    const data = /** @type {Uint8Array} */ (hit.extensionData);
    // A one-byte varint length, then the key.
    return data.length > 1 && data[0] === data.length - 1 ? { ...hit, extensionData: data.subarray(1) } : hit;
  };
  Object.defineProperty(extensions, 'find', { value: find });
  return { ...info, extensions };
}
