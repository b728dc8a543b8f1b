// The theme choice: 'system' (follow the operating system, the default),
// 'light' or 'dark', kept in localStorage for this browser and applied as
// <html data-theme> (app.css has the colours). js/theme-boot.js applies
// the stored choice before the first paint; this module changes it, and
// follows changes made in other tabs.

const KEY = 'natter.theme';

/** @typedef {'system' | 'light' | 'dark'} Theme */

/** @returns {Theme} */
export function current() {
  try {
    const stored = localStorage.getItem(KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  } catch {
    return 'system';
  }
}

/** @param {Theme} theme */
function apply(theme) {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

/** Remembers `theme` for this browser and shows it at once.
 * @param {Theme} theme */
export function choose(theme) {
  try {
    if (theme === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
  } catch {
    // Not kept (storage off), but shown for this page.
  }
  apply(theme);
}

// Another tab chose: follow it.
window.addEventListener('storage', (event) => {
  if (event.key === KEY || event.key === null) apply(current());
});
