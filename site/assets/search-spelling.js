/* paperdigest near spellings: a typed word that matches fewer than FEW documents brings in the
 * index terms a letter or two away from it, the most common first, from the term dictionary
 * (search/words-N.js and words-tail-N.js: the index's terms of letters, by length, with how
 * many documents have each; search-index.js adds the two parts up). No DOM; the engine (search-engine.js) asks for the fixes of a planned query and adds
 * them to it (search-query.js's build) at a lower weight.
 *
 * Only a plain word is corrected: one of 5 letters or more, typed without + or -, ~, * or a
 * quote; edit distance 1 for 5 to 8 letters, 2 for longer words (lunr's edit distance:
 * a letter added, dropped, changed, or two side by side swapped). */
(function (root) {
  "use strict";

  var FEW = 3;  /* documents: a word matching fewer has its near spellings added */
  var MAX_FIXES = 3;  /* near spellings a word brings in, the most common first */

  /* Near spellings over one index. docsOf(term, fields) -> the documents with an index term in
   * one of these fields ([] for a term the index does not have; its bucket loaded). */
  function create(index, lunr, docsOf) {
    var dictionaries = {}, counts = Object.create(null);

    /* The edit distance a typed word's near spellings may be at. */
    function distanceFor(word) {
      var letters = Array.from(word).length;
      return letters < 5 ? 0 : letters <= 8 ? 1 : 2;
    }

    /* The plain words that match fewer than FEW documents (counting those the same word
     * matches as a prefix, while it is typed), by clause number: { term, distance }. */
    function shortWords(query, probes) {
      var short = {};
      query.clauses.forEach(function (clause, number) {
        var distance = distanceFor(clause.term), next = query.clauses[number + 1];
        if (!clause.usePipeline || !distance || "editDistance" in clause || clause.wildcard
            || clause.presence !== lunr().Query.presence.OPTIONAL) { return; }
        var matched = {}, word = null;
        function add(term, fields) { docsOf(term, fields).forEach(function (doc) { matched[doc] = true; }); }
        probes.forEach(function (probe) {
          if (probe.number === number) {
            word = probe.term;
            add(probe.term, clause.fields);
          } else if (next && probe.number === number + 1 && next.wildcard && next.term === clause.term + "*") {
            index.termsWithPrefix(probe).forEach(function (term) { add(term, next.fields); });
          }
        });
        if (word !== null && Object.keys(matched).length < FEW) { short[number] = { term: word, distance: distance }; }
      });
      return short;
    }

    /* The lengths of index term (of those the dictionary has) a word's near spellings can have. */
    function lengthsOf(word) {
      var size = Array.from(word.term).length;
      return index.meta.words.concat(index.meta.tailWords.filter(function (length) {
        return index.meta.words.indexOf(length) === -1;
      })).filter(function (length) { return Math.abs(length - size) <= word.distance; });
    }

    /* Both parts of a length's term dictionary (either may have no terms of it). */
    function loadWords(length) {
      return Promise.all([[index.meta.words, "words-"], [index.meta.tailWords, "words-tail-"]].filter(function (part) {
        return part[0].indexOf(length) !== -1;
      }).map(function (part) { return index.load(part[1] + length + ".js"); }));
    }

    /* A term dictionary as a lunr.TokenSet, made once per length. */
    function dictionary(length) {
      if (!dictionaries[length]) {
        var rows = index.words[length];
        dictionaries[length] = lunr().TokenSet.fromArray(rows.map(function (row) { return row[0]; }));
        rows.forEach(function (row) { counts[row[0]] = row[1]; });
      }
      return dictionaries[length];
    }

    function nearest(word) {
      var fuzzy = lunr().TokenSet.fromFuzzyString(word.term, word.distance), found = [];
      lengthsOf(word).forEach(function (length) { found = found.concat(dictionary(length).intersect(fuzzy).toArray()); });
      found = found.filter(function (term) { return term !== word.term; });
      found.sort(function (a, b) { return ((counts[b] || 0) - (counts[a] || 0)) || (a < b ? -1 : 1); });
      return found.slice(0, MAX_FIXES);
    }

    /* Resolves to the fixes for the query's short words, or null: clause number -> { term,
     * distance, candidates }. The dictionaries of the lengths a near spelling can have load
     * for it. */
    function fixesFor(query, probes) {
      var short = shortWords(query, probes), lengths = {};
      Object.keys(short).forEach(function (number) {
        lengthsOf(short[number]).forEach(function (length) { lengths[length] = true; });
      });
      if (!Object.keys(lengths).length) { return Promise.resolve(null); }
      return Promise.all(Object.keys(lengths).map(function (length) { return loadWords(Number(length)); })).then(function () {
        var fixes = null;
        Object.keys(short).forEach(function (number) {
          var candidates = nearest(short[number]);
          if (!candidates.length) { return; }
          fixes = fixes || {};
          fixes[number] = { term: short[number].term, distance: short[number].distance, candidates: candidates };
        });
        return fixes;
      });
    }

    /* Per document, whether it has a corrected word as typed (it ranks above those without):
     * a Uint8Array, or null when none has. */
    function exactness(probes, fixes) {
      var have = new Uint8Array(index.meta.documents), any = false;
      probes.forEach(function (probe) {
        if (!fixes[probe.number]) { return; }
        probe.expanded.forEach(function (term) {
          docsOf(term, probe.clause.fields).forEach(function (doc) { have[doc] = 1; any = true; });
        });
      });
      return any ? have : null;
    }

    /* Resolves to how each near spelling a search brought in is written in its results (the
     * first result with the term: its title, authors or abstract), the most common first:
     * what "Including results for ..." names. */
    function writtenIn(found) {
      var terms = [], Q = root.paperdigestQuery;
      found.fixes.forEach(function (fix) { terms = terms.concat(fix.terms); });
      return Promise.all(terms.map(function (term) {
        var hit = found.hits.find(function (each) { return each.matchData.metadata[term]; });
        if (!hit) { return null; }
        return index.rowsOf([hit]).then(function () {
          var row = index.row(hit.ref), written = Q.spelling(lunr(), row[0] + " " + (row[4] || ""), term);
          return written || index.abstractOf(hit.ref).then(function (abstract) { return Q.spelling(lunr(), abstract, term) || term; });
        });
      })).then(function (words) {
        var seen = {};
        return words.filter(function (word) {
          var key = word && word.toLowerCase();
          if (!word || seen[key]) { return false; }
          seen[key] = true;
          return true;
        });
      });
    }

    return { fixesFor: fixesFor, exactness: exactness, writtenIn: writtenIn };
  }

  root.paperdigestSpelling = { create: create };
}(typeof window !== "undefined" ? window : globalThis));
