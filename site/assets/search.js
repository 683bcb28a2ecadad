/* paperdigest search page: the box, the results, the address and the keys. The engine
 * (search-engine.js with search-index.js, search-query.js and search-filters.js, loaded before
 * this file) finds and ranks; this file shows what it found,
 * as DOM nodes with text only: nothing from the index is ever parsed as HTML. */
(function () {
  "use strict";

  var script = document.currentScript;
  var input = document.getElementById("search-input");
  var results = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var controls = {
    sort: document.getElementById("search-sort"), topic: document.getElementById("search-topic"),
    since: document.getElementById("search-since"), until: document.getElementById("search-until")
  };
  var latest = 0;

  /* An index file, run as a script (the only way to read a file from file:// under the CSP). */
  function scriptLoader(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(tag);
    });
  }

  var engine = window.paperdigestEngine.create({
    metaFile: script.dataset.meta, lunrFile: script.dataset.lunr, load: scriptLoader,
    lunr: function () { return window.lunr; }
  });
  window.paperdigestSearch = engine.receiver;  /* what the index files call */
  var MAX_RESULTS = engine.maxResults;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  /* The sort and filters as the controls hold them (empty ones left out). */
  function filters() {
    var chosen = {};
    Object.keys(controls).forEach(function (name) {
      if (controls[name] && controls[name].value) { chosen[name] = controls[name].value; }
    });
    return chosen;
  }

  /* What the filters keep, in words: " in Diffusion models, featured from 2025-03-01 to 2025-03-31". */
  function kept(chosen) {
    var words = "";
    if (chosen.topic) {
      var option = controls.topic.querySelector("option[value=\"" + CSS.escape(chosen.topic) + "\"]");
      words += " in " + (option ? option.textContent : chosen.topic);
    }
    if (chosen.since || chosen.until) {
      words += (words ? "," : "") + " featured" + (chosen.since ? " from " + chosen.since : "") + (chosen.until ? " to " + chosen.until : "");
    }
    return words;
  }

  /* The status line for the engine's answer, and the list emptied. */
  function show(text, found, chosen) {
    onScreen.disconnect();
    results.replaceChildren();
    var quoted = "\u201c" + text + "\u201d", where = kept(chosen);
    var best = chosen.sort === "date" || !text ? "newest " : "best ";
    if (typeof found === "string") { status.textContent = found; return; }
    if (found === null) { status.textContent = "That query could not be understood: " + quoted + "."; return; }
    var subject = text ? (found.total === 1 ? " paper matches " : " papers match ") + quoted : (found.total === 1 ? " paper" : " papers");
    if (!found.total) { status.textContent = "No papers" + (text ? " match " + quoted : "") + where + "."; return; }
    status.textContent = found.total + subject + where
      + (found.total > MAX_RESULTS ? "; showing the " + best + MAX_RESULTS + "." : ".");
  }

  /* "including results for diffusion": the near spellings a misspelt word brought in, as the
   * results write them. */
  function noteFixes(found, request) {
    engine.spellings(found).then(function (words) {
      if (!words.length || request !== latest) { return; }
      var note = element("span", "search-fixes", " Including results for ");
      words.forEach(function (word, at) {
        if (at) { note.appendChild(document.createTextNode(at === words.length - 1 ? " and " : ", ")); }
        note.appendChild(element("em", "", word));
      });
      note.appendChild(document.createTextNode("."));
      status.appendChild(note);
    }).catch(function () { /* the results stand without the note */ });
  }

  function list(hits) {
    hits.forEach(function (hit) {
      var data = engine.row(hit.ref);
      var item = element("li", "paper");
      var heading = element("h2", "paper-title");
      var link = element("a", "result-link");
      link.href = "papers/" + encodeURIComponent(data[1]) + ".html";
      link.appendChild(highlighted(data[0], engine.matchedTerms(hit, "title")));
      heading.appendChild(link);
      item.appendChild(heading);
      if (data[4]) {  /* the short author line, where the paper has one */
        var byline = element("p", "meta authors");
        byline.appendChild(highlighted(data[4], engine.matchedTerms(hit, "author")));
        item.appendChild(byline);
      }
      item.appendChild(element("p", "meta", "Last featured " + data[2]));
      var snippet = element("p", "snippet");
      snippet.appendChild(highlighted(data[3], engine.matchedTerms(hit, "abstract")));
      item.appendChild(snippet);
      results.appendChild(item);
      waiting.set(item, { hit: hit, snippet: snippet });
      onScreen.observe(item);
    });
  }

  /* The excerpt around a result's matches replaces the abstract's start once the result is on
   * screen: only then is its abstract loaded (a small file of a few abstracts). */
  var waiting = new WeakMap();
  var onScreen = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting || !waiting.has(entry.target)) { return; }
      var wanted = waiting.get(entry.target), request = latest;
      waiting.delete(entry.target);
      onScreen.unobserve(entry.target);
      engine.excerpt(wanted.hit).then(function (found) {
        if (found && request === latest) { wanted.snippet.replaceChildren(excerptNodes(found)); }
      }).catch(function () { /* the row's start stays */ });
    });
  });

  function excerptNodes(found) {
    var fragment = document.createDocumentFragment(), at = 0, text = found.text;
    if (found.start > 0) { fragment.appendChild(document.createTextNode("\u2026")); }
    found.marks.forEach(function (span) {
      fragment.appendChild(document.createTextNode(text.slice(at, span[0])));
      fragment.appendChild(element("mark", "", text.slice(span[0], span[1])));
      at = span[1];
    });
    fragment.appendChild(document.createTextNode(text.slice(at)));
    if (found.more) { fragment.appendChild(document.createTextNode("\u2026")); }
    return fragment;
  }

  /* Text with the words that make a matched term marked (engine.marks), from text nodes and
   * <mark> elements: never HTML. */
  function highlighted(text, matched) {
    var fragment = document.createDocumentFragment(), at = 0;
    engine.marks(text, matched).forEach(function (span) {
      fragment.appendChild(document.createTextNode(text.slice(at, span[0])));
      fragment.appendChild(element("mark", "", text.slice(span[0], span[1])));
      at = span[1];
    });
    fragment.appendChild(document.createTextNode(text.slice(at)));
    return fragment;
  }

  /* Each result row file is a script, and every script costs the browser a few milliseconds
   * however small, so the best FIRST_ROWS results are shown as soon as their rows are in, and
   * the rest of the list follows. A newer query makes an older one's answer moot. */
  var FIRST_ROWS = 10;

  function search(text) {
    text = text.trim();
    var request = ++latest, chosen = filters();
    if (!text && !chosen.topic && !chosen.since && !chosen.until) { results.replaceChildren(); status.textContent = ""; return; }
    status.textContent = "Searching…";
    var first, rest;
    engine.find(text, chosen)
      .then(function (found) {
        if (!found || typeof found !== "object") {
          if (request === latest) { show(text, found, chosen); }
          return null;
        }
        first = found.hits.slice(0, FIRST_ROWS);
        rest = found.hits.slice(FIRST_ROWS);
        return engine.rows(first).then(function () {
          if (request !== latest) { return null; }
          show(text, found, chosen);
          list(first);
          if (found.fixes.length && found.total) { noteFixes(found, request); }
          return engine.rows(rest);
        });
      })
      .then(function (loaded) {
        if (loaded && request === latest) { list(rest); }
      })
      .catch(function (error) {
        if (request === latest) { status.textContent = "Search is unavailable: " + error.message; }
      });
  }

  /* The query lives in the address (search.html?q=...): replaced as the user types, so the
   * page can be shared or bookmarked and coming back to it shows the same results; a submitted
   * query is a new history entry, so back and forward step through queries. */
  function queryInAddress() { return new URLSearchParams(window.location.search).get("q") || ""; }

  /* The sort and filters of the address into the controls (a value a control cannot hold,
   * such as an unknown topic, leaves it at its default). */
  function filtersFromAddress() {
    var params = new URLSearchParams(window.location.search);
    Object.keys(controls).forEach(function (name) {
      if (controls[name]) { controls[name].value = params.get(name) || ""; }
    });
  }

  function addressFor(text) {
    var url = new URL(window.location.href), chosen = filters();
    if (text) { url.searchParams.set("q", text); } else { url.searchParams.delete("q"); }
    Object.keys(controls).forEach(function (name) {
      if (chosen[name]) { url.searchParams.set(name, chosen[name]); } else { url.searchParams.delete(name); }
    });
    return url.href;
  }

  function resultLinks() { return Array.prototype.slice.call(results.querySelectorAll("a.result-link")); }

  /* Arrow keys move between the box and the results, Enter opens the focused result (it is a
   * link), Escape clears the search. */
  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var links = resultLinks(), at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && (document.activeElement === input || at !== -1)) {
      if (at + 1 < links.length) { links[at + 1].focus(); }
    } else if (event.key === "ArrowUp" && at !== -1) {
      (at > 0 ? links[at - 1] : input).focus();
    } else if (event.key === "Escape" && (document.activeElement === input || at !== -1)) {
      input.value = "";
      window.history.replaceState(null, "", addressFor(""));
      search("");
      input.focus();
    } else {
      return;
    }
    event.preventDefault();
  }

  /* The query of this history entry as it was opened or submitted: typing replaces the address
   * as it goes, so on submit the entry gets its own query back and the new one is pushed. */
  var committed = queryInAddress();
  input.value = committed;
  filtersFromAddress();
  input.addEventListener("input", function () {
    window.history.replaceState(null, "", addressFor(input.value.trim()));
    search(input.value);
  });
  input.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (text !== committed) {
      window.history.replaceState(null, "", addressFor(committed));
      window.history.pushState(null, "", addressFor(text));
      committed = text;
    }
    search(text);
  });
  window.addEventListener("popstate", function () {
    committed = queryInAddress();
    input.value = committed;
    filtersFromAddress();
    search(committed);
  });
  Object.keys(controls).forEach(function (name) {
    if (!controls[name]) { return; }
    controls[name].addEventListener("change", function () {
      window.history.replaceState(null, "", addressFor(input.value.trim()));
      search(input.value);
    });
  });
  document.addEventListener("keydown", onKey);
  if (document.activeElement === document.body) { input.focus(); }  /* arriving here is to search */
  search(input.value);
}());
