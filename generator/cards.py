"""Read the text the current Daily Papers page copies as: page chrome, the digest's date, then
one card per paper.

A card, as "select all, copy" gives it, is the upvote count ("-" for none), the title, the
abstract, the organisation's name or "N authors", a line that is just "·", the paper's
publication date and, if anyone commented, the comment count. Where the browser puts line
breaks and blank lines varies (a card may be one paragraph, or each part its own), so the
reader works on lines and uses paragraphs only to join an abstract's lines.

The "·" line is the anchor, because nothing else on the page is just that: the line before it
is the organisation (unless it reads as the end of an abstract), the line after it the date.
Between one card's date and the next card's organisation lie [comments] [upvotes] title
abstract..., and bare numbers there are told apart by how many follow each other. A line that
fits nowhere is skipped with a warning naming it: nothing read is dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Iterator

from generator.diagnostics import Diagnostic, warning
from generator.metadata import LIMITS, PaperMeta
from generator.reading import (MONTH_DAY, SENTENCE_END, Entry, Ledger, Paragraph, clean_line, normalise_header,
                               parse_date_line)

DOT = "·"
# An upvote or comment count. At most 7 digits: a longer run of digits is text, and int() of a
# megabyte of digits would raise.
COUNT = re.compile(r"-|\d{1,7}|\d{1,3}(?:,\d{3}){1,2}")
AUTHORS = re.compile(r"(?P<count>\d{1,6}) authors?", re.IGNORECASE)
# "OCC · Feb 27, 2025" on one line, as some browsers copy a card's foot.
GLUED = re.compile(r"(?P<org>.*)·\s*(?P<date>\S.*)")
# Per-card chrome that is no part of a paper; skipped (with a warning) wherever it stands.
CHROME = re.compile(r"submitted by\b.{0,100}", re.IGNORECASE)
# An organisation's name is short and ends no sentence, unless in an abbreviation ("Meta Inc.").
ORG_MAX_CHARS = 150
ABBREVIATION = re.compile(r"\b(?:Inc|Ltd|Co|Corp|LLC|Univ|Inst)\.$")

# The page chrome before the cards, compared after normalise_header().
HEADER_LINES = frozenset({
    "get trending papers in your email inbox once a day!", "get trending papers in your email inbox!",
    "subscribe", "new", "by ak and the research community", "byak and the research community",
    "daily papers", "trending papers", "daily", "weekly", "monthly",
})
TABS = re.compile(r"(?:daily|weekly|monthly)(?: ?(?:daily|weekly|monthly))+")  # "Daily Weekly Monthly"
# Chrome only the current page has: any of it tells this form from the classic dump.
MARKERS = frozenset({"get trending papers in your email inbox once a day!", "trending papers"})


@dataclass(frozen=True)
class Line:
    """One non-blank line, cleaned; `paragraph` numbers the blank-line separated runs."""

    text: str
    number: int
    paragraph: int


@dataclass
class Card:
    """A card as it is read; comments arrive only after the card itself has been read."""

    title: Line
    abstract: list[Line]
    upvotes: int | None = None
    organization: str = ""
    author_count: int | None = None
    published: date | None = None
    comments: int | None = None


def looks_like_cards(text: str) -> bool:
    """True for the current page's text: a "·" line before a date, or chrome the classic page
    never had. The classic dumps' header ("Get trending papers in your email inbox!") is shared
    by both, so it decides nothing, and nor does a "·" inside a line, which a title may hold.
    Stops at the first sign, which is near the top of a page."""
    recent: list[str] = []  # the two lines before this one, normalised
    for line in cleaned(text):
        head = normalise_header(line.text)
        if head in MARKERS or TABS.fullmatch(head) or [*recent, head] == ["daily", "weekly", "monthly"]:
            return True
        if recent[-1:] == [DOT] and is_date(line.text):
            return True
        recent = [*recent[-1:], head]
    return False


def read_cards(text: str, shown: str, default_year: int | None,
               ledger: Ledger) -> tuple[date | None, int | None, list[Entry], list[Diagnostic]]:
    """(the digest's date, its line, the papers, diagnostics); never raises on bad input."""
    reader = Reader(shown, ledger, default_year)
    lines = [line for line in lines_of(text) if not reader.skipped_chrome(line)]
    start, date_line = reader.read_header(lines)
    reader.read_body(lines, start)
    entries = [reader.entry(card) for card in reader.cards]
    return reader.digest, date_line, entries, reader.diagnostics


def lines_of(text: str) -> Iterator[Line]:
    """The lines a card is read from: a card's foot glued onto one line ("OCC · May 29")
    becomes its three parts, each with that line's number."""
    for line in cleaned(text):
        yield from unglue(line)


def cleaned(text: str) -> Iterator[Line]:
    """The non-blank lines, cleaned and numbered as the ledger numbers them."""
    paragraph = 0
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        text_line = clean_line(raw)
        if text_line:
            yield Line(text_line, number, paragraph)
        else:
            paragraph += 1


def unglue(line: Line) -> list[Line]:
    """Split "org · date" only when what follows the dot is a date: a "·" inside a title stays."""
    match = GLUED.fullmatch(line.text) if DOT in line.text and line.text != DOT else None
    if not match or not is_date(match["date"]):
        return [line]
    return [Line(part, line.number, line.paragraph) for part in (match["org"].strip(), DOT, match["date"]) if part]


def is_date(text: str) -> bool:
    """Shaped like a date ("May 29", "Feb 27, 2025", "2025-02-27"), possible or not (2000 is a
    leap year, so a yearless "Feb 29" is shaped like one too)."""
    return parse_date_line(Paragraph(text, 0), "", 2000) is not None


def is_count(line: Line) -> bool:
    return bool(COUNT.fullmatch(line.text))


def count_value(line: Line) -> int | None:
    return None if line.text == "-" else int(line.text.replace(",", ""))


def is_header(text: str) -> bool:
    head = normalise_header(text)
    return head in HEADER_LINES or bool(TABS.fullmatch(head))


def org_like(line: Line) -> bool:
    """Could be the organisation or "N authors" line: short, no count, and not the last line of
    an abstract (which ends a sentence)."""
    text = line.text
    return (not is_count(line) and len(text) <= ORG_MAX_CHARS
            and (not SENTENCE_END.search(text) or bool(ABBREVIATION.search(text))))


def split_groups(segment: list[Line]) -> list[tuple[list[Line], list[Line]]]:
    """(counts, text lines) runs: a count after text starts a new card, since no title or
    abstract line is a bare number."""
    groups: list[tuple[list[Line], list[Line]]] = []
    for line in segment:
        counting = is_count(line)
        if not groups or (counting and groups[-1][1]):
            groups.append(([], []))
        groups[-1][0 if counting else 1].append(line)
    return groups


def join_abstract(lines: list[Line]) -> str:
    """Lines of one paragraph join with a space, paragraphs with a blank line (as parse.py
    joins a split abstract)."""
    text = ""
    for previous, line in zip([None, *lines], lines):
        glue = "" if previous is None else " " if previous.paragraph == line.paragraph else "\n\n"
        text += glue + line.text
    return text


class Reader:
    """One dump being read: the ledger, the diagnostics so far and the cards found, in order."""

    def __init__(self, shown: str, ledger: Ledger, default_year: int | None) -> None:
        self.shown = shown
        self.ledger = ledger
        self.default_year = default_year
        self.digest: date | None = None
        self.cards: list[Card] = []
        self.diagnostics: list[Diagnostic] = []

    def mark(self, role: str, line: Line) -> None:
        self.ledger.mark(role, Paragraph(line.text, line.number))

    def warn(self, line: Line, message: str, hint: str) -> None:
        self.diagnostics.append(warning(self.shown, line.number, message, hint))

    def skip(self, line: Line, message: str, hint: str) -> None:
        self.mark("warned", line)
        self.warn(line, f"{message}: {line.text[:60]!r}", hint)

    def skipped_chrome(self, line: Line) -> bool:
        if not CHROME.fullmatch(line.text):
            return False
        self.skip(line, "skipped page chrome", "it is no part of a paper")
        return True

    def read_header(self, lines: list[Line]) -> tuple[int, int | None]:
        """Mark the chrome and the date heading; return where the cards start and the date's line.

        The header runs to its last known line (or the date) before the first count or "·", so
        whatever else stands there (the site's menu, when the whole page was copied) is skipped
        with a warning instead of ending the header early and hiding the date."""
        limit = next((index for index, line in enumerate(lines) if is_count(line) or line.text == DOT), len(lines))
        known = [index for index in range(limit) if is_header(lines[index].text) or is_date(lines[index].text)]
        end = known[-1] + 1 if known else 0
        date_line = None
        for line in lines[:end]:
            if is_header(line.text):
                self.mark("header", line)
            elif date_line is None and is_date(line.text):
                self.digest, problems = parse_date_line(Paragraph(line.text, line.number), self.shown,
                                                        self.default_year) or (None, [])
                self.diagnostics.extend(problems)
                date_line = line.number
                self.mark("date", line)
            else:
                self.skip(line, "skipped page chrome", "it is no part of a paper")
        return end, date_line

    def read_body(self, lines: list[Line], start: int) -> None:
        """Cut the lines at each "·": before it the card's text, around it the card's foot."""
        position, previous = start, None
        for anchor in (index for index in range(start, len(lines)) if lines[index].text == DOT):
            org = anchor - 1 if anchor > position and org_like(lines[anchor - 1]) else None
            dated = anchor + 1 if anchor + 1 < len(lines) and is_date(lines[anchor + 1].text) else None
            previous = self.read_segment(lines[position:anchor if org is None else org], previous, True)
            foot = [lines[org] if org is not None else None, lines[anchor], lines[dated] if dated else None]
            self.read_foot(previous, *foot)
            position = (dated or anchor) + 1
        self.read_segment(lines[position:], previous, False)

    def read_segment(self, segment: list[Line], previous: Card | None, anchored: bool) -> Card | None:
        """[previous card's comments] then cards: [upvotes] title abstract. The last card is the
        one the next "·" belongs to (if `anchored`); any before it lost their "·". Returns that
        last card, or None if it has no title."""
        segment = self.take_comments(segment, previous)
        groups = split_groups(segment)
        card = None
        for index, (counts, body) in enumerate(groups):
            card = self.read_group(counts, body, anchored and index == len(groups) - 1)
        return card if anchored else None

    def take_comments(self, segment: list[Line], previous: Card | None) -> list[Line]:
        """A count right after a card is its comment count if another count follows it, or
        nothing at all (the end of the file); a lone count before a title is the next upvotes."""
        run = next((index for index, line in enumerate(segment) if not is_count(line)), len(segment))
        if previous is None or run == 0 or (run == 1 and len(segment) > 1):
            return segment
        previous.comments = count_value(segment[0])
        self.mark("card", segment[0])
        return segment[1:]

    def read_group(self, counts: list[Line], body: list[Line], anchored: bool) -> Card | None:
        """A card needs a title, and an upvote count or a "·" after it to tell it from stray text."""
        for extra in counts[:-1]:
            self.skip(extra, "skipped a number where no card field belongs", "a card has one upvote count")
        if not body:
            for line in counts[-1:]:
                self.skip(line, "skipped a count with no card after it", "a card is upvotes, title, abstract")
            return None
        if not counts and not anchored:
            for line in body:
                self.skip(line, "skipped text outside any card", "it has no upvote count before it and no '·' after")
            return None
        card = Card(body[0], body[1:], count_value(counts[-1]) if counts else None)
        for role, lines in (("card", counts[-1:]), ("title", body[:1]), ("abstract", body[1:])):
            for line in lines:
                self.mark(role, line)
        self.cards.append(card)
        if not anchored:
            self.read_lost_foot(card)
        return card

    def read_foot(self, card: Card | None, org: Line | None, dot: Line, dated: Line | None) -> None:
        """The organisation, "·" and publication date of the card before them."""
        parts = [line for line in (org, dot, dated) if line]
        if card is None:
            for line in parts:
                self.skip(line, "skipped the foot of a card with no title", "a card is upvotes, title, abstract, "
                          "organisation, '·', date")
            return
        for line in parts:
            self.mark("card", line)
        if org:
            self.set_org(card, org)
        if dated:
            card.published = self.published(dated)
        else:
            self.warn(dot, f"no publication date after the '·' of {card.title.text[:60]!r}",
                      "the paper is kept without one")

    def read_lost_foot(self, card: Card) -> None:
        """A card with no "·" (the next card's upvotes follow it, or the file ends): take its
        date and organisation from where they would stand, at the end."""
        self.warn(card.title, f"no '·' line after the card {card.title.text[:60]!r}",
                  "kept; its organisation and date are read from its last lines, if they look like them")
        if card.abstract and is_date(card.abstract[-1].text):
            dated = card.abstract.pop()
            self.mark("card", dated)
            card.published = self.published(dated)
        if len(card.abstract) >= 2 and org_like(card.abstract[-1]):
            org = card.abstract.pop()
            self.mark("card", org)
            self.set_org(card, org)

    def set_org(self, card: Card, line: Line) -> None:
        authors = AUTHORS.fullmatch(line.text)
        if authors:
            card.author_count = int(authors["count"])
        else:
            card.organization = line.text

    def published(self, line: Line) -> date | None:
        """A yearless publication date is in the digest's year, or the year before if it would
        fall after the digest; with no digest date, in default_year; with no year at all, unknown."""
        match = MONTH_DAY.fullmatch(line.text)
        if not match or match["year"]:
            years: list[int | None] = [None]
        elif self.digest:
            years = [self.digest.year, self.digest.year - 1]
        else:
            years = [] if self.default_year is None else [self.default_year]
        for year in years:
            found = parse_date_line(Paragraph(line.text, line.number), self.shown, year)
            dated = found[0] if found else None
            if dated and (year is None or self.digest is None or dated <= self.digest):
                return dated
        if years:
            self.warn(line, f"{line.text!r} is not a real publication date", "the paper is kept without one")
        return None

    def entry(self, card: Card) -> Entry:
        meta = PaperMeta(author_count=card.author_count, organization=card.organization, published=card.published,
                         upvotes=card.upvotes, comments=card.comments)
        abstract = join_abstract(card.abstract)
        if not abstract:
            self.warn(card.title, f"title with no abstract: {card.title.text[:80]!r}",
                      "kept with an empty abstract; the page was probably cut off here")
        return Entry(self.cut(card.title, card.title.text, "title"), self.cut(card.title, abstract, "abstract"),
                     card.title.number, meta)

    def cut(self, line: Line, text: str, what: str) -> str:
        """Longer than any real one: cut, so one broken line cannot bloat every page it is on."""
        if len(text) <= LIMITS[what]:
            return text
        self.warn(line, f"cut the {what} ({len(text):,} characters) to {LIMITS[what]:,}",
                  "no real one is this long; check the file around this line")
        return text[:LIMITS[what]]
