"""What the readers of every input form share: the parsed `Dump`, text decoding, paragraphs,
date lines, and the ledger that accounts for every line read.

A dump is parsed by one reader, chosen by parse.py from the file's form: the classic text
(parse.py), the current page's text (cards.py), or the API's items, as JSON or embedded in a
saved page (apidata.py). Each reader is a pure function of the bytes and two settings, so a
parsed dump can be cached by content hash, and none raises on bad input: problems come back
as diagnostics that name the file and line.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass
from datetime import date

from generator.diagnostics import Diagnostic, error
from generator.metadata import NO_META, PaperMeta

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
    """One paper as it stands in a dump: its title, abstract, and what else the dump says of it."""

    title: str
    abstract: str
    line: int  # line of the title (or of the item, in JSON), 1-based
    meta: PaperMeta = NO_META


@dataclass(frozen=True)
class Dump:
    """One input file, parsed. `date` is None for a dump that carries no date."""

    source: str  # file name, unique within content/digests
    date: date | None
    entries: tuple[Entry, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    # A hash of each entry (see entry_hashes), worked out once when the dump is parsed and kept
    # with it in the cache, so the catalog names an entry without hashing its text again.
    # Empty: not worked out (a dump made in a test); the catalog then hashes the entries itself.
    hashes: tuple[str, ...] = ()


def entry_hashes(dump: Dump) -> tuple[str, ...]:
    """A hash of every field of each entry (its repr spells them all, strings escaped)."""
    return tuple(hashlib.blake2b(repr(entry).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
                 for entry in dump.entries)


@dataclass(frozen=True)
class Paragraph:
    text: str
    line: int  # first line
    end: int = 0  # last line (0: the first)

    @property
    def last(self) -> int:
        return self.end or self.line


class Ledger:
    """What each non-blank line of a text dump became: page furniture, a date, a title, an
    abstract, a card field, or a line named in a warning. Readers mark every line they consume;
    tests (and anyone curious) check that no line went unaccounted for."""

    ROLES = ("header", "date", "title", "abstract", "card", "warned")

    def __init__(self) -> None:
        self.roles: dict[int, str] = {}

    def mark(self, role: str, paragraph: Paragraph) -> None:
        assert role in self.ROLES, role
        for line in range(paragraph.line, paragraph.last + 1):
            self.roles[line] = role

    def unaccounted(self, text: str) -> list[int]:
        """Non-blank lines of `text` that no role was given to."""
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return [number for number, line in enumerate(lines, start=1) if clean_line(line) and number not in self.roles]


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
            paragraphs.append(Paragraph(" ".join(lines), start, number - 1))
            lines = []
    if lines:
        paragraphs.append(Paragraph(" ".join(lines), start, start + len(lines) - 1))
    return paragraphs


def normalise_header(text: str) -> str:
    return " ".join(text.casefold().split())


def ends_sentence(paragraph: Paragraph) -> bool:
    return bool(SENTENCE_END.search(paragraph.text))


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
