// The chosen theme (Settings > Appearance: system, light or dark), put on
// <html data-theme> before the first paint. A classic script linked in
// <head> ahead of the stylesheet, because the CSP allows no inline code
// and a module would run only after the page is painted. Keep it tiny:
// it blocks the parser. js/theme.js owns the choice; the key is its.
(function () {
  try {
    var theme = localStorage.getItem('natter.theme');
    if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  } catch (error) {
    // Storage may be off (private modes): the system theme it is.
  }
})();
