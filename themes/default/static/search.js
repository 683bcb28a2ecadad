/* paperdigest search page.
 *
 * Nothing loads until there is something to search. Then lunr.js, a small meta file and each
 * segment's head (its documents' field lengths and where its term buckets start) load; the
 * query's terms are routed to one bucket per segment (see generator/search.py), those load
 * once each, and for the terms the query can match, this file computes lunr's scores exactly
 * as lunr.js's Builder does, from term frequencies and field lengths, and assembles a
 * lunr.Index with lunr's public constructor: lunr.js parses, expands and scores the query
 * exactly as over the whole index. Result rows load in small chunks. Results are DOM nodes
 * with text only; nothing from the index is ever parsed as HTML. */
(function () {
  "use strict";

  var script = document.currentScript;
  var metaFile = script.dataset.meta;
  var base = metaFile.slice(0, metaFile.lastIndexOf("/") + 1);
  var input = document.getElementById("search-input");
  var results = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var MAX_RESULTS = 50;
  var MAX_BYTES = 4000000;  /* of index one query may load: more ("*ing", "a*") is refused */

  var meta = null;
  var heads = {};  /* segment start -> its head: lengths, sums, buckets */
  var buckets = {};  /* "start/bucket" -> rows [term, title postings, abstract postings] */
  var rows = {};
  var scripts = {};
  var stats = null;
  var scored = Object.create(null);  /* term -> its postings and lunr scores, per field */
  var assembled = { key: null, index: null };
  var preparing = null;
  var latest = 0;

  window.paperdigestSearch = {
    meta: function (data) { meta = data; },
    segment: function (start, data) { heads[start] = data; },
    terms: function (start, bucket, data) { buckets[start + "/" + bucket] = data; },
    docs: function (number, data) { rows[number] = data; },
    /* lunr's results for a query as the page runs it (refs, scores, match data), for tests and
     * tools: resolves to an array, null (a query lunr cannot parse) or a string (not run). */
    find: function (text) { return ready().then(function () { return find(String(text).trim()); }); },
    /* An index term's postings, {field: [[doc, score], ...]}, with the scores lunr would hold. */
    postings: function (term) {
      return ready().then(function () {
        var probe = { term: term, exact: true, prefix: term };
        return Promise.all(route([probe]).files.map(load));
      }).then(function () {
        var fields = postingsOf(term), out = {};
        meta.fields.forEach(function (field, slot) {
          out[field] = fields ? fields[slot].docs.map(function (doc, i) { return [doc, fields[slot].scores[i]]; }) : [];
        });
        return out;
      });
    }
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

  function segmentName(segment) { return segment[0] + "-" + segment[1]; }

  /* lunr.js, meta, then every segment's head; then the collection's statistics, as lunr's
   * Builder has them: the document count and each field's average length. */
  function ready() {
    if (!preparing) {
      preparing = Promise.all([load(script.dataset.lunr), load(metaFile)]).then(function () {
        return Promise.all(meta.segments.map(function (segment) {
          return load(base + "seg-" + segmentName(segment) + ".js");
        }));
      }).then(prepare);
    }
    return preparing;
  }

  function prepare() {
    var count = meta.documents;
    var lengths = meta.fields.map(function () { return new Int32Array(count); });
    var sums = meta.fields.map(function () { return 0; });
    meta.segments.forEach(function (segment) {
      var head = heads[segment[0]];
      meta.fields.forEach(function (field, slot) {
        lengths[slot].set(head.lengths[slot], segment[0]);
        sums[slot] += head.sums[slot];
      });
    });
    stats = { lengths: lengths, averages: sums.map(function (sum) { return sum / count; }) };
  }

  /* Plain words search as typed, with the last word also matched as a prefix once it has a
   * key's worth of letters (a shorter prefix would load and expand most of the index). Queries
   * that use lunr syntax (title:, +word, -word, ~, *, ^) go to lunr's own query parser; a
   * hyphen inside a word (Wasserstein-GAN) is not syntax. */
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
      if (position === words.length - 1 && Array.from(word).length >= meta.keyChars) {
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

  /* What each clause's terms can match, as lunr.js's Index.query will look for them: an exact
   * term, or the terms that start with a prefix (the text before a wildcard; for a fuzzy
   * clause, its first letter, an approximation: fuzzy matches that change the first letter
   * are not looked for). */
  function probesOf(query) {
    var probes = [];
    query.clauses.forEach(function (clause) {
      var terms = clause.usePipeline ? searchPipeline().runString(clause.term, { fields: clause.fields }) : [clause.term];
      terms.forEach(function (term) {
        var probe = { term: term, clause: clause, exact: false, prefix: term };
        if ("editDistance" in clause) {
          probe.prefix = Array.from(term).slice(0, 1).join("");
        } else if (term.indexOf("*") !== -1) {
          probe.prefix = term.slice(0, term.indexOf("*"));
        } else {
          probe.exact = true;
        }
        probes.push(probe);
      });
    });
    return probes;
  }

  /* A term's key is its first meta.keyChars characters. A segment's buckets hold consecutive
   * keys in JavaScript's string order; a key is in the last bucket whose first key is not after
   * it, and a prefix's keys are in that bucket and the next ones that start with the prefix. */
  function keyOf(text) { return Array.from(text).slice(0, meta.keyChars).join(""); }

  function bucketOf(head, key) {
    var starts = head.buckets, low = 1, high = starts.length - 1, found = 0;
    while (low <= high) {
      var middle = (low + high) >> 1;
      if (starts[middle][0] <= key) { found = middle; low = middle + 1; } else { high = middle - 1; }
    }
    return found;
  }

  function bucketsOf(head, probe) {
    if (probe.exact || Array.from(probe.prefix).length >= meta.keyChars) { return [bucketOf(head, keyOf(probe.prefix))]; }
    var prefix = probe.prefix, found = [bucketOf(head, prefix)];
    for (var number = found[0] + 1; number < head.buckets.length && head.buckets[number][0].slice(0, prefix.length) === prefix; number++) {
      found.push(number);
    }
    return found;
  }

  /* The bucket files the probes need, in every segment, and their total size. */
  function route(probes) {
    var files = {}, bytes = 0;
    meta.segments.forEach(function (segment) {
      var head = heads[segment[0]];
      probes.forEach(function (probe) {
        bucketsOf(head, probe).forEach(function (number) {
          var name = segment[0] + "/" + number;
          if (!(name in files)) {
            files[name] = base + "terms-" + segmentName(segment) + "-" + number + ".js";
            bytes += head.buckets[number][1];
          }
        });
      });
    });
    return { files: Object.keys(files).map(function (name) { return files[name]; }), bytes: bytes };
  }

  /* The first row of a bucket (rows sorted by term) whose term is not before `term`. */
  function lowerBound(list, term) {
    var low = 0, high = list.length;
    while (low < high) {
      var middle = (low + high) >> 1;
      if (list[middle][0] < term) { low = middle + 1; } else { high = middle; }
    }
    return low;
  }

  /* Every term in the index that starts with the prefix (its buckets are loaded), sorted. */
  function termsWithPrefix(probe) {
    var found = Object.create(null);
    meta.segments.forEach(function (segment) {
      var head = heads[segment[0]];
      bucketsOf(head, probe).forEach(function (number) {
        var list = buckets[segment[0] + "/" + number];
        for (var i = lowerBound(list, probe.prefix); i < list.length && list[i][0].slice(0, probe.prefix.length) === probe.prefix; i++) {
          found[list[i][0]] = true;
        }
      });
    });
    return Object.keys(found).sort();
  }

  /* The index terms lunr.js will expand the query's clauses to, found with lunr's own token
   * sets: for each probe, its candidates intersected with lunr.TokenSet.fromClause. */
  function expand(probes) {
    var found = Object.create(null);
    probes.forEach(function (probe) {
      if (probe.exact) {
        if (postingsOf(probe.term)) { found[probe.term] = true; }
        return;
      }
      var candidates = termsWithPrefix(probe);
      if (!candidates.length) { return; }
      var wanted = { term: probe.term };
      if ("editDistance" in probe.clause) { wanted.editDistance = probe.clause.editDistance; }
      window.lunr.TokenSet.fromArray(candidates).intersect(window.lunr.TokenSet.fromClause(wanted)).toArray()
        .forEach(function (term) { found[term] = true; });
    });
    return Object.keys(found).sort();
  }

  /* A term's postings in every segment, decoded once: per field, refs (doc -> metadata, as a
   * lunr posting has them; every ref shares one empty object, since lunr copies metadata and
   * never writes to it), docs, and each one's score, computed exactly as lunr.js's Builder
   * does (lunr.idf over the whole posting, BM25 with the collection's average field length,
   * the field's boost, rounded to 3 decimals). Null for a term the index does not have. */
  var NO_METADATA = Object.freeze({});

  function postingsOf(term) {
    if (term in scored) { return scored[term]; }
    var fields = meta.fields.map(function () { return { refs: {}, docs: [], tfs: [], scores: [] }; }), any = false;
    meta.segments.forEach(function (segment) {
      var head = heads[segment[0]], list = buckets[segment[0] + "/" + bucketOf(head, keyOf(term))];
      var at = lowerBound(list, term), row = list[at];
      if (!row || row[0] !== term) { return; }
      any = true;
      fields.forEach(function (field, slot) {
        var codes = row[1 + slot], doc = segment[0];
        for (var i = 0; i < codes.length; i++) {
          doc += Math.floor(codes[i] / 2);
          field.refs[doc] = NO_METADATA;
          field.docs.push(doc);
          field.tfs.push(codes[i] % 2 ? codes[++i] : 1);
        }
      });
    });
    if (!any) { scored[term] = null; return null; }
    var posting = {};
    meta.fields.forEach(function (field, slot) { posting[field] = fields[slot].refs; });
    var idf = window.lunr.idf(posting, meta.documents), k1 = meta.k1, b = meta.b;
    fields.forEach(function (field, slot) {
      var boost = meta.boosts[slot], average = stats.averages[slot], lengths = stats.lengths[slot];
      for (var i = 0; i < field.docs.length; i++) {
        var tf = field.tfs[i], fieldLength = lengths[field.docs[i]];
        var score = idf * ((k1 + 1) * tf) / (k1 * (1 - b + b * (fieldLength / average)) + tf);
        score *= boost;
        field.scores.push(Math.round(score * 1000) / 1000);
      }
      field.tfs = null;
    });
    scored[term] = fields;
    return fields;
  }

  /* A lunr.Index over exactly these terms (every posting of each). Field vectors hold only
   * these terms; lunr scores a match as dot(query, field vector) / |query|, so scores equal the
   * whole index's. */
  function assemble(terms) {
    var key = terms.join("\n");
    if (assembled.key === key) { return assembled.index; }
    var invertedIndex = Object.create(null), elements = meta.fields.map(function () { return {}; });
    terms.forEach(function (term, index) {
      var fields = postingsOf(term), posting = { _index: index };
      meta.fields.forEach(function (field, slot) {
        var own = fields[slot], part = elements[slot];
        posting[field] = own.refs;
        for (var i = 0; i < own.docs.length; i++) {
          (part[own.docs[i]] || (part[own.docs[i]] = [])).push(index, own.scores[i]);
        }
      });
      invertedIndex[term] = posting;
    });
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

  /* Resolves to lunr's results for the text, null for a query lunr cannot parse, or a string
   * explaining why the query is not run. */
  function find(text) {
    var query = new window.lunr.Query(meta.fields);
    try { buildQuery(query, text); } catch (error) { return Promise.resolve(null); }
    if (!query.clauses.length) { return Promise.resolve([]); }
    var probes = probesOf(query), needed = route(probes);
    if (needed.bytes > MAX_BYTES) {
      return Promise.resolve("That query is too broad to run here: put more letters before a * or a ~.");
    }
    return Promise.all(needed.files.map(load)).then(function () {
      var index = assemble(expand(probes));
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
        return Promise.all(Object.keys(chunks).map(function (number) { return load(base + "docs-" + number + ".js"); }))
          .then(function () { return found; });
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
