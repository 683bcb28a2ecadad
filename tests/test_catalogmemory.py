"""catalogmemory.py: a ledger grown by later digests equals the catalog made of all the dumps at
once (catalog_of), entry by entry through every identity case; kept in a Memory and read back
whole; and refused (None) exactly where growing it is not adding to it."""

from __future__ import annotations

import dataclasses
import sys
from datetime import date, timedelta

import pytest
from support import REPO, dump as text_dump, tree

from generator.build import BuildOptions, build
from generator.catalog import Names, catalog_of
from generator.catalogmemory import CatalogMemory, extend_catalog
from generator.metadata import NO_META, PaperMeta
from generator.parse import parse_dump
from generator.reading import Dump, Entry

sys.path.insert(0, str(REPO / "benchmarks"))

import corpus  # noqa: E402

ABSTRACT = "An abstract about {0}. " * 12
DAY = date(2025, 3, 3)


class Shelf(dict):
    """A Memory in a dict, counting what was written."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []
        self.kept: list[str] = []

    def put(self, name: str, data: bytes) -> None:
        self[name] = data
        self.written.append(name)

    def keep(self, name: str) -> None:
        self.kept.append(name)


def entry(title: str, arxiv_id: str = "", line: int = 5, upvotes: int | None = None, abstract: str | None = None) -> Entry:
    meta = PaperMeta(arxiv_id=arxiv_id, upvotes=upvotes) if arxiv_id or upvotes is not None else NO_META
    return Entry(title, ABSTRACT.format(title) if abstract is None else abstract, line, meta)


def dump(n: int, *entries: Entry, source: str | None = None) -> Dump:
    return Dump(source or f"{n:03d}.txt", DAY + timedelta(days=n), tuple(entries))


def grown_equals_whole(dumps: list[Dump], split: int) -> bool:
    """Whether growing the first `split` dumps' ledger by the rest gives catalog_of(all); raises
    if it refused."""
    ledger = catalog_of(dumps[:split], Names())
    grown = extend_catalog(ledger, dumps[split:], Names())
    assert grown is not None, split
    assert grown == catalog_of(dumps, Names()), split
    return True


@pytest.fixture(scope="module")
def mixed_dumps(tmp_path_factory) -> list[Dump]:
    """A generated archive with a quarter of its digests as API JSON: arXiv IDs, and papers met
    first in text and later in JSON (the title known, its ID new) and the other way round."""
    out = tmp_path_factory.mktemp("mixed") / "content"
    corpus.generate(out, 600, 60, seed=3, variant="mixed")  # ~3 months
    year = corpus.LAST_DAY.year
    dumps = [parse_dump(path.name, path.read_bytes(), year) for path in sorted((out / "digests").iterdir())]
    assert all(d.date is not None for d in dumps) and any(e.meta.arxiv_id for d in dumps for e in d.entries)
    return sorted(dumps, key=lambda d: d.date)


def test_a_grown_ledger_is_the_catalog_of_all_its_dumps(mixed_dumps):
    for split in range(1, len(mixed_dumps)):
        assert grown_equals_whole(mixed_dumps, split)


def test_growing_a_digest_at_a_time_is_the_same_as_all_at_once(mixed_dumps):
    ledger = catalog_of(mixed_dumps[:1], Names())
    for n in range(1, len(mixed_dumps)):
        ledger = extend_catalog(ledger, mixed_dumps[n:n + 1], Names())
        assert ledger is not None
    assert ledger == catalog_of(mixed_dumps, Names())


@pytest.mark.parametrize("case, later", [
    ("a text paper's title comes back with an ID: the paper gains it", [entry("Tidal Flats", "2503.00001")]),
    ("an ID comes back under a new title: same paper, an alias for text", [entry("Tidal Flats Revised", "2503.00002"),
                                                                          entry("Tidal Flats Revised")]),
    ("a title taken by a paper with another ID: a paper of its own", [entry("Moss Beds", "2503.00009")]),
    ("then another ID under that title: a paper of its own", [entry("Tidal Flats", "2503.00001"),
                                                               entry("Tidal Flats", "2503.00077")]),
    ("a repeat counts its upvotes and keeps its abstract when it has none",
     [entry("Tidal Flats", upvotes=30), entry("Tidal Flats", upvotes=12, abstract="")]),
    ("a new paper twice in one digest appears once", [entry("Kelp", line=3), entry("Kelp", line=9)]),
])
def test_every_identity_case_grows_as_the_whole_would_make_it(case, later):
    earlier = [dump(0, entry("Tidal Flats"), entry("Moss Beds", "2503.00003")),
               dump(1, entry("Old Name", "2503.00002"), entry("Tidal Flats", line=9))]
    assert grown_equals_whole(earlier + [dump(2, *later)], 2), case


def test_growing_is_refused_where_it_is_not_adding():
    earlier = [dump(0, entry("Tidal Flats"), entry("Moss Beds", "2503.00003")), dump(2, entry("Kelp"))]
    ledger = catalog_of(earlier, Names())
    # an ID naming one paper under the title of another, which has none: the two become one
    assert extend_catalog(ledger, [dump(3, entry("Tidal Flats", "2503.00003"))], Names()) is None
    assert extend_catalog(ledger, [dump(1, entry("Reeds"))], Names()) is None  # older than the newest digest
    assert extend_catalog(ledger, [dump(2, entry("Reeds"), source="002b.txt")], Names()) is None  # its day
    assert extend_catalog(ledger, [dataclasses.replace(dump(3, entry("Reeds")), date=None)], Names()) is None
    undated = catalog_of(earlier + [dataclasses.replace(dump(9, entry("Reeds")), date=None)], Names())
    assert extend_catalog(undated, [dump(3, entry("Sedge"))], Names()) is None


def test_a_kept_ledger_reads_back_whole_and_a_day_rewrites_only_its_months(mixed_dumps):
    listed = [(d.source, f"key-{d.source}", d.diagnostics) for d in mixed_dumps]
    shelf = Shelf()
    before = catalog_of(mixed_dumps[:-1], Names())
    CatalogMemory(shelf).remember(before, listed[:-1])
    kept = CatalogMemory(shelf)
    assert kept.dumps == {name: (key, diagnostics) for name, key, diagnostics in listed[:-1]}
    assert kept.ledger() == before
    months = {paper.appearances[0].digest[:7] for paper in before.catalog.papers}
    assert len(months) > 1 and len(shelf.written) == len(months) + 1  # a part per month, and the head
    shelf.written.clear()
    grown = extend_catalog(kept.ledger(), mixed_dumps[-1:], Names())
    kept.remember(grown, listed)
    touched = {paper.appearances[0].digest[:7] for paper in grown.catalog.papers
               if paper not in before.catalog.papers}
    assert len(shelf.written) == len(touched) + 1 < len(months) + 1
    assert CatalogMemory(shelf).ledger() == grown


def test_a_damaged_or_missing_part_is_no_ledger(mixed_dumps):
    shelf = Shelf()
    CatalogMemory(shelf).remember(catalog_of(mixed_dumps, Names()), [])
    part = next(name for name in shelf if name != "head")
    shelf[part] = b"\x00garbled"
    assert CatalogMemory(shelf).ledger() is None
    del shelf[part]
    assert CatalogMemory(shelf).ledger() is None
    shelf["head"] = b"\x00garbled"
    assert CatalogMemory(shelf).dumps == {}


def test_a_build_reads_only_the_digests_added_since_the_last(tmp_path):
    """End to end on a generated archive (text and API JSON): a new day's digest, in either form,
    is the only dump the build reads, and the site equals a clean build; an edited dump, or one
    older than the newest, makes the catalog of every dump again."""
    content, out = tmp_path / "content", tmp_path / "site"
    corpus.generate(content, 300, 12, seed=5, variant="mixed")
    count = len(list((content / "digests").iterdir()))
    assert build(BuildOptions(content, out)).read == count

    def check(expected_reads: int, step: str) -> None:
        summary = build(BuildOptions(content, out))
        clean = build(BuildOptions(content, tmp_path / step, no_cache=True))
        assert (summary.read, clean.entries) == (expected_reads, summary.entries), step
        assert tree(out) == tree(tmp_path / step), step

    for form in ("text", "json"):
        name, data = corpus.added_digest(content, seed=count, form=form)
        (content / "digests" / (f"zz_{form}.txt" if form == "text" else name)).write_bytes(data)
        count += 1
        check(1, form)
    corpus.edit_one_abstract(content)
    check(count, "edited")
    (content / "digests" / "000_older.txt").write_text(text_dump(("A Paper From Long Ago", "About the past. " * 20),
                                                            date="Jan 2"), encoding="utf-8")
    check(count + 1, "older")
