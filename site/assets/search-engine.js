/* paperdigest search engine: loads the index the build wrote, plans a query, scores it exactly
 * as lunr.js would over the whole index, and answers with lunr's own results. No DOM: it is
 * given a loader (the page's adds a <script> tag; the Node tests read the file into their
 * context) and the lunr object, so the same code runs in the page (search.js, the UI) and in
 * `node --test` (tests/js/).
 *
 * Nothing loads until there is something to search. Then lunr.js, a small meta file and each
 * segment's head (its documents' field lengths and where its term buckets start) load; the
 * query's terms are routed to one bucket per segment (see generator/search.py), those load
 * once each, and for the terms the query can match, this file computes lunr's scores exactly
 * as lunr.js's Builder does, from term frequencies and field lengths. It counts and scores the
 * matches as lunr.js's Index.query would, then assembles a lunr.Index (with lunr's public
 * constructor) over those terms and the documents that can rank among the first MAX_RESULTS:
 * lunr.js parses, expands, scores and ranks the query, and its first results are the whole
 * index's. Result rows load in small chunks (rows()).
 *
 * Every index file is a script calling paperdigestSearch.<kind>(...): the page sets that
 * global to an engine's `receiver`. The fields are meta.fields (title, abstract, author). A
 * head's lengths of a field leave out trailing zeros, and a bucket's row leaves out trailing
 * empty postings: both read as none. */
