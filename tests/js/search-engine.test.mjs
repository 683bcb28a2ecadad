// search-engine.js in Node, with no DOM: the engine reads the index a build wrote (the site in
// PAPERDIGEST_SITE) and must give lunr.py's answers (PAPERDIGEST_EXPECTED, written by
// tests/test_search_engine.py from lunr.py's Builder over the same papers). Run by that test
// with `node --test`; it runs each index file as the page would, as a script in one context.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";

const site = process.env.PAPERDIGEST_SITE;
const expected = JSON.parse(fs.readFileSync(process.env.PAPERDIGEST_EXPECTED, "utf-8"));
const LUNR = "assets/vendor/lunr-2.3.9/lunr.min.js";
const SCRIPTS = JSON.parse(process.env.PAPERDIGEST_SCRIPTS);  // tests/support.py's ENGINE_SCRIPTS

function open(root = site, extra = {}) {
  const context = vm.createContext({});
  const loaded = [];
  const run = (file) => {
    loaded.push(file);
    vm.runInContext(fs.readFileSync(path.join(root, file), "utf-8"), context, { filename: file });
  };
  for (const script of SCRIPTS) { run(script); }
  const engine = context.paperdigestEngine.create({
    metaFile: "search/meta.js", lunrFile: LUNR, lunr: () => context.lunr,
    load: (src) => new Promise((resolve) => { run(src); resolve(); }),
    ...extra,
  });
  context.paperdigestSearch = engine.receiver;
  return { engine, loaded };
}

const rounded = (score) => Math.round(score * 1000) / 1000;
const plain = (value) => JSON.parse(JSON.stringify(value));  // the engine's objects are of its own context

test("nothing loads until there is something to search", () => {
  const { loaded } = open();
  assert.deepEqual(loaded, SCRIPTS);
});

test("every query (phrases and typos too): lunr.py's count, first 50 refs, scores and near spellings", async () => {
  const { engine } = open();
  assert.ok(expected.queries.length >= 20);
  for (const want of expected.queries) {
    const found = await engine.find(want.query);
    assert.equal(found.total, want.total, want.query);
    assert.deepEqual(plain(found.hits.map((hit) => hit.ref)), want.refs, want.query);
    assert.deepEqual(plain(found.hits.map((hit) => rounded(hit.score))), want.scores.map(rounded), want.query);
    assert.deepEqual(plain(found.fixes.map((fix) => fix.terms)), want.fixes, want.query);  // near spellings
  }
});

test("a query that would load too much is refused, with the reason that fits it", async () => {
  const { engine, loaded } = open(site, { maxBytes: 1 });
  const before = loaded.length;
  assert.match(await engine.find('"wasserstein distance"'), /^The words of that phrase are too common/);
  assert.match(await engine.find("wasserstein"), /^That query is too broad/);
  assert.match(await engine.find('"wasserstein" distance'), /^That query is too broad/);  // a one-word "phrase" is a word
  assert.equal(loaded.filter((file) => file.includes("/terms-") || file.includes("/pos-")).length, 0);
  assert.ok(loaded.length >= before);
  const { engine: roomy } = open();
  assert.equal(typeof await roomy.find('"wasserstein distance"'), "object");
});

test("a query loads only the buckets it needs, once", async () => {
  const { engine, loaded } = open();
  await engine.find("wasserstein");
  const buckets = loaded.filter((file) => file.includes("/terms-"));
  const meta = fs.readFileSync(path.join(site, "search/meta.js"), "utf-8");
  const segments = JSON.parse(meta.slice(meta.indexOf("(") + 1, meta.lastIndexOf(")"))).segments;
  assert.ok(segments.length > 1 && !loaded.some((file) => file.includes("/seg-")));  // heads are in meta
  assert.equal(buckets.length, segments.length);  // one bucket per segment for one exact word
  const before = loaded.length;
  await engine.find("wasserstein");
  assert.equal(loaded.length, before);
});

test("postings carry the scores lunr.py's Builder gives", async () => {
  const { engine } = open();
  for (const [term, fields] of Object.entries(expected.postings)) {
    const found = await engine.postings(term);
    for (const [field, postings] of Object.entries(fields)) {
      assert.equal(found[field].length, postings.length, `${term} ${field}`);
      found[field].forEach(([doc, score], i) => {
        assert.equal(doc, postings[i][0]);
        assert.ok(Math.abs(score - postings[i][1]) <= 0.0010001, `${term} ${field} ${doc}`);
      });
    }
  }
});

