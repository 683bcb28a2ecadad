// paperdigest serve: reload this page after each successful build, and show a failed build's
// errors in a banner. The server adds this script's tag to the HTML pages it sends (never to
// the files in the site); data-build is the build the page came from.
(function () {
  "use strict";
  var script = document.currentScript;
  var build = (script && script.getAttribute("data-build")) || "0";
  var BANNER_ID = "paperdigest-build-error";

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
      banner.textContent = "paperdigest: the last build failed; this page is from the build before.\n\n" + message;
    });
  }

  if (!window.EventSource) return;
  var events = new EventSource("/__paperdigest__/events?build=" + encodeURIComponent(build));
  events.addEventListener("build", function (event) {
    var result = JSON.parse(event.data);
    if (result.ok) {
      removeBanner();
      events.close();
      window.location.reload();
    } else {
      showBanner(result.message);
    }
  });
})();
