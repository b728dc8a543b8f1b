// One MLS group per encrypted chat (group_id = the chat_id's bytes), as
// this device holds it: make it (the chat's creator, adding every
// member's devices in one Commit with its Welcome and GroupInfo), join it
// from a Welcome, apply the chat's messages in seq order (Commits move
// the epoch, application messages decrypt into plaintexts.js) and
// encrypt what this device sends. Each group's state is saved in
// IndexedDB (local.js, store `mls`) after every change, with the last seq
// applied, so a reload goes on where it stopped.
//
// Not here: ordering (engine.js runs one operation at a time) and the
// screen.

import * as api from '../api.js';
import * as local from '../local.js';
import * as plaintexts from './plaintexts.js';
import { capabilities, credential, deviceKeys, forgetKeyPackage, keyPackageByRef, replenish } from './device.js';
import { load } from './library.js';
import { decodeText, encodeText, fromBase64, toBase64 } from './codec.js';

/** The reason shown for a message from before this device joined. */
export const BEFORE_JOINING = 'This message was sent before this device joined the chat, so it cannot be decrypted here.';

/**
 * `seq`: every message up to it has been applied; `joined_epoch`: the
 * first epoch this device has keys for.
 * @typedef {{ state: Uint8Array, seq: number, joined_epoch: number }} GroupRecord
 */

/** @param {string} chatId @returns {Promise<GroupRecord | undefined>} */
export function record(chatId) {
  return local.get('mls', `group:${chatId}`);
}

/** @param {string} chatId @param {GroupRecord} value */
function save(chatId, value) {
  return local.putOrFail('mls', `group:${chatId}`, value);
}

/**
 * Keeps a group this device just entered (by external Commit): its
 * history is then read from the start, where everything before the
 * join is marked as unreadable here.
 * @param {string} chatId @param {any} state
 */
export async function adopt(chatId, state) {
  await save(chatId, { state: await encodeState(state), seq: 0, joined_epoch: Number(state.groupContext.epoch) });
}

/** @param {GroupRecord} stored */
async function decodeState(stored) {
  const { mls } = await load();
  const [state] = mls.decodeGroupState(stored.state, 0);
  return { ...state, clientConfig: mls.defaultClientConfig };
}

/** @param {any} state */
async function encodeState(state) {
  const { mls } = await load();
  return /** @type {Uint8Array} */ (mls.encodeGroupState(state));
}

/**
 * Posts a Commit of this device to the chat. The server accepts a
 * device's leaf only when signed with the key that device's KeyPackages
 * are (its first upload pins it), so they are uploaded first: at once
 * after sign-in, stocking has not happened yet.
 * @param {string} chatId @param {{ commit: string, welcome?: string, group_info: string }} body
 * @returns {Promise<{ message_id: string, seq: number, epoch: number }>}
 */
export async function postCommit(chatId, body) {
  await replenish();
  return api.call('POST', `/chats/${encodeURIComponent(chatId)}/mls/commits`, { body });
}

/**
 * Makes the chat's group at epoch 0 and adds, in one Commit, a device of
 * every member that has a KeyPackage (and this user's other devices).
 * @param {string} chatId
 * @param {string[]} userIds the members, this user included
 * @returns {Promise<string[]>} the members none of whose devices could be added
 */