test("rows and marks: each result's row, with the matched words marked", async () => {
  const { engine } = open();
  const found = await engine.find("wasserstein");
  assert.ok(found.hits.length > 0);
  await engine.rows(found.hits);
  for (const hit of found.hits) {
    const row = engine.row(hit.ref);
    assert.ok(fs.existsSync(path.join(site, "papers", `${row[1]}.html`)), row[1]);
    for (const [text, field] of [[row[0], "title"], [row[3], "abstract"]]) {
      const spans = engine.marks(text, engine.matchedTerms(hit, field));
      // the snippet is the abstract's start: a match further on has nothing to mark in it
      assert.equal(spans.length > 0, /wasserstein/i.test(text), `${field} of ${row[1]}`);
      for (const [start, end] of spans) { assert.match(text.slice(start, end).toLowerCase(), /^wasserstein/); }
    }
  }
});

test("a query lunr cannot parse is null; an empty one matches nothing", async () => {
  const { engine } = open();
  assert.equal(await engine.find("title:"), null);
  assert.deepEqual(plain(await engine.find("   ")), { total: 0, hits: [], fixes: [] });
});

test("filters keep what papers.json says, and count what they keep", async () => {
  const { engine, loaded } = open();
  await engine.find("model");
  assert.ok(!loaded.some((file) => file.includes("/facets-")));  // a query without filters loads no facets
  assert.ok(expected.filtered.length >= 8);
  for (const want of expected.filtered) {
    const found = await engine.find(want.query, want.options);
    const label = `${want.query} ${JSON.stringify(want.options)}`;
    assert.equal(found.total, want.total, label);
    if (want.refs) { assert.deepEqual(plain(found.hits.map((hit) => hit.ref)), want.refs, label); }
  }
  assert.ok(loaded.some((file) => file.includes("/facets-")));
});

test("sort=date and a filter with no query: newest first", async () => {
  const { engine } = open();
  const days = [];
  for (const want of expected.filtered.filter((answer) => answer.days)) {
    const found = await engine.find(want.query, want.options);
    const label = `${want.query} ${JSON.stringify(want.options)}`;
    await engine.rows(found.hits);
    const shown = found.hits.map((hit) => hit.ref);
    assert.equal(shown.length, want.days.length, label);
    for (const [day, refs] of Object.entries(want.groups)) {
      assert.deepEqual(plain(shown.filter((ref) => refs.includes(ref)).sort()), refs, `${label} on day ${day}`);
    }
    // the same order of days as papers.json gives
    const at = new Map(Object.entries(want.groups).flatMap(([day, refs]) => refs.map((ref) => [ref, Number(day)])));
    shown.forEach((ref, i) => { if (at.has(ref)) { assert.equal(at.get(ref), want.days[i], label); } });
    days.push(...want.days);
  }
  assert.ok(days.length > 50);
});

test("the excerpt is the stretch of the abstract around the match, whole words, marked", async () => {
  const { engine, loaded } = open();
  const { word, slug } = expected.deep;
  const found = await engine.find(word);
  await engine.rows(found.hits);
  const hit = found.hits.find((one) => engine.row(one.ref)[1] === slug);
  assert.ok(hit, `${word} finds ${slug}`);
  assert.ok(!engine.row(hit.ref)[3].toLowerCase().includes(word));  // the row's start does not show it
  assert.ok(!loaded.some((file) => file.includes("/text-")));  // abstracts load only when asked
  const excerpt = await engine.excerpt(hit);
  assert.equal(loaded.filter((file) => file.includes("/text-")).length, 1);
  assert.ok(excerpt.start > 0 && excerpt.marks.length >= 1, JSON.stringify(excerpt));
  const words = excerpt.text.split(/\s+/).filter(Boolean).length;
  assert.ok(words >= 10 && words <= 32, `${words} words`);
  for (const [start, end] of excerpt.marks) { assert.match(excerpt.text.slice(start, end).toLowerCase(), new RegExp("^" + word.slice(0, 5))); }
  // a result matched by its title alone has no excerpt: its row's start stays
  const titled = await engine.find("title:wasserstein");
  assert.equal(await engine.excerpt(titled.hits[0]), null);
});
