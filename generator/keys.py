"""The keys of output files: a hash of exactly what they are made of (engine.py asks; write.py
compares with the last build), so that an unchanged page is neither rendered nor written again."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import operator
from dataclasses import dataclass
from typing import Callable

from generator.catalog import Catalog, Digest, Paper
from generator.metadata import NO_META, PaperMeta


@dataclass(frozen=True)
class Neighbour:
    """A paper as a link to it: all a page shows of a paper next to it."""

    slug: str
    title: str


@dataclass(frozen=True)
class Lineup:
    """A digest's papers as links, in order: what a paper page needs to show the papers before
    and after it in each of its digests. One per digest, shared by the pages of all its papers,
    so a build spells it once (not twice for each of its papers' pages)."""

    digest: str  # Digest.slug
    links: tuple[Neighbour, ...]


class Keys:
    """Keys from inputs: a hash of every field of every input, plus a salt for everything shared
    (generator, theme, settings, hand pages, topic taxonomy).

    Fields are read generically from the dataclasses, so a field added later is covered without
    anyone remembering to add it here. The objects that recur across many pages are spelled
    once each: a paper (by its fingerprint and the digests it was in, see catalog.Paper), a
    digest, a neighbour link, a digest's lineup."""

    def __init__(self, catalog: Catalog, salt: str):
        self.catalog = catalog
        self.salt = hashlib.blake2b(salt.encode("utf-8", "surrogateescape"), digest_size=16)
        self.digests = {digest.slug: self.hash(f"d{flatten(digest)}") for digest in catalog.digests}
        self.papers: dict[str, str] = {}  # Paper.key -> what a key says of it
        self.neighbours: dict[str, str] = {}  # Neighbour.slug -> what a key says of it
        self.lineups: dict[int, tuple[Lineup, str]] = {}  # id() -> (the lineup, what a key says of it)
        self.spellers: dict[type, Callable[[object], str]] = {str: spell_text}

    def key(self, paths: tuple[str, ...], inputs: tuple) -> str:
        return self.hash(f"{paths!r}{self.part(inputs)}")

    def part(self, value: object) -> str:
        """An input as an unambiguous string (see flatten), with papers, digests and neighbours
        spelled by what was worked out for them once."""
        return (self.spellers.get(type(value)) or self.learn(type(value)))(value)

    def sequence(self, value: tuple | list) -> str:
        """A tuple or list, each item spelled by its type's speller (called directly: a paper
        page's inputs are ~10 values in nested tuples, and a build spells 30,000 of them)."""
        spellers = self.spellers
        return "(" + ",".join([(spellers.get(type(item)) or self.learn(type(item)))(item) for item in value]) + ")"

    def learn(self, kind: type) -> Callable[[object], str]:
        speller = self.spellers[kind] = self.speller(kind)
        return speller

    def speller(self, kind: type) -> Callable[[object], str]:
        """How to spell a value of one type (worked out once per type: most inputs are of a few)."""
        if kind is tuple or kind is list:
            return self.sequence
        if kind is Paper:
            return self.paper
        if kind is Digest:
            return lambda digest: self.digests[digest.slug]
        if kind is Neighbour:
            return self.neighbour
        if kind is Lineup:
            return self.lineup
        if kind is dict:
            return lambda value: "{" + ",".join([f"{self.part(name)}={self.part(item)}" for name, item in value.items()]) + "}"
        if kind is PaperMeta:
            return lambda meta: NO_META_TEXT if meta is NO_META else "<" + ",".join([self.part(item) for item in field_values(kind)(meta)]) + ">"
        if dataclasses.is_dataclass(kind):
            fields = field_values(kind)
            return lambda value: "<" + ",".join([self.part(item) for item in fields(value)]) + ">"
        return repr

    def neighbour(self, link: Neighbour) -> str:
        text = self.neighbours.get(link.slug)
        if text is None:
            text = self.neighbours[link.slug] = flatten(link)
        return text

    def lineup(self, lineup: Lineup) -> str:
        """Spelled once per object (held here, so its id() is not reused while it is known)."""
        found = self.lineups.get(id(lineup))
        if found is None:
            text = self.hash("l" + flatten(lineup))
            found = self.lineups[id(lineup)] = (lineup, text)
        return found[1]

    def paper(self, paper: Paper) -> str:
        """What lists of papers show of a paper: the paper itself and the digests it was in."""
        found = self.papers.get(paper.key)
        if found is None:
            made_of = paper.fingerprint or flatten(paper)
            found = self.papers[paper.key] = self.hash(
                made_of + "".join([self.digests[appearance.digest] for appearance in paper.appearances]))
        return found

    def hash(self, text: str) -> str:
        digest = self.salt.copy()
        digest.update(text.encode("utf-8", "surrogateescape"))
        return digest.hexdigest()


def spell_text(text: str) -> str:
    return f"{len(text)}:{text}"


def flatten(value: object) -> str:
    """A dataclass (with nested dataclasses and tuples of them) as one unambiguous string:
    strings are length-prefixed and other leaves are repr()s, so no text can forge a separator."""
    parts = []
    for field in field_values(type(value))(value):
        kind = type(field)
        if kind is str:
            parts.append(f"{len(field)}:{field}")
        elif kind is tuple:
            parts.append("(" + ",".join([f"{len(item)}:{item}" if type(item) is str else flatten(item)
                                         for item in field]) + ")")
        elif field is NO_META:  # what most papers hold: spelled out once, not for each of them
            parts.append(NO_META_TEXT)
        elif dataclasses.is_dataclass(field):
            parts.append(flatten(field))
        else:
            parts.append(repr(field))
    return "{" + ",".join(parts) + "}"


NO_META_TEXT = ""  # set below, once flatten can spell it


@functools.cache
def field_values(kind: type) -> Callable[[object], tuple]:
    """A function giving every field of a dataclass, in order, as a tuple."""
    names = [field.name for field in dataclasses.fields(kind)]
    getter = operator.attrgetter(*names)
    return getter if len(names) > 1 else lambda value: (getter(value),)


NO_META_TEXT = flatten(NO_META)
