// The console's only script (no inline code: the CSP refuses it).
// - Auto-refresh: an element with data-refresh-url is replaced every data-refresh-seconds
//   by what that URL answers (a server-rendered fragment), until the user pauses.
// - Confirmation: a form with data-confirm asks before it is sent.
(function () {
  "use strict";

  function startRefresh(region) {
    var url = region.getAttribute("data-refresh-url");
    var seconds = Number(region.getAttribute("data-refresh-seconds")) || 5;
    var toggle = document.querySelector(".refresh-toggle[aria-controls='" + region.id + "']");
    var state = toggle && toggle.parentNode.querySelector(".refresh-state");
    var paused = false;
    var busy = false;

    function say(text) { if (state) { state.textContent = text; } }

    function refresh() {
      if (paused || busy || document.hidden) { return; }
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (response.redirected || !response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          region.innerHTML = html;
          region.setAttribute("data-refreshed-at", new Date().toISOString());
          say("Refreshing every " + seconds + " s (last " + new Date().toLocaleTimeString() + ")");
        })
        .catch(function (error) { say("Refresh failed (" + error.message + "); retrying"); })
        .then(function () { busy = false; });
    }

    if (toggle) {
      toggle.addEventListener("click", function () {
        paused = !paused;
        toggle.setAttribute("aria-pressed", paused ? "true" : "false");
        toggle.textContent = toggle.getAttribute(paused ? "data-label-paused" : "data-label-running");
        say(paused ? "Auto-refresh paused" : "Refreshing every " + seconds + " s");
        if (!paused) { refresh(); }
      });
    }
    window.setInterval(refresh, seconds * 1000);
  }

  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh-url]").forEach(startRefresh);
    confirmForms();
  });
})();
