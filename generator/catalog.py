"""Turn parsed dumps into the site's model: distinct papers, digest dates, and who appeared where.

Identity rules live here and nowhere else. A paper is its arXiv ID where the entries on both
sides have one, and its normalised title otherwise (so case, spacing, punctuation and accents
do not split one paper in two): a text entry and a JSON entry with the same title are one
paper, and the JSON's ID then belongs to it. A digest is a date (so two dumps of the same day
are one digest), or, for an undated dump, the file itself. Each field of a paper (its title,
abstract and metadata) comes from the most recent digest that carries it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date
from pathlib import PurePath
from typing import Mapping

from slugify import slugify

from generator.diagnostics import BuildError, error
from generator.metadata import NO_META, PaperMeta, merge
from generator.reading import Dump, Entry, entry_hashes

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
    upvotes: int | None = None  # as that digest counted them, where it did


@dataclass(frozen=True)
class Paper:
    key: str  # normalised first-seen title (with its arXiv ID if two papers share it): the identity
    slug: str  # file name stem under papers/, from this paper's first-seen title alone
    title: str
    abstract: str
    appearances: tuple[Appearance, ...]  # in digest order (oldest first, undated last)
    meta: PaperMeta = NO_META  # merged, each field from the most recent digest with it
    counts_from: str = ""  # Digest.slug whose upvotes and comments meta holds (they keep changing)
    stars_from: str = ""  # Digest.slug whose count of GitHub stars meta holds
    aliases: tuple[str, ...] = ()  # slugs of its other titles' pages, which now lead to this one
    # A hash of everything the paper is made from: each entry of it (by its hash), the digests,
    # files and places it appeared at, its key, slug and aliases. Equal
    # fingerprints mean equal papers, so later stages key their outputs by it (keys.py) instead
    # of hashing the paper's text again.
    fingerprint: str = ""
    # A hash of what the paper says (title, abstract, authors: hash_text): what its topics,
    # related papers and search postings are made of, which a repeat that changes none of
    # them leaves as it was (unlike the fingerprint). Empty: not worked out (a test's paper).
    text_hash: str = ""

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
    index: Mapping[str, str] = field(default_factory=dict)  # "t:<title key>" or "a:<arXiv ID>" -> Paper.key

    def paper(self, key: str) -> Paper:
        return self._papers_by_key[key]

    def paper_of(self, title_key: str, arxiv_id: str = "") -> Paper | None:
        """The paper an entry with this title key (and arXiv ID) became."""
        key = self.index.get(f"a:{arxiv_id}") if arxiv_id else None
        key = key or self.index.get(f"t:{title_key}")
        return self.find_paper(key) if key else None

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


@dataclass(frozen=True)
class Ledger:
    """A catalog and what extending it by later digests needs (extend_catalog), which the
    build keeps between builds (catalogmemory.py) so that a new day's digest does not mean
    reading and merging every dump again."""

    catalog: Catalog
    firsts: Mapping[str, str]  # Paper.key -> its first-seen title (its slug's source)
    said: Mapping[str, tuple[str, ...]]  # Paper.key -> what each entry of it said, as its fingerprint spells it


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


class Identities:
    """Which entries are one paper: a union-find over the names a paper goes by, its title keys
    ("t:...") and its arXiv ID ("a:..."). An entry with an ID joins its title to that ID, unless
    the title already belongs to a paper with another ID (two papers with one title); an entry
    without one is its title. Entries are met in digest order, so the answer is the same on
    every build of the same dumps."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.ident: dict[str, str] = {}  # root -> the group's arXiv ID

    def find(self, node: str) -> str:
        parent = self.parent.setdefault(node, node)
        while parent != node:
            grand = self.parent[parent]
            self.parent[node] = grand
            node, parent = parent, grand
        return node

    def add(self, key: str, arxiv_id: str) -> str:
        """The node that names this entry's paper."""
        title = self.find(f"t:{key}")
        if not arxiv_id:
            return f"t:{key}"
        node = f"a:{arxiv_id}"
        root = self.find(node)
        self.ident.setdefault(root, arxiv_id)
        if title != root and self.ident.get(title, arxiv_id) == arxiv_id:
            self.parent[title] = root  # the title's group has no other ID: it is this paper
        return node


@dataclass
class Seen:
    """What the catalog gathers of one paper while reading the dumps in order."""

    key: str
    first_title: str
    appearances: list[Appearance]
    said: list[tuple[bool, str, Entry, str]]  # (dated, digest slug, entry, its hash) for every entry of it


def build_catalog(dumps: list[Dump], names: Names | None = None) -> Catalog:
    """Merge dumps into digests (one per date) and entries into papers (one per identity)."""
    return catalog_of(dumps, names).catalog


