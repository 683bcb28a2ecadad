/* paperdigest: what every page does with JavaScript. None of it is needed to read the site.
 *
 * Loaded in <head> (not deferred) so a theme the reader chose applies before the first paint;
 * everything else waits for the document. Keyboard: "/" focuses the search box; on a digest
 * page j/k move through the papers and [/] go to the previous/next digest; on a paper page
 * j/k go to the next/previous paper of the digest the reader came from, [/] likewise. */
(function () {
  "use strict";

  var STORAGE_KEY = "paperdigest-theme";
  var root = document.documentElement;

  /* localStorage can be missing or throw (some browsers on file://, private windows): the
   * choice then lasts as long as the page. */
  function remembered() {
    try { return window.localStorage.getItem(STORAGE_KEY); } catch (error) { return null; }
  }

  function remember(theme) {
    try { window.localStorage.setItem(STORAGE_KEY, theme); } catch (error) { /* not kept */ }
  }

  var chosen = remembered();
  if (chosen === "light" || chosen === "dark") { root.dataset.theme = chosen; }

  function systemTheme() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function currentTheme() { return root.dataset.theme || systemTheme(); }

  function setUpThemeToggle() {
    var button = document.getElementById("theme-toggle");
    if (!button) { return; }
    function show() { button.setAttribute("aria-pressed", String(currentTheme() === "dark")); }
    button.hidden = false;
    show();
    button.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      remember(next);
      show();
    });
    if (window.matchMedia) {
      window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", show);
    }
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link) { window.location.href = link.href; }
    return Boolean(link);
  }

  /* Digest pages: a "current" paper that j/k move, its title link focused. */
  function moveInDigest(step) {
    var papers = Array.prototype.slice.call(document.querySelectorAll("ol.papers > li.paper"));
    if (!papers.length) { return false; }
    var at = papers.findIndex(function (paper) { return paper.classList.contains("current"); });
    var next = at === -1 ? (step > 0 ? 0 : papers.length - 1) : Math.min(papers.length - 1, Math.max(0, at + step));
    if (at !== -1) { papers[at].classList.remove("current"); }
    papers[next].classList.add("current");
    var link = papers[next].querySelector(".paper-title a");
    if (link) { link.focus({ preventScroll: true }); }
    papers[next].scrollIntoView({ block: "nearest" });
    return true;
  }

  /* Paper pages: the previous/next links of the digest the reader came from (?from=<digest>),
   * or of the latest digest the paper was in. */
  function chooseDigestContext() {
    var from = new URLSearchParams(window.location.search).get("from");
    if (!from) { return; }
    var navs = document.querySelectorAll(".paper-nav");
    var wanted = Array.prototype.find.call(navs, function (nav) { return nav.dataset.digest === from; });
    if (!wanted) { return; }
    Array.prototype.forEach.call(navs, function (nav) { nav.hidden = nav !== wanted; });
  }

  var KEYS = {
    "j": function () { return moveInDigest(1) || follow(".paper-nav:not([hidden]) a[rel=next]"); },
    "k": function () { return moveInDigest(-1) || follow(".paper-nav:not([hidden]) a[rel=prev]"); },
    "[": function () { return follow(".digest-nav a[rel=prev]") || follow(".paper-nav:not([hidden]) a[rel=prev]"); },
    "]": function () { return follow(".digest-nav a[rel=next]") || follow(".paper-nav:not([hidden]) a[rel=next]"); },
    "/": function () {
      var box = document.getElementById("search-input") || document.getElementById("header-q");
      if (!box) { return false; }
      box.focus();
      box.select();
      return true;
    }
  };

  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var action = KEYS[event.key];
    if (action && action()) { event.preventDefault(); }
  }

  /* Digest pages: show all papers, only the new or the returning ones, only those whose
   * abstract links to code, and only those of one topic. */
  function setUpFilters() {
    var filters = document.getElementById("filters");
    if (!filters) { return; }
    filters.hidden = false;
    function apply() {
      var seen = filters.elements.seen.value, code = filters.elements["has-code"].checked;
      var topicBox = filters.elements.topic, topic = topicBox ? topicBox.value : "";
      document.querySelectorAll("ol.papers > li.paper").forEach(function (paper) {
        var isNew = paper.hasAttribute("data-new");
        var topics = (paper.getAttribute("data-topics") || "").split(" ");
        paper.hidden = (seen === "new" && !isNew) || (seen === "returning" && isNew)
          || (code && !paper.hasAttribute("data-code")) || (topic !== "" && topics.indexOf(topic) === -1);
      });
    }
    filters.addEventListener("change", apply);
    filters.addEventListener("submit", function (event) { event.preventDefault(); });
  }

  /* Digest pages: "most upvoted first" reorders the list in place (ties, and papers without a
   * count, keep the digest's order); unticking it puts the digest's order back. */
  function setUpUpvoteSort() {
    var box = document.getElementById("sort-upvotes"), list = document.querySelector("ol.papers");
    if (!box || !list) { return; }
    var original = Array.prototype.slice.call(list.children);
    function votes(item) {
      var value = parseInt(item.getAttribute("data-upvotes"), 10);
      return isNaN(value) ? -1 : value;
    }
    box.addEventListener("change", function () {
      var order = original.slice();
      if (box.checked) {
        order = original.map(function (item, index) { return [votes(item), index, item]; })
          .sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; })
          .map(function (pair) { return pair[2]; });
      }
      order.forEach(function (item) { list.appendChild(item); });
    });
  }

  /* Paper pages: "Copy BibTeX" puts the entry on the clipboard. The Clipboard API needs a
   * secure context and permission; where it is missing or refused (some file:// pages), the
   * text is selected and copied with execCommand, which works from a click anywhere. */
  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = button.parentNode.querySelector(".copy-status");
      if (!source) { return; }
      button.hidden = false;
      function say(text) { if (status) { status.textContent = text; } }
      function fallback() {
        var range = document.createRange(), selection = window.getSelection();
        range.selectNodeContents(source);
        selection.removeAllRanges();
        selection.addRange(range);
        var done = false;
        try { done = document.execCommand("copy"); } catch (error) { done = false; }
        say(done ? "Copied." : "Selected: press Ctrl+C (or ⌘C) to copy.");
      }
      button.addEventListener("click", function () {
        var text = source.textContent;
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(function () { say("Copied."); }, fallback);
        } else {
          fallback();
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpThemeToggle();
    setUpFilters();
    setUpUpvoteSort();
    setUpCopyButtons();
    chooseDigestContext();
    document.addEventListener("keydown", onKey);
  });
}());
