// app.js: the UI's own behaviour. Everything here is progressive: without JavaScript pages still
// work (times show in UTC, forms submit without a confirmation step, the theme follows the system).
//
//   Theme toggle   [data-theme-toggle] buttons cycle auto → light → dark, remembered in localStorage.
//   Local times    <time datetime="…" data-local="datetime|date|relative"> shown in the viewer's zone.
//   Confirmations  <form data-confirm="…"> (or a submit button with data-confirm) and htmx's
//                  hx-confirm="…" ask through the #confirm-dialog <dialog> instead of window.confirm.
(function () {
  "use strict";

  var root = document.documentElement;

  // each calls fn for scope itself (when it matches) and every matching descendant, since htmx
  // may hand over the swapped element itself.
  function each(scope, selector, fn) {
    if (scope.matches && scope.matches(selector)) {
      fn(scope);
    }
    scope.querySelectorAll(selector).forEach(fn);
  }

  // ---- Theme -------------------------------------------------------------------------------
  var themes = ["auto", "light", "dark"];
  var themeLabels = { auto: "Auto", light: "Light", dark: "Dark" };

  function currentTheme() {
    var t = root.getAttribute("data-theme");
    return t === "light" || t === "dark" ? t : "auto";
  }

  function setTheme(theme) {
    if (theme === "auto") {
      root.removeAttribute("data-theme");
    } else {
      root.setAttribute("data-theme", theme);
    }
    try {
      if (theme === "auto") {
        window.localStorage.removeItem("theme");
      } else {
        window.localStorage.setItem("theme", theme);
      }
    } catch (e) {
      // Not remembered, still applied.
    }
    document.querySelectorAll("[data-theme-toggle]").forEach(labelToggle);
  }

  function labelToggle(button) {
    var label = button.querySelector("[data-theme-label]");
    if (label) {
      label.textContent = themeLabels[currentTheme()];
    }
  }

  function initThemeToggles(scope) {
    each(scope, "[data-theme-toggle]", function (button) {
      if (button.dataset.bound) {
        return;
      }
      button.dataset.bound = "1";
      button.hidden = false;
      labelToggle(button);
      button.addEventListener("click", function () {
        var next = themes[(themes.indexOf(currentTheme()) + 1) % themes.length];
        setTheme(next);
      });
    });
  }

  // ---- Local times -------------------------------------------------------------------------
  var dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  var dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
  var relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  var timeZone = new Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
  var units = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1]
  ];

  function relative(date) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1] || units[i][0] === "second") {
        return relativeFormat.format(Math.round(seconds / units[i][1]), units[i][0]);
      }
    }
    return "";
  }

  function renderTimes(scope) {
    each(scope, "time[data-local]", function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) {
        return;
      }
      var full = dateTimeFormat.format(date);
      switch (el.getAttribute("data-local")) {
        case "date":
          el.textContent = dateFormat.format(date);
          break;
        case "relative":
          el.textContent = relative(date);
          break;
        default:
          el.textContent = full;
      }
      el.title = full + " (" + timeZone + ")";
    });
  }

  // ---- Confirmations -----------------------------------------------------------------------
  function askConfirm(message, onConfirm) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(message)) {
        onConfirm();
      }
      return;
    }
    dialog.querySelector("[data-confirm-message]").textContent = message;
    dialog.returnValue = "";
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "ok") {
        onConfirm();
      }
    }, { once: true });
    dialog.showModal();
  }

  // Plain forms: the first submit is held back until the dialog is confirmed, then repeated.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (!message) {
      return;
    }
    if (form.dataset.confirmed === "1") {
      delete form.dataset.confirmed;
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    askConfirm(message, function () {
      form.dataset.confirmed = "1";
      form.requestSubmit(submitter || undefined);
    });
  }, true);

  // htmx elements with hx-confirm.
  document.addEventListener("htmx:confirm", function (event) {
    if (!event.detail.question) {
      return;
    }
    event.preventDefault();
    askConfirm(event.detail.question, function () {
      event.detail.issueRequest(true);
    });
  });

  // ---- Wiring ------------------------------------------------------------------------------
  function init(scope) {
    initThemeToggles(scope);
    renderTimes(scope);
  }

  init(document);
  // Content swapped in by htmx.
  document.addEventListener("htmx:load", function (event) {
    init(event.detail.elt);
  });
  // Keep relative times fresh.
  window.setInterval(function () {
    document.querySelectorAll('time[data-local="relative"]').forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (!isNaN(date.getTime())) {
        el.textContent = relative(date);
      }
    });
  }, 60 * 1000);
})();
