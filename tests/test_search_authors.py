"""The author field of the search index: its scores and results are lunr.py's Builder's over a
corpus with authors (and papers without), the seeds' results are those of the index without the
field, the cache keys cover the authors, and in Chromium a name finds that person's papers and
a name with markup stays text.

The corpus is the seeds (no authors) with two hand-made dumps whose entries carry PaperMeta
authors: one dated before the seeds (its papers come right after the undated seed dump's in the
document order), one after (with a repeat of a seed paper that brings it authors)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lunr import get_default_builder, lunr
from playwright.sync_api import expect
from support import ENGINE
from test_search import (site_with, BROWSER_QUERIES, QUERIES, WASSERSTEIN, Files, as_the_page_asks, js_round, lunr_py_index,
                         made_files, padded, reference_scores, seed_catalog, seed_dumps, seed_texts)

import generator.search as search
import generator.searchindex as searchindex
from generator.catalog import build_catalog, paper_key
from generator.metadata import PaperMeta, short_authors
from generator.reading import Dump, Entry
from generator.search import BOOSTS, FIELDS, document_order, document_texts

ANALYTICAL = "Analytical engines and the numbers of Bernoulli"
NOTES = "Notes on the analytical engine, translated"
LOVELACE_TEST = "The Lovelace test for machine creativity"  # the name in a title, no authors
HOPPING = "Frequency hopping for the guidance of torpedoes"
MARKUP = "A paper whose authors' names hold markup"
MARKUP_AUTHORS = ("Tom & Jerry <i>Smith</i>", "<b>Bold</b> Markup", 'Quentin "Q" Quotes', "Ada Lovelace")


def entry(line: int, title: str, abstract: str, *authors: str) -> Entry:
    return Entry(title, abstract, line, PaperMeta(authors=authors) if authors else PaperMeta())


def authored_dumps(seed_abstract: str) -> list[Dump]:
    early = Dump("aa-early.txt", date(2025, 3, 3), (
        entry(1, ANALYTICAL, "A table of the numbers of Bernoulli, computed by an engine.",
              "Ada Lovelace", "Charles Babbage"),
        entry(3, "On computable numbers, revisited", "Machines that compute, and what they cannot.", "Alan Turing"),
        entry(5, "A paper whose authors are not known", "Nothing but an abstract about engines."),
        entry(7, HOPPING, "Radio control that hops between frequencies.", "Hedy Lamarr", "George Antheil"),
        entry(9, "Accented names in a learned society", "An abstract about learning in societies.",
              "Zoë Ångström-Müller", "José Núñez", "Émilie du Châtelet"),
        entry(11, "Hyphenated names in number theory", "Cohomology of groups and modular forms.",
              "Jean-Pierre Serre", "Mary-Claire King"),
        entry(13, MARKUP, "An abstract that says nothing of its authors.", *MARKUP_AUTHORS),
        entry(15, "Names that are stop words", "Their names count for nothing.", "Will May", "An Nguyen"),
        entry(17, LOVELACE_TEST, "Can a machine originate anything? A test of creativity."),
    ))
    late = Dump("zz-late.txt", date(2025, 3, 20), (
        entry(1, NOTES, "Notes on the engine of Babbage, with a program for the numbers of Bernoulli.",
              "Ada Lovelace", "Luigi Menabrea"),
        entry(3, WASSERSTEIN, seed_abstract, "Hedy Lamarr", "Rosalind Field"),  # a seed paper gains authors
        entry(5, "A large collaboration measures a model", "A model of the detector and its field.",
              "Barbara Model", *(f"Member{n} Collab" for n in range(40))),
        entry(7, "Another paper without authors", "Diffusion models and learning, once more."),
    ))
    return [early, late]


def authored_catalog():
    seed_abstract = seed_catalog().paper(paper_key(WASSERSTEIN)).abstract
    return build_catalog(seed_dumps() + authored_dumps(seed_abstract))


@pytest.fixture(scope="module")
def catalog():
    return authored_catalog()


@pytest.fixture(scope="module")
def texts(catalog):
    return document_texts(document_order(catalog))


@pytest.fixture(scope="module")
def reference(texts):
    return lunr_py_index(texts)


def small_made_files(catalog) -> dict[str, bytes]:
    saved = search.SEGMENT_DOCS, search.BLOCK_MIN, searchindex.BUCKET_BYTES
    search.SEGMENT_DOCS, search.BLOCK_MIN, searchindex.BUCKET_BYTES = 64, 8, 3000
    try:
        return {path: file.data for path, file in made_files(catalog).items()}
    finally:
        search.SEGMENT_DOCS, search.BLOCK_MIN, searchindex.BUCKET_BYTES = saved


@pytest.fixture(scope="module")
def real_files(catalog) -> dict[str, bytes]:
    return {path: file.data for path, file in made_files(catalog).items()}


@pytest.fixture(scope="module")
def small_files(catalog) -> dict[str, bytes]:
    return small_made_files(catalog)


@pytest.fixture(scope="module", params=["real sizes", "small segments"])
def files(request, real_files, small_files) -> Files:
    return Files(real_files if request.param == "real sizes" else small_files)


def test_the_corpus_mixes_papers_with_and_without_authors(catalog, texts):
    authored = [fields for fields in texts if fields[2]]
    assert len(texts) == 232 + 12 and len(authored) == 10
    order = [paper.title for paper in document_order(catalog)]
    assert order.index(ANALYTICAL) < 64 and order[-1] == "Another paper without authors"  # after the undated seeds
    assert texts[order.index(WASSERSTEIN)][2] == "Hedy Lamarr Rosalind Field"  # a seed document, early on


def test_author_scores_equal_lunr_py_builder_scores(files, reference, catalog):
    expected = reference_scores(reference)
    postings = files.postings()
    assert set(postings) == set(reference.inverted_index)
    for term, fields in postings.items():
        for slot, field in enumerate(FIELDS):
            assert [str(doc) for doc, _ in fields[slot]] == sorted(reference.inverted_index[term][field], key=int)
    actual, exact = files.scores(js_round), files.scores(lambda score: score)
    assert actual.keys() == expected.keys()
    authors = {posting for posting in actual if posting[1] == "author"}
    collaboration = [paper.title for paper in document_order(catalog)].index("A large collaboration measures a model")
    assert len(authors) > 50 and files.postings()["collab"][2] == [(collaboration, 40)]  # tf 40 in one field
    author_terms = {term for term, _, _ in authors}
    assert {"lovelac", "serr", "pierr", "ångström", "müller", "nguyen", "&", "model", "lamarr"} <= author_terms
    assert not {"will", "may", "an", "smith", "bold"} & author_terms  # stop words; words inside markup
    for posting, score in actual.items():
        if score != expected[posting]:  # only where Python's round and Math.round part: a half
            assert abs(score - expected[posting]) <= 0.0010001, posting
            assert abs(exact[posting] * 1000 % 1 - 0.5) < 1e-6, posting


def test_field_lengths_and_averages_are_lunr_py_builders_empty_fields_included(files, texts):
    """A paper without authors has author length 0 and still counts in the average: lunr.py's
    Builder (like lunr.js's, see generator/search.py) divides by every document."""
    builder = get_default_builder()
    lunr(ref="id", fields=[{"field_name": field, "boost": BOOSTS[field]} for field in FIELDS],
         documents=[{"id": str(n), **dict(zip(FIELDS, fields))} for n, fields in enumerate(texts)], builder=builder)
    for slot, field in enumerate(FIELDS):
        assert files.lengths[slot] == [builder.field_lengths[f"{field}/{n}"] for n in range(len(texts))], field
        assert files.averages[slot] == builder.average_field_length[field], field
    assert files.lengths[2].count(0) == len(texts) - 10  # "Will May, An Nguyen" is 1: nguyen
    assert builder.average_field_length["author"] == sum(files.lengths[2]) / len(texts)


def test_segments_without_authors_write_no_author_lengths_and_rows_no_empty_postings(small_files):
    files = Files(small_files)
    heads = [files.heads[start] for start, _ in files.meta["segments"]]
    assert files.meta["fields"] == ["title", "abstract", "author"] and files.meta["boosts"] == [10, 1, 5]
    assert heads[0]["lengths"][2] and heads[0]["sums"][2]  # docs 0-63: the early authored papers
    empty = [head for head in heads if not head["sums"][2]]
    assert len(empty) >= 2 and all(head["lengths"][2] == "" for head in empty)
    for start, end in files.meta["segments"]:
        assert all(len(padded(lengths, end - start)) == end - start for lengths in files.heads[start]["lengths"])
    rows = [row for bucket in files.buckets.values() for row in bucket]
    widths = {len(row) for row in rows}
    assert widths == {2, 3, 4} and all(row[-1] for row in rows)


def test_row_sizes_are_the_bytes_each_bucket_file_holds(texts):
    """Buckets are cut by row_sizes, which must count rows as written: without trailing empty fields."""
    for segment in search.segments(len(texts)):
        part = texts[segment.start:segment.stop]
        index = searchindex.index_segment(part)
        sizes = searchindex.row_sizes(index.terms, *searchindex.posting_codes(index))
        head, files, _ = searchindex.encode_segment(segment, part)
        buckets = searchindex.cut_buckets(index.terms, sizes)
        assert len(files) == 2 * len(buckets) == 2 * len(head["buckets"])  # the buckets, their positions
        for number, (bucket, data) in enumerate(zip(buckets, files[:len(buckets)])):
            frame = len(f"paperdigestSearch.terms({segment.start},{number},[]);\n")
            assert len(data) == frame + sum(sizes[bucket.start:bucket.stop]) - 1  # no comma after the last row


AUTHOR_QUERIES = ["author:lovelace", "lovelace", "Ada Lovelace", "author:lamarr", "lamarr", "hedy", "author:serre",
                  "jean-pierre", "author:jean", "serre~1", "author:müller", "ångström", "Zoë", "author:nguyen",
                  "author:will", "author:model", "model", "title:model author:model", "+author:lovelace +engine",
                  "+author:lovelace -title:notes", "-author:lovelace", "author:collab", "collab", "author:lov*",
                  "author:markup", "author:quotes", 'author:"q"', "author:&", "babbage", "field", "numbers bernoulli"]


@pytest.mark.parametrize("query", [query for query in AUTHOR_QUERIES if not query.startswith("-")] + QUERIES)
def test_author_queries_over_the_stored_frequencies_rank_exactly_as_lunr_py(files, reference, query):
    """(A negated query is left to the browser test: Files.index has field vectors only where
    there are postings, so it lists lunr's all-zero results in another order.)"""
    expected = [(hit["ref"], hit["score"]) for hit in reference.search(query)]
    if not hasattr(files, "whole"):  # made once per module's Files (a second each)
        files.whole = files.index()
    assert [(hit["ref"], hit["score"]) for hit in files.whole.search(query)] == expected


def test_the_seeds_rank_exactly_as_without_the_author_field():
    """The seeds have no authors: lunr.py over title, abstract and an empty author field gives
    every query's results, scores and order as it does over title and abstract alone."""
    texts = seed_texts()
    assert not any(fields[2] for fields in texts)
    with_field = lunr_py_index(texts)
    without = lunr(ref="id", fields=[{"field_name": field, "boost": BOOSTS[field]} for field in ("title", "abstract")],
                   documents=[{"id": str(n), "title": t, "abstract": a} for n, (t, a, _) in enumerate(texts)])
    for query in QUERIES + BROWSER_QUERIES:
        assert [(hit["ref"], hit["score"]) for hit in as_the_page_asks(with_field, query)] == \
            [(hit["ref"], hit["score"]) for hit in as_the_page_asks(without, query)], query


def test_result_rows_carry_the_short_author_line_only_where_there_are_authors(catalog, real_files):
    rows = Files(real_files).rows()
    papers = document_order(catalog)
    assert len(rows) == len(papers)
    for row, paper in zip(rows, papers):
        if paper.meta.authors:
            assert len(row) == 5 and row[4] == short_authors(paper.meta)
        else:
            assert len(row) == 4
    assert rows[[p.title for p in papers].index(MARKUP)][4] == "T. J. <i>Smith</i>, <b>Bold</b> Markup +2"
    seed_rows = Files(made_files_data(seed_catalog())).rows()
    assert {len(row) for row in seed_rows} == {4}


def made_files_data(catalog, previous=None) -> dict[str, bytes]:
    return {path: file.data for path, file in made_files(catalog, previous).items()}


def with_authors_of(catalog_dumps, title: str, authors: tuple[str, ...]) -> list[Dump]:
    """The dumps with one entry's authors replaced (title, abstract and dates as they were)."""
    return [Dump(d.source, d.date, tuple(Entry(e.title, e.abstract, e.line, PaperMeta(authors=authors))
                                          if e.title == title else e for e in d.entries)) for d in catalog_dumps]


def test_cache_keys_cover_the_authors():
    """Authors that change alone remake their segment and row chunk; names that make the same
    author text ("Ada Lovelace" as one name or two) keep the segment but remake the row chunk;
    and what is reused is what a build from scratch makes."""
    seed_abstract = seed_catalog().paper(paper_key(WASSERSTEIN)).abstract
    dumps = seed_dumps() + authored_dumps(seed_abstract)
    before = build_catalog(dumps)
    number = [paper.title for paper in document_order(before)].index(ANALYTICAL)
    old = made_files(before)
    keys = {path: file.key for path, file in old.items()}
    for authors, segment_remade in ((("Grace Hopper",), True), (("Ada", "Lovelace", "Charles", "Babbage"), False)):
        after = build_catalog(with_authors_of(dumps, ANALYTICAL, authors))
        fresh, reused = made_files(after), made_files(after, keys)
        assert fresh.keys() == reused.keys()
        for path, file in reused.items():
            assert file.key == fresh[path].key and (file.data is None or file.data == fresh[path].data), path
            if file.data is None:
                assert fresh[path].data == old[path].data, path
        home = next(cut for cut in search.segments(len(document_order(before))) if number in cut)
        assert (reused[f"search/terms-{home.start}-{home.stop}-0.js"].data is not None) == segment_remade
        chunks = {f"search/docs-{chunk}.js" for chunk in range(home.start // search.DOCS_PER_CHUNK,
                                                              -(-home.stop // search.DOCS_PER_CHUNK))}
        remade = {path for path, file in reused.items() if "/docs-" in path and file.data is not None}
        # a chunk's key holds its segments' keys: a remade segment remakes its chunks
        assert remade == (chunks if segment_remade else {f"search/docs-{number // search.DOCS_PER_CHUNK}.js"})


# --- the real search.js and lunr.js in Chromium -------------------------------------------

@pytest.fixture(scope="module")
def authored_site(seeds_site, real_files, tmp_path_factory) -> Path:
    return site_with(seeds_site, tmp_path_factory.mktemp("authored"), real_files)


@pytest.fixture(scope="module")
def authored_small_site(seeds_site, small_files, tmp_path_factory) -> Path:
    return site_with(seeds_site, tmp_path_factory.mktemp("authored-small"), small_files)


@pytest.mark.parametrize("which", ["real sizes", "small segments"])
def test_lunr_js_in_chromium_ranks_author_queries_exactly_as_lunr_py(authored_site, authored_small_site, reference,
                                                                      page, which):
    page.goto(((authored_site if which == "real sizes" else authored_small_site) / "search.html").as_uri())
    for query in AUTHOR_QUERIES + BROWSER_QUERIES:
        expected = [(hit["ref"], hit["score"]) for hit in as_the_page_asks(reference, query)]
        found = page.evaluate("q => " + ENGINE + ".find(q).then(r => [r.total, r.hits.map(h => [h.ref, h.score])])", query)
        assert found[0] == len(expected), query
        assert [ref for ref, _ in found[1]] == [ref for ref, _ in expected[:50]], query
        assert [round(score, 3) for _, score in found[1]] == [round(score, 3) for _, score in expected[:50]], query
    assert page.problems == []


def result_titles(page) -> set[str]:
    expect(page.locator("#search-status")).not_to_have_text("Searching…")
    links = page.locator("#search-results li.paper h2 a")
    return {links.nth(n).inner_text() for n in range(links.count())}


def texts_with(texts, word: str) -> set[str]:
    """Titles of the documents with the word in their title or abstract (as text, any case)."""
    return {title for title, abstract, _ in texts if word in f"{title} {abstract}".lower()}


def test_a_name_finds_exactly_that_persons_papers(authored_site, texts, page):
    page.goto((authored_site / "search.html").as_uri() + "?q=author:lovelace")
    assert result_titles(page) == {ANALYTICAL, NOTES, MARKUP}
    page.locator("#search-input").fill("lovelace")  # and the paper with the name in its title
    assert result_titles(page) == {ANALYTICAL, NOTES, MARKUP, LOVELACE_TEST}
    page.locator("#search-input").fill("author:lamarr")
    assert result_titles(page) == {HOPPING, WASSERSTEIN}
    lamarr_in_text = texts_with(texts, "lamarr")
    assert lamarr_in_text and WASSERSTEIN not in lamarr_in_text  # seeds that name the Lamarr toolkit
    page.locator("#search-input").fill("Lamarr")
    assert result_titles(page) == {HOPPING, WASSERSTEIN} | lamarr_in_text
    page.locator("#search-input").fill("author:müller")
    assert result_titles(page) == {"Accented names in a learned society"}
    page.locator("#search-input").fill("Jean-Pierre")
    assert "Hyphenated names in number theory" in result_titles(page)
    page.locator("#search-input").fill("author:serre")
    assert result_titles(page) == {"Hyphenated names in number theory"}
    page.locator("#search-input").fill("author:will")  # a stop word: no term
    expect(page.locator("#search-status")).to_contain_text("No papers match")
    assert page.problems == []


def test_an_author_line_shows_names_with_markup_as_text(authored_site, page):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto((authored_site / "search.html").as_uri() + "?q=" + "author:markup")
    assert result_titles(page) == {MARKUP}
    byline = page.locator("#search-results li.paper p.authors")
    expect(byline).to_have_text("T. J. <i>Smith</i>, <b>Bold</b> Markup +2")
    expect(byline.locator("mark")).to_have_text(["Markup"])
    tags = page.evaluate("[...document.querySelectorAll('#search-results *')].map(node => node.tagName)")
    assert sorted(tags) == sorted(["LI", "H2", "A", "P", "MARK", "P", "P"])
    assert page.evaluate("document.querySelectorAll('#search-results b, #search-results i').length") == 0

    page.locator("#search-input").fill('author:q')  # the name with quotes: '"Q"' is trimmed to q
    assert result_titles(page) == {MARKUP}
    page.locator("#search-input").fill("wasserstein")  # authors shown where there are some, none elsewhere
    expect(page.locator("#search-results li.paper").first.locator("p.authors")).to_have_text("H. Lamarr, R. Field")
    items = page.locator("#search-results li.paper")
    assert items.count() > 1 and items.locator("p.authors").count() == 1
    assert dialogs == [] and page.problems == []
