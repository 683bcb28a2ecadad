// paperdigest serve: reload this page after each successful build, and show a failed build's
// errors in a banner. The server adds this script's tag to the HTML pages it sends (never to
// the files in the site); data-build is the build the page came from.
//
// It polls /__paperdigest__/state (a few dozen bytes: the latest build's number and result)
// instead of holding an event stream open: a browser allows about six connections per host,
// and one held stream per open tab left none for the seventh tab's page.
(function () {
  "use strict";
  var script = document.currentScript;
  var build = Number((script && script.getAttribute("data-build")) || "0");
  var BANNER_ID = "paperdigest-build-error";
  var STATE_URL = "/__paperdigest__/state";
  var EVERY_MS = 500; // how often to ask while the server answers
  var RETRY_MS = 2000; // and while it does not (stopped, or restarting)
  var timer = 0;
  var asking = false;
  var reloading = false;

  function whenReady(action) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", action, { once: true });
    } else {
      action();
    }
  }

  function removeBanner() {
    var banner = document.getElementById(BANNER_ID);
    if (banner) banner.remove();
  }

  function showBanner(message) {
    whenReady(function () {
      var banner = document.getElementById(BANNER_ID);
      if (!banner) {
        banner = document.createElement("div");
        banner.id = BANNER_ID;
        banner.setAttribute("role", "alert");
        var style = banner.style; // CSSOM, not a style attribute: allowed by a strict CSP
        style.position = "fixed";
        style.left = "0";
        style.right = "0";
        style.bottom = "0";
        style.zIndex = "2147483647";
        style.maxHeight = "50vh";
        style.overflow = "auto";
        style.margin = "0";
        style.padding = "0.75em 1em";
        style.background = "#8b0000";
        style.color = "#fff";
        style.font = "14px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";
        style.whiteSpace = "pre-wrap";
        style.boxShadow = "0 -2px 8px rgba(0, 0, 0, 0.4)";
        document.body.appendChild(banner);
      }
      var text = "paperdigest: the last build failed; this page is from the build before.\n\n" + message;
      if (banner.textContent !== text) banner.textContent = text; // each poll: keep a selection in it
    });
  }

  function apply(state) {
    if (!state.ok) {
      showBanner(state.message);
    } else {
      removeBanner();
      if (state.build > build) {
        reloading = true;
        window.location.reload();
      }
    }
  }

  function later(delay) {
    window.clearTimeout(timer);
    if (!reloading) timer = window.setTimeout(ask, delay);
  }

  function ask() {
    if (asking || reloading) return;
    asking = true;
    fetch(STATE_URL, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(apply)
      .then(function () { return EVERY_MS; }, function () { return RETRY_MS; })
      .then(function (delay) {
        asking = false;
        later(delay);
      });
  }

  if (!window.fetch) return;
  // A hidden tab's timers are slowed down by the browser: ask at once when it is shown again.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") later(0);
  });
  ask();
})();