export async function create(chatId, userIds) {
  const { mls, suite } = await load();
  const device = await deviceKeys();
  /** @type {any[]} */
  const proposals = [];
  /** @type {string[]} */
  const unreachable = [];
  for (const userId of new Set(userIds)) {
    const claimed = await api.call('POST', `/users/${encodeURIComponent(userId)}/key-packages/claim`);
    let added = 0;
    for (const entry of claimed.key_packages) {
      if (userId === device.user_id && entry.device_id === device.device_id) continue;
      const decoded = mls.decodeMlsMessage(fromBase64(entry.key_package), 0)?.[0];
      if (decoded?.wireformat !== 'mls_key_package') continue;
      proposals.push({ proposalType: 'add', add: { keyPackage: decoded.keyPackage } });
      added += 1;
    }
    if (added === 0 && userId !== device.user_id) unreachable.push(userId);
  }
  const own = await ownLeaf();
  const initial = await mls.createGroup(encodeText(chatId), own.publicPackage, own.privatePackage, [], suite);
  const result = await mls.createCommit({ state: initial, cipherSuite: suite },
    { extraProposals: proposals, ratchetTreeExtension: true, wireAsPublicMessage: true });
  const groupInfo = await groupInfoOf(result.newState);
  const accepted = await postCommit(chatId, {
    commit: toBase64(mls.encodeMlsMessage(result.commit)),
    welcome: result.welcome
      ? toBase64(mls.encodeMlsMessage({ welcome: result.welcome, wireformat: 'mls_welcome', version: 'mls10' }))
      : undefined,
    group_info: toBase64(mls.encodeMlsMessage({ groupInfo, wireformat: 'mls_group_info', version: 'mls10' })),
  });
  await plaintexts.remember(accepted.message_id, { kind: 'commit', epoch: 0 });
  await save(chatId, { state: await encodeState(result.newState), seq: accepted.seq, joined_epoch: Number(result.newState.groupContext.epoch) });
  return unreachable;
}

/**
 * The GroupInfo a new device needs to join by external Commit: signed,
 * with the ratchet tree and the epoch's external public key. Built here
 * rather than by the library's own helper, whose `external_pub` lacks
 * the key's length prefix (RFC 9420 §12.4.3.2: `HPKEPublicKey
 * external_pub`, an opaque<V>), which OpenMLS rightly refuses.
 * @param {any} state
 */
export async function groupInfoOf(state) {
  const { mls, suite } = await load();
  const pair = await suite.hpke.deriveKeyPair(state.keySchedule.externalSecret);
  const key = /** @type {Uint8Array} */ (await suite.hpke.exportPublicKey(pair.publicKey));
  // A 32-byte X25519 key: its QUIC-style varint length is one byte.
  const externalPub = new Uint8Array([key.length, ...key]);
  return mls.createGroupInfo(state.groupContext, state.confirmationTag, state, [
    { extensionType: 'external_pub', extensionData: externalPub },
    { extensionType: 'ratchet_tree', extensionData: mls.encodeRatchetTree(state.ratchetTree) },
  ], suite);
}

/** A leaf for a group this device makes: a KeyPackage never published. */
export async function ownLeaf() {
  const { mls, suite } = await load();
  const device = await deviceKeys();
  const now = BigInt(Math.floor(Date.now() / 1000));
  return mls.generateKeyPackageWithKey(credential(device), capabilities(mls),
    { notBefore: now - 3600n, notAfter: now + 90n * 24n * 3600n }, [],
    { signKey: device.sign_key, publicKey: device.public_key }, suite);
}

/**
 * Joins a chat's group from a Welcome naming one of this device's
 * KeyPackages. False when it names none (or the group is joined already).
 * @param {string} chatId @param {string} welcome base64 MLSMessage
 */
export async function join(chatId, welcome) {
  if (await record(chatId)) return false;
  const { mls, suite } = await load();
  const decoded = mls.decodeMlsMessage(fromBase64(welcome), 0)?.[0];
  if (decoded?.wireformat !== 'mls_welcome') return false;
  for (const secret of decoded.welcome.secrets) {
    const mine = await keyPackageByRef(secret.newMember);
    if (!mine) continue;
    const state = await mls.joinGroup(decoded.welcome, mine.publicPackage, mine.privatePackage, mls.emptyPskIndex, suite);
    // The server routes Welcomes but cannot read them: one for another
    // group must never be kept as this chat's.
    if (decodeText(state.groupContext.groupId) !== chatId) return false;
    await save(chatId, { state: await encodeState(state), seq: 0, joined_epoch: Number(state.groupContext.epoch) });
    if (!mine.lastResort) await forgetKeyPackage(mine.key);
    return true;
  }
  return false;
}

