// The part of ts-mls (RFC 9420 MLS) that the web client's e2ee layer
// (web/js/e2ee/) uses, re-exported so that build.rs can bundle it and its
// dependency @hpke/core into one same-origin ES module, served as
// /assets/vendor/ts-mls.js. Only this list is ours; the library is
// fetched from the npm registry at build time and never committed.
// Imported by module path rather than from the package's index, which
// would pull in its optional noble-based provider: ciphersuite 1 runs
// on the browser's WebCrypto (X25519, Ed25519, AES-GCM, SHA-256).

export { acceptAll } from 'ts-mls/incomingMessageAction.js';
export { createApplicationMessage } from 'ts-mls/createMessage.js';
export { createCommit, createGroupInfo, joinGroupExternal } from 'ts-mls/createCommit.js';
export { decodeRatchetTree, encodeRatchetTree } from 'ts-mls/ratchetTree.js';
export { defaultClientConfig } from 'ts-mls/clientConfig.js';
export { createGroup, decodeGroupState, encodeGroupState, joinGroup } from 'ts-mls/clientState.js';
export { decodeMlsMessage, encodeMlsMessage } from 'ts-mls/message.js';
export { defaultCapabilities } from 'ts-mls/defaultCapabilities.js';
export { defaultLifetime } from 'ts-mls/lifetime.js';
export { emptyPskIndex } from 'ts-mls/pskIndex.js';
export { generateKeyPackageWithKey, makeKeyPackageRef } from 'ts-mls/keyPackage.js';
export { getCiphersuiteFromName } from 'ts-mls/crypto/ciphersuite.js';
export { getCiphersuiteImpl } from 'ts-mls/crypto/getCiphersuiteImpl.js';
export { processMessage } from 'ts-mls/processMessages.js';
