/* paperdigest search queries: what a query text asks for, and where its words are in a text.
 * No DOM and no index: the engine (search-engine.js) turns a text into lunr clauses and
 * quoted phrases here, and asks where matched words are, for highlighting and excerpts.
 *
 * Each function is given the lunr object (lunr.js is loaded only when there is a search). */
(function (root) {
  "use strict";

  /* Queries that use lunr syntax (title:, +word, -word, ~, *, ^) go to lunr's own query
   * parser; a hyphen inside a word (Wasserstein-GAN) is not syntax. */
  var LUNR_SYNTAX = /[:~*^]|(^|\s)[+\-]/;
  /* The index was built with lunr.py's trimmer, which keeps a token's word characters only when
   * they are all together ("(LLMs)," -> "llms"); lunr.js's ASCII-only trimmer would also cut
   * accented letters, so query words are trimmed the lunr.py way. */
  var TRIMMABLE = /^[^\p{L}\p{N}_]*?([\p{L}\p{N}_]+)[^\p{L}\p{N}_]*?$/u;
  /* A quoted phrase: an optional + or - and field, then words up to the closing quote (or the
   * end of the text, while it is being typed). */
  var PHRASE = /(^|\s)([+\-]?)(?:([^\s:"]+):)?"([^"]*)(?:"|$)/g;
  var FUZZY_BOOST = 0.25;  /* of a near spelling, against 1 for the word as typed */

  function trim(token) {
    var text = String(token);
    var match = TRIMMABLE.exec(text);
    return match ? match[1] : text;
  }

  /* lunr's search pipeline for an index built with the default pipeline: the stemmer. */
  var pipelines = new WeakMap();
  function stemming(lunr) {
    if (!pipelines.has(lunr)) {
      var pipeline = new lunr.Pipeline();
      pipeline.add(lunr.stemmer);
      pipelines.set(lunr, pipeline);
    }
    return pipelines.get(lunr);
  }

  /* The term a word of a text makes in the index (lunr.py's trimmer, stop words, stemmer), or
   * "" for a word that makes none. */
  function termOf(lunr, token) {
    var word = trim(token);
    if (!word || !lunr.stopWordFilter(word)) { return ""; }
    return stemming(lunr).runString(word)[0] || "";
  }

  /* A query text's quoted phrases and the rest: { rest, restLast (the rest ends the text),
   * phrases: [{ words: [{term, at}] (at: the word's number in the phrase, stop words counted),
   * fields, prohibited }] }. Throws, as lunr's parser does, on an unknown field. */
  function parse(lunr, text, fields) {
    var phrases = [], rest = "", at = 0, match, restLast = true;
    PHRASE.lastIndex = 0;
    while ((match = PHRASE.exec(text)) !== null) {
      rest += text.slice(at, match.index) + match[1] + " ";
      at = PHRASE.lastIndex;
      if (match[3] && fields.indexOf(match[3]) === -1) {
        throw new lunr.QueryParseError("unrecognised field '" + match[3] + "'", match.index, at);
      }
      var words = lunr.tokenizer(match[4]).map(function (token) {
        return { term: termOf(lunr, token.toString()), at: token.metadata.index };
      }).filter(function (word) { return word.term; });
      if (words.length) {
        phrases.push({ words: words, fields: match[3] ? [match[3]] : fields, prohibited: match[2] === "-" });
      }
    }
    if (at < text.length) { rest += text.slice(at); } else if (at) { restLast = false; }
    return { rest: rest.trim(), restLast: restLast, phrases: phrases };
  }

  /* Adds a parsed text's clauses to a lunr.Query: the rest as lunr's parser reads it (with lunr
   * syntax) or as plain words (the last also as a prefix once it has keyChars letters, when
   * it ends the text); then each word of a phrase that must be there, as a required term.
   * `fixes` (clause number -> {term, distance, candidates}) adds a typed word's near
   * spellings, each an optional clause of an index term at a quarter of the word's weight. */
  function build(lunr, query, parsed, keyChars, fixes) {
    if (LUNR_SYNTAX.test(parsed.rest)) {
      new lunr.QueryParser(parsed.rest, query).parse();
    } else {
      var words = lunr.tokenizer(parsed.rest).map(trim).filter(Boolean);
      words.forEach(function (word, position) {
        query.term(word, { usePipeline: true });
        if (parsed.restLast && position === words.length - 1 && Array.from(word).length >= keyChars) {
          query.term(word, { usePipeline: false, wildcard: lunr.Query.wildcard.TRAILING, boost: 0.5 });
        }
      });
    }
    parsed.phrases.forEach(function (phrase) {
      if (phrase.prohibited) { return; }
      phrase.words.forEach(function (word) {
        query.term(word.term, { usePipeline: false, fields: phrase.fields, presence: lunr.Query.presence.REQUIRED });
      });
    });
    var count = query.clauses.length;
    for (var number = 0; number < count; number++) {
      var fix = fixes && fixes[number], clause = query.clauses[number];
      if (!fix) { continue; }
      fix.candidates.forEach(function (candidate) {
        query.term(candidate, { usePipeline: false, boost: clause.boost * FUZZY_BOOST, fields: clause.fields });
      });
    }
  }

  /* Which documents hold a phrase: its words, in order, at the same distances as in the
   * phrase, in one of its fields. positionsOf(term) gives per field a Map doc -> positions
   * (null for a term the index does not have). A Uint8Array over the documents. */
  function phraseDocs(phrase, positionsOf, slots, count) {
    var found = new Uint8Array(count), lists = phrase.words.map(function (word) { return positionsOf(word.term); });
    if (lists.some(function (list) { return !list; })) { return found; }
    slots.forEach(function (slot) {
      var maps = lists.map(function (list) { return list[slot]; }), first = maps[0];
      first.forEach(function (starts, doc) {
        if (found[doc] || !maps.every(function (map) { return map.has(doc); })) { return; }
        for (var s = 0; s < starts.length; s++) {
          var base = starts[s] - phrase.words[0].at, all = true;
          for (var w = 1; w < maps.length && all; w++) {
            all = maps[w].get(doc).indexOf(base + phrase.words[w].at) !== -1;
          }
          if (all) { found[doc] = 1; return; }
        }
      });
    });
    return found;
  }

  /* A quoted word alone is that word: only phrases of two words or more are checked side by side. */
  function isPhrase(phrase) { return phrase.words.length > 1; }

  /* `allow` (doc -> kept?) narrowed to the documents each quoted phrase keeps (after a -, to
   * those it leaves out). `fields` are the index's, in order; positionsOf and count as above. */
  function keeping(allow, phrases, fields, positionsOf, count) {
    var sets = phrases.filter(isPhrase).map(function (phrase) {
      var slots = phrase.fields.map(function (field) { return fields.indexOf(field); });
      return { found: phraseDocs(phrase, positionsOf, slots, count), prohibited: phrase.prohibited };
    });
    if (!sets.length) { return allow; }
    return function (doc) {
      return sets.every(function (set) { return !set.found[doc] === set.prohibited; }) && allow(doc);
    };
  }

  /* Where the words that make a matched term are in a text: [start, end] pairs, in order, not
   * overlapping. Where the words are comes from lunr's own tokenizer (each token's position
   * metadata), and what term a word makes from the same trimming and stemming the index was
   * built with, so a word is marked exactly when lunr would have matched it. */
  function marks(lunr, text, matched) {
    var found = [], at = 0;
    lunr.tokenizer(text).forEach(function (token) {
      var word = trim(token.toString());
      if (!word || !stemming(lunr).runString(word).some(function (stem) { return matched[stem]; })) { return; }
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

  /* The stretch of a text, about `size` words, with the most of these marks:
   * { text, marks (within it), start (where it begins in the text), more (the text goes on) }. */
  function excerpt(lunr, text, spans, size) {
    var words = lunr.tokenizer(text).map(function (token) { return token.metadata.position; });
    var best = 0, bestCount = -1, LEAD = 3;  /* a window starts a few words before a match */
    words.forEach(function (word, at) {
      var starts = spans.some(function (span) { return span[0] >= word[0] && span[0] < word[0] + word[1]; });
      if (!starts) { return; }
      var first = Math.max(0, at - LEAD), last = words[Math.min(first + size, words.length) - 1];
      var count = spans.filter(function (span) { return span[0] >= words[first][0] && span[1] <= last[0] + last[1]; }).length;
      if (count > bestCount) { best = first; bestCount = count; }
    });
    var from = best === 0 ? 0 : words[best][0];
    var tail = words[Math.min(best + size, words.length) - 1];
    var to = best + size >= words.length ? text.length : tail[0] + tail[1];
    return {
      text: text.slice(from, to), start: from, more: to < text.length,
      marks: spans.filter(function (span) { return span[0] >= from && span[1] <= to; })
        .map(function (span) { return [span[0] - from, span[1] - from]; })
    };
  }

  /* The first word of a text that makes this term, as written ("Diffusion" for "diffus"). */
  function spelling(lunr, text, term) {
    var found = null;
    lunr.tokenizer(text).some(function (token) {
      var word = trim(token.toString());
      if (termOf(lunr, word) !== term) { return false; }
      var start = token.metadata.position[0], raw = text.slice(start, start + token.metadata.position[1]);
      var offset = raw.toLowerCase().indexOf(word);
      found = offset >= 0 ? raw.slice(offset, offset + word.length) : raw;
      return true;
    });
    return found;
  }

  root.paperdigestQuery = {
    LUNR_SYNTAX: LUNR_SYNTAX, trim: trim, stemming: stemming, termOf: termOf, parse: parse, build: build,
    isPhrase: isPhrase, keeping: keeping, marks: marks, excerpt: excerpt, spelling: spelling
  };
}(typeof window !== "undefined" ? window : globalThis));
