/* paperdigest search filters and sorting by date: what the facet files say of each paper
 * (the days it was featured, its topics), for sort=date, topic= and since/until. No DOM; the
 * engine (search-engine.js) loads the facets only for a query that uses them. */
(function (root) {
  "use strict";

  function everything() { return true; }
  function nothing() { return false; }

  function wanted(options) { return options.sort === "date" || !!(options.topic || options.since || options.until); }

  /* Loads every segment's facets, once: { days (per document, ascending, days since
   * 1970-01-01), topics (per document, numbers into meta.topics), newest (its latest day, -1:
   * none) }. */
  function load(index) {
    if (index.featured) { return Promise.resolve(index.featured); }
    return Promise.all(index.meta.segments.map(function (segment) {
      return index.load("facets-" + index.segmentName(segment) + ".js");
    })).then(function () {
      var days = [], topics = [], newest = new Int32Array(index.meta.documents).fill(-1);
      index.meta.segments.forEach(function (segment) {
        var own = index.facets[segment[0]];
        own.days.forEach(function (list, i) {
          days.push(list);
          if (list.length) { newest[segment[0] + i] = list[list.length - 1]; }
        });
        own.topics.forEach(function (list) { topics.push(list); });
      });
      index.featured = { days: days, topics: topics, newest: newest };
      return index.featured;
    });
  }

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
  function allowing(index, options) {
    if (!options.topic && !options.since && !options.until) { return everything; }
    var topic = -1, featured = index.featured;
    if (options.topic) {
      topic = index.meta.topics.findIndex(function (pair) { return pair[0] === options.topic; });
      if (topic < 0) { return nothing; }
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

  /* The first `limit` documents newest first (by their latest day; undated last), then by
   * score, then by the later first appearance. */
  function newestFirst(index, docs, scores, limit) {
    var newest = index.featured.newest, order = Array.from(docs, function (doc, i) { return i; });
    order.sort(function (a, b) {
      return (newest[docs[b]] - newest[docs[a]]) || (scores[b] - scores[a]) || (docs[b] - docs[a]);
    });
    return order.slice(0, limit).map(function (i) { return docs[i]; });
  }

  /* The documents a filter keeps, with no query, newest first: { total, hits } (no matchData). */
  function listing(index, allow, limit) {
    var kept = [];
    for (var doc = 0; doc < index.meta.documents; doc++) { if (allow(doc)) { kept.push(doc); } }
    var hits = newestFirst(index, kept, new Float64Array(kept.length), limit).map(function (doc) {
      return { ref: String(doc), score: 0, matchData: { metadata: {} } };
    });
    return { total: kept.length, hits: hits };
  }

  root.paperdigestFilters = {
    everything: everything, wanted: wanted, load: load, allowing: allowing, newestFirst: newestFirst, listing: listing
  };
}(typeof window !== "undefined" ? window : globalThis));
