// Bytes as the API carries them (standard base64 with padding), as text
// (UTF-8) and as keys (hex): the small conversions the MLS layer needs.

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** @param {Uint8Array} bytes */
export function toBase64(bytes) {
  let binary = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}

/** @param {string} text */
export function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/** @param {string} text */
export function encodeText(text) {
  return utf8.encode(text);
}

/** @param {Uint8Array} bytes */
export function decodeText(bytes) {
  return fromUtf8.decode(bytes);
}

/** @param {Uint8Array} bytes */
export function toHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
