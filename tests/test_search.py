"""search.py and search.js: the scores the browser computes from the stored term frequencies and
field lengths are lunr.py's Builder scores, queries over the assembled index rank exactly as
lunr.py's whole index, and adding a digest leaves every earlier segment's files as they were.

The Python reading of the files below does what search.js does; the browser tests at the end run
the real search.js and lunr.js in Chromium against lunr.py."""

from __future__ import annotations

import atexit
import functools
import json
import math
import re
import shutil
import tempfile
from itertools import accumulate
from pathlib import Path

import pytest
from lunr import get_default_builder, lunr
from lunr.index import Index
from lunr.pipeline import Pipeline
from lunr.stemmer import stemmer
from lunr.token_set import TokenSet
from lunr.vector import Vector
from support import ENGINE, SEEDS, dump

import page_query

import generator.search as search
import generator.searchindex as searchindex
from generator.cache import Cache
from generator.catalog import build_catalog, paper_key
from generator.parse import parse_dump
from generator.search import BOOSTS, FIELDS, document_order, document_texts, search_files, segments, snippet
from generator.store import Store
from generator.searchindex import index_segment, key_of, utf16_order

CALL = re.compile(r"^paperdigestSearch\.(\w+)\((.*)\);\n$", re.DOTALL)


def seed_dumps(extra: dict[str, str] | None = None):
    dumps = [parse_dump(seed.name, seed.read_bytes(), 2025) for seed in SEEDS]
    return dumps + [parse_dump(name, text.encode(), 2025) for name, text in (extra or {}).items()]


def seed_catalog():
    return build_catalog(seed_dumps())


def seed_texts() -> list[tuple[str, ...]]:
    """Each document's fields (title, abstract, authors) in document order (doc n is the nth)."""
    return document_texts(document_order(seed_catalog()))


def lunr_py_index(texts, metadata=()):
    """The reference: lunr.py's own Builder over the same documents and fields (keeping these
    token metadata: "index" is each token's number in its field)."""
    documents = [{"id": str(n), **dict(zip(FIELDS, fields, strict=True))} for n, fields in enumerate(texts)]
    fields = [{"field_name": field, "boost": BOOSTS[field]} for field in FIELDS]
    builder = get_default_builder()
    builder.metadata_whitelist = list(metadata)
    index = lunr(ref="id", fields=fields, documents=documents, builder=builder)
    index.texts = list(texts)  # for phrases (page_query.py)
    return index


def read_call(data: bytes):
    match = CALL.match(data.decode("ascii"))
    assert match, data[:100]
    return match.group(1), json.loads(f"[{match.group(2)}]")


def site_files(site: Path) -> dict[str, bytes]:
    return {f"search/{path.name}": path.read_bytes() for path in (site / "search").iterdir()}


@functools.cache
def remembering() -> Store:
    """One store for the tests, backed by a real cache in a temporary folder: a segment is
    reused only when the store kept its vocabulary, as between two builds."""
    folder = Path(tempfile.mkdtemp(prefix="paperdigest-store-"))
    atexit.register(shutil.rmtree, folder, True)
    return Store(Cache(folder / "site"))


def made_files(catalog, previous=None) -> dict[str, object]:
    return {file.path: file for file in search_files(catalog, previous, store=remembering())}


