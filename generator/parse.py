"""Read one saved Daily Papers digest, whichever form it was saved in.

Four forms, told apart by the file's name and text (see reading.py for what they share):
- the classic text dump (the seeds): a short header, an optional date line, then
  title/abstract paragraphs; read here;
- the text the current page copies as, with cards of upvotes, authors and dates: cards.py;
- the API's JSON array (`.json`) and a saved web page (`.html`) embedding the same items:
  apidata.py.
Parsing is a pure function of the file's bytes and two settings (default year, explicit
date), so a parsed dump can be cached by content hash; it never raises on bad input.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import PurePath

from generator import apidata, cards
from generator.diagnostics import Diagnostic, error, warning
from generator.reading import (Dump, Entry, Ledger, Paragraph, decode, ends_sentence, normalise_header,
                               parse_date_line, split_paragraphs)

__all__ = ["Dump", "Entry", "Ledger", "SUFFIXES", "parse_dump"]

SUFFIXES = (".txt", ".json", ".html", ".htm")  # the files content/digests may hold

# Lines of the page chrome that precede the papers, compared after normalise_header().
HEADER_LINES = frozenset({
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "by ak and the research community",
    "byak and the research community",
})

# The longest title in the seeds is 172 characters, the shortest abstract over 1,300. A
# paragraph longer than this is no ordinary title: what follows it decides what it is.
TITLE_MAX_CHARS = 300
SENTENCE_BREAK = re.compile(r"[.!?][\"')\]]* +[A-Z]")  # one sentence ends, the next begins


def parse_dump(source: str, data: bytes, default_year: int | None = None,
               explicit_date: date | None = None, shown: str | None = None, ledger: Ledger | None = None) -> Dump:
    """Parse one dump. `shown` is the path used in messages (defaults to the file name);
    `ledger`, if given, is told what each line of a text dump became."""
    shown = shown or source
    suffix = PurePath(source).suffix.lower()
    if suffix == ".json":
        return apidata.parse_json(source, data, shown, explicit_date)
    if suffix in (".html", ".htm"):
        return apidata.parse_html(source, data, shown, explicit_date)
    text, problem = decode(data, shown)
    if problem:
        return Dump(source, explicit_date, (), (problem,))
    ledger = ledger if ledger is not None else Ledger()
    if cards.looks_like_cards(text):
        dated, date_line, entries, diagnostics = cards.read_cards(text, shown, default_year, ledger)
    else:
        found = read_classic(text, shown, default_year, ledger)
        if isinstance(found, Diagnostic):
            return Dump(source, explicit_date, (), (found,))
        dated, date_line, entries, diagnostics = found
    return finish(source, shown, explicit_date, dated, date_line, entries, diagnostics)


def finish(source: str, shown: str, explicit: date | None, dated: date | None, date_line: int | None,
           entries: list[Entry], diagnostics: list[Diagnostic]) -> Dump:
    """The dump's date (site.toml's wins over the file's, with a warning if they differ) and a
    warning for a file with no papers."""
    if explicit and dated and dated != explicit:
        diagnostics.append(warning(shown, date_line, f"site.toml dates this file {explicit.isoformat()} "
                                   f"but it says {dated.isoformat()}", "the site.toml date is used"))
    if not entries and not any(d.level.value == "error" for d in diagnostics):
        diagnostics.append(warning(shown, None, "no papers in this file", "nothing to add; remove it or re-save the page"))
    return Dump(source, explicit or dated, tuple(entries), tuple(diagnostics))


def read_classic(text: str, shown: str, default_year: int | None, ledger: Ledger):
    """The classic dump: (date, its line, entries, diagnostics), or the error that it is not one."""
    paragraphs = split_paragraphs(text)
    body_start, dated, diagnostics = read_header(paragraphs, shown, default_year, ledger)
    entries, more = pair_entries(paragraphs[body_start:], shown, ledger)
    if paragraphs and not recognisable(body_start > 0, entries):
        return error(shown, paragraphs[0].line, "no recognisable structure: no Daily Papers header and no abstracts",
                     "a dump is the page header, then title and abstract paragraphs separated by blank lines")
    date_line = paragraphs[body_start - 1].line if dated else None
    return dated, date_line, entries, diagnostics + more


def read_header(paragraphs: list[Paragraph], shown: str, default_year: int | None,
                ledger: Ledger) -> tuple[int, date | None, list[Diagnostic]]:
    """Skip the page chrome; return where the papers start, the date if any, and problems."""
    index = 0
    while index < len(paragraphs) and normalise_header(paragraphs[index].text) in HEADER_LINES:
        ledger.mark("header", paragraphs[index])
        index += 1
    if index < len(paragraphs):
        found = parse_date_line(paragraphs[index], shown, default_year)
        if found is not None:
            dated, problems = found
            ledger.mark("date", paragraphs[index])
            return index + 1, dated, problems
    return index, None, []


def pair_entries(paragraphs: list[Paragraph], shown: str,
                 ledger: Ledger | None = None) -> tuple[list[Entry], list[Diagnostic]]:
    """Title, abstract, title, abstract... read so that one broken paragraph cannot shift the rest.

    Two repairs, each decided by the paragraphs around it:
    - a paragraph in title position right after an abstract that reads as prose (see
      continuation()) continues that abstract, which was split in two;
    - a title followed by another title-like paragraph and then by an abstract lost its own
      abstract: it is kept with an empty one, and the next title keeps its abstract.
    """
    ledger = ledger if ledger is not None else Ledger()
    entries: list[Entry] = []
    diagnostics: list[Diagnostic] = []
    index = 0
    while index < len(paragraphs):
        head, after = paragraphs[index], paragraphs[index + 1:index + 3]
        repair = continuation(head, after[0] if after else None) if entries and entries[-1].abstract else None
        if repair:
            last = entries[-1]
            entries[-1] = Entry(last.title, f"{last.abstract}\n\n{head.text}", last.line)
            ledger.mark("abstract", head)
            if repair == "sentence":
                diagnostics.append(warning(shown, head.line, f"joined {head.text[:60]!r} to the abstract above",
                                           "it ends a sentence and is followed by a title; if it is a title, "
                                           "remove its final full stop"))
            index += 1
        elif len(head.text) > TITLE_MAX_CHARS and not long_title(head, after[0] if after else None):
            diagnostics.append(warning(shown, head.line, "skipped a paragraph of prose where a title was expected",
                                       "each paper is a title line, a blank line, then its abstract"))
            ledger.mark("warned", head)
            index += 1
        elif not after or (len(after) == 2 and title_like(after[0]) and prose(after[1])):
            diagnostics.append(warning(shown, head.line, f"title with no abstract: {head.text[:80]!r}",
                                       "kept with an empty abstract; the page was probably cut off here"))
            entries.append(Entry(head.text, "", head.line))
            ledger.mark("warned", head)
            index += 1
        else:
            if len(head.text) > TITLE_MAX_CHARS:
                diagnostics.append(warning(shown, head.line, f"an unusually long title ({len(head.text)} characters): "
                                           f"{head.text[:60]!r}", "read as a title because it ends no sentence and "
                                           "prose follows it; if it is part of the abstract above, join the two"))
            entries.append(Entry(head.text, after[0].text, head.line))
            ledger.mark("title", head)
            ledger.mark("abstract", after[0])
            index += 2
    return entries, diagnostics


def prose(paragraph: Paragraph) -> bool:
    """Reads like an abstract: longer than any ordinary title."""
    return len(paragraph.text) > TITLE_MAX_CHARS


def long_title(paragraph: Paragraph, following: Paragraph | None) -> bool:
    """A paragraph too long for an ordinary title is still one when it holds no sentence end
    at all (prose of that length always does) and an abstract follows it."""
    return not ends_sentence(paragraph) and not SENTENCE_BREAK.search(paragraph.text) \
        and following is not None and prose(following)


def title_like(paragraph: Paragraph) -> bool:
    """Titles are short and never end with a full stop (none of the seeds' 232 does)."""
    return len(paragraph.text) <= TITLE_MAX_CHARS and not ends_sentence(paragraph)


def continuation(paragraph: Paragraph, following: Paragraph | None) -> str | None:
    """Why this paragraph, standing where a title should, is the tail of the previous abstract.

    "length": too long for an ordinary title, and either it ends a sentence or what follows it
    is no abstract (a title, or nothing): an abstract's second half, silently joined. A long
    paragraph that ends no sentence and is followed by prose is an unusually long title.
    "sentence": it ends a sentence and the next paragraph is too short to be its abstract
    (announced with a warning, since a title written with a full stop would read the same
    way). None: it is a title.
    """
    if len(paragraph.text) > TITLE_MAX_CHARS:
        return None if long_title(paragraph, following) else "length"
    if ends_sentence(paragraph) and (following is None or len(following.text) <= TITLE_MAX_CHARS):
        return "sentence"
    return None


def recognisable(header_found: bool, entries: list[Entry]) -> bool:
    """A dump has the page header, or at least one paragraph that reads like an abstract."""
    return header_found or any(len(entry.abstract) > TITLE_MAX_CHARS or ends_sentence(Paragraph(entry.abstract, 0))
                               for entry in entries)
