"""A catalog kept from one build for the next, and extended by the digests added since.

Most builds of a growing archive add one day's digest to a thousand. Reading and merging every
dump again to find that out is most of what such a build does before rendering (0.9 s at
30,000 papers), so the build keeps the catalog's ledger (catalog.Ledger: the catalog, each
paper's first title and what each entry said of it) and, when the only change is new digests
dated after every digest it holds, grows it by reading those alone (extend_catalog). Anything
else (an edited, removed or undated dump, or an entry that would join two papers into one)
makes the catalog from every dump, as before. The two ways give equal catalogs: the tests grow
ledgers dump by dump and compare them with catalog_of on all the dumps.

The identity rules applied here are catalog.Identities', entry by entry: that class decides
for every entry at once, and a new entry can only add names to a paper or start one, so the
outcome of each case is known without its union-find (join() lists them).

Kept as items of a Memory (bytes by name): a head (which dump files, under which keys, the
ledger was made of, with their diagnostics; the digests) and the papers in parts by the month
they were first seen, each named by a hash of its papers, so a day's digest writes again the
part of this month and of the few months its repeated papers came from, not all of them.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from collections import defaultdict
from datetime import date
from typing import Iterable, Mapping

from generator.catalog import Appearance, Catalog, Digest, Ledger, Names, Paper, fingerprint, paper_slug, hash_text
from generator.diagnostics import Diagnostic, Level
from generator.metadata import NO_META, freeze_meta, merge, thaw_meta
from generator.reading import Dump, Entry, entry_hashes
from generator.store import Memory

VERSION = f"2 {sys.version}"  # of the format below (marshal's is specific to the Python version)


class Grown:
    """A paper of a ledger as extend_catalog grows it: the fields make_paper folds over its entries."""

    def __init__(self, paper: Paper | None, first_title: str, said: tuple[str, ...]) -> None:
        self.paper, self.first_title, self.said = paper, first_title, list(said)
        self.title = paper.title if paper else ""
        self.abstract = paper.abstract if paper else ""
        self.meta = paper.meta if paper else NO_META
        self.counts_from = paper.counts_from if paper else ""
        self.stars_from = paper.stars_from if paper else ""
        self.appearances = list(paper.appearances) if paper else []
        self.entries: list[Entry] = []  # the new ones

    def take(self, slug: str, entry: Entry, named: str) -> None:
        """One more entry, from a dated digest later than every one before (so it is the most
        recent to say anything: make_paper's `said` order)."""
        self.said.append(f"True{slug}@{named}")
        self.entries.append(entry)
        self.title = entry.title
        self.abstract = entry.abstract or self.abstract
        self.counts_from = slug if entry.meta.upvotes is not None else self.counts_from
        self.stars_from = slug if entry.meta.stars is not None else self.stars_from
        self.meta = merge((self.meta, entry.meta))

    def made(self, key: str, names: Names, index: Mapping[str, str]) -> Paper:
        if self.paper is not None:
            slug, found = self.paper.slug, set(self.paper.aliases)
        else:
            slug, found = names.slug(self.first_title) if "@" not in key else paper_slug(key, self.first_title), set()
        for entry in self.entries:  # make_paper's aliases, of the new entries
            title_key = names.key(entry.title)
            if not entry.meta.arxiv_id and title_key != key and index.get(f"t:{title_key}") == key:
                found.add(names.slug(entry.title))
        found.discard(slug)
        others, appearances, said = tuple(sorted(found)), tuple(self.appearances), tuple(self.said)
        return Paper(key, slug, self.title, self.abstract, appearances, self.meta, self.counts_from, self.stars_from,
                     others, fingerprint(key, slug, others, said, appearances),
                     hash_text(self.title, self.abstract, self.meta.authors))


def extend_catalog(ledger: Ledger, dumps: list[Dump], names: Names) -> Ledger | None:
    """The ledger of the ledger's dumps and `dumps` together, as catalog_of would make it, made
    by reading only `dumps`; or None where that would take more than adding to it: when a dump
    is undated or not later than every digest before it, or when an entry would join two papers
    into one (its arXiv ID naming one and its title another that has no ID)."""
    old = ledger.catalog
    last = old.digests[-1].date if old.digests else date.min
    if last is None or any(dump.date is None or dump.date <= last for dump in dumps):
        return None
    index, grown = dict(old.index), {}
    digests: dict[str, Digest] = {}
    ids = {}  # Paper.key -> the arXiv ID of its group, for those this extension gave one
    for dump in sorted(dumps, key=lambda dump: (dump.date, dump.source)):
        slug = dump.date.isoformat()
        keys = list(digests[slug].papers) if slug in digests else []
        for entry, named in zip(dump.entries, dump.hashes or entry_hashes(dump)):
            title_key, arxiv_id = names.key(entry.title), entry.meta.arxiv_id
            key = join(index, ids, old, title_key, arxiv_id)
            if key is None:
                return None
            if key not in grown:
                paper = old.find_paper(key)
                grown[key] = Grown(paper, ledger.firsts.get(key, entry.title), ledger.said.get(key, ()))
            grown[key].take(slug, entry, named)
            if key not in keys:
                grown[key].appearances.append(Appearance(slug, dump.date, dump.source, entry.line, len(keys), entry.meta.upvotes))
                keys.append(key)
        sources = digests[slug].sources if slug in digests else ()
        digests[slug] = Digest(slug, dump.date, sources + (dump.source,), tuple(keys))
    made = {key: paper.made(key, names, index) for key, paper in grown.items()}
    papers = [made.pop(paper.key, paper) for paper in old.papers]
    taken = {paper.slug for paper in papers}
    if any(paper.slug in taken for paper in made.values()) or len({paper.slug for paper in made.values()}) < len(made):
        return None  # a clash of slugs: catalog_of reports it
    papers = sorted(papers + list(made.values()), key=lambda paper: paper.slug)
    catalog = Catalog(tuple(papers), old.digests + tuple(digests.values()),
                      old.entries_read + sum(len(dump.entries) for dump in dumps), index)
    return Ledger(catalog, {**ledger.firsts, **{key: paper.first_title for key, paper in grown.items() if paper.paper is None}},
                  {**ledger.said, **{key: tuple(paper.said) for key, paper in grown.items()}})


def join(index: dict[str, str], ids: dict[str, str], old: Catalog, title_key: str, arxiv_id: str) -> str | None:
    """The paper an entry belongs to, by Identities' rules, noting its names in `index` (a new
    paper's key if it is new); None if the entry would join two papers into one."""
    by_title = index.get(f"t:{title_key}")
    if not arxiv_id:
        index.setdefault(f"t:{title_key}", title_key)
        return by_title or title_key
    by_id = index.get(f"a:{arxiv_id}")

    def id_of(key: str) -> str:
        found = old.find_paper(key)
        return ids.get(key) or (found.meta.arxiv_id if found else "")

    if by_id is not None:
        if by_title is None:
            index[f"t:{title_key}"] = by_id
        elif by_title != by_id and not id_of(by_title):
            return None  # the title's paper (no ID) would merge into the ID's
        return by_id
    if by_title is not None and not id_of(by_title):
        ids[by_title] = arxiv_id  # the title's paper gains this ID
        index[f"a:{arxiv_id}"] = by_title
        return by_title
    key = title_key if by_title is None else f"{title_key}@{arxiv_id}"
    index.setdefault(f"t:{title_key}", key)
    index[f"a:{arxiv_id}"] = key
    ids[key] = arxiv_id
    return key


Listed = tuple[str, str, tuple[Diagnostic, ...]]  # a dump file: (its name, its key, its diagnostics)


class CatalogMemory:
    """The last build's ledger in a Memory: which dumps it was made of (`dumps`), the ledger
    itself (ledger(), read only when asked), and remember() for the next build."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.parts: tuple[str, ...] = ()
        self.digests: list = []
        self.entries = 0
        self.dumps: dict[str, tuple[str, tuple[Diagnostic, ...]]] = {}  # name -> (key, diagnostics)
        try:
            self._read_head(memory.get("head"))
        except (ValueError, TypeError, EOFError):
            self.dumps = {}

    def _read_head(self, data: bytes | None) -> None:
        if data is None:
            return
        version, dumps, digests, entries, parts = marshal.loads(data)
        if version != VERSION:
            return
        self.dumps = {name: (key, tuple(Diagnostic(Level(level), path, line, message, hint)
                                        for level, path, line, message, hint in diagnostics))
                      for name, key, diagnostics in dumps}
        self.digests, self.entries, self.parts = digests, entries, tuple(parts)

    def ledger(self) -> Ledger | None:
        """The ledger the head names, or None if a part of it is missing or damaged."""
        found = [self.memory.get(name) for name in self.parts]
        if any(data is None for data in found):
            return None
        try:
            return thawed(self.digests, self.entries, [paper for data in found for paper in marshal.loads(data)])
        except (ValueError, TypeError, EOFError, KeyError):
            return None

    def remember(self, ledger: Ledger, dumps: Iterable[Listed]) -> None:
        """Keep `ledger`, made of `dumps`, for the next build (only a ledger extend_catalog can
        grow: one without undated digests). A part the last build kept is kept, not written."""
        catalog = ledger.catalog
        if any(digest.date is None for digest in catalog.digests):
            return
        nodes: dict[str, list[str]] = defaultdict(list)
        for node, key in catalog.index.items():
            nodes[key].append(node)
        months: dict[str, list[Paper]] = defaultdict(list)
        for paper in catalog.papers:
            months[paper.appearances[0].digest[:7]].append(paper)
        names = []
        for month, papers in sorted(months.items()):
            made_of = "\0".join([f"{paper.fingerprint}{sorted(nodes[paper.key])}" for paper in papers])
            name = f"papers-{month}-{hashlib.blake2b(made_of.encode('utf-8', 'surrogateescape'), digest_size=12).hexdigest()}"
            if name in self.parts:
                self.memory.keep(name)
            else:
                self.memory.put(name, marshal.dumps([frozen(paper, ledger, sorted(nodes[paper.key])) for paper in papers]))
            names.append(name)
        head = (VERSION, [(name, key, [(d.level.value, d.path, d.line, d.message, d.hint) for d in diagnostics])
                          for name, key, diagnostics in dumps],
                [(d.slug, d.date.toordinal(), d.sources, d.papers) for d in catalog.digests], catalog.entries_read, names)
        self.memory.put("head", marshal.dumps(head))


def frozen(paper: Paper, ledger: Ledger, nodes: list[str]) -> tuple:
    appearances = [(a.digest, a.date.toordinal(), a.source, a.line, a.position, a.upvotes) for a in paper.appearances]
    return (paper.key, paper.slug, paper.title, paper.abstract, appearances, freeze_meta(paper.meta), paper.counts_from,
            paper.stars_from, paper.aliases, paper.fingerprint, paper.text_hash, ledger.firsts[paper.key], ledger.said[paper.key],
            nodes)


def thawed(digests: list, entries: int, papers: list) -> Ledger:
    days: dict[int, date] = {}

    def day(ordinal: int) -> date:
        found = days.get(ordinal)
        if found is None:
            found = days[ordinal] = date.fromordinal(ordinal)
        return found

    made, firsts, said, index = [], {}, {}, {}
    for key, slug, title, abstract, appearances, meta, counts, stars, aliases, prints, text, first, parts, nodes in papers:
        made.append(Paper(key, slug, title, abstract,
                          tuple([Appearance(digest, day(when), source, line, position, upvotes)
                                 for digest, when, source, line, position, upvotes in appearances]),
                          thaw_meta(meta), counts, stars, tuple(aliases), prints, text))
        firsts[key], said[key] = first, tuple(parts)
        for node in nodes:
            index[node] = key
    made.sort(key=lambda paper: paper.slug)
    catalog = Catalog(tuple(made), tuple(Digest(slug, day(when), tuple(sources), tuple(keys))
                                         for slug, when, sources, keys in digests), entries, index)
    return Ledger(catalog, firsts, said)