def catalog_of(dumps: list[Dump], names: Names | None = None) -> Ledger:
    """build_catalog's catalog, in a ledger that extend_catalog can grow."""
    names = Names() if names is None else names
    ordered = sorted(dumps, key=lambda dump: (dump.date is None, dump.date or date.min, dump.source))
    slugs = digest_slugs(ordered)
    identities = Identities()
    nodes = [[identities.add(names[entry.title][0], entry.meta.arxiv_id) for entry in dump.entries] for dump in ordered]
    keys_of: dict[str, str] = {}  # group root -> paper key
    seen: dict[str, Seen] = {}
    digests: dict[str, Digest] = {}
    entries_read = 0
    for dump, dump_nodes in zip(ordered, nodes):
        slug = slugs[dump.source]
        digest = digests.get(slug) or Digest(slug, dump.date, (), ())
        keys = list(digest.papers)
        hashes = dump.hashes or entry_hashes(dump)
        for entry, node, named in zip(dump.entries, dump_nodes, hashes):
            entries_read += 1
            root = identities.find(node)
            key = keys_of.get(root)
            if key is None:
                key = keys_of[root] = group_key(identities, root, names.key(entry.title))
                seen[key] = Seen(key, entry.title, [], [])
            paper = seen[key]
            paper.said.append((dump.date is not None, slug, entry, named))
            if key in keys:
                continue
            paper.appearances.append(Appearance(slug, dump.date, dump.source, entry.line, len(keys), entry.meta.upvotes))
            keys.append(key)
        digests[slug] = Digest(slug, dump.date, digest.sources + (dump.source,), tuple(keys))
    papers = [make_paper(paper, names, identities, keys_of) for paper in seen.values()]
    papers.sort(key=lambda paper: paper.slug)
    check_unique_slugs(papers)
    index = {node: keys_of[identities.find(node)] for node in identities.parent if identities.find(node) in keys_of}
    return Ledger(Catalog(tuple(papers), tuple(digests.values()), entries_read, index),
                  {key: paper.first_title for key, paper in seen.items()},
                  {key: said_parts(paper.said) for key, paper in seen.items()})


def group_key(identities: Identities, root: str, title_key: str) -> str:
    """A paper's key: its first title's key, or, if another paper (with another arXiv ID) has
    that title, the key with this paper's ID."""
    if identities.find(f"t:{title_key}") == root:
        return title_key
    return f"{title_key}@{identities.ident[root]}"


def make_paper(seen: Seen, names: Names, identities: Identities, keys_of: dict[str, str]) -> Paper:
    """The paper from everything said of it: undated digests first, then dated ones oldest
    first, each field from the last to say it (a dated digest is more recent than an undated one)."""
    said = sorted(seen.said, key=lambda item: item[0])  # stable: undated first, each kind in digest order
    title = said[-1][2].title
    abstract = next((entry.abstract for _, _, entry, _ in reversed(said) if entry.abstract), "")
    counts_from = next((slug for _, slug, entry, _ in reversed(said) if entry.meta.upvotes is not None), "")
    stars_from = next((slug for _, slug, entry, _ in reversed(said) if entry.meta.stars is not None), "")
    simple = "@" not in seen.key
    slug = names.slug(seen.first_title) if simple else paper_slug(seen.key, seen.first_title)
    others = aliases(seen, names, identities, keys_of, slug)
    appearances, meta = tuple(seen.appearances), merge(entry.meta for _, _, entry, _ in said)
    return Paper(seen.key, slug, title, abstract, appearances, meta, counts_from, stars_from, others,
                 fingerprint(seen.key, slug, others, said_parts(seen.said), appearances),
                 hash_text(title, abstract, meta.authors))


def text_hash(paper: Paper) -> str:
    """Paper.text_hash, worked out here for a paper made without it."""
    return paper.text_hash or hash_text(paper.title, paper.abstract, paper.meta.authors)


def hash_text(title: str, abstract: str, authors: tuple[str, ...]) -> str:
    """Paper.text_hash: the paper's title, abstract and authors (as the search's author field
    has them: one text), hashed, lengths first, so no text forges a boundary."""
    names = " ".join(authors)
    text = f"{len(title)},{len(abstract)},{len(names)}\0{title}{abstract}{names}"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def said_parts(said: list[tuple[bool, str, Entry, str]]) -> tuple[str, ...]:
    return tuple([f"{dated}{digest}@{named}" for dated, digest, _, named in said])


def fingerprint(key: str, slug: str, others: tuple[str, ...], said: tuple[str, ...],
                appearances: tuple[Appearance, ...]) -> str:
    """Paper.fingerprint: what make_paper() is a function of. The entries are named by their
    hashes (reading.entry_hashes, with their digest and whether it is dated: said_parts), and
    an appearance's position is listed because it depends on the other dumps of its day; each
    appearance's other fields come from its entry and its dump's date and name, which its
    digest's slug spells."""
    parts = [key, slug, *others, "|", *said,
             "|", *(f"{appearance.digest}#{appearance.position}@{appearance.source}" for appearance in appearances)]
    text = "\0".join(parts).encode("utf-8", "surrogateescape")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def aliases(seen: Seen, names: Names, identities: Identities, keys_of: dict[str, str], slug: str) -> tuple[str, ...]:
    """The slugs this paper's other titles had as pages of their own, before an arXiv ID showed
    they are one paper (titles read without an ID could have): those pages now lead here, so
    no link to them breaks."""
    found = set()
    for _, _, entry, _ in seen.said:
        if entry.meta.arxiv_id:
            continue
        key = names.key(entry.title)
        if key != seen.key and keys_of.get(identities.find(f"t:{key}")) == seen.key:
            found.add(names.slug(entry.title))
    found.discard(slug)
    return tuple(sorted(found))


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