(function (root) {
  "use strict";

  var MAX_RESULTS = 50;
  var MAX_BYTES = 4000000;  /* of index one query may load: more ("*ing", "a*") is refused */
  var NONE = [];

  /* An engine over one index. options: metaFile (the index's meta.js; the other files are
   * beside it), lunrFile, load(src) -> a Promise that the script has run, lunr() -> the lunr
   * object (once lunrFile has run). */
  function create(options) {
    var metaFile = options.metaFile;
    var base = metaFile.slice(0, metaFile.lastIndexOf("/") + 1);
    var lunr = options.lunr;
    var meta = null;
    var heads = {};  /* segment start -> its head: lengths, sums, buckets */
    var buckets = {};  /* "start/bucket" -> rows [term, postings per field (trailing empty ones left out)] */
    var rows = {};
    var scripts = {};
    var stats = null;
    var scored = Object.create(null);  /* term -> its postings and lunr scores, per field */
    var preparing = null;

    /* What the index files call. */
    var receiver = {
      meta: function (data) { meta = data; },
      segment: function (start, data) { heads[start] = data; },
      terms: function (start, bucket, data) { buckets[start + "/" + bucket] = data; },
      docs: function (number, data) { rows[number] = data; },
      facets: function (start, data) { facets[start] = data; },
      text: function (number, data) { texts[number] = data; }
    };

    function load(src) {
      if (!scripts[src]) { scripts[src] = options.load(src); }
      return scripts[src];
    }

    function segmentName(segment) { return segment[0] + "-" + segment[1]; }

    /* lunr.js, meta, then every segment's head; then the collection's statistics, as lunr's
     * Builder has them: the document count and each field's average length. */
    function ready() {
      if (!preparing) {
        var segmentHeads = load(metaFile).then(function () {
          return Promise.all(meta.segments.map(function (segment) {
            return load(base + "seg-" + segmentName(segment) + ".js");
          }));
        });
        preparing = Promise.all([load(options.lunrFile), segmentHeads]).then(prepare);
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
          lengths[slot].set(head.lengths[slot], segment[0]);  /* the rest stay 0 */
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
        new (lunr()).QueryParser(text, query).parse();
        return;
      }
      var words = lunr().tokenizer(text).map(trim).filter(Boolean);
      words.forEach(function (word, position) {
        query.term(word, { usePipeline: true });
        if (position === words.length - 1 && Array.from(word).length >= meta.keyChars) {
          query.term(word, { usePipeline: false, wildcard: lunr().Query.wildcard.TRAILING, boost: 0.5 });
        }
      });
    }

    /* lunr's search pipeline for an index built with the default pipeline: the stemmer. */
    var stemming = null;
    function searchPipeline() {
      if (!stemming) {
        stemming = new (lunr()).Pipeline();
        stemming.add(lunr().stemmer);
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
          probe.key = keyOf(probe.prefix);
          probe.single = probe.exact || Array.from(probe.prefix).length >= meta.keyChars;  /* one key */
          probes.push(probe);
        });
      });
      return probes;
    }

    /* A term's key is its first meta.keyChars characters. A segment's buckets hold consecutive
     * keys in JavaScript's string order; a key is in the last bucket whose first key is not after
     * it, and a prefix's keys are in that bucket and the next ones that start with the prefix. */
    function keyOf(text) {
      var end = 0;
      for (var count = 0; count < meta.keyChars && end < text.length; count++) {
        var unit = text.charCodeAt(end), next = text.charCodeAt(end + 1);
        end += unit >= 0xD800 && unit <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF ? 2 : 1;  /* a code point */
      }
      return text.slice(0, end);
    }

    function bucketOf(head, key) {
      var starts = head.buckets, low = 1, high = starts.length - 1, found = 0;
      while (low <= high) {
        var middle = (low + high) >> 1;
        if (starts[middle][0] <= key) { found = middle; low = middle + 1; } else { high = middle - 1; }
      }
      return found;
    }

    function bucketsOf(head, probe) {
      if (probe.single) { return [bucketOf(head, probe.key)]; }
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
        lunr().TokenSet.fromArray(candidates).intersect(lunr().TokenSet.fromClause(wanted)).toArray()
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
      var rowsFound = [], key = keyOf(term), withTerm = 0;
      meta.segments.forEach(function (segment) {
        var list = buckets[segment[0] + "/" + bucketOf(heads[segment[0]], key)], row = list[lowerBound(list, term)];
        if (row && row[0] === term) { rowsFound.push(segment[0], row); }
      });
      if (!rowsFound.length) { scored[term] = null; return null; }
      var counts = meta.fields.map(function (field, slot) {
        var count = 0;
        for (var r = 0; r < rowsFound.length; r += 2) {
          var codes = rowsFound[r + 1][1 + slot] || NONE;
          for (var i = 0; i < codes.length; i++) { count++; i += codes[i] % 2; }
        }
        withTerm += count;
        return count;
      });
      var x = (meta.documents - withTerm + 0.5) / (withTerm + 0.5), idf = Math.log(1 + Math.abs(x));  /* lunr.idf */
      var k1 = meta.k1, b = meta.b;
      scored[term] = meta.fields.map(function (field, slot) {
        var boost = meta.boosts[slot], average = stats.averages[slot], lengths = stats.lengths[slot];
        var docs = new Int32Array(counts[slot]), scores = new Float64Array(counts[slot]), at = 0;
        for (var r = 0; r < rowsFound.length; r += 2) {
          var codes = rowsFound[r + 1][1 + slot] || NONE, doc = rowsFound[r];
          for (var i = 0; i < codes.length; i++) {
            doc += Math.floor(codes[i] / 2);
            var tf = codes[i] % 2 ? codes[++i] : 1, fieldLength = lengths[doc];
            var score = idf * ((k1 + 1) * tf) / (k1 * (1 - b + b * (fieldLength / average)) + tf);
            score *= boost;
            docs[at] = doc;
            scores[at++] = Math.round(score * 1000) / 1000;
          }
        }
        return { docs: docs, scores: scores };
      });
      return scored[term];
    }

    /* Each probe's terms as lunr.js's Index.query will expand them over an index of these terms. */
    function expandEach(probes, tokenSet) {
      probes.forEach(function (probe) {
        var wanted = { term: probe.term };
        if ("editDistance" in probe.clause) { wanted.editDistance = probe.clause.editDistance; }
        probe.expanded = tokenSet.intersect(lunr().TokenSet.fromClause(wanted)).toArray();
      });
    }

    /* Which documents lunr.js's Index.query returns for the query over the whole index, and a few
     * it ranks first. This follows Index.query step by step (required and prohibited clauses,
     * field-scoped clauses, the query vector per field with clause boosts, negated queries) and
     * scores every matching document as it does (dot(query, field vector) / |query|, summed
     * over fields). Documents are then kept if they score at least the MAX_RESULTS-th best,
     * less a margin for floating point: lunr.js itself scores and ranks those (a document's score
     * and lunr's order of equal scores do not depend on which other documents are present),
     * so its first MAX_RESULTS results are the whole index's. */
    var EMPTY = "empty", COMPLETE = "complete";

    function intersect(set, other) {
      if (set === EMPTY || other === EMPTY) { return EMPTY; }
      if (set === COMPLETE) { return other; }
      if (other === COMPLETE) { return set; }
      var both = new Uint8Array(set.length);
      for (var i = 0; i < set.length; i++) { both[i] = set[i] & other[i]; }
      return both;
    }

    function select(query, probes, allow, byDate) {
      var count = meta.documents, slots = {}, weights = [], dots = [], required = {}, prohibited = new Uint8Array(count);
      var matched = new Uint8Array(count), touched = [];
      meta.fields.forEach(function (field, slot) {
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
      meta.fields.forEach(function (field) { if (required[field] !== undefined) { allRequired = intersect(allRequired, required[field]); } });
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
        return { total: total, docs: byDate ? newestFirst(every, new Float64Array(every.length)) : kept };
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
      if (byDate) { return { total: found.length, docs: newestFirst(found, scores) }; }
      var bar = Float64Array.from(scores).sort()[found.length - MAX_RESULTS];
      bar -= 1e-9 * Math.max(1, Math.abs(bar));
      for (i = 0; i < found.length; i++) {
        if (scores[i] >= bar) { kept.push(found[i]); }
      }
      return { total: found.length, docs: kept };
    }

    /* A lunr.Index over these terms (for the documents kept, every posting of each; field
     * vectors hold only these terms, and lunr scores a match as dot(query, field vector) /
     * |query|, so scores equal the whole index's). A negated query needs the documents' field
     * vectors to exist, as every document's does in a whole index. */
    var NO_METADATA = Object.freeze({});  /* lunr copies metadata and never writes to it */

    function assemble(terms, tokenSet, docs) {
      var keep = new Uint8Array(meta.documents), invertedIndex = Object.create(null), fieldVectors = {};
      var elements = meta.fields.map(function () { return {}; });
      docs.forEach(function (doc) {
        keep[doc] = 1;
        meta.fields.forEach(function (field, slot) { elements[slot][doc] = []; });
      });
      terms.forEach(function (term, index) {
        var fields = postingsOf(term), posting = { _index: index };
        meta.fields.forEach(function (field, slot) {
          var own = fields[slot], refs = {}, part = elements[slot];
          for (var i = 0; i < own.docs.length; i++) {
            if (keep[own.docs[i]]) {
              refs[own.docs[i]] = NO_METADATA;
              part[own.docs[i]].push(index, own.scores[i]);
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
        fields: meta.fields, pipeline: searchPipeline()
      });
    }

    /* Resolves to { total, hits }: how many papers lunr.js matches over the whole index (of
     * those the filters keep), and its first MAX_RESULTS results (newest first with sort
     * "date"); or null for a query lunr cannot parse, or a string explaining why the query is
     * not run. Without a query, the filters' papers, newest first (hits without matchData). */
    function find(text, options) {
      var allow = allowing(options), byDate = options.sort === "date" || !text;
      var query = new (lunr()).Query(meta.fields);
      try { buildQuery(query, text); } catch (error) { return Promise.resolve(null); }
      if (!query.clauses.length) {
        return Promise.resolve(allow === everything ? { total: 0, hits: [] } : listing(allow));
      }
      var probes = probesOf(query), needed = route(probes);
      if (needed.bytes > MAX_BYTES) {
        return Promise.resolve("That query is too broad to run here: put more letters before a * or a ~.");
      }
      return Promise.all(needed.files.map(load)).then(function () {
        var terms = expand(probes), tokenSet = lunr().TokenSet.fromArray(terms);
        expandEach(probes, tokenSet);
        var chosen = select(query, probes, allow, byDate), index = assemble(terms, tokenSet, chosen.docs), hits;
        try { hits = index.query(function (q) { buildQuery(q, text); }); } catch (error) { return null; }
        if (byDate) {  /* lunr's hits (for their matchData), in the order chosen */
          var byRef = {};
          hits.forEach(function (hit) { byRef[hit.ref] = hit; });
          hits = chosen.docs.map(function (doc) { return byRef[String(doc)]; }).filter(Boolean);
        }
        return { total: chosen.total, hits: hits.slice(0, MAX_RESULTS) };
      });
    }

    /* --- facets: when each paper was featured, and its topics (filters and sort=date) --- */

    var facets = {};  /* segment start -> {days, topics} as the facet files give them */
    var texts = {};  /* text chunk number -> its whole abstracts */
    var featured = null;  /* per document: its days (since 1970-01-01), its topics, its newest day (-1: none) */

    function filtered(options) { return options.sort === "date" || !!(options.topic || options.since || options.until); }

    function loadFacets() {
      return Promise.all(meta.segments.map(function (segment) {
        return load(base + "facets-" + segmentName(segment) + ".js");
      })).then(function () {
        if (featured) { return; }
        var days = [], topics = [], newest = new Int32Array(meta.documents).fill(-1);
        meta.segments.forEach(function (segment) {
          var own = facets[segment[0]];
          own.days.forEach(function (list, i) {
            days.push(list);
            if (list.length) { newest[segment[0] + i] = list[list.length - 1]; }
          });
          own.topics.forEach(function (list) { topics.push(list); });
        });
        featured = { days: days, topics: topics, newest: newest };
      });
    }

    function everything() { return true; }

    /* The day number of "YYYY-MM-DD", or null for anything else. */
    function dayOf(text) {
      var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
      if (!match) { return null; }
      var time = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
      var back = new Date(time);
      return back.getUTCDate() === Number(match[3]) && back.getUTCMonth() === Number(match[2]) - 1 ? time / 86400000 : null;
    }

    /* Which documents the filters keep: a topic (by slug; an unknown one keeps none) and papers
     * featured on a day from `since` to `until` (either may be left out). */
    function allowing(options) {
      if (!options.topic && !options.since && !options.until) { return everything; }
      var topic = -1;
      if (options.topic) {
        topic = meta.topics.findIndex(function (pair) { return pair[0] === options.topic; });
        if (topic < 0) { return function () { return false; }; }
      }
      var since = dayOf(options.since), until = dayOf(options.until);
      var ranged = since !== null || until !== null;
      since = since === null ? -Infinity : since;
      until = until === null ? Infinity : until;
      return function (doc) {
        if (topic >= 0 && featured.topics[doc].indexOf(topic) === -1) { return false; }
        return !ranged || featured.days[doc].some(function (day) { return day >= since && day <= until; });
      };
    }

    /* Documents newest first (by their latest day; undated last), then by score, then by the
     * later first appearance; the first MAX_RESULTS. */
    function newestFirst(docs, scores) {
      var order = Array.from(docs, function (doc, i) { return i; });
      order.sort(function (a, b) {
        return (featured.newest[docs[b]] - featured.newest[docs[a]]) || (scores[b] - scores[a]) || (docs[b] - docs[a]);
      });
      return order.slice(0, MAX_RESULTS).map(function (i) { return docs[i]; });
    }

    /* The filters' papers with no query, newest first. */
    function listing(allow) {
      var kept = [];
      for (var doc = 0; doc < meta.documents; doc++) { if (allow(doc)) { kept.push(doc); } }
      var hits = newestFirst(kept, new Float64Array(kept.length)).map(function (doc) {
        return { ref: String(doc), score: 0, matchData: { metadata: {} } };
      });
      return { total: kept.length, hits: hits };
    }

    /* An index term's postings, {field: [[doc, score], ...]}, with the scores lunr would hold. */
    function postings(term) {
      return ready().then(function () {
        var probe = { term: term, exact: true, prefix: term, key: keyOf(term), single: true };
        return Promise.all(route([probe]).files.map(load));
      }).then(function () {
        var fields = postingsOf(term), out = {};
        meta.fields.forEach(function (field, slot) {
          out[field] = fields ? Array.from(fields[slot].docs, function (doc, i) { return [doc, fields[slot].scores[i]]; }) : [];
        });
        return out;
      });
    }

    /* A result's row: [title, slug, last featured, snippet, authors] (rows() loads them). */
    function row(ref) {
      var number = Number(ref);
      return rows[Math.floor(number / meta.chunk)][number % meta.chunk];
    }

    /* Loads the rows of these results, in the chunks that hold them. */
    function rowsOf(hits) {
      var chunks = {};
      hits.forEach(function (hit) { chunks[Math.floor(Number(hit.ref) / meta.chunk)] = true; });
      return Promise.all(Object.keys(chunks).map(function (number) { return load(base + "docs-" + number + ".js"); }));
    }

    /* The index terms lunr matched in one field of a result (its matchData), e.g. "diffus". */
    function matchedTerms(hit, field) {
      var terms = Object.create(null), metadata = hit.matchData.metadata;
      Object.keys(metadata).forEach(function (term) { if (metadata[term][field]) { terms[term] = true; } });
      return terms;
    }

    /* Where the words that make a matched term are in a text: [start, end] pairs, in order, not
     * overlapping. Where the words are comes from lunr's own tokenizer (each token's position
     * metadata), and what term a word makes from the same trimming and stemming the index was
     * built with, so a word is marked exactly when lunr would have matched it. */
    function marks(text, matched) {
      var found = [], at = 0;
      lunr().tokenizer(text).forEach(function (token) {
        var word = trim(token.toString());
        if (!word || !searchPipeline().runString(word).some(function (stem) { return matched[stem]; })) { return; }
        var start = token.metadata.position[0], raw = text.slice(start, start + token.metadata.position[1]);
        var offset = raw.toLowerCase().indexOf(word);
        if (offset > 0) { start += offset; }
        var end = start + (offset >= 0 ? word.length : raw.length);
        if (start < at) { return; }
        found.push([start, end]);
        at = end;
      });
      return found;
    }

    var EXCERPT_WORDS = 30;

    /* Resolves to the stretch of a result's abstract with the most matched words, about
     * EXCERPT_WORDS words: { text, marks (as marks() gives them, within text), start (where text
     * begins in the abstract), more (whether the abstract goes on) }; null when its abstract has
     * no match (the row's start is shown). */
    function excerpt(hit) {
      var matched = matchedTerms(hit, "abstract");
      if (!Object.keys(matched).length) { return Promise.resolve(null); }
      var number = Number(hit.ref), chunk = Math.floor(number / meta.textChunk);
      return load(base + "text-" + chunk + ".js").then(function () {
        var abstract = texts[chunk][number % meta.textChunk], spans = marks(abstract, matched);
        if (!spans.length) { return null; }
        var words = lunr().tokenizer(abstract).map(function (token) { return token.metadata.position; });
        var best = 0, bestCount = -1, LEAD = 3;  /* a window starts a few words before a match */
        words.forEach(function (word, at) {
          var starts = spans.some(function (span) { return span[0] >= word[0] && span[0] < word[0] + word[1]; });
          if (!starts) { return; }
          var first = Math.max(0, at - LEAD), last = words[Math.min(first + EXCERPT_WORDS, words.length) - 1];
          var count = spans.filter(function (span) { return span[0] >= words[first][0] && span[1] <= last[0] + last[1]; }).length;
          if (count > bestCount) { best = first; bestCount = count; }
        });
        var from = best === 0 ? 0 : words[best][0];
        var tail = words[Math.min(best + EXCERPT_WORDS, words.length) - 1];
        var to = best + EXCERPT_WORDS >= words.length ? abstract.length : tail[0] + tail[1];
        return {
          text: abstract.slice(from, to), start: from, more: to < abstract.length,
          marks: spans.filter(function (span) { return span[0] >= from && span[1] <= to; })
            .map(function (span) { return [span[0] - from, span[1] - from]; })
        };
      });
    }

    return {
      excerpt: excerpt,
      receiver: receiver, ready: ready, postings: postings,
      /* Resolves to lunr's answer for a query: { total, hits } (hits: lunr's first results, with
       * ref, score and matchData), null (a query lunr cannot parse) or a string (a query not run). */
      find: function (text, options) {
        options = options || {};
        return ready().then(function () { return filtered(options) ? loadFacets() : null; })
          .then(function () { return find(String(text).trim(), options); });
      }, rows: rowsOf, row: row,
      matchedTerms: matchedTerms, marks: marks, maxResults: MAX_RESULTS
    };
  }

  root.paperdigestEngine = { create: create };
}(typeof window !== "undefined" ? window : globalThis));
