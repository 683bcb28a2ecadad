"""What a digest may know about a paper beyond its title and abstract, and the rules that keep it safe.

The classic text dumps carry none of this; the current page's text carries upvotes, an
organisation or author count and a publication date; the API's JSON (and the saved page,
which embeds the same items) carries arXiv IDs, authors, links and more. Every reader fills
a `PaperMeta` with what it found, after the checks here: all of it is untrusted text from a
web page, so URLs must be http(s), IDs must look like arXiv IDs, and strings are cut to
lengths no real one reaches. The catalog then merges the metas of a paper's appearances
(`merge`), field by field, the most recent digest winning, as abstracts already do.
"""

from __future__ import annotations

import re
import operator
from dataclasses import dataclass, fields
from datetime import date
from typing import Iterable
from urllib.parse import urlsplit

# Longer than any real value (the longest arXiv title is ~400 characters, abstracts are capped
# at 1,920 by arXiv): past these, a string is cut, with a warning.
LIMITS = {"title": 1000, "abstract": 12000, "author": 200, "organization": 200, "keyword": 100,
          "ai_summary": 2000, "url": 2000}
MAX_AUTHORS = 500  # the ATLAS papers have ~3,000; a page listing them all helps nobody
MAX_KEYWORDS = 50

NEW_ID = re.compile(r"(?P<id>\d{4}\.\d{4,5})(?:v\d+)?")
OLD_ID = re.compile(r"(?P<id>[a-z][a-z.-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")


@dataclass(frozen=True)
class PaperMeta:
    """Everything beyond title and abstract; empty values mean "not known"."""

    arxiv_id: str = ""  # without version: 2401.01234
    authors: tuple[str, ...] = ()
    author_count: int | None = None  # "12 authors" on a text card, where the names are not given
    organization: str = ""
    published: date | None = None  # the paper's publication date (not the digest's)
    upvotes: int | None = None
    comments: int | None = None
    github: str = ""  # an http(s) URL, checked
    stars: int | None = None
    project: str = ""  # an http(s) URL, checked
    ai_summary: str = ""
    keywords: tuple[str, ...] = ()
    withdrawn: date | None = None

    def __bool__(self) -> bool:
        """Whether anything is known (a build asks this of every entry: a tuple compare, not
        the dataclass's field-by-field __eq__)."""
        return self is not NO_META and _values(self) != _EMPTY

    @property
    def authors_known(self) -> int:
        """How many authors the paper has, as far as anything says."""
        return len(self.authors) or self.author_count or 0


NO_META = PaperMeta()
FIELDS = tuple(field.name for field in fields(PaperMeta))
_values = operator.attrgetter(*FIELDS)
_EMPTY = _values(NO_META)


def merge(metas: Iterable[PaperMeta]) -> PaperMeta:
    """One meta from several, oldest first: each field from the last meta that knows it."""
    merged: dict[str, object] = {}
    for meta in metas:
        if meta is NO_META:  # every entry of a classic dump
            continue
        for name, value in zip(FIELDS, _values(meta)):
            if value is not None and value != "" and value != ():
                merged[name] = value
    if "authors" in merged:  # names beat a count from a card
        merged.pop("author_count", None)
    return PaperMeta(**merged) if merged else NO_META


def arxiv_id(value: object) -> str:
    """The arXiv ID in a value, without its version, or "" if it is not one."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    match = NEW_ID.fullmatch(text) or OLD_ID.fullmatch(text)
    return match["id"] if match else ""


def web_url(value: object) -> str:
    """The value if it is an http(s) URL with a host, short enough and free of spaces and
    control characters; otherwise "" (a `javascript:` or relative URL must never be a link)."""
    if not isinstance(value, str) or not value or len(value) > LIMITS["url"]:
        return ""
    if any(char.isspace() or ord(char) < 32 or char in "<>\"'`\\" for char in value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    return value if parts.scheme in ("http", "https") and parts.hostname else ""


def short_authors(meta: PaperMeta, shown: int = 2) -> str:
    """"A. Lovelace, A. Turing +3": the first authors with initials, and how many more."""
    names = [initials(name) for name in meta.authors[:shown]]
    more = meta.authors_known - len(names)
    if not names:
        return f"{more} author{'s' if more != 1 else ''}" if more else ""
    return ", ".join(names) + (f" +{more}" if more > 0 else "")


def initials(name: str) -> str:
    """"Ada Lovelace" -> "A. Lovelace"; a one-word name stays as it is."""
    parts = name.split()
    if len(parts) < 2:
        return name
    given = " ".join(f"{part[0]}." for part in parts[:-1] if part[0].isalpha())
    return f"{given} {parts[-1]}" if given else name


def freeze_meta(meta: PaperMeta) -> tuple | None:
    """A meta as marshal-able values (dates as ordinals), or None for the classic dumps' empty one."""
    if not meta:
        return None
    return tuple(value.toordinal() if isinstance(value, date) else value
                 for value in (getattr(meta, name) for name in FIELDS))


def thaw_meta(frozen: tuple | None) -> PaperMeta:
    if frozen is None:
        return NO_META
    if len(frozen) != len(FIELDS):
        raise ValueError("a meta of another format")
    values = dict(zip(FIELDS, frozen))
    for name in ("published", "withdrawn"):
        if values[name] is not None:
            values[name] = date.fromordinal(values[name])
    return PaperMeta(**values)