class Files:
    """The search files read the way search.js reads them."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        kind, (self.meta,) = read_call(files["search/meta.js"])
        assert kind == "meta"
        self.heads, self.buckets, self.where = {}, {}, {}
        assert len(self.meta["heads"]) == len(self.meta["segments"]) and not any("/seg-" in path for path in files)
        for (start, end), head in zip(self.meta["segments"], self.meta["heads"]):
            assert head["documents"] == end - start
            self.heads[start] = head
            for bucket in range(len(head["buckets"])):
                kind, (number, at, rows) = read_call(files[f"search/terms-{start}-{end}-{bucket}.js"])
                assert (kind, number, at) == ("terms", start, bucket)
                self.buckets[start, bucket] = rows
                kind, (number, at, where) = read_call(files[f"search/pos-{start}-{end}-{bucket}.js"])
                assert (kind, number, at, len(where)) == ("positions", start, bucket, len(rows))
                self.where[start, bucket] = where
        self.lengths = [[n for start, end in self.meta["segments"]
                         for n in padded(self.heads[start]["lengths"][slot], end - start)] for slot in range(len(FIELDS))]
        sums = [sum(head["sums"][slot] for head in self.heads.values()) for slot in range(len(FIELDS))]
        assert sums == [sum(lengths) for lengths in self.lengths]
        self.averages = [total / self.meta["documents"] for total in sums]

    def postings(self) -> dict[str, list[list[tuple[int, int]]]]:
        """term -> per field [(doc, tf), ...] over every segment, decoded as search.js decodes."""
        found: dict[str, list[list[tuple[int, int]]]] = {}
        for (start, _), rows in self.buckets.items():
            for row in rows:
                fields = found.setdefault(row[0], [[] for _ in FIELDS])
                assert 2 <= len(row) <= 1 + len(FIELDS) and row[-1], row  # trailing empty fields left out
                for slot in range(len(FIELDS)):
                    codes, doc, at = row[1 + slot] if 1 + slot < len(row) else [], start, 0
                    while at < len(codes):
                        doc += codes[at] // 2
                        tf = codes[at + 1] if codes[at] % 2 else 1
                        at += 2 if codes[at] % 2 else 1
                        fields[slot].append((doc, tf))
        for fields in found.values():
            for postings in fields:
                postings.sort()
        return found

    def positions(self) -> dict[tuple[str, str, int], list[int]]:
        """(term, field, doc) -> the word positions of that posting, decoded as search.js decodes
        a positions row beside its bucket's row (per posting, tf of them: the first, then gaps)."""
        found = {}
        for (start, bucket), rows in self.buckets.items():
            for row, where in zip(rows, self.where[start, bucket]):
                assert len(where) == len(row) - 1 and where[-1], (row[0], where)
                for slot, field in enumerate(FIELDS):
                    codes, gaps, doc, at = (row[1 + slot] if 1 + slot < len(row) else []), \
                        (where[slot] if slot < len(where) else []), start, 0
                    for code in gaps_of(codes):
                        doc += code[0]
                        found[row[0], field, doc] = list(accumulate(gaps[at:at + code[1]]))
                        at += code[1]
                    assert at == len(gaps)
        return found

    def scores(self, rounding) -> dict[tuple[str, str, int], float]:
        """lunr.js's Builder score of every posting, from tf and field lengths (search.js's formula)."""
        k1, b, documents = self.meta["k1"], self.meta["b"], self.meta["documents"]
        out = {}
        for term, fields in self.postings().items():
            with_term = sum(len(postings) for postings in fields)  # lunr counts a doc once per field
            idf = math.log(1 + abs((documents - with_term + 0.5) / (with_term + 0.5)))
            for slot, field in enumerate(FIELDS):
                for doc, tf in fields[slot]:
                    length = self.lengths[slot][doc]
                    score = idf * ((k1 + 1) * tf) / (k1 * (1 - b + b * (length / self.averages[slot])) + tf)
                    score *= self.meta["boosts"][slot]
                    out[(term, field, doc)] = rounding(score)
        return out

    def index(self) -> Index:
        """A lunr.py Index over every term, with the scores search.js computes."""
        scores = self.scores(js_round)
        terms = sorted(self.postings(), key=utf16_order)
        inverted, vectors = {}, {}
        for number, term in enumerate(terms):
            inverted[term] = {"_index": number, **{field: {} for field in FIELDS}}
        for (term, field, doc), score in sorted(scores.items(), key=lambda item: inverted[item[0][0]]["_index"]):
            inverted[term][field][str(doc)] = {}
            vectors.setdefault(f"{field}/{doc}", []).extend([inverted[term]["_index"], score])
        for posting in inverted.values():  # refs in ascending doc order, as lunr.js keeps integer keys
            for field in FIELDS:
                posting[field] = dict(sorted(posting[field].items(), key=lambda item: int(item[0])))
        pipeline = Pipeline()
        pipeline.add(stemmer)
        field_vectors = {ref: Vector(elements) for ref, elements in vectors.items()}
        return Index(inverted, field_vectors, TokenSet.from_list(terms), list(FIELDS), pipeline)

    def rows(self) -> list[list[str]]:
        found = []
        for number in range(math.ceil(self.meta["documents"] / self.meta["chunk"])):
            kind, (chunk, data) = read_call(self.files[f"search/docs-{number}.js"])
            assert (kind, chunk) == ("docs", number)
            found += data
        return found


