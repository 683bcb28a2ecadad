"""Read one saved Daily Papers page: header, optional date, then title/abstract paragraphs.

Parsing is a pure function of the file's bytes and two settings (default year, explicit
date), so a parsed dump can be cached by content hash. Problems come back as diagnostics
that name the file and line; the parser never raises on bad input.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from generator.diagnostics import Diagnostic, error, warning

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
# paragraph longer than this right after an abstract is that abstract's second half.
TITLE_MAX_CHARS = 300

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
MONTHS["sept"] = 9

MONTH_DAY = re.compile(r"(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:(?:,\s*|\s+)(?P<year>\d{4}))?")
ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})")
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
# C0 control bytes other than tab/newline/CR (and form feed/vertical tab, which copy-paste
# can carry): text dumps never contain them, binaries nearly always do.
BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


@dataclass(frozen=True)
class Entry:
    """One title/abstract pair as it stands in a dump."""

    title: str
    abstract: str
    line: int  # line of the title, 1-based


@dataclass(frozen=True)
class Dump:
    """One input file, parsed. `date` is None for a dump that carries no date."""

    source: str  # file name, unique within content/digests
    date: date | None
    entries: tuple[Entry, ...]
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class Paragraph:
    text: str
    line: int


def parse_dump(source: str, data: bytes, default_year: int | None = None,
               explicit_date: date | None = None, shown: str | None = None) -> Dump:
    """Parse one dump. `shown` is the path used in messages (defaults to the file name)."""
    shown = shown or source
    text, problem = decode(data, shown)
    if problem:
        return Dump(source, explicit_date, (), (problem,))
    paragraphs = split_paragraphs(text)
    body_start, dated, diagnostics = read_header(paragraphs, shown, default_year)
    entries, more = pair_entries(paragraphs[body_start:], shown)
    if paragraphs and not recognisable(body_start > 0, entries):
        return Dump(source, explicit_date, (), (error(
            shown, paragraphs[0].line, "no recognisable structure: no Daily Papers header and no abstracts",
            "a dump is the page header, then title and abstract paragraphs separated by blank lines"),))
    diagnostics += more
    if explicit_date and dated and dated != explicit_date:
        diagnostics.append(warning(shown, paragraphs[body_start - 1].line,
                                   f"site.toml dates this file {explicit_date.isoformat()} but it says {dated.isoformat()}",
                                   "the site.toml date is used"))
    if not entries and not any(d.level.value == "error" for d in diagnostics):
        diagnostics.append(warning(shown, None, "no papers in this file", "nothing to add; remove it or re-save the page"))
    return Dump(source, explicit_date or dated, tuple(entries), tuple(diagnostics))


def decode(data: bytes, shown: str) -> tuple[str, Diagnostic | None]:
    """UTF-8 (with or without BOM) to text with every line ending as \\n.

    Binary data is recognised first (by control bytes text never holds), so a stray image
    is reported as "not a dump" rather than as a text file with a bad encoding.
    """
    binary = BINARY_BYTES.search(data)
    if binary:
        line = data.count(b"\n", 0, binary.start()) + 1
        return "", error(shown, line, f"this is not a text dump (binary control byte {data[binary.start():binary.start() + 1]!r} "
                         f"at byte {binary.start()})",
                         "only saved Daily Papers pages belong in content/digests")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return "", error(shown, line, f"not valid UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 1]!r})",
                         "re-save the file as UTF-8")
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def clean_line(line: str) -> str:
    """Fold tabs, non-breaking and other unicode spaces into single spaces."""
    return " ".join(line.split())


def split_paragraphs(text: str) -> list[Paragraph]:
    """Blank-line separated paragraphs; lines inside one paragraph join with a space."""
    paragraphs: list[Paragraph] = []
    lines: list[str] = []
    start = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        line = clean_line(raw)
        if line:
            if not lines:
                start = number
            lines.append(line)
        elif lines:
            paragraphs.append(Paragraph(" ".join(lines), start))
            lines = []
    if lines:
        paragraphs.append(Paragraph(" ".join(lines), start))
    return paragraphs


def normalise_header(text: str) -> str:
    return " ".join(text.casefold().split())


def read_header(paragraphs: list[Paragraph], shown: str,
                default_year: int | None) -> tuple[int, date | None, list[Diagnostic]]:
    """Skip the page chrome; return where the papers start, the date if any, and problems."""
    index = 0
    while index < len(paragraphs) and normalise_header(paragraphs[index].text) in HEADER_LINES:
        index += 1
    if index < len(paragraphs):
        found = parse_date_line(paragraphs[index], shown, default_year)
        if found is not None:
            dated, problems = found
            return index + 1, dated, problems
    return index, None, []


def parse_date_line(paragraph: Paragraph, shown: str,
                    default_year: int | None) -> tuple[date | None, list[Diagnostic]] | None:
    """None if the paragraph is not a date line; else the date, or the reason it is impossible."""
    text = paragraph.text
    iso = ISO_DATE.fullmatch(text)
    match = iso or MONTH_DAY.fullmatch(text)
    if not match:
        return None
    if iso:
        month = int(match["month"])
    else:
        month = MONTHS.get(match["month"].lower())
        if month is None:
            return None  # "Phase 2" is a title, not a date
    day = int(match["day"])
    year = int(match["year"]) if match["year"] else default_year
    if year is None:
        return None, [error(shown, paragraph.line, f"the date {text!r} has no year and no default is set",
                            "add default_year to site.toml or write the year, e.g. 'Mar 14, 2025'")]
    try:
        return date(year, month, day), []
    except ValueError:
        return None, [error(shown, paragraph.line, f"{text!r} is not a real date in {year}",
                            "correct the date line")]


def pair_entries(paragraphs: list[Paragraph], shown: str) -> tuple[list[Entry], list[Diagnostic]]:
    """Title, abstract, title, abstract... read so that one broken paragraph cannot shift the rest.

    Two repairs, each decided by the paragraphs around it:
    - a paragraph in title position right after an abstract that reads as prose (see
      continuation()) continues that abstract, which was split in two;
    - a title followed by another title-like paragraph and then by an abstract lost its own
      abstract: it is kept with an empty one, and the next title keeps its abstract.
    """
    entries: list[Entry] = []
    diagnostics: list[Diagnostic] = []
    index = 0
    while index < len(paragraphs):
        head, after = paragraphs[index], paragraphs[index + 1:index + 3]
        repair = continuation(head, after[0] if after else None) if entries and entries[-1].abstract else None
        if repair:
            last = entries[-1]
            entries[-1] = Entry(last.title, f"{last.abstract}\n\n{head.text}", last.line)
            if repair == "sentence":
                diagnostics.append(warning(shown, head.line, f"joined {head.text[:60]!r} to the abstract above",
                                           "it ends a sentence and is followed by a title; if it is a title, "
                                           "remove its final full stop"))
            index += 1
        elif len(head.text) > TITLE_MAX_CHARS:
            diagnostics.append(warning(shown, head.line, "skipped a paragraph of prose where a title was expected",
                                       "each paper is a title line, a blank line, then its abstract"))
            index += 1
        elif not after or (len(after) == 2 and title_like(after[0]) and len(after[1].text) > TITLE_MAX_CHARS):
            diagnostics.append(warning(shown, head.line, f"title with no abstract: {head.text[:80]!r}",
                                       "kept with an empty abstract; the page was probably cut off here"))
            entries.append(Entry(head.text, "", head.line))
            index += 1
        else:
            entries.append(Entry(head.text, after[0].text, head.line))
            index += 2
    return entries, diagnostics


def ends_sentence(paragraph: Paragraph) -> bool:
    return bool(SENTENCE_END.search(paragraph.text))


def title_like(paragraph: Paragraph) -> bool:
    """Titles are short and never end with a full stop (none of the seeds' 232 does)."""
    return len(paragraph.text) <= TITLE_MAX_CHARS and not ends_sentence(paragraph)


def continuation(paragraph: Paragraph, following: Paragraph | None) -> str | None:
    """Why this paragraph, standing where a title should, is the tail of the previous abstract.

    "length": too long for any title (silent: the issue's rule). "sentence": it ends a sentence
    and the next paragraph is too short to be its abstract (announced with a warning, since a
    title written with a full stop would read the same way). None: it is a title.
    """
    if len(paragraph.text) > TITLE_MAX_CHARS:
        return "length"
    if ends_sentence(paragraph) and (following is None or len(following.text) <= TITLE_MAX_CHARS):
        return "sentence"
    return None


def recognisable(header_found: bool, entries: list[Entry]) -> bool:
    """A dump has the page header, or at least one paragraph that reads like an abstract."""
    return header_found or any(
        len(entry.abstract) > TITLE_MAX_CHARS or SENTENCE_END.search(entry.abstract) for entry in entries)
