// What this browser keeps for the signed-in person across reloads, in
// IndexedDB: drafts (by chat id), the outbox (unsent messages, by
// client_msg_id), this device's MLS keys and group states (`mls`, see
// e2ee/) and the plaintexts of encrypted messages (`plaintext`, by
// message_id: an MLS message decrypts only once). One database per user, so a second account in the same
// browser never sees the first one's drafts; deleted at sign-out. Every
// call degrades to "nothing stored" when IndexedDB is unavailable (a
// private window that refuses it, say): the client then simply forgets on
// reload, as it did before.

const VERSION = 2;
/** @typedef {'drafts' | 'outbox' | 'mls' | 'plaintext'} StoreName */
/** @type {StoreName[]} */
const STORES = ['drafts', 'outbox', 'mls', 'plaintext'];

/** @type {Promise<IDBDatabase | null> | null} */
let opened = null;
/** @type {string | null} */
let openedFor = null;

/** @param {string} userId */
function nameFor(userId) {
  return `natter-local-${userId}`;
}

/**
 * Opens (once) the database of `userId`.
 * @param {string} userId
 * @returns {Promise<IDBDatabase | null>}
 */
export function open(userId) {
  if (opened && openedFor === userId) return opened;
  close();
  openedFor = userId;
  opened = new Promise((resolve) => {
    let request;
    try {
      request = indexedDB.open(nameFor(userId), VERSION);
    } catch {
      resolve(null);
      return;
    }
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const store of STORES) {
        if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab deleting it at sign-out: let it.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => resolve(null);
    request.onblocked = () => resolve(null);
  });
  return opened;
}

function close() {
  const current = opened;
  opened = null;
  openedFor = null;
  void current?.then((db) => db?.close());
}

/**
 * Every entry of a store, as [key, value] pairs; nothing if the person
 * signed out (or another signed in) while it was being read, so one
 * user's drafts and unsent messages never land in the next one's page.
 * @param {StoreName} store
 * @returns {Promise<[string, any][]>}
 */
export async function entries(store) {
  const owner = openedFor;
  const found = await readAll(store);
  return openedFor === owner ? found : [];
}

/**
 * @param {StoreName} store
 * @returns {Promise<[string, any][]>}
 */
async function readAll(store) {
  const db = await opened;
  if (!db) return [];
  return new Promise((resolve) => {
    try {
      const request = db.transaction(store, 'readonly').objectStore(store).openCursor();
      /** @type {[string, any][]} */
      const found = [];
      request.onsuccess = () => {
        const cursor = request.result;
        if (!cursor) {
          resolve(found);
          return;
        }
        found.push([String(cursor.key), cursor.value]);
        cursor.continue();
      };
      request.onerror = () => resolve(found);
    } catch {
      resolve([]);
    }
  });
}

/**
 * One entry, or `undefined`.
 * @param {StoreName} store @param {string} key
 * @returns {Promise<any>}
 */
export async function get(store, key) {
  const owner = openedFor;
  const db = await opened;
  if (!db) return undefined;
  const found = await new Promise((resolve) => {
    try {
      const request = db.transaction(store, 'readonly').objectStore(store).get(key);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(undefined);
    } catch {
      resolve(undefined);
    }
  });
  return openedFor === owner ? found : undefined;
}

/**
 * Writes (or, with `undefined`, deletes) one entry. Writes on one
 * connection commit in the order they were made, so the last one wins.
 * @param {StoreName} store @param {string} key @param {unknown} value
 * @returns {Promise<void>}
 */
export async function put(store, key, value) {
  const db = await opened;
  if (!db) return;
  await new Promise((resolve) => {
    try {
      const transaction = db.transaction(store, 'readwrite');
      const objects = transaction.objectStore(store);
      if (value === undefined) objects.delete(key);
      else objects.put(value, key);
      transaction.oncomplete = () => resolve(undefined);
      transaction.onerror = () => resolve(undefined);
      transaction.onabort = () => resolve(undefined);
    } catch {
      resolve(undefined); // closed meanwhile (signed out)
    }
  });
}

/**
 * Like [`put`], but fails when the write did not commit (storage full,
 * the database closed): for MLS state, where carrying on after a lost
 * write would encrypt twice with one key and nonce.
 * @param {StoreName} store @param {string} key @param {unknown} value
 * @returns {Promise<void>}
 */
export async function putOrFail(store, key, value) {
  const db = await opened;
  if (!db) throw new Error('local storage is not open');
  await new Promise((resolve, reject) => {
    const transaction = db.transaction(store, 'readwrite');
    const objects = transaction.objectStore(store);
    if (value === undefined) objects.delete(key);
    else objects.put(value, key);
    transaction.oncomplete = () => resolve(undefined);
    transaction.onerror = () => reject(transaction.error ?? new Error('the write failed'));
    transaction.onabort = () => reject(transaction.error ?? new Error('the write was aborted'));
  });
}

/** Sign-out: close and delete the person's database.
 * @param {string} userId */
export function forget(userId) {
  close();
  try {
    indexedDB.deleteDatabase(nameFor(userId));
  } catch {
    // Nothing was stored.
  }
}