def gaps_of(codes: list[int]):
    """A postings list's (doc gap, tf) pairs."""
    at = 0
    while at < len(codes):
        yield codes[at] // 2, codes[at + 1] if codes[at] % 2 else 1
        at += 2 if codes[at] % 2 else 1


def padded(text: str, documents: int) -> list[int]:
    """A head's lengths of one field, read from its text, with the trailing zeros it leaves out."""
    lengths = unpacked(text)
    assert len(lengths) <= documents and (not lengths or lengths[-1])
    return lengths + [0] * (documents - len(lengths))


def unpacked(text: str) -> list[int]:
    """A head's lengths as numbers: each in base 45, the last digit of each from the second half
    of the 90 digits (the characters from '#' to '}' but the backslash), the others from the first."""
    digits = [chr(code) for code in range(0x23, 0x7E) if code != 0x5C]
    assert len(digits) == 90 and '"' not in digits
    found, value = [], 0
    for character in text:
        digit = digits.index(character)
        if digit < 45:
            value = value * 45 + digit
        else:
            found.append(value * 45 + digit - 45)
            value = 0
    assert value == 0, "a length cut short"
    return found


def js_round(score: float) -> float:
    """JavaScript's Math.round(score * 1000) / 1000 (halves round up)."""
    return math.floor(score * 1000 + 0.5) / 1000


def reference_scores(reference) -> dict[tuple[str, str, int], float]:
    term_of = {posting["_index"]: term for term, posting in reference.inverted_index.items()}
    expected = {}
    for field_ref, vector in reference.field_vectors.items():
        field, doc = str(field_ref).split("/")
        for position in range(0, len(vector.elements), 2):
            expected[(term_of[vector.elements[position]], field, int(doc))] = vector.elements[position + 1]
    return expected


@pytest.fixture(scope="module")
def reference():
    return lunr_py_index(seed_texts())


@pytest.fixture(scope="module")
def small_segments():
    """The seeds' search files cut into many segments and buckets (the real sizes give 3 and 5)."""
    saved = search.SEGMENT_DOCS, search.BLOCK_MIN, searchindex.BUCKET_BYTES
    search.SEGMENT_DOCS, search.BLOCK_MIN, searchindex.BUCKET_BYTES = 64, 8, 3000
    try:
        return {path: file.data for path, file in made_files(seed_catalog()).items()}
    finally:
        search.SEGMENT_DOCS, search.BLOCK_MIN, searchindex.BUCKET_BYTES = saved


@pytest.fixture(scope="module", params=["seeds site", "small segments"])
def files(request, seeds_site, small_segments) -> Files:
    return Files(site_files(seeds_site) if request.param == "seeds site" else small_segments)


def test_client_scores_equal_lunr_py_builder_scores(files, reference):
    expected = reference_scores(reference)
    assert set(files.postings()) == set(reference.inverted_index)
    for term, fields in files.postings().items():
        for slot, field in enumerate(FIELDS):
            assert [str(doc) for doc, _ in fields[slot]] == sorted(reference.inverted_index[term][field], key=int)
    exact = files.scores(lambda score: score)
    actual = files.scores(js_round)
    assert actual.keys() == expected.keys() and len(actual) > 20_000
    for posting, score in actual.items():
        if score != expected[posting]:  # only where Python's round and Math.round part: a half
            assert abs(score - expected[posting]) <= 0.0010001, posting
            assert abs(exact[posting] * 1000 % 1 - 0.5) < 1e-6, posting


