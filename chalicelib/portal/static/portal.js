// The portal's one script: live progress on a run's page. Everything else is plain HTML forms.
(function () {
  "use strict";

  var STATES = {
    planning: ["Planning", "info"],
    running: ["Running", "info"],
    waiting: ["Waiting for Xero", "warning"],
    completed: ["Completed", "success"],
    completed_with_errors: ["Completed with problems", "warning"],
    failed: ["Failed", "error"]
  };
  var POLL_MS = 1500;
  var MAX_POLL_MS = 15000;

  function when(iso) {
    if (!iso) { return "—"; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return iso; }
    var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getUTCDate() + " " + months[d.getUTCMonth()] + " " + d.getUTCFullYear() + ", " +
      two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " UTC";
  }

  // As the page renders it (chalicelib/portal/filters.py duration): to a tenth of a second.
  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    var tenths = Math.round(Number(seconds) * 10) / 10;
    if (tenths < 60) { return tenths.toFixed(1) + " s"; }
    var minutes = Math.floor(tenths / 60);
    var rest = (tenths - minutes * 60).toFixed(1);
    if (minutes < 60) { return minutes + " min " + rest + " s"; }
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function setText(root, selector, text) {
    var el = root.querySelector(selector);
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  function render(root, run) {
    var state = STATES[run.state] || [run.state, "neutral"];
    var badge = root.querySelector("[data-run-state] .badge");
    if (badge) {
      badge.textContent = state[0];
      badge.className = "badge badge--" + state[1];
    }
    Object.keys(run.counts || {}).forEach(function (key) {
      setText(root, '[data-count="' + key + '"]', Number(run.counts[key]).toLocaleString("en"));
    });
    var progress = run.progress || {};
    var bar = root.querySelector("[data-run-progress]");
    if (bar) {
      bar.max = Math.max(progress.batches_total || 0, 1);
      bar.value = progress.batches_done || 0;
    }
    setText(root, "[data-run-batches]", (progress.batches_done || 0) + " of " + (progress.batches_total || 0) + " batches");
    setText(root, '[data-run-calls="xero"]', Number((run.calls || {}).xero || 0).toLocaleString("en"));
    setText(root, '[data-run-calls="zoho"]', Number((run.calls || {}).zoho || 0).toLocaleString("en"));
    setText(root, '[data-run-credits="zoho"]', Number((run.credits || {}).zoho || 0).toLocaleString("en"));
    setText(root, "[data-run-finished]", when(run.finished_at));
    setText(root, "[data-run-duration]", duration(run.duration_seconds));
    var waiting = root.querySelector("[data-run-waiting]");
    if (waiting) {
      waiting.hidden = run.state !== "waiting";
      setText(root, "[data-run-resume]", when(run.resume_at));
    }
    var message = root.querySelector("[data-run-message]");
    if (message) {
      message.hidden = !run.message;
      setText(root, "[data-run-message]", run.message || "");
    }
  }

  function watch(root) {
    var url = root.getAttribute("data-run-live");
    var delay = POLL_MS;
    var lastState = null;
    var announce = root.querySelector("[data-run-announce]");

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); throw new Error("signed out"); }
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (run) {
          delay = POLL_MS;
          render(root, run);
          if (announce && run.state !== lastState) {
            announce.textContent = "Run " + (STATES[run.state] || [run.state])[0].toLowerCase() + ".";
            lastState = run.state;
          }
          if (run.finished) {
            // "true" is only ever drawn by the server: the reload below brings it with the problems.
            root.setAttribute("data-finished", "reloading");
            // The problems list and the Retry button are drawn by the server: show them.
            window.setTimeout(function () { window.location.reload(); }, 600);
            return;
          }
          window.setTimeout(poll, delay);
        })
        .catch(function () {
          delay = Math.min(delay * 2, MAX_POLL_MS);  // back off while the service is unreachable
          window.setTimeout(poll, delay);
        });
    }
    window.setTimeout(poll, POLL_MS);
  }

  function start() {
    // After an OAuth callback the address bar holds a spent code: show the plain page URL instead.
    var clean = document.querySelector("[data-clean-url]");
    if (clean && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", clean.getAttribute("data-clean-url"));
    }
    var root = document.querySelector("[data-run-live]");
    if (root && root.getAttribute("data-finished") !== "true") { watch(root); }
    // Typing a number of days picks that window.
    var days = document.getElementById("days");
    if (days) {
      days.addEventListener("focus", function () {
        var radio = document.querySelector('input[name="window"][value="days"]');
        if (radio) { radio.checked = true; }
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