/**
 * Applies the chat's messages after the saved seq, in order, fetching
 * any not given. Stops (to be called again) at a message it cannot get.
 * @param {string} chatId
 * @param {import('../types.js').Message[]} [given] live messages in hand
 * @returns {Promise<boolean>} whether anything new was shown
 */
export async function catchUp(chatId, given = []) {
  const stored = await record(chatId);
  if (!stored) return false;
  let state = await decodeState(stored);
  let seq = stored.seq;
  let changed = false;
  const inHand = new Map(given.map((message) => [message.seq, message]));
  const newestInHand = Math.max(0, ...inHand.keys());
  let more = true;
  while (more) {
    /** @type {import('../types.js').Message[]} */
    let batch;
    const next = inHand.get(seq + 1);
    if (next) {
      batch = [next];
      // The live message was the newest: nothing to fetch after it.
      more = next.seq < newestInHand;
    } else {
      const page = await api.history(chatId, { after: seq, limit: 100 });
      batch = page.messages;
      more = page.has_more && batch.length > 0;
    }
    for (const message of batch) {
      if (message.seq <= seq) continue;
      state = await apply(state, stored.joined_epoch, message);
      seq = message.seq;
      changed = true;
      await save(chatId, { state: await encodeState(state), seq, joined_epoch: stored.joined_epoch });
    }
  }
  return changed;
}

/**
 * One message of the chat: a Commit moves the group on, an application
 * message becomes a plaintext. Returns the state after it.
 * @param {any} state @param {number} joinedEpoch @param {import('../types.js').Message} message
 */
async function apply(state, joinedEpoch, message) {
  if (message.type !== 'mls' || message.deleted) return state;
  // Another tab of this device may have sent or read it meanwhile.
  await plaintexts.lookUp(message.message_id);
  if (plaintexts.get(message.message_id)?.kind === 'text') return state;
  const { mls, suite } = await load();
  const epoch = Number(state.groupContext.epoch);
  const commit = /** @type {{ kind?: string, epoch?: number } | undefined} */ (message.metadata.mls);
  if (commit?.kind === 'commit') {
    await plaintexts.remember(message.message_id, { kind: 'commit', epoch: commit.epoch ?? 0 });
    // Our own Commit, or one from before we joined: already in the state.
    if ((commit.epoch ?? 0) < epoch) return state;
  }
  const decoded = mls.decodeMlsMessage(fromBase64(message.content), 0)?.[0];
  if (!decoded || (decoded.wireformat !== 'mls_private_message' && decoded.wireformat !== 'mls_public_message')) return state;
  if (decoded.wireformat === 'mls_private_message' && Number(decoded.privateMessage.epoch) < joinedEpoch) {
    await plaintexts.remember(message.message_id, { kind: 'unreadable', reason: BEFORE_JOINING });
    return state;
  }
  try {
    const result = await mls.processMessage(decoded, state, mls.emptyPskIndex, mls.acceptAll, suite);
    if (result.kind === 'applicationMessage') {
      await plaintexts.remember(message.message_id, { kind: 'text', text: decodeText(result.message) });
    }
    return result.newState;
  } catch (error) {
    const reason = `This message cannot be decrypted on this device (${error instanceof Error ? error.message : 'unknown error'}).`;
    if (commit?.kind !== 'commit') await plaintexts.remember(message.message_id, { kind: 'unreadable', reason });
    return state;
  }
}

/**
 * Encrypts `text` for the chat (the state moves on and is saved): the
 * base64 MLSMessage to send as a message of type `mls`.
 * @param {string} chatId @param {string} text
 */
export async function encrypt(chatId, text) {
  const stored = await record(chatId);
  if (!stored) throw new Error('This device has not joined this encrypted chat yet.');
  const { mls, suite } = await load();
  const state = await decodeState(stored);
  const result = await mls.createApplicationMessage(state, encodeText(text), suite);
  await save(chatId, { ...stored, state: await encodeState(result.newState) });
  return toBase64(mls.encodeMlsMessage({ privateMessage: result.privateMessage, wireformat: 'mls_private_message', version: 'mls10' }));
}