QUERIES = ["wasserstein", "fenics", "diffusion models", "title:grokking", "diffus*", "gaussian process*",
           "+neural -network", "optimal transport", "abstract:benchmark", "llms", "reinforcement~1"]


def test_word_positions_are_lunr_py_builders_token_numbers(files):
    """Every posting's positions (what a quoted phrase checks) are the "index" metadata lunr.py's
    Builder records for the term's tokens: each a token's number in its field, stop words and
    empty tokens counted, in order."""
    reference = lunr_py_index(seed_texts(), metadata=["index"])
    expected = {(term, field, int(doc)): sorted(data["index"])
                for term, posting in reference.inverted_index.items() if term != "_index"
                for field in FIELDS for doc, data in posting[field].items()}
    found = files.positions()
    assert found == expected
    assert any(len(where) > 1 and where[0] > 0 for where in found.values())


@pytest.mark.parametrize("query", QUERIES)
def test_queries_over_the_stored_frequencies_rank_exactly_as_lunr_py(files, reference, query):
    expected = [(hit["ref"], hit["score"]) for hit in reference.search(query)]
    assert expected, "every query in the list matches something in the seeds"
    assert [(hit["ref"], hit["score"]) for hit in files.index().search(query)] == expected


def test_words_only_in_abstracts_are_found_and_titles_rank_first(seeds_site):
    files = Files(site_files(seeds_site))
    rows, index = files.rows(), files.index()
    titles = [rows[int(hit["ref"])][0] for hit in index.search("fenics")]
    assert titles == ["Uncertainty quantification in a mechanical submodel driven by a Wasserstein-GAN"]
    hits = index.search("grokking")
    assert len(hits) > 1 and "grokking" in rows[int(hits[0]["ref"])][0].lower()


def test_result_rows_cover_every_paper_page_in_document_order(seeds_site):
    files = Files(site_files(seeds_site))
    rows = files.rows()
    assert len(rows) == files.meta["documents"] == 232
    assert sorted(row[1] for row in rows) == sorted(p.stem for p in (seeds_site / "papers").glob("*.html"))
    assert [row[1] for row in rows] == [paper.slug for paper in document_order(seed_catalog())]


def test_documents_are_numbered_by_first_appearance():
    catalog = build_catalog([
        parse_dump("a-undated.txt", dump(("Only undated", "x."), ("Later dated too", "y."), date=None).encode(), 2025),
        parse_dump("b.txt", dump(("Second day first", "z."), ("Later dated too", "y."), date="Mar 12").encode(), 2025),
        parse_dump("c.txt", dump(("First day", "w."), ("Second day first", "z."), date="Mar 11").encode(), 2025),
        parse_dump("d.txt", dump(("Newest", "v."), date="Mar 14").encode(), 2025),
    ])
    assert [paper.title for paper in document_order(catalog)] == [
        "Only undated", "First day", "Second day first", "Later dated too", "Newest"]


def test_segments_depend_on_the_count_alone_and_appending_keeps_earlier_ones():
    full, least = search.SEGMENT_DOCS, search.BLOCK_MIN
    blocks = {full} | {2 ** n for n in range(20) if least <= 2 ** n < full}
    for count in range(0, 3 * full + 200, 37):
        cuts = segments(count)
        assert [doc for cut in cuts for doc in cut] == list(range(count))
        assert all(len(cut) in blocks for cut in cuts[:-1]) and [len(c) for c in cuts] == sorted(map(len, cuts))[::-1]
        assert not cuts or len(cuts[-1]) in blocks or len(cuts[-1]) < least
        for more in (1, 22, 300):
            after = segments(count + more)
            changed = [cut for cut in cuts if cut not in after]
            assert changed == cuts[len(cuts) - len(changed):]  # only the last few, never a full one
            assert all(len(cut) < full for cut in changed)


def bucket_of(head, key: str) -> int:
    """search.js's routing: the last bucket whose first key is not after the key."""
    return max([0] + [n for n, (first, _, _) in enumerate(head["buckets"]) if n and utf16_order(first) <= utf16_order(key)])


