// The console's only script (no inline code: the CSP refuses it).
// - Auto-refresh: an element with data-refresh-url is replaced every data-refresh-seconds
//   by what that URL answers (a server-rendered fragment), until the user pauses.
// - Confirmation: a form with data-confirm asks before it is sent.
// - Assistant: the form with data-ask-url posts the question to the assistant's API and adds
//   the answer as text (never markup), the cited jobs as links and, when the user may act,
//   a button per proposed action that confirms it through the API.
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

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // A problem body (RFC 9457) or field errors as one line for the user.
  function problemText(status, body) {
    if (body && body.errors) {
      return Object.keys(body.errors).map(function (field) {
        return field + ": " + [].concat(body.errors[field]).join(" ");
      }).join("; ");
    }
    if (body && body.detail) { return String(body.detail); }
    return "HTTP " + status;
  }

  // Answers come with &, < and > escaped (for Markdown renderers); shown as text, they are
  // turned back into the characters (textContent never makes markup of them).
  function answerText(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function postJson(url, csrf, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) { throw new Error(problemText(response.status, body)); }
        return body;
      });
    });
  }

  function startAssistant(form) {
    var transcript = document.querySelector(".transcript");
    var state = form.querySelector(".ask-state");
    var prompt = form.querySelector("textarea[name=prompt]");
    var button = form.querySelector("button[type=submit]");
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var jobUrl = form.getAttribute("data-job-url");

    function turn(role, label, text) {
      var item = element("li", "turn turn-" + role);
      item.appendChild(element("strong", "", label));
      item.appendChild(element("p", "turn-text", text));
      transcript.appendChild(item);
      return item;
    }

    function proposal(item, offer) {
      var line = element("p", "proposal");
      var what = offer.action + " " + offer.job.name;
      line.appendChild(element("span", "", "Proposed: " + what + " (" + offer.reason + ") "));
      if (offer.allowed && offer.token) {
        var confirm = element("button", "action action-" + offer.action, "Confirm " + what);
        confirm.type = "button";
        confirm.addEventListener("click", function () {
          if (!window.confirm("Confirm " + what + " in HWA?")) { return; }
          confirm.disabled = true;
          postJson(form.getAttribute("data-confirm-url"), csrf, { token: offer.token })
            .then(function (done) { line.appendChild(element("span", "outcome", done.outcome + ": " + done.detail)); })
            .catch(function (error) { line.appendChild(element("span", "outcome error-text", "Not done: " + error.message)); });
        });
        line.appendChild(confirm);
      } else {
        line.appendChild(element("span", "muted", "(an operator may confirm it)"));
      }
      item.appendChild(line);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = prompt.value;
      var payload = { prompt: text };
      var conversation = form.querySelector("input[name=conversation]");
      if (conversation) { payload.conversation = Number(conversation.value); }
      turn("user", "You", text);
      button.disabled = true;
      state.textContent = "Thinking…";
      postJson(form.getAttribute("data-ask-url"), csrf, payload)
        .then(function (answer) {
          var item = turn("assistant", "Assistant", answerText(answer.answer));
          if (answer.citations.length) {
            var cited = element("p", "citations", "Jobs: ");
            answer.citations.forEach(function (job, index) {
              // Names repeat across streams: the id tells two jobs apart.
              var link = element("a", "", job.name + " (#" + job.id + ")");
              link.href = jobUrl.replace(/0\/$/, job.id + "/");
              if (index) { cited.appendChild(document.createTextNode(", ")); }
              cited.appendChild(link);
            });
            item.appendChild(cited);
          }
          answer.proposals.forEach(function (offer) { proposal(item, offer); });
          if (!conversation) {
            conversation = element("input");
            conversation.type = "hidden";
            conversation.name = "conversation";
            form.appendChild(conversation);
          }
          conversation.value = answer.conversation;
          prompt.value = "";
          state.textContent = "";
        })
        .catch(function (error) {
          turn("error", "Not answered", error.message);
          state.textContent = "";
        })
        .then(function () { button.disabled = false; prompt.focus(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh-url]").forEach(startRefresh);
    confirmForms();
    document.querySelectorAll("form[data-ask-url]").forEach(startAssistant);
  });
})();
