// The name this browser gives itself at login ("Chromium on Linux"), so
// the device list tells one login from another. Read from User-Agent
// Client Hints where the browser has them, else from the user agent
// string; a guess, which the person can rename.

/**
 * `navigator.userAgentData` (not in every browser, nor in TypeScript's
 * DOM types).
 * @typedef {{ brands?: { brand: string }[], platform?: string, mobile?: boolean }} UserAgentData
 */

/** Brands a browser reports, the most specific first. */
const BRANDS = ['Microsoft Edge', 'Opera', 'Brave', 'Vivaldi', 'Google Chrome', 'Chromium'];

/** @returns {string} at most 64 characters, possibly empty */
export function deviceName() {
  const data = /** @type {UserAgentData | undefined} */ (/** @type {any} */ (navigator).userAgentData);
  const agent = navigator.userAgent;
  const browser = brandOf(data) ?? browserOf(agent);
  const platform = data?.platform || platformOf(agent);
  const name = browser && platform ? `${browser} on ${platform}` : browser || platform || '';
  return name.slice(0, 64);
}

/** @param {UserAgentData | undefined} data */
function brandOf(data) {
  const brands = (data?.brands ?? []).map((entry) => entry.brand);
  return BRANDS.find((brand) => brands.includes(brand)) ?? null;
}

/** @param {string} agent */
function browserOf(agent) {
  if (/Edg\//.test(agent)) return 'Microsoft Edge';
  if (/OPR\//.test(agent)) return 'Opera';
  if (/Firefox\//.test(agent)) return 'Firefox';
  if (/Chromium\//.test(agent)) return 'Chromium';
  if (/Chrome\//.test(agent)) return 'Chrome';
  if (/Safari\//.test(agent)) return 'Safari';
  return '';
}

/** @param {string} agent */
function platformOf(agent) {
  if (/Android/.test(agent)) return 'Android';
  if (/iPhone|iPad|iPod/.test(agent)) return 'iOS';
  if (/Windows/.test(agent)) return 'Windows';
  if (/Mac OS X|Macintosh/.test(agent)) return 'macOS';
  if (/CrOS/.test(agent)) return 'ChromeOS';
  if (/Linux/.test(agent)) return 'Linux';
  return '';
}