def test_buckets_split_only_between_keys_and_every_term_routes_to_its_bucket(small_segments):
    files = Files(small_segments)
    assert len(files.heads) == 5 and len(files.buckets) > 20  # 232 = 3 x 64 + 32 + 8
    for start, head in files.heads.items():
        firsts = [first for first, _, _ in head["buckets"]]
        assert firsts == sorted(firsts, key=utf16_order) and len(set(firsts)) == len(firsts)
        terms = []
        for bucket, (first, size, near) in enumerate(head["buckets"]):
            rows, name = files.buckets[start, bucket], f"{start}-{start + head['documents']}-{bucket}.js"
            assert size == len(small_segments[f"search/terms-{name}"]) and near == len(small_segments[f"search/pos-{name}"])
            assert rows and key_of(rows[0][0]) == first
            assert size <= 3000 + 40 or len({key_of(row[0]) for row in rows}) == 1  # whole keys up to the size
            assert all(bucket_of(head, key_of(row[0])) == bucket for row in rows)
            terms += [row[0] for row in rows]
        assert terms == sorted(terms, key=utf16_order) and len(set(terms)) == len(terms)


WASSERSTEIN = "Uncertainty quantification in a mechanical submodel driven by a Wasserstein-GAN"


def new_digest(repeat_abstract: str) -> dict[str, str]:
    """Ten new papers and a repeat of an older one, dated after the seeds."""
    papers = [(f"A new paper number {n} on zebrafinch song", f"Abstract {n} about birdsong.") for n in range(10)]
    return {"zz-new.txt": dump(*papers, (WASSERSTEIN, repeat_abstract), date="Mar 17")}


def test_a_new_digest_appends_documents_and_keeps_earlier_segments_byte_identical():
    before_catalog = seed_catalog()
    after_catalog = build_catalog(seed_dumps(new_digest(before_catalog.paper(paper_key(WASSERSTEIN)).abstract)))
    before, after = document_order(before_catalog), document_order(after_catalog)
    assert [paper.key for paper in after[:len(before)]] == [paper.key for paper in before]
    assert len(after) == len(before) + 10
    old = made_files(before_catalog)
    fresh = made_files(after_catalog)
    reused = made_files(after_catalog, {path: file.key for path, file in old.items()})
    assert fresh.keys() == reused.keys()
    kept = [cut for cut in segments(len(before)) if cut in segments(len(after))]
    assert len(kept) == 2  # 232 = 128 + 64 + 40 documents; 242 = 128 + 64 + 50
    kept_paths = {path for path in fresh if re.match(rf"search/(seg|terms)-({'|'.join(f'{c.start}-{c.stop}' for c in kept)})[-.]", path)}
    assert len(kept_paths) >= 4
    for path, file in reused.items():
        assert file.key == fresh[path].key, path
        if file.data is None:  # reused: the last build's bytes are what a build from scratch makes
            assert fresh[path].data == old[path].data, path
        else:
            assert file.data == fresh[path].data, path
    assert all(reused[path].data is None for path in kept_paths)
    assert any(file.data is not None and path.startswith("search/terms-") for path, file in reused.items())
    assert reused["search/meta.js"].data != old["search/meta.js"].data

    # Result rows: a chunk is made again when its segment changed (docs 192-241: chunks 6 and 7)
    # or a paper in it was featured again.
    number = [paper.key for paper in before].index(paper_key(WASSERSTEIN))
    remade = {path for path, file in reused.items() if path.startswith("search/docs-") and file.data is not None}
    assert number < 192 and remade == {f"search/docs-{number // 32}.js", "search/docs-6.js", "search/docs-7.js"}

    # A repeat that brings a new abstract changes its document: its segment is made again.
    edited = made_files(build_catalog(seed_dumps(new_digest("A new abstract."))), {p: f.key for p, f in old.items()})
    home = next(cut for cut in segments(len(before)) if number in cut)
    assert edited[f"search/terms-{home.start}-{home.stop}-0.js"].data is not None


