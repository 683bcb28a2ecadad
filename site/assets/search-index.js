/* paperdigest search index: the files the build wrote (generator/search.py), loaded as they are
 * needed and read for the engine (search-engine.js). No DOM, no query logic: it is given a
 * loader (the page's adds a <script> tag; the Node tests run the file in their context).
 *
 * Every index file is a script calling paperdigestSearch.<kind>(...): the page sets that
 * global to an index's `receiver`. A head's lengths of a field leave out trailing zeros, and a
 * bucket's row leaves out trailing empty postings: both read as none. */
(function (root) {
  "use strict";

  var NONE = [];
  var BASE = 45, DIGIT = new Int8Array(128);  /* a length digit's character code -> its value */
  for (var code = 0x23, digit = 0; digit < 2 * BASE; code++) {
    if (code !== 0x5C) { DIGIT[code] = digit++; }
  }

  /* options: metaFile (the index's meta.js; the other files are beside it), lunrFile,
   * load(src) -> a Promise that the script has run. */
  function open(options) {
    var metaFile = options.metaFile;
    var base = metaFile.slice(0, metaFile.lastIndexOf("/") + 1);
    var index = { meta: null, heads: {}, stats: null, facets: {}, texts: {}, words: {} };
    var buckets = {};  /* "start/bucket" -> rows [term, postings per field] */
    var positions = {};  /* "start/bucket" -> rows [positions per field], beside the bucket's */
    var rows = {};
    var scripts = {};
    var decoded = Object.create(null);  /* term -> its rows in every segment, or null */
    var preparing = null;

    index.receiver = {
      meta: function (data) { index.meta = data; },
      terms: function (start, bucket, data) { buckets[start + "/" + bucket] = data; },
      positions: function (start, bucket, data) { positions[start + "/" + bucket] = data; },
      docs: function (number, data) { rows[number] = data; },
      facets: function (start, data) { index.facets[start] = data; },
      text: function (number, data) { index.texts[number] = data; },
      words: function (length, data) { index.words[length] = added(index.words[length], data); }
    };

    /* A length's term dictionary comes in two parts (the full segments' and the others'): both
     * [[term, documents], ...] in JavaScript's order, merged, a term's counts added up. */
    function added(rows, more) {
      if (!rows) { return more; }
      var merged = [], i = 0, j = 0;
      while (i < rows.length || j < more.length) {
        if (j === more.length || (i < rows.length && rows[i][0] < more[j][0])) { merged.push(rows[i++]); }
        else if (i === rows.length || more[j][0] < rows[i][0]) { merged.push(more[j++]); }
        else { merged.push([rows[i][0], rows[i++][1] + more[j++][1]]); }
      }
      return merged;
    }

    function load(src) {
      if (!scripts[src]) { scripts[src] = options.load(src); }
      return scripts[src];
    }
    index.load = function (name) { return load(base + name); };
    index.loadFile = load;  /* a path as route() gives it */

    function segmentName(segment) { return segment[0] + "-" + segment[1]; }
    index.segmentName = segmentName;

    /* lunr.js and meta, which holds every segment's head; then the collection's statistics, as
     * lunr's Builder has them: the document count and each field's average length. */
    index.ready = function () {
      if (!preparing) {
        preparing = Promise.all([load(options.lunrFile), load(metaFile)]).then(function () {
          index.meta.segments.forEach(function (segment, number) { index.heads[segment[0]] = index.meta.heads[number]; });
          prepare();
        });
      }
      return preparing;
    };

    /* A head's lengths of a field are text (generator/searchindex.py, packed_lengths): each a
     * number in base 45, its last digit from the second half of the digits, any before it from
     * the first. They are written into `into` from `at`. */
    function lengthsOf(text, into, at) {
      var value = 0;
      for (var i = 0; i < text.length; i++) {
        var digit = DIGIT[text.charCodeAt(i)];
        if (digit < BASE) { value = value * BASE + digit; continue; }
        into[at++] = value * BASE + digit - BASE;
        value = 0;
      }
    }

    function prepare() {
      var meta = index.meta, count = meta.documents;
      var lengths = meta.fields.map(function () { return new Int32Array(count); });
      var sums = meta.fields.map(function () { return 0; });
      meta.segments.forEach(function (segment) {
        var head = index.heads[segment[0]];
        meta.fields.forEach(function (field, slot) {
          lengthsOf(head.lengths[slot], lengths[slot], segment[0]);  /* the rest stay 0 */
          sums[slot] += head.sums[slot];
        });
      });
      index.stats = { lengths: lengths, averages: sums.map(function (sum) { return sum / count; }) };
    }

    /* A term's key is its first meta.keyChars characters. A segment's buckets hold consecutive
     * keys in JavaScript's string order; a key is in the last bucket whose first key is not after
     * it, and a prefix's keys are in that bucket and the next ones that start with the prefix. */
    index.keyOf = function (text) {
      var end = 0;
      for (var count = 0; count < index.meta.keyChars && end < text.length; count++) {
        var unit = text.charCodeAt(end), next = text.charCodeAt(end + 1);
        end += unit >= 0xD800 && unit <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF ? 2 : 1;  /* a code point */
      }
      return text.slice(0, end);
    };

    /* What loads a term exactly: its key's bucket in each segment. */
    index.exact = function (term) {
      return { term: term, exact: true, prefix: term, key: index.keyOf(term), single: true };
    };

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

    /* The files probes need in every segment (their buckets; with near, those buckets' word
     * positions too), and their total size: { files, bytes }. */
    index.route = function (probes, near) {
      var files = {}, bytes = 0;
      index.meta.segments.forEach(function (segment) {
        var head = index.heads[segment[0]];
        probes.forEach(function (probe) {
          bucketsOf(head, probe).forEach(function (number) {
            var name = segment[0] + "/" + number, tail = segmentName(segment) + "-" + number + ".js";
            if (!(name in files)) {
              files[name] = [base + "terms-" + tail];
              bytes += head.buckets[number][1];
            }
            if (near && files[name].length === 1) {
              files[name].push(base + "pos-" + tail);
              bytes += head.buckets[number][2];
            }
          });
        });
      });
      var all = [];
      Object.keys(files).forEach(function (name) { all = all.concat(files[name]); });
      return { files: all, bytes: bytes };
    };

    /* The first row of a bucket (rows sorted by term) whose term is not before `term`. */
    function lowerBound(list, term) {
      var low = 0, high = list.length;
      while (low < high) {
        var middle = (low + high) >> 1;
        if (list[middle][0] < term) { low = middle + 1; } else { high = middle; }
      }
      return low;
    }

    /* Every term in the index that starts with the probe's prefix (its buckets loaded), sorted. */
    index.termsWithPrefix = function (probe) {
      var found = Object.create(null);
      index.meta.segments.forEach(function (segment) {
        bucketsOf(index.heads[segment[0]], probe).forEach(function (number) {
          var list = buckets[segment[0] + "/" + number];
          for (var i = lowerBound(list, probe.prefix); i < list.length && list[i][0].slice(0, probe.prefix.length) === probe.prefix; i++) {
            found[list[i][0]] = true;
          }
        });
      });
      return Object.keys(found).sort();
    };

    /* A term's places: per segment holding it, [start, bucket name, row number]; null if none
     * (its buckets loaded). */
    function placesOf(term) {
      if (term in decoded) { return decoded[term]; }
      var found = [], key = index.keyOf(term);
      index.meta.segments.forEach(function (segment) {
        var name = segment[0] + "/" + bucketOf(index.heads[segment[0]], key), list = buckets[name];
        var at = lowerBound(list, term);
        if (list[at] && list[at][0] === term) { found.push([segment[0], name, at]); }
      });
      decoded[term] = found.length ? found : null;
      return decoded[term];
    }

    /* Calls each(doc, tf, slot, place) for every posting of the term, in each field in doc
     * order; false for a term the index does not have. */
    index.eachPosting = function (term, each) {
      var places = placesOf(term);
      if (!places) { return false; }
      index.meta.fields.forEach(function (field, slot) {
        places.forEach(function (place) {
          var codes = buckets[place[1]][place[2]][1 + slot] || NONE, doc = place[0];
          for (var i = 0; i < codes.length; i++) {
            doc += Math.floor(codes[i] / 2);
            each(doc, codes[i] % 2 ? codes[++i] : 1, slot);
          }
        });
      });
      return true;
    };

    /* A term's word positions (its buckets' positions loaded): per field a Map doc -> its
     * positions, ascending; null for a term the index does not have. */
    index.positionsOf = function (term) {
      var places = placesOf(term);
      if (!places) { return null; }
      return index.meta.fields.map(function (field, slot) {
        var found = new Map();
        places.forEach(function (place) {
          var codes = buckets[place[1]][place[2]][1 + slot] || NONE, gaps = positions[place[1]][place[2]][slot] || NONE;
          var doc = place[0], at = 0;
          for (var i = 0; i < codes.length; i++) {
            doc += Math.floor(codes[i] / 2);
            var tf = codes[i] % 2 ? codes[++i] : 1, list = new Int32Array(tf), position = 0;
            for (var n = 0; n < tf; n++) { position += gaps[at++]; list[n] = position; }
            found.set(doc, list);
          }
        });
        return found;
      });
    };

    /* A result's row: [title, slug, last featured, snippet, authors] (rowsOf() loads them). */
    index.row = function (ref) {
      var number = Number(ref), chunk = index.meta.chunk;
      return rows[Math.floor(number / chunk)][number % chunk];
    };

    /* Loads the rows of these results, in the chunks that hold them. */
    index.rowsOf = function (hits) {
      var chunks = {};
      hits.forEach(function (hit) { chunks[Math.floor(Number(hit.ref) / index.meta.chunk)] = true; });
      return Promise.all(Object.keys(chunks).map(function (number) { return load(base + "docs-" + number + ".js"); }));
    };

    /* Resolves to a document's whole abstract (a small file of a few). */
    index.abstractOf = function (ref) {
      var number = Number(ref), chunk = Math.floor(number / index.meta.textChunk);
      return load(base + "text-" + chunk + ".js").then(function () {
        return index.texts[chunk][number % index.meta.textChunk];
      });
    };

    return index;
  }

  root.paperdigestIndex = { open: open };
}(typeof window !== "undefined" ? window : globalThis));
