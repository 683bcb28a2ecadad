/* paperdigest search engine: plans a query, scores it exactly as lunr.js would over the whole
 * index, and answers with lunr's own results. No DOM: it is given a loader (the page's adds a
 * <script> tag; the Node tests run the file in their context) and the lunr object, so the same
 * code runs in the page (search.js, the UI) and in `node --test` (tests/js/).
 *
 * It needs, loaded before it: search-index.js (the index files, read), search-query.js (query
 * text -> lunr clauses and phrases; where words are in a text), search-spelling.js (near
 * spellings) and search-filters.js (sorting by date, the topic and date filters).
 *
 * Nothing loads until there is something to search. Then lunr.js and the meta file (with each
 * segment's head) load; the query's terms are routed to one bucket per segment (see
 * generator/search.py), those load once each, and for the terms the query can match, this file
 * computes lunr's scores exactly as lunr.js's Builder does, from term frequencies and field
 * lengths. It counts and scores the matches as lunr.js's Index.query would, then assembles a
 * lunr.Index (with lunr's public constructor) over those terms and the documents that can rank
 * among the first MAX_RESULTS: lunr.js parses, expands, scores and ranks the query, and its
 * first results are the whole index's.
 *
 * Two things go beyond lunr, and leave a query that uses neither ranked exactly as lunr ranks
 * it: a quoted phrase keeps only the documents with its words together and in order (read from
 * the buckets' word positions, loaded only for phrases), and a plain word of 5 letters or more
 * that matches few documents brings in its near spellings (search-spelling.js), at a lower
 * weight; the documents that have it as typed rank first. */