def test_reuse_needs_every_file_of_a_segment_with_its_key():
    catalog = seed_catalog()
    old = made_files(catalog)
    keys = {path: file.key for path, file in old.items()}
    assert all(file.data is None for path, file in made_files(catalog, keys).items() if "/meta" not in path)
    del keys["search/terms-0-128-1.js"]
    keys["search/pos-128-192-0.js"] = "0" * 32 + ".2"
    again = made_files(catalog, keys)
    index = [path for path in again if "/terms-" in path or "/pos-" in path]
    assert all(again[path].data == old[path].data for path in index if "-0-128" in path or "-128-192" in path)
    assert all(again[path].data is None for path in index if "-192-232" in path)
    # facets and text chunks have keys of their own: a segment's index remade leaves them be
    assert all(again[path].data is None for path in again if path not in index and "/meta" not in path)
    del keys["search/facets-0-128.js"], keys["search/text-3.js"]
    third = made_files(catalog, keys)
    assert third["search/facets-0-128.js"].data == old["search/facets-0-128.js"].data
    assert third["search/text-3.js"].data == old["search/text-3.js"].data
    assert third["search/facets-128-192.js"].data is None and third["search/text-4.js"].data is None


def test_index_segment_counts_terms_as_lunr_py_does():
    texts = [("The (LLMs), of Wasserstein-GAN", "the a an running runs - --", ""), ("", "café CAFÉ", "Ada Lovelace")]
    index = index_segment(texts)
    assert index.lengths.tolist() == [[3, 2, 0], [0, 2, 2]]  # stop words and empty tokens do not count
    assert "llm" in index.terms and "run" in index.terms and "wasserstein" in index.terms
    reference = lunr_py_index(texts)
    assert set(index.terms) == set(reference.inverted_index)


def test_snippets_cut_at_a_word():
    assert snippet("short") == "short"
    cut = snippet("word " * 100)
    assert cut.endswith("…") and len(cut) <= 241 and not cut.endswith(" …")


# --- the real search.js and lunr.js in Chromium -------------------------------------------

@pytest.fixture(scope="module")
def small_site(seeds_site, small_segments, tmp_path_factory) -> Path:
    """The seeds site with the many-segment search files."""
    return site_with(seeds_site, tmp_path_factory.mktemp("small"), small_segments)


def site_with(seeds_site: Path, root: Path, files: dict[str, bytes]) -> Path:
    """The seeds site with another search index (its result links lead nowhere for new papers)."""
    site = root / "site"
    shutil.copytree(seeds_site, site)
    shutil.rmtree(site / "search")
    (site / "search").mkdir()
    for path, data in files.items():
        (site / path).write_bytes(data)
    return site


BROWSER_QUERIES = ["title:grokking", "diffus*", "fenics", "wasserstein", "diffusion models", "+neural -network",
                   "gaussian process*", "abstract:benchmark", "optimal transport", "llms", "reinforcement~1",
                   "Reinforcement Learning", "graph ne", "neural n", "title:diffusion^3 model~1", "model", "learning",
                   "-network", "-model -learn", "+model +learn", "+title:model language", "title:model -abstract:learn",
                   "+zzzz model", "the", "language models for reasoning", "a*"]


def as_the_page_asks(index, text: str) -> list[dict]:
    """lunr.py's hits for the query the page builds from the text (page_query.py)."""
    return page_query.as_the_page_asks(index, text, getattr(index, "texts", None)).hits


@pytest.mark.parametrize("which", ["seeds site", "small segments"])
def test_lunr_js_in_chromium_ranks_exactly_as_lunr_py(seeds_site, small_site, reference, page, which):
    """The page's count and first 50 results (refs, scores) are lunr.py's over the whole index."""
    site = seeds_site if which == "seeds site" else small_site
    page.goto((site / "search.html").as_uri())
    sizes = []
    for query in BROWSER_QUERIES:
        expected = [(hit["ref"], hit["score"]) for hit in as_the_page_asks(reference, query)]
        sizes.append(len(expected))
        found = page.evaluate("q => " + ENGINE + ".find(q).then(r => [r.total, r.hits.map(h => [h.ref, h.score])])", query)
        assert found[0] == len(expected), query
        assert [ref for ref, _ in found[1]] == [ref for ref, _ in expected[:50]], query
        assert [round(score, 3) for _, score in found[1]] == [round(score, 3) for _, score in expected[:50]], query
    assert sum(size > 50 for size in sizes) >= 8 and sizes.count(0) == 1  # many cut to 50; only "+zzzz model" empty
    assert page.problems == []


