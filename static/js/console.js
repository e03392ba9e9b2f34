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

  // The button that opened a confirmation, by its accessible name: Cancel returns
  // focus to it (the swap replaced the element itself).
  var opener = "";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt) return;
    // hx-post on a button, or on a form submitted by the focused button
    var button = elt.matches("button") ? elt : document.activeElement;
    if (button && button.matches("button") && elt.contains(button) && !button.closest(".confirm")) {
      opener = button.getAttribute("aria-label") || button.textContent.trim();
    }
  });

  // Move keyboard focus to the result of an in-place change (or to the
  // confirmation it asks for) so keyboard and screen-reader users land on it.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    // An outerHTML swap settles a new element with the old one's id.
    if (!target.isConnected && target.id) target = document.getElementById(target.id);
    if (!target) return;
    var config = event.detail.requestConfig;
    var elt = config && config.elt;
    if (elt && elt.hasAttribute("data-cancel")) {
      var back = Array.prototype.find.call(target.querySelectorAll("button"), function (b) {
        return (b.getAttribute("aria-label") || b.textContent.trim()) === opener;
      });
      if (back) { back.focus(); return; }
    }
    var focus = target.matches("[data-focus-after-swap]") ? target : target.querySelector("[data-focus-after-swap]");
    if (focus) focus.focus();
  });

  // Escape cancels the confirmation that has focus (its Cancel link).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !(event.target instanceof Element)) return;
    var dialog = event.target.closest('[role="alertdialog"]');
    var cancel = dialog && dialog.querySelector("[data-cancel]");
    if (!cancel) return;
    event.preventDefault();
    cancel.click();
  });
  // An in-place request that failed (403 refused, 5xx, network): say so, in text.
  function showError(text) {
    var box = document.getElementById("htmx-error");
    if (!box) return;
    box.textContent = text + " ";
    var link = document.createElement("a");
    link.href = window.location.href;
    link.textContent = "Reload the page";
    box.appendChild(link);
    box.hidden = false;
    box.scrollIntoView({ block: "center" });
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 403) {
      showError("The console refused this change (403): your Okta role or sign-in no longer allows it, or the form expired. Nothing was changed.");
    } else {
      showError("The console could not complete this request (HTTP " + status + ").");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    showError("The console could not be reached; check your connection.");
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("htmx-error");
    if (box) box.hidden = true;
  });
})();
