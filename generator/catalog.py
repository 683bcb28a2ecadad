"""Turn parsed dumps into the site's model: distinct papers, digest dates, and who appeared where.

Identity rules live here and nowhere else: a paper is its normalised title (so case, spacing,
punctuation and accents do not split one paper in two); a digest is a date (so two dumps of
the same day are one digest), or, for an undated dump, the file itself.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from datetime import date
from pathlib import PurePath

from slugify import slugify

from generator.diagnostics import BuildError, error
from generator.parse import Dump

SLUG_MAX = 80
NON_WORD = re.compile(r"[\W_]+")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Appearance:
    """A paper's place in one digest."""

    digest: str  # Digest.slug
    date: date | None  # the digest's date (None for an undated dump)
    source: str  # dump file it was read from (the first, if several dumps of the day carry it)
    line: int
    position: int  # 0-based rank within the digest


@dataclass(frozen=True)
class Paper:
    key: str  # normalised title: the paper's identity
    slug: str  # file name stem under papers/, from this paper's first-seen title alone
    title: str
    abstract: str
    appearances: tuple[Appearance, ...]  # in digest order (oldest first, undated last)

    @cached_property
    def latest(self) -> Appearance:
        """The most recent appearance: the newest dated one; an undated one only if all are.
        (Worked out once: pages and orderings ask for it ~150,000 times at 30,000 papers.)"""
        dated = [appearance for appearance in self.appearances if appearance.date is not None]
        return dated[-1] if dated else self.appearances[-1]


@dataclass(frozen=True)
class Digest:
    slug: str  # ISO date, or the slugified file stem of an undated dump
    date: date | None
    sources: tuple[str, ...]  # dump files merged into this digest, in file-name order
    papers: tuple[str, ...]  # Paper.key, in digest order, each once


@dataclass(frozen=True)
class Catalog:
    papers: tuple[Paper, ...]  # sorted by slug
    digests: tuple[Digest, ...]  # dated oldest first, then undated by file name
    entries_read: int

    def paper(self, key: str) -> Paper:
        return self._papers_by_key[key]

    def find_paper(self, key: str) -> Paper | None:
        return self._papers_by_key.get(key)

    def digest(self, slug: str) -> Digest:
        return self._digests_by_slug[slug]

    @cached_property
    def _papers_by_key(self) -> dict[str, Paper]:
        return {paper.key: paper for paper in self.papers}

    @cached_property
    def _digests_by_slug(self) -> dict[str, Digest]:
        return {digest.slug: digest for digest in self.digests}


def paper_key(title: str) -> str:
    """Identity of a paper: casefolded, accents stripped, punctuation and spacing removed.

    A title made only of symbols (emoji, punctuation) has no word characters; it keeps its
    casefolded, space-free form so that it still has an identity of its own.
    """
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return NON_WORD.sub("", bare) or "".join(bare.split())


def paper_slug(key: str, title: str) -> str:
    """A file-name-safe slug that depends on this paper alone, so other papers never move it.

    When the slug spells the key exactly (plain ASCII titles that fit), it is used as is.
    Otherwise (truncated, transliterated, or empty) a hash of the key is appended after a
    double hyphen, which slugify never produces itself, so the two kinds cannot meet.
    """
    base = slugify(title, max_length=SLUG_MAX, word_boundary=True)
    if base and base.replace("-", "") == key:
        return base
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    return f"{base}--{digest}" if base else f"paper--{digest}"


def digest_slugs(dumps: list[Dump]) -> dict[str, str]:
    """File name -> digest slug. Dated dumps share their date's slug; each undated dump gets its own.

    An undated dump is named after its file. Its slug never takes the form of a date (so it
    cannot fall into a dated digest), and two undated files whose names slugify alike are told
    apart by a hash of the file name.
    """
    slugs = {dump.source: dump.date.isoformat() for dump in dumps if dump.date}
    taken = set(slugs.values())
    for dump in sorted((d for d in dumps if d.date is None), key=lambda d: d.source):
        base = slugify(PurePath(dump.source).stem) or "undated"
        if ISO_DAY.fullmatch(base):
            base = f"undated-{base}"
        if base in taken:
            base = f"{base}--{hashlib.sha256(dump.source.encode('utf-8')).hexdigest()[:10]}"
        slugs[dump.source] = base
        taken.add(base)
    return slugs


class Names(dict):
    """Title -> (paper key, slug), worked out on first use. Both are pure functions of the title
    and cost ~30 µs a paper (Unicode normalisation, slugify), so a build starts from what the
    last one worked out (see cache.py) instead of redoing 30,000 of them to add one digest."""

    learned = False  # whether a title was worked out here, not known from the cache

    def __missing__(self, title: str) -> tuple[str, str]:
        self.learned = True
        key = paper_key(title)
        found = self[title] = (key, paper_slug(key, title))
        return found

    def key(self, title: str) -> str:
        return self[title][0]

    def slug(self, title: str) -> str:
        return self[title][1]

    def for_dumps(self, dumps: list[Dump]) -> dict[str, tuple[str, str]]:
        """Those these dumps need: what the next build should start from."""
        return {entry.title: self[entry.title] for dump in dumps for entry in dump.entries}


def build_catalog(dumps: list[Dump], names: Names | None = None) -> Catalog:
    """Merge dumps into digests (one per date) and entries into papers (one per key)."""
    names = Names() if names is None else names
    ordered = sorted(dumps, key=lambda dump: (dump.date is None, dump.date or date.min, dump.source))
    slugs = digest_slugs(ordered)
    digests: dict[str, Digest] = {}
    appearances: dict[str, list[Appearance]] = {}
    latest: dict[str, tuple[str, str]] = {}  # key -> (title, abstract) of the most recent appearance
    dated_keys: set[str] = set()  # an undated dump never overrides what a dated one said
    first_title: dict[str, str] = {}  # the slug's source: new dumps arrive daily and never move it
    entries_read = 0
    for dump in ordered:
        slug = slugs[dump.source]
        digest = digests.get(slug) or Digest(slug, dump.date, (), ())
        keys = list(digest.papers)
        for entry in dump.entries:
            entries_read += 1
            key = names[entry.title][0]
            first_title.setdefault(key, entry.title)
            if dump.date is not None or key not in dated_keys:
                _, previous = latest.get(key, ("", ""))
                latest[key] = (entry.title, entry.abstract or previous)
            if dump.date is not None:
                dated_keys.add(key)
            if key in keys:
                continue
            appearances.setdefault(key, []).append(Appearance(slug, dump.date, dump.source, entry.line, len(keys)))
            keys.append(key)
        digests[slug] = Digest(slug, dump.date, digest.sources + (dump.source,), tuple(keys))
    papers = [
        Paper(key, names.slug(first_title[key]), latest[key][0], latest[key][1], tuple(found))
        for key, found in appearances.items()
    ]
    papers.sort(key=lambda paper: paper.slug)
    check_unique_slugs(papers)
    return Catalog(tuple(papers), tuple(digests.values()), entries_read)


def check_unique_slugs(papers: list[Paper]) -> None:
    """Two different papers must never share a page; with hashed slugs this is a 1-in-2^40 event,
    and it is reported, never resolved by overwriting one of them. `papers` is sorted by slug."""
    clashes = [
        error(second.appearances[0].source, second.appearances[0].line,
              f"papers {first.title[:60]!r} and {second.title[:60]!r} would share the page papers/{first.slug}.html",
              "reword one title slightly (this is a paperdigest bug; please report it)")
        for first, second in zip(papers, papers[1:]) if first.slug == second.slug
    ]
    if clashes:
        raise BuildError(clashes)

