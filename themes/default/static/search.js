/* paperdigest search page: loads lunr.js and the index only when there is something to search.
 * Results are built from DOM nodes and text only; nothing from the index is parsed as HTML. */
(function () {
  "use strict";

  var script = document.currentScript;
  var input = document.getElementById("search-input");
  var results = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var MAX_RESULTS = 50;
  var loading = null;
  var index = null;
  var docs = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(tag);
    });
  }

  function ready() {
    if (!loading) {
      loading = loadScript(script.dataset.lunr)
        .then(function () { return loadScript(script.dataset.index); })
        .then(function () {
          var data = window.PAPERDIGEST_SEARCH;
          index = window.lunr.Index.load(data.index);
          docs = data.docs;
        });
    }
    return loading;
  }

  /* Plain words search as typed (punctuation around them trimmed as in the index), with the last
   * word also matched as a prefix. Queries that use lunr syntax (title:, +word, -word, ~, *, ^)
   * go to lunr as they are; a hyphen inside a word (Wasserstein-GAN) is not syntax. */
  var LUNR_SYNTAX = /[:~*^]|(^|\s)[+\-]/;
  /* The index was built by lunr.py, whose trimmer keeps a token's word characters only when
   * they are all together ("(LLMs)," -> "llms", "u.s." stays); lunr.js's ASCII-only trimmer
   * would also cut accented letters, so queries are trimmed the lunr.py way. */
  var TRIMMABLE = /^[^\p{L}\p{N}_]*?([\p{L}\p{N}_]+)[^\p{L}\p{N}_]*?$/u;

  function trim(token) {
    var text = String(token);
    var match = TRIMMABLE.exec(text);
    return match ? match[1] : text;
  }

  function find(query) {
    if (LUNR_SYNTAX.test(query)) {
      try { return index.search(query); } catch (error) { return null; }
    }
    var words = window.lunr.tokenizer(query).map(trim).filter(Boolean);
    if (!words.length) { return []; }
    return index.query(function (q) {
      words.forEach(function (word, position) {
        q.term(word, { usePipeline: true });
        if (position === words.length - 1) {
          q.term(word, { usePipeline: false, wildcard: window.lunr.Query.wildcard.TRAILING, boost: 0.5 });
        }
      });
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function show(query) {
    results.replaceChildren();
    if (!query) { status.textContent = ""; return; }
    var found = find(query);
    var quoted = "\u201c" + query + "\u201d";
    if (found === null) {
      status.textContent = "That query could not be understood: " + quoted + ".";
      return;
    }
    if (!found.length) {
      status.textContent = "No papers match " + quoted + ".";
      return;
    }
    status.textContent = found.length + (found.length === 1 ? " paper matches " : " papers match ") + quoted
      + (found.length > MAX_RESULTS ? "; showing the best " + MAX_RESULTS + "." : ".");
    found.slice(0, MAX_RESULTS).forEach(function (hit) {
      var row = docs[Number(hit.ref)];
      var item = element("li", "paper");
      var heading = element("h2", "paper-title");
      var link = element("a", "", row[0]);
      link.href = "papers/" + encodeURIComponent(row[1]) + ".html";
      heading.appendChild(link);
      item.appendChild(heading);
      item.appendChild(element("p", "meta", "Last featured " + row[2]));
      item.appendChild(element("p", "snippet", row[3]));
      results.appendChild(item);
    });
  }

  function search(query) {
    query = query.trim();
    if (!query) { show(""); return; }
    status.textContent = "Searching…";
    ready().then(function () { show(query); }, function (error) {
      status.textContent = "Search is unavailable: " + error.message;
    });
  }

  var initial = new URLSearchParams(window.location.search).get("q") || "";
  input.value = initial;
  input.addEventListener("input", function () { search(input.value); });
  search(initial);
}());
