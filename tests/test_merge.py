"""catalog.py with metadata: one paper by arXiv ID or by title across forms, fields from the
most recent digest, stable URLs (redirects for titles merged later), seeds unaffected."""

from __future__ import annotations

from datetime import date

from generator.catalog import build_catalog
from generator.metadata import NO_META, PaperMeta
from generator.reading import Dump, Entry

ABSTRACT = "An abstract. " * 30
MAR = {day: date(2025, 3, day) for day in range(10, 20)}


def entry(title: str, line: int = 10, abstract: str = ABSTRACT, **meta) -> Entry:
    return Entry(title, abstract, line, PaperMeta(**meta) if meta else NO_META)


def digest(source: str, day: date | None, *entries: Entry) -> Dump:
    return Dump(source, day, entries)


def test_a_text_entry_and_a_json_entry_with_the_same_title_are_one_paper_with_the_id():
    catalog = build_catalog([
        digest("a.txt", MAR[10], entry("Deep Learning: A Survey")),
        digest("2025-03-11.json", MAR[11], entry("Deep learning - a survey", arxiv_id="2503.00001", upvotes=5)),
    ])
    (paper,) = catalog.papers
    assert paper.slug == "deep-learning-a-survey" and paper.meta.arxiv_id == "2503.00001"
    assert [a.digest for a in paper.appearances] == ["2025-03-10", "2025-03-11"]
    assert paper.aliases == ()


def test_entries_with_one_id_are_one_paper_whatever_their_titles():
    catalog = build_catalog([
        digest("2025-03-10.json", MAR[10], entry("Old Title", arxiv_id="2503.00001")),
        digest("2025-03-12.json", MAR[12], entry("New Title", arxiv_id="2503.00001")),
    ])
    (paper,) = catalog.papers
    assert paper.title == "New Title" and paper.slug == "old-title"  # the URL stays the first title's


def test_a_later_id_joining_two_titles_keeps_the_old_page_as_a_redirect():
    catalog = build_catalog([
        digest("a.txt", MAR[10], entry("Old Title")),
        digest("b.txt", MAR[11], entry("Revised Title")),
        digest("2025-03-12.json", MAR[12], entry("Old Title", arxiv_id="2503.00001"),
               entry("Revised Title", 20, arxiv_id="2503.00001")),
    ])
    (paper,) = catalog.papers
    assert paper.slug == "old-title" and paper.aliases == ("revised-title",)
    assert catalog.paper_of("revisedtitle") is paper and catalog.paper_of("x", "2503.00001") is paper


def test_two_ids_with_one_title_are_two_papers_with_distinct_pages():
    catalog = build_catalog([
        digest("a.txt", MAR[10], entry("Common Title")),
        digest("2025-03-11.json", MAR[11], entry("Common Title", arxiv_id="2503.00001"),
               entry("Common Title", 20, arxiv_id="2503.00002")),
        digest("c.txt", MAR[12], entry("Common Title")),
    ])
    first, second = sorted(catalog.papers, key=lambda p: p.appearances[0].line)
    assert first.meta.arxiv_id == "2503.00001" and second.meta.arxiv_id == "2503.00002"
    assert first.slug == "common-title" and second.slug.startswith("common-title--")
    assert [a.digest for a in first.appearances] == ["2025-03-10", "2025-03-11", "2025-03-12"]
    assert catalog.paper_of("commontitle", "2503.00002") is second


def test_each_field_comes_from_the_most_recent_digest_that_has_it():
    catalog = build_catalog([
        digest("2025-03-10.json", MAR[10], entry("T", arxiv_id="2503.00001", upvotes=3, comments=1, stars=10,
                                                  authors=("Ada Lovelace",), github="https://github.com/a/b")),
        digest("2025-03-12.txt", MAR[12], entry("T", abstract="", upvotes=9, comments=2, author_count=4)),
        digest("undated.txt", None, entry("T", abstract="Undated says otherwise.", upvotes=100)),
    ])
    (paper,) = catalog.papers
    meta = paper.meta
    assert (meta.upvotes, meta.comments, meta.stars) == (9, 2, 10)  # a dated digest is more recent than an undated one
    assert paper.counts_from == "2025-03-12" and paper.stars_from == "2025-03-10"
    assert meta.authors == ("Ada Lovelace",) and meta.author_count is None  # names beat a count
    assert meta.github == "https://github.com/a/b" and paper.abstract == ABSTRACT
    assert [a.upvotes for a in paper.appearances] == [3, 9, 100]


def test_classic_entries_make_the_papers_they_always_made():
    dumps = [digest("a.txt", MAR[10], entry("One"), entry("Two", 20)), digest("b.txt", MAR[11], entry("two"))]
    catalog = build_catalog(dumps)
    assert [(p.key, p.slug, p.meta, p.aliases, p.counts_from) for p in catalog.papers] == [
        ("one", "one", NO_META, (), ""), ("two", "two", NO_META, (), "")]


def test_the_merge_does_not_depend_on_the_order_dumps_are_given_in():
    dumps = [
        digest("a.txt", MAR[10], entry("Old Title"), entry("Other")),
        digest("2025-03-12.json", MAR[12], entry("Old Title", arxiv_id="2503.00001"),
               entry("Revised Title", 20, arxiv_id="2503.00001")),
        digest("b.txt", MAR[11], entry("Revised Title")),
    ]
    assert build_catalog(dumps) == build_catalog(dumps[::-1])
