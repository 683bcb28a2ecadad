"""Read the Hugging Face daily papers API's items: a `.json` file holding the array that
`GET https://huggingface.co/api/daily_papers?date=YYYY-MM-DD` returns, or a saved web page
(`.html`) that embeds the same items in the `data-props` attribute of its DailyPapers element.

Everything here is untrusted: a field of the wrong type is ignored (with a warning where it
matters), strings are cut to lengths no real one reaches, links must be http(s), IDs must look
like arXiv IDs. Unknown keys are ignored, since the format grows by adding fields. Only a
title and a summary are required.

A digest's date, in order: an ISO date in the file name (`2026-10-02.json`), the `[dates]`
table of site.toml, then the most common `submittedOnDailyAt` day of its items.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any

from generator.diagnostics import Diagnostic, error, warning
from generator.metadata import LIMITS, MAX_AUTHORS, MAX_KEYWORDS, PaperMeta, arxiv_id, web_url
from generator.reading import Dump, Entry, clean_line, decode

ISO_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")
ITEM_GAP = re.compile(r"[\s,]*")
API_HINT = "it should be the JSON array that https://huggingface.co/api/daily_papers?date=YYYY-MM-DD returns"
NO_DATA = ("this saved page has no Daily Papers data: was it saved while signed out, or is it another page?",
           "save https://huggingface.co/papers (or a date's page) with 'Save page as', or fetch the API's JSON")


def parse_json(source: str, data: bytes, shown: str, explicit: date | None) -> Dump:
    text, problem = decode(data, shown)
    if problem:
        return Dump(source, explicit, (), (problem,))
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        return Dump(source, explicit, (), (error(shown, exc.lineno, f"malformed JSON at line {exc.lineno}, "
                                                 f"column {exc.colno}: {exc.msg}", API_HINT),))
    if not isinstance(items, list):
        return Dump(source, explicit, (), (error(shown, 1, f"the JSON is {kind(items)}, not a list of papers", API_HINT),))
    return read_items(source, shown, explicit, items, item_lines(text, len(items)))


def parse_html(source: str, data: bytes, shown: str, explicit: date | None) -> Dump:
    text, problem = decode(data, shown)
    if problem:
        return Dump(source, explicit, (), (problem,))
    finder = PropsFinder()
    finder.feed(text)
    finder.close()
    if finder.props is None:
        return Dump(source, explicit, (), (error(shown, None, *NO_DATA),))
    line = finder.line
    try:
        props = json.loads(finder.props)
    except json.JSONDecodeError as exc:
        return Dump(source, explicit, (), (error(shown, line, f"the page's Daily Papers data is malformed JSON "
                                                 f"(column {exc.colno} of its data-props): {exc.msg}", NO_DATA[1]),))
    items = props.get("dailyPapers") if isinstance(props, dict) else None
    if not isinstance(items, list):
        return Dump(source, explicit, (), (error(shown, line, *NO_DATA),))
    return read_items(source, shown, explicit, items, [line] * len(items))


class PropsFinder(HTMLParser):
    """Finds the data-props of the first element with data-target="DailyPapers" (the parser
    unescapes the attribute's entities)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.props: str | None = None
        self.line: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if self.props is None and found.get("data-target") == "DailyPapers" and found.get("data-props") is not None:
            self.props, self.line = found["data-props"], self.getpos()[0]


def item_lines(text: str, count: int) -> list[int]:
    """The line each item of the (valid) top-level array starts on, for messages that point
    at it: the array is walked item by item with the C decoder."""
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    lines, line, counted = [], 1, 0
    for _ in range(count):
        position = ITEM_GAP.match(text, position).end()
        line += text.count("\n", counted, position)
        counted = position
        lines.append(line)
        _, position = decoder.raw_decode(text, position)
    return lines


def read_items(source: str, shown: str, explicit: date | None, items: list, lines: list[int]) -> Dump:
    entries: list[Entry] = []
    diagnostics: list[Diagnostic] = []
    days: Counter[date] = Counter()
    for number, (item, line) in enumerate(zip(items, lines), start=1):
        reader = ItemReader(shown, line, number)
        entry = reader.entry(item)
        diagnostics.extend(reader.diagnostics)
        if entry is not None:
            entries.append(entry)
            day = reader.day(reader.paper(item).get("submittedOnDailyAt"))
            if day:
                days[day] += 1
    dated = digest_date(source, shown, explicit, days, diagnostics)
    if not entries and not any(d.level.value == "error" for d in diagnostics):
        diagnostics.append(warning(shown, None, "no papers in this file", "a day with no papers (a weekend?); remove it"))
    return Dump(source, dated, tuple(entries), tuple(diagnostics))


def digest_date(source: str, shown: str, explicit: date | None, days: Counter[date],
                diagnostics: list[Diagnostic]) -> date | None:
    named = ISO_IN_NAME.search(source)
    from_name = None
    if named:
        try:
            from_name = date.fromisoformat(named.group(1))
        except ValueError:
            diagnostics.append(warning(shown, None, f"the file name's {named.group(1)} is not a real date",
                                       "name the file after the digest's date, e.g. 2025-03-14.json"))
    if from_name and explicit and explicit != from_name:
        diagnostics.append(warning(shown, None, f"site.toml dates this file {explicit.isoformat()} but its name says "
                                   f"{from_name.isoformat()}", "the file name's date is used"))
    found = from_name or explicit
    if found is None and days:
        found = min(days, key=lambda day: (-days[day], day))
    if found is None:
        diagnostics.append(warning(shown, None, "this digest has no date: none in its file name, site.toml or its items",
                                   "name the file after the digest's date, e.g. 2025-03-14.json"))
    return found


def kind(value: object) -> str:
    return {dict: "an object", str: "a string", int: "a number", float: "a number", bool: "true or false",
            type(None): "null", list: "a list"}.get(type(value), type(value).__name__)


class ItemReader:
    """One item of the array, read field by field, collecting what was wrong with it."""

    def __init__(self, shown: str, line: int, number: int):
        self.shown, self.line, self.number = shown, line, number
        self.diagnostics: list[Diagnostic] = []

    def warn(self, message: str, hint: str = "") -> None:
        self.diagnostics.append(warning(self.shown, self.line, f"paper {self.number}: {message}", hint))

    @staticmethod
    def paper(item: object) -> dict:
        found = item.get("paper") if isinstance(item, dict) else None
        return found if isinstance(found, dict) else {}

    def entry(self, item: object) -> Entry | None:
        if not isinstance(item, dict):
            self.diagnostics.append(error(self.shown, self.line, f"paper {self.number} is {kind(item)}, "
                                          "not an object with a title and a summary", API_HINT))
            return None
        paper = self.paper(item)
        title = clean_line(self.string(paper.get("title")) or self.string(item.get("title")))
        summary = paragraphs(self.string(paper.get("summary")) or self.string(item.get("summary")))
        if not title:
            what = "neither a title nor a summary" if not summary else "no title"
            self.diagnostics.append(error(self.shown, self.line, f"paper {self.number} has {what}", API_HINT))
            return None
        if not summary:
            self.warn(f"{title[:60]!r} has no summary", "kept with an empty abstract")
        meta = PaperMeta(
            arxiv_id=self.identifier(paper.get("id")),
            authors=self.authors(paper.get("authors")),
            organization=self.organization(paper.get("organization") or item.get("organization")),
            published=self.day(paper.get("publishedAt") or item.get("publishedAt")),
            upvotes=self.count(paper.get("upvotes")),
            comments=self.count(item.get("numComments")),
            github=self.link(paper.get("githubRepo"), "githubRepo"),
            stars=self.count(paper.get("githubStars")),
            project=self.link(paper.get("projectPage"), "projectPage"),
            ai_summary=self.cut(clean_line(self.string(paper.get("ai_summary"))), "ai_summary"),
            keywords=self.keywords(paper.get("ai_keywords")),
            withdrawn=self.day(paper.get("withdrawnAt")),
        )
        return Entry(self.cut(title, "title"), self.cut(summary, "abstract"), self.line, meta)

    @staticmethod
    def string(value: Any) -> str:
        return value if isinstance(value, str) else ""

    def cut(self, text: str, what: str) -> str:
        limit = LIMITS[what]
        if len(text) <= limit:
            return text
        self.warn(f"its {what} is {len(text):,} characters, far longer than any real one; cut to {limit:,}")
        return text[:limit]

    def identifier(self, value: Any) -> str:
        found = arxiv_id(value)
        if value not in (None, "") and not found:
            self.warn(f"id {str(value)[:40]!r} is not an arXiv ID; ignored")
        return found

    def authors(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            return ()
        names = [clean_line(author["name"]) for author in value
                 if isinstance(author, dict) and isinstance(author.get("name"), str) and author.get("hidden") is not True]
        names = [self.cut(name, "author") for name in names if name]
        if len(names) > MAX_AUTHORS:
            self.warn(f"{len(names):,} authors; the first {MAX_AUTHORS} are kept")
        return tuple(names[:MAX_AUTHORS])

    def organization(self, value: Any) -> str:
        if isinstance(value, dict):
            value = value.get("fullname") or value.get("name")
        return self.cut(clean_line(value), "organization") if isinstance(value, str) else ""

    def day(self, value: Any) -> date | None:
        if not isinstance(value, str) or not value:
            return None
        try:
            return datetime.fromisoformat(value.strip()).date()
        except ValueError:
            self.warn(f"{value[:40]!r} is not an ISO date; ignored")
            return None

    @staticmethod
    def count(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9 else None

    def link(self, value: Any, what: str) -> str:
        found = web_url(value)
        if value not in (None, "") and not found:
            self.warn(f"{what} {str(value)[:60]!r} is not an http(s) URL; not linked")
        return found

    def keywords(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            return ()
        words = [self.cut(clean_line(word), "keyword") for word in value if isinstance(word, str) and word.strip()]
        if len(words) > MAX_KEYWORDS:
            self.warn(f"{len(words)} keywords; the first {MAX_KEYWORDS} are kept")
        return tuple(dict.fromkeys(words[:MAX_KEYWORDS]))


def paragraphs(text: str) -> str:
    """The API wraps summaries at line ends: lines join with spaces, blank lines part paragraphs."""
    parts = (clean_line(part) for part in re.split(r"\n\s*\n", text.strip()))
    return "\n\n".join(part for part in parts if part)