def test_chromium_scores_every_posting_as_lunr_py_builder(small_site, reference, page):
    """Every posting's score as search.js computes it in the page, against lunr.py's Builder."""
    expected = reference_scores(reference)
    terms = sorted({term for term, _, _ in expected})
    page.goto((small_site / "search.html").as_uri())
    scores = page.evaluate("""async (terms) => {
      const engine = """ + ENGINE + """;
      const out = [];
      for (const term of terms) { out.push(await engine.postings(term)); }
      return out;
    }""", terms)
    actual = {(term, field, doc): score for term, fields in zip(terms, scores) for field, postings in fields.items()
              for doc, score in postings}
    assert actual.keys() == expected.keys() and len(actual) > 20_000
    assert all(abs(score - expected[posting]) <= 0.0010001 for posting, score in actual.items())
    assert sum(score != expected[posting] for posting, score in actual.items()) < len(actual) / 1000
    assert page.problems == []


@pytest.mark.parametrize("damage", ["garbled", "not an entry", "a head of another shape", "missing"])
def test_a_damaged_segment_entry_is_a_miss_and_the_segment_is_made_again(tmp_path, damage):
    """The store's head and vocabulary of a segment cut short, of another shape or gone: that
    segment is analysed again (its files made, as a build from scratch makes them), the others
    reused, and meta.js (which holds every head) is what a build from scratch writes."""
    catalog, cache = seed_catalog(), Cache(tmp_path / "site")
    old = {file.path: file for file in search_files(catalog, store=Store(cache))}
    keys = {path: file.key for path, file in old.items()}
    shelf = cache.root / "search-segments"
    victim = sorted(shelf.iterdir())[0]
    if damage == "garbled":
        victim.write_bytes(victim.read_bytes()[:40])
    elif damage == "not an entry":
        cache.save_item("search-segments", victim.name, b'{"terms": 3}')
    elif damage == "a head of another shape":
        cache.save_item("search-segments", victim.name, b'{"head": {"documents": "64"}, "vocabulary": []}')
    else:
        victim.unlink()
    again = {file.path: file for file in search_files(catalog, keys, store=Store(Cache(tmp_path / "site")))}
    remade = {path for path, file in again.items() if file.data is not None and re.match(r"search/(terms|pos)-", path)}
    assert remade and all(again[path].data == old[path].data for path in remade)
    assert len({re.match(r"search/\w+-(\d+-\d+)", path).group(1) for path in remade}) == 1
    assert again["search/meta.js"].data == old["search/meta.js"].data


def dictionary_counts(files: dict[str, bytes], part: str = "") -> dict[str, int]:
    """term -> papers, over the term dictionary's files (`part` "tail-": only the tail's), added
    up as search-index.js adds them up."""
    counts: dict[str, int] = {}
    for path, data in files.items():
        if re.fullmatch(rf"search/words-{part or '(tail-)?'}\d+\.js", path):
            kind, (length, rows) = read_call(data)
            assert kind == "words" and all(len(term) == length for term, _ in rows)
            assert [term for term, _ in rows] == sorted((term for term, _ in rows), key=utf16_order)
            for term, count in rows:
                counts[term] = counts.get(term, 0) + count
    return counts


