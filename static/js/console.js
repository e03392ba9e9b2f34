/* grantsconsole: progressive enhancement only. Every page works without it.
   Loaded from our own origin (CSP script-src 'self'); no inline handlers. */
(function () {
  "use strict";

  // "Select all" checkbox of a group: <input type="checkbox" data-select-group="users">
  // toggles every <input type="checkbox" data-group="users"> in the same form.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.dataset.selectGroup) return;
    var form = box.form || document;
    form.querySelectorAll('input[type="checkbox"][data-group="' + CSS.escape(box.dataset.selectGroup) + '"]')
      .forEach(function (other) { if (!other.disabled) other.checked = box.checked; });
  });

  // Move keyboard focus to the result of an in-place change so screen readers hear it.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    var focus = target.querySelector("[data-focus-after-swap]");
    if (focus) focus.focus();
  });
})();