(function (root) {
  "use strict";

  var MAX_RESULTS = 50;
  var MAX_BYTES = 4000000;  /* of index one query may load (or create's maxBytes): more ("*ing", "a*") is refused */
  var EXCERPT_WORDS = 30;
  var Q = root.paperdigestQuery, F = root.paperdigestFilters;

  /* An engine over one index. options: metaFile (the index's meta.js; the other files are
   * beside it), lunrFile, load(src) -> a Promise that the script has run, lunr() -> the lunr
   * object (once lunrFile has run). */
  function create(options) {
    var index = root.paperdigestIndex.open(options), lunr = options.lunr;
    var maxBytes = options.maxBytes || MAX_BYTES;
    var scored = Object.create(null);  /* term -> its postings and lunr scores, per field */
    var spelling = root.paperdigestSpelling.create(index, lunr, docsOf);

    /* What each clause's terms can match, as lunr.js's Index.query will look for them: an exact
     * term, the terms that start with a prefix (the text before a wildcard; for a fuzzy clause
     * typed with ~, its first letter, an approximation: fuzzy matches that change the first
     * letter are not looked for). */
    function probesOf(query) {
      var probes = [];
      query.clauses.forEach(function (clause, number) {
        var terms = clause.usePipeline ? Q.stemming(lunr()).runString(clause.term, { fields: clause.fields }) : [clause.term];
        terms.forEach(function (term) {
          var probe = index.exact(term);
          probe.clause = clause;
          probe.number = number;
          if ("editDistance" in clause) {
            probe.exact = false;
            probe.prefix = Array.from(term).slice(0, 1).join("");
          } else if (term.indexOf("*") !== -1) {
            probe.exact = false;
            probe.prefix = term.slice(0, term.indexOf("*"));
          }
          probe.key = index.keyOf(probe.prefix);
          probe.single = probe.exact || Array.from(probe.prefix).length >= index.meta.keyChars;
          probes.push(probe);
        });
      });
      return probes;
    }

    /* The files the probes and phrases need. */
    function filesOf(probes, phrases) {
      var near = [];
      phrases.filter(Q.isPhrase).forEach(function (phrase) {
        near = near.concat(phrase.words.map(function (word) { return index.exact(word.term); }));
      });
      var one = index.route(probes, false), two = index.route(near, true);
      return { files: one.files.concat(two.files), bytes: one.bytes + two.bytes };
    }

    /* The index terms lunr.js will expand the query's clauses to, found with lunr's own token
     * sets: for each probe, the terms with its prefix intersected with lunr.TokenSet.fromClause. */
    function expand(probes) {
      var found = Object.create(null);
      probes.forEach(function (probe) {
        if (probe.exact) {
          if (postingsOf(probe.term)) { found[probe.term] = true; }
          return;
        }
        var candidates = index.termsWithPrefix(probe);
        if (!candidates.length) { return; }
        var wanted = { term: probe.term };
        if ("editDistance" in probe.clause) { wanted.editDistance = probe.clause.editDistance; }
        lunr().TokenSet.fromArray(candidates.slice().sort()).intersect(lunr().TokenSet.fromClause(wanted)).toArray()
          .forEach(function (term) { found[term] = true; });
      });
      return Object.keys(found).sort();
    }

    /* A term's postings in every segment, decoded once: per field, docs (ascending) and each
     * one's score, computed exactly as lunr.js's Builder does: lunr.idf (documents with the term,
     * counted once per field), BM25 with the collection's average field length, the field's
     * boost, Math.round to 3 decimals. Null for a term the index does not have. */
    function postingsOf(term) {
      if (term in scored) { return scored[term]; }
      var meta = index.meta, counts = meta.fields.map(function () { return 0; });
      if (!index.eachPosting(term, function (doc, tf, slot) { counts[slot]++; })) { scored[term] = null; return null; }
      var withTerm = counts.reduce(function (sum, count) { return sum + count; }, 0);
      var x = (meta.documents - withTerm + 0.5) / (withTerm + 0.5), idf = Math.log(1 + Math.abs(x));  /* lunr.idf */
      var k1 = meta.k1, b = meta.b, stats = index.stats, at = meta.fields.map(function () { return 0; });
      var fields = counts.map(function (count) { return { docs: new Int32Array(count), scores: new Float64Array(count) }; });
      index.eachPosting(term, function (doc, tf, slot) {
        var fieldLength = stats.lengths[slot][doc], average = stats.averages[slot];
        var score = idf * ((k1 + 1) * tf) / (k1 * (1 - b + b * (fieldLength / average)) + tf);
        score *= meta.boosts[slot];
        fields[slot].docs[at[slot]] = doc;
        fields[slot].scores[at[slot]++] = Math.round(score * 1000) / 1000;
      });
      scored[term] = fields;
      return fields;
    }

    /* The documents with a term (its bucket loaded) in one of these fields, each once. */
    function docsOf(term, fields) {
      var postings = postingsOf(term), seen = {};
      (postings ? fields : []).forEach(function (field) {
        postings[index.meta.fields.indexOf(field)].docs.forEach(function (doc) { seen[doc] = true; });
      });
      return Object.keys(seen).map(Number);
    }

    /* Each probe's terms as lunr.js's Index.query will expand them over an index of these terms. */
    function expandEach(probes, tokenSet) {
      probes.forEach(function (probe) {
        var wanted = { term: probe.term };
        if ("editDistance" in probe.clause) { wanted.editDistance = probe.clause.editDistance; }
        probe.expanded = tokenSet.intersect(lunr().TokenSet.fromClause(wanted)).toArray();
      });
    }

    /* --- scoring and ranking ---------------------------------------------------------------- */

    /* Which documents lunr.js's Index.query returns for the query over the whole index, and a few
     * it ranks first. This follows Index.query step by step (required and prohibited clauses,
     * field-scoped clauses, the query vector per field with clause boosts, negated queries) and
     * scores every matching document as it does (dot(query, field vector) / |query|, summed
     * over fields). Documents are then kept if they score at least the MAX_RESULTS-th best,
     * less a margin for floating point: lunr.js itself scores and ranks those (a document's score
     * and lunr's order of equal scores do not depend on which other documents are present),
     * so its first MAX_RESULTS results are the whole index's. With near spellings, documents
     * with the word as typed come first (`first`), so they are all kept. */
    var EMPTY = "empty", COMPLETE = "complete";

    function intersect(set, other) {
      if (set === EMPTY || other === EMPTY) { return EMPTY; }
      if (set === COMPLETE) { return other; }
      if (other === COMPLETE) { return set; }
      var both = new Uint8Array(set.length);
      for (var i = 0; i < set.length; i++) { both[i] = set[i] & other[i]; }
      return both;
    }

    function select(query, probes, allow, byDate, first) {
      var count = index.meta.documents, slots = {}, weights = [], dots = [], required = {}, prohibited = new Uint8Array(count);
      var matched = new Uint8Array(count), touched = [];
      index.meta.fields.forEach(function (field, slot) {
        slots[field] = slot;
        weights.push(Object.create(null));
        dots.push(new Float64Array(count));
      });
      query.clauses.forEach(function (clause) {
        var isRequired = clause.presence === lunr().Query.presence.REQUIRED;
        var isProhibited = clause.presence === lunr().Query.presence.PROHIBITED;
        var clauseMatches = new Uint8Array(isRequired ? count : 0);
        var own = probes.filter(function (probe) { return probe.clause === clause; });
        for (var m = 0; m < own.length; m++) {
          if (!own[m].expanded.length && isRequired) {
            clause.fields.forEach(function (field) { required[field] = EMPTY; });
            break;
          }
          own[m].expanded.forEach(function (term) {
            var postings = postingsOf(term);
            clause.fields.forEach(function (field) {
              var slot = slots[field], docs = postings[slot].docs, values = postings[slot].scores;
              var dot = dots[slot], bit = 1 << slot, boost = clause.boost, i, doc;
              if (isRequired) {
                for (i = 0; i < docs.length; i++) { clauseMatches[docs[i]] = 1; }
                if (required[field] === undefined) { required[field] = COMPLETE; }
              }
              if (isProhibited) {
                for (i = 0; i < docs.length; i++) { prohibited[docs[i]] = 1; }
                return;
              }
              weights[slot][term] = (weights[slot][term] || 0) + boost;
              for (i = 0; i < docs.length; i++) {
                doc = docs[i];
                if (!matched[doc]) { touched.push(doc); }
                matched[doc] |= bit;
                dot[doc] += boost * values[i];
              }
            });
          });
        }
        if (isRequired) {
          clause.fields.forEach(function (field) { required[field] = intersect(required[field], clauseMatches); });
        }
      });
      var allRequired = COMPLETE;
      index.meta.fields.forEach(function (field) { if (required[field] !== undefined) { allRequired = intersect(allRequired, required[field]); } });
      function passes(doc) {
        return !prohibited[doc] && (allRequired === COMPLETE || (allRequired !== EMPTY && allRequired[doc] === 1))
          && allow(doc);
      }
      var kept = [], doc, i;
      if (query.isNegated()) {  /* every document but the prohibited ones, all scoring 0, in order */
        var total = 0, every = [];
        for (doc = 0; doc < count; doc++) {
          if (passes(doc)) { total++; if (byDate) { every.push(doc); } else if (kept.length < MAX_RESULTS) { kept.push(doc); } }
        }
        return { total: total, docs: byDate ? F.newestFirst(index, every, new Float64Array(every.length), MAX_RESULTS) : kept };
      }
      var magnitudes = weights.map(function (weight) {
        var sum = 0;
        Object.keys(weight).forEach(function (term) { sum += weight[term] * weight[term]; });
        return Math.sqrt(sum);
      });
      var found = touched.filter(passes);
      if (found.length <= MAX_RESULTS && !byDate) { return { total: found.length, docs: found }; }
      var scores = new Float64Array(found.length);
      for (i = 0; i < found.length; i++) {
        for (var slot = 0; slot < dots.length; slot++) {
          if (magnitudes[slot]) { scores[i] += dots[slot][found[i]] / magnitudes[slot]; }
        }
      }
      if (byDate) { return { total: found.length, docs: F.newestFirst(index, found, scores, MAX_RESULTS) }; }
      var bar = Float64Array.from(scores).sort()[found.length - MAX_RESULTS];
      bar -= 1e-9 * Math.max(1, Math.abs(bar));
      for (i = 0; i < found.length; i++) {
        if (scores[i] >= bar || (first && first[found[i]])) { kept.push(found[i]); }
      }
      return { total: found.length, docs: kept };
    }

    /* A lunr.Index over these terms (for the documents kept, every posting of each; field
     * vectors hold only these terms, and lunr scores a match as dot(query, field vector) /
     * |query|, so scores equal the whole index's). A negated query needs the documents' field
     * vectors to exist, as every document's does in a whole index. */
    var NO_METADATA = Object.freeze({});  /* lunr copies metadata and never writes to it */

    function assemble(terms, tokenSet, docs) {
      var meta = index.meta, keep = new Uint8Array(meta.documents), invertedIndex = Object.create(null), fieldVectors = {};
      var elements = meta.fields.map(function () { return {}; });
      docs.forEach(function (doc) {
        keep[doc] = 1;
        meta.fields.forEach(function (field, slot) { elements[slot][doc] = []; });
      });
      terms.forEach(function (term, number) {
        var fields = postingsOf(term), posting = { _index: number };
        meta.fields.forEach(function (field, slot) {
          var own = fields[slot], refs = {}, part = elements[slot];
          for (var i = 0; i < own.docs.length; i++) {
            if (keep[own.docs[i]]) {
              refs[own.docs[i]] = NO_METADATA;
              part[own.docs[i]].push(number, own.scores[i]);
            }
          }
          posting[field] = refs;
        });
        invertedIndex[term] = posting;
      });
      docs.forEach(function (doc) {
        meta.fields.forEach(function (field, slot) {
          fieldVectors[field + "/" + doc] = new (lunr()).Vector(elements[slot][doc]);
        });
      });
      return new (lunr()).Index({
        invertedIndex: invertedIndex, fieldVectors: fieldVectors, tokenSet: tokenSet,
        fields: meta.fields, pipeline: Q.stemming(lunr())
      });
    }

    function keeping(allow, parsed) {  /* the filters, and each quoted phrase (search-query.js) */
      return Q.keeping(allow, parsed.phrases, index.meta.fields, index.positionsOf, index.meta.documents);
    }

    function parsedQuery(parsed, fixes) {
      var query = new (lunr()).Query(index.meta.fields);
      Q.build(lunr(), query, parsed, index.meta.keyChars, fixes);
      return query;
    }

    /* A query that would load more than maxBytes of index is refused, with a reason that fits
     * it: a phrase loads its words' positions besides their postings, which for common words
     * in a large archive is what goes over. */
    function loaded(needed, phrases) {
      if (needed.bytes > maxBytes) { return Promise.reject(phrases.some(Q.isPhrase) ? TOO_COMMON : TOO_BROAD); }
      return Promise.all(needed.files.map(index.loadFile));
    }
    var TOO_BROAD = "That query is too broad to run here: put more letters before a * or a ~.";
    var TOO_COMMON = "The words of that phrase are too common to check side by side here: search for them without the quotes.";

    /* Resolves to { total, hits, fixes }: how many papers match over the whole index (of those
     * the filters keep), and the first MAX_RESULTS (newest first with sort "date"), with the
     * near spellings brought in (fixes: [{ word, terms }]); or null for a query lunr cannot
     * parse, or a string explaining why the query is not run. Without a query, the filters'
     * papers, newest first (hits without matchData). */
    function find(text, options) {
      var allow = F.allowing(index, options), byDate = options.sort === "date" || !text, parsed, query;
      try { parsed = Q.parse(lunr(), text, index.meta.fields); query = parsedQuery(parsed, null); } catch (error) { return Promise.resolve(null); }
      if (!query.clauses.length) {
        if (allow === F.everything && !parsed.phrases.length) { return Promise.resolve({ total: 0, hits: [], fixes: [] }); }
        return loaded(filesOf([], parsed.phrases), parsed.phrases).then(function () { return F.load(index); }).then(function () {
          var found = F.listing(index, keeping(allow, parsed), MAX_RESULTS);
          found.fixes = [];
          return found;
        });
      }
      var probes = probesOf(query), fixes = null;
      return loaded(filesOf(probes, parsed.phrases), parsed.phrases).then(function () {
        return spelling.fixesFor(query, probes);
      }).then(function (found) {
        if (!found) { return null; }
        fixes = found;
        query = parsedQuery(parsed, fixes);
        probes = probesOf(query);
        return loaded(filesOf(probes, []), []);
      }).then(function () {
        return rank(parsed, query, probes, fixes, keeping(allow, parsed), byDate);
      }, function (error) {
        if (error === TOO_BROAD || error === TOO_COMMON) { return error; }
        throw error;
      });
    }

    function rank(parsed, query, probes, fixes, allow, byDate) {
      var terms = expand(probes), tokenSet = lunr().TokenSet.fromArray(terms);
      expandEach(probes, tokenSet);
      var first = fixes && spelling.exactness(probes, fixes);
      var chosen = select(query, probes, allow, byDate, first), hits;
      var lunrIndex = assemble(terms, tokenSet, chosen.docs);
      try {
        hits = lunrIndex.query(function (q) { q.clauses = query.clauses; });  /* the query planned */
      } catch (error) { return null; }
      if (byDate) {  /* lunr's hits (for their matchData), in the order chosen */
        var byRef = {};
        hits.forEach(function (hit) { byRef[hit.ref] = hit; });
        hits = chosen.docs.map(function (doc) { return byRef[String(doc)]; }).filter(Boolean);
      } else if (first) {  /* documents with a fixed word as typed first, each part in lunr's order */
        hits = hits.filter(function (hit) { return first[hit.ref]; }).concat(hits.filter(function (hit) { return !first[hit.ref]; }));
      }
      var used = [];
      Object.keys(fixes || {}).forEach(function (number) {
        used.push({ word: query.clauses[number].term, terms: fixes[number].candidates });
      });
      return { total: chosen.total, hits: hits.slice(0, MAX_RESULTS), fixes: used };
    }

    /* Resolves to the stretch of a result's abstract with the most matched words, about
     * EXCERPT_WORDS words: { text, marks, start, more } (search-query.js's excerpt); null when
     * its abstract has no match (the row's start is shown). */
    function excerpt(hit) {
      var matched = matchedTerms(hit, "abstract");
      if (!Object.keys(matched).length) { return Promise.resolve(null); }
      return index.abstractOf(hit.ref).then(function (abstract) {
        var spans = Q.marks(lunr(), abstract, matched);
        return spans.length ? Q.excerpt(lunr(), abstract, spans, EXCERPT_WORDS) : null;
      });
    }

    /* The index terms lunr matched in one field of a result (its matchData), e.g. "diffus". */
    function matchedTerms(hit, field) {
      var terms = Object.create(null), metadata = hit.matchData.metadata;
      Object.keys(metadata).forEach(function (term) { if (metadata[term][field]) { terms[term] = true; } });
      return terms;
    }

    /* An index term's postings, {field: [[doc, score], ...]}, with the scores lunr would hold. */
    function postings(term) {
      return index.ready().then(function () {
        return Promise.all(index.route([index.exact(term)], false).files.map(index.loadFile));
      }).then(function () {
        var fields = postingsOf(term), out = {};
        index.meta.fields.forEach(function (field, slot) {
          out[field] = fields ? Array.from(fields[slot].docs, function (doc, i) { return [doc, fields[slot].scores[i]]; }) : [];
        });
        return out;
      });
    }

    return {
      receiver: index.receiver, ready: index.ready, postings: postings,
      /* Resolves to the answer for a query: { total, hits, fixes } (hits: lunr's first results,
       * with ref, score and matchData), null (a query lunr cannot parse) or a string (a query
       * not run). */
      find: function (text, chosen) {
        chosen = chosen || {};
        return index.ready().then(function () { return F.wanted(chosen) ? F.load(index) : null; })
          .then(function () { return find(String(text).trim(), chosen); });
      },
      rows: index.rowsOf, row: index.row, excerpt: excerpt, spellings: spelling.writtenIn, matchedTerms: matchedTerms,
      marks: function (text, matched) { return Q.marks(lunr(), text, matched); }, maxResults: MAX_RESULTS
    };
  }

  root.paperdigestEngine = { create: create };
}(typeof window !== "undefined" ? window : globalThis));
