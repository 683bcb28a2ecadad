"""The keys of pages: a hash of exactly what a page is made of, so that an unchanged page is
neither rendered nor written again (render.py asks; write.py compares with the last build)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import operator
from dataclasses import dataclass
from typing import Callable, Mapping

from generator.catalog import Appearance, Catalog, Digest, Paper
from generator.metadata import NO_META


@dataclass(frozen=True)
class Neighbour:
    """A paper as a link to it: all a page shows of a paper next to it."""

    slug: str
    title: str


@dataclass(frozen=True)
class Around:
    """A paper's place in one digest, as its page shows it: the papers before and after it.
    (PageKeys.around_text writes each of these fields into the page's key.)"""

    digest: str  # Digest.slug
    previous: Neighbour | None
    next: Neighbour | None


class PageKeys:
    """The key of a paper or digest page: a hash of every field of every object its template is
    given (the paper, its digests, its neighbours there, its related papers), plus a salt for
    everything shared (generator, theme, settings, hand pages, topic taxonomy).

    Fields are read generically from the dataclasses, so a field added later is covered
    without anyone remembering to add it here. A paper's text is hashed once and reused by
    each digest page that lists it."""

    def __init__(self, catalog: Catalog, salt: str, related: Callable[[], Mapping[str, tuple[str, ...]]] | None = None):
        self.catalog = catalog
        self._related = related or dict
        self.related_found: Mapping[str, tuple[str, ...]] | None = None
        self.salt = hashlib.blake2b(salt.encode("utf-8", "surrogateescape"), digest_size=16)
        self.digest_hash = {digest.slug: self.hash("d", flatten(digest)) for digest in catalog.digests}
        self.contents: dict[str, str] = {}  # Paper.key -> hash of the paper and its digests
        self.papers: dict[str, str] = {}  # Paper.key -> key of its page
        self.neighbours: dict[str, str] = {}  # Paper.key -> flatten() of it as a Neighbour

    def related(self) -> Mapping[str, tuple[str, ...]]:
        """Each paper's related papers, asked for only when a paper page's key is first needed:
        they may still be being computed in another process (build.py) until then."""
        if self.related_found is None:
            self.related_found = self._related()
        return self.related_found

    def content(self, paper: Paper) -> str:
        """What lists of papers (digest and topic pages) show of a paper: the paper itself and
        the digests it was in."""
        key = self.contents.get(paper.key)
        if key is None:
            digests = "".join([self.digest_hash[appearance.digest] for appearance in paper.appearances])
            key = self.contents[paper.key] = self.hash("paper", flatten(paper) + digests)
        return key

    def paper(self, paper: Paper) -> str:
        """A paper page's key: its content, the papers next to it in each digest, its related papers."""
        key = self.papers.get(paper.key)
        if key is None:
            around = "".join([self.around_text(appearance) for appearance in paper.appearances])
            related = "".join([self.neighbour_text(other) for other in self.related().get(paper.key, ())])
            key = self.papers[paper.key] = self.hash("page", f"{self.content(paper)}{around}[{related}]")
        return key

    def around_text(self, appearance: Appearance) -> str:
        """What around(appearance) holds, as text, from each neighbour's text worked out once:
        every field of Around (its digest, and each neighbour or its absence)."""
        papers = self.catalog.digest(appearance.digest).papers
        at = appearance.position
        before = self.neighbour_text(papers[at - 1]) if at > 0 else "-"
        after = self.neighbour_text(papers[at + 1]) if at + 1 < len(papers) else "-"
        return f"{len(appearance.digest)}:{appearance.digest}{before}{after}"

    def neighbour_text(self, key: str) -> str:
        text = self.neighbours.get(key)
        if text is None:
            text = self.neighbours[key] = flatten(self.neighbour(key))
        return text

    def around(self, appearance: Appearance) -> Around:
        """The papers before and after this one in a digest, for a paper page's digest navigation."""
        papers = self.catalog.digest(appearance.digest).papers
        at = appearance.position
        return Around(appearance.digest, self.neighbour(papers[at - 1]) if at > 0 else None,
                      self.neighbour(papers[at + 1]) if at + 1 < len(papers) else None)

    def neighbour(self, key: str) -> Neighbour:
        paper = self.catalog.paper(key)
        return Neighbour(paper.slug, paper.title)

    def digest(self, digest: Digest, older: Digest | None, newer: Digest | None) -> str:
        around = "".join(self.digest_hash[d.slug] if d else "-" for d in (older, newer))
        papers = "".join([self.content(self.catalog.paper(key)) for key in digest.papers])
        return self.hash("digest", self.digest_hash[digest.slug] + around + papers)

    def hash(self, kind: str, text: str) -> str:
        digest = self.salt.copy()
        digest.update(f"{kind}\0{text}".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()


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
