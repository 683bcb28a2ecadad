/* paperdigest search page.
 *
 * Nothing loads until there is something to search. Then lunr.js and a small meta file load,
 * the query's terms are routed to the index shards that hold them (see generator/search.py),
 * those shards load once each, and a lunr.Index is assembled from them with lunr's public
 * constructor: lunr.js parses, expands and scores the query exactly as over the whole index.
 * Result rows load in small chunks. Results are DOM nodes with text only; nothing from the
 * index is ever parsed as HTML. */
(function () {
  "use strict";

  var script = document.currentScript;
  var metaFile = script.dataset.meta;
  var base = metaFile.slice(0, metaFile.lastIndexOf("/") + 1);
  var input = document.getElementById("search-input");
  var results = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var MAX_RESULTS = 50;
  var MAX_SHARDS = 24;  /* a query needing more ("*ing") would load most of a large index */

  var meta = null;
  var shards = {};
  var rows = {};
  var scripts = {};
  var assembled = { key: null, index: null };
  var latest = 0;

  window.paperdigestSearch = {
    meta: function (data) { meta = data; },
    shard: function (number, data) { shards[number] = data; },
    docs: function (number, data) { rows[number] = data; }
  };

  function load(src) {
    if (!scripts[src]) {
      scripts[src] = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = src;
        tag.onload = resolve;
        tag.onerror = function () { reject(new Error("could not load " + src)); };
        document.head.appendChild(tag);
      });
    }
    return scripts[src];
  }

  function ready() {
    return load(script.dataset.lunr).then(function () { return load(metaFile); });
  }

  /* Plain words search as typed, with the last word also matched as a prefix. Queries that use
   * lunr syntax (title:, +word, -word, ~, *, ^) go to lunr's own query parser; a hyphen inside
   * a word (Wasserstein-GAN) is not syntax. */
  var LUNR_SYNTAX = /[:~*^]|(^|\s)[+\-]/;
  /* The index was built with lunr.py's trimmer, which keeps a token's word characters only when
   * they are all together ("(LLMs)," -> "llms"); lunr.js's ASCII-only trimmer would also cut
   * accented letters, so plain queries are trimmed the lunr.py way. */
  var TRIMMABLE = /^[^\p{L}\p{N}_]*?([\p{L}\p{N}_]+)[^\p{L}\p{N}_]*?$/u;

  function trim(token) {
    var text = String(token);
    var match = TRIMMABLE.exec(text);
    return match ? match[1] : text;
  }

  function buildQuery(query, text) {
    if (LUNR_SYNTAX.test(text)) {
      new window.lunr.QueryParser(text, query).parse();
      return;
    }
    var words = window.lunr.tokenizer(text).map(trim).filter(Boolean);
    words.forEach(function (word, position) {
      query.term(word, { usePipeline: true });
      if (position === words.length - 1) {
        query.term(word, { usePipeline: false, wildcard: window.lunr.Query.wildcard.TRAILING, boost: 0.5 });
      }
    });
  }

  /* lunr's search pipeline for an index built with the default pipeline: the stemmer. */
  var stemming = null;
  function searchPipeline() {
    if (!stemming) {
      stemming = new window.lunr.Pipeline();
      stemming.add(window.lunr.stemmer);
    }
    return stemming;
  }

  function stems(term) { return searchPipeline().runString(term); }

  /* Shards start at sorted keys (a term's first meta.keyChars characters); a key's terms are
   * all in the last shard whose first key is not after it. */
  function keyOf(term) { return Array.from(term).slice(0, meta.keyChars).join(""); }

  function shardOf(key) {
    var low = 0, high = meta.shards.length - 1, found = 0;
    while (low <= high) {
      var middle = (low + high) >> 1;
      if (meta.shards[middle] <= key) { found = middle; low = middle + 1; } else { high = middle - 1; }
    }
    return found;
  }

  function shardsForPrefix(prefix) {
    if (Array.from(prefix).length >= meta.keyChars) { return [shardOf(keyOf(prefix))]; }
    var first = shardOf(prefix), found = [first];
    for (var number = first + 1; number < meta.shards.length && meta.shards[number] < prefix + "\uffff"; number++) {
      found.push(number);
    }
    return found;
  }

  function shardsFor(query) {
    var needed = {};
    query.clauses.forEach(function (clause) {
      var term = clause.term;
      var lists;
      if (term.indexOf("*") !== -1) {
        lists = [shardsForPrefix(term.split("*")[0])];
      } else if (clause.editDistance) {
        lists = [shardsForPrefix(term.charAt(0))];  /* fuzzy matches keep the first letter */
      } else {
        lists = (clause.usePipeline ? stems(term) : [term]).map(function (stem) { return [shardOf(keyOf(stem))]; });
      }
      lists.forEach(function (list) { list.forEach(function (number) { needed[number] = true; }); });
    });
    return Object.keys(needed).map(Number).sort(function (a, b) { return a - b; });
  }

  /* One shard, unpacked once: its postings as lunr keeps them, and each doc's part of its field
   * vectors. Term indices are the shard's own, offset when shards combine; every lunr ref
   * shares one empty metadata object (lunr copies metadata and never writes to it). */
  var NO_METADATA = Object.freeze({});
  var unpacked = {};

  function unpack(number) {
    if (unpacked[number]) { return unpacked[number]; }
    var terms = [], postings = [], parts = meta.fields.map(function () { return {}; });
    shards[number].forEach(function (row, term) {
      var posting = {};
      meta.fields.forEach(function (field, slot) {
        var gaps = row[1 + 2 * slot], scores = row[2 + 2 * slot], refs = {}, part = parts[slot], doc = 0;
        for (var i = 0; i < gaps.length; i++) {
          doc += gaps[i];
          refs[doc] = NO_METADATA;
          (part[doc] || (part[doc] = [])).push(term, scores[i] / 1000);
        }
        posting[field] = refs;
      });
      terms.push(row[0]);
      postings.push(posting);
    });
    unpacked[number] = { terms: terms, postings: postings, parts: parts };
    return unpacked[number];
  }

  /* A lunr.Index over exactly these shards. Field vectors hold only the shards' terms; lunr
   * scores a match as dot(query, field vector) / |query|, so scores equal the whole index's. */
  function assemble(numbers) {
    var key = numbers.join(",");
    if (assembled.key === key) { return assembled.index; }
    var invertedIndex = {}, elements = meta.fields.map(function () { return {}; }), terms = [], offset = 0;
    numbers.map(unpack).forEach(function (shard) {
      shard.terms.forEach(function (term, index) {
        var posting = shard.postings[index];
        posting._index = offset + index;
        invertedIndex[term] = posting;
        terms.push(term);
      });
      shard.parts.forEach(function (part, slot) {
        var merged = elements[slot];
        Object.keys(part).forEach(function (doc) {
          var own = part[doc], into = merged[doc] || (merged[doc] = []);
          for (var i = 0; i < own.length; i += 2) { into.push(own[i] + offset, own[i + 1]); }
        });
      });
      offset += shard.terms.length;
    });
    terms.sort();
    var fieldVectors = {};
    meta.fields.forEach(function (field, slot) {
      Object.keys(elements[slot]).forEach(function (doc) {
        fieldVectors[field + "/" + doc] = new window.lunr.Vector(elements[slot][doc]);
      });
    });
    assembled = {
      key: key,
      index: new window.lunr.Index({
        invertedIndex: invertedIndex, fieldVectors: fieldVectors, tokenSet: window.lunr.TokenSet.fromArray(terms),
        fields: meta.fields, pipeline: searchPipeline()
      })
    };
    return assembled.index;
  }

  function loadAll(kind, numbers) {
    return Promise.all(numbers.map(function (number) { return load(base + kind + "-" + number + ".js"); }));
  }

  /* Resolves to lunr's results for the text, null for a query lunr cannot parse, or a string
   * explaining why the query is not run. */
  function find(text) {
    var query = new window.lunr.Query(meta.fields);
    try { buildQuery(query, text); } catch (error) { return Promise.resolve(null); }
    if (!query.clauses.length) { return Promise.resolve([]); }
    var needed = shardsFor(query);
    if (needed.length > MAX_SHARDS) {
      return Promise.resolve("That query is too broad to run here: put at least two letters before a *.");
    }
    return loadAll("shard", needed).then(function () {
      var index = assemble(needed);
      try { return index.query(function (q) { buildQuery(q, text); }); } catch (error) { return null; }
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function row(ref) {
    var number = Number(ref);
    return rows[Math.floor(number / meta.chunk)][number % meta.chunk];
  }

  function show(text, found) {
    results.replaceChildren();
    var quoted = "\u201c" + text + "\u201d";
    if (typeof found === "string") { status.textContent = found; return; }
    if (found === null) { status.textContent = "That query could not be understood: " + quoted + "."; return; }
    if (!found.length) { status.textContent = "No papers match " + quoted + "."; return; }
    status.textContent = found.length + (found.length === 1 ? " paper matches " : " papers match ") + quoted
      + (found.length > MAX_RESULTS ? "; showing the best " + MAX_RESULTS + "." : ".");
    found.slice(0, MAX_RESULTS).forEach(function (hit) {
      var data = row(hit.ref);
      var item = element("li", "paper");
      var heading = element("h2", "paper-title");
      var link = element("a", "", data[0]);
      link.href = "papers/" + encodeURIComponent(data[1]) + ".html";
      heading.appendChild(link);
      item.appendChild(heading);
      item.appendChild(element("p", "meta", "Last featured " + data[2]));
      item.appendChild(element("p", "snippet", data[3]));
      results.appendChild(item);
    });
  }

  function search(text) {
    text = text.trim();
    var request = ++latest;
    if (!text) { results.replaceChildren(); status.textContent = ""; return; }
    status.textContent = "Searching…";
    ready()
      .then(function () { return find(text); })
      .then(function (found) {
        if (!Array.isArray(found)) { return found; }
        var chunks = {};
        found.slice(0, MAX_RESULTS).forEach(function (hit) { chunks[Math.floor(Number(hit.ref) / meta.chunk)] = true; });
        return loadAll("docs", Object.keys(chunks)).then(function () { return found; });
      })
      .then(function (found) {
        if (request === latest) { show(text, found); }
      }, function (error) {
        if (request === latest) { status.textContent = "Search is unavailable: " + error.message; }
      });
  }

  var initial = new URLSearchParams(window.location.search).get("q") || "";
  input.value = initial;
  input.addEventListener("input", function () { search(input.value); });
  search(initial);
}());
