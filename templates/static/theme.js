// theme.js applies the colour theme remembered by app.js before the first paint, so a page never
// flashes in the wrong theme. It is loaded synchronously in <head> and kept tiny on purpose.
(function () {
  "use strict";
  try {
    var theme = window.localStorage.getItem("theme");
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (e) {
    // Storage unavailable (private mode, disabled): follow the system preference.
  }
})();