def test_the_term_dictionary_is_the_full_segments_part_and_the_tails_adding_up_to_the_index(small_segments):
    """words-N.js holds the full segments' terms, words-tail-N.js the others'; meta lists the
    lengths of each; added up, they count each term's papers over the whole index."""
    meta = read_call(small_segments["search/meta.js"])[1][0]
    tail = [f"search/words-tail-{n}.js" for n in meta["tailWords"]]
    assert sorted(path for path in small_segments if "/words-" in path) == \
        sorted([f"search/words-{n}.js" for n in meta["words"]] + tail) and meta["words"] and tail
    texts = document_texts(document_order(seed_catalog()))
    vocabularies = [dict(json.loads(searchindex.vocabulary(index_segment(texts[start:stop]))))
                    for start, stop in meta["segments"]]
    letters = {term for vocabulary in vocabularies for term in vocabulary
               if len(term) >= 3 and re.fullmatch(r"[^\W\d_]+", term)}
    assert dictionary_counts(small_segments) == {term: sum(v.get(term, 0) for v in vocabularies) for term in letters}
    in_tail = {term for (start, stop), vocabulary in zip(meta["segments"], vocabularies) if stop - start < 64
               for term in vocabulary}
    assert set(dictionary_counts(small_segments, "tail-")) == in_tail & letters


@pytest.mark.parametrize("damage", ["none", "the lengths garbled", "the lengths of another shape",
                                    "a words file not in the site",
                                    "a full segment's vocabulary, with the lengths kept",
                                    "a full segment's vocabulary, with the lengths gone"])
def test_the_full_segments_words_are_kept_as_the_site_has_them(tmp_path, monkeypatch, damage):
    """The full segments' part of the term dictionary (whose documents never change) is kept
    as the site has it, and a build then reads none of their vocabularies: only the lengths
    the store kept. Whatever of that is damaged or missing, the words files are a clean
    build's, and only a full segment whose own vocabulary is damaged (and needed) is analysed
    again."""
    monkeypatch.setattr(search, "SEGMENT_DOCS", 64)  # three full segments of the seeds' 232 papers
    catalog, cache = seed_catalog(), Cache(tmp_path / "site")
    old = {file.path: file for file in search_files(catalog, store=Store(cache))}
    assert sum(1 for cut in search.segments(232) if len(cut) == 64) == 3
    keys = {path: file.key for path, file in old.items()}
    shelf = cache.root / "search-segments"
    lengths = next(path for path in shelf.iterdir() if path.name.startswith("words-"))
    missing = next(path for path in keys if re.fullmatch(r"search/words-\d+\.js", path))
    if damage == "the lengths garbled":
        lengths.write_bytes(lengths.read_bytes()[:3])
    elif damage == "the lengths of another shape":
        cache.save_item("search-segments", lengths.name, b'{"tidal": "3"}')
    elif damage == "a words file not in the site":
        del keys[missing]
    elif damage != "none":
        if damage.endswith("gone"):
            lengths.unlink()
        first = next(search.segment_key(cut, search.document_order(catalog)[cut.start:cut.stop])
                     for cut in search.segments(232))
        entry = json.loads(cache.load_item("search-segments", first))
        cache.save_item("search-segments", first, json.dumps({"head": entry["head"], "vocabulary": "[[1, 2]]"}).encode())
    again = {file.path: file for file in search_files(catalog, keys, store=Store(Cache(tmp_path / "site")))}
    remade = {path for path, file in again.items() if file.data is not None and re.match(r"search/(terms|pos)-", path)}
    assert {path: again[path].data or old[path].data for path in again if "/words-" in path} == \
        {path: old[path].data for path in old if "/words-" in path}
    settled = {path for path, file in again.items() if file.data is not None and re.fullmatch(r"search/words-\d+\.js", path)}
    assert settled == ({missing} if damage == "a words file not in the site" else set())  # (the others are in the site)
    assert json.loads(cache.load_item("search-segments", lengths.name)) == read_call(old["search/meta.js"].data)[1][0]["words"]
    # (with the lengths kept, the damaged vocabulary is not even read: the segment is reused)
    assert remade == ({path for path in old if re.match(r"search/(terms|pos)-0-64-", path)}
                      if damage.endswith("gone") else set())
    assert again["search/meta.js"].data == old["search/meta.js"].data
