"""Questions pages ask of the catalog: orders, groupings and counts (the newest digests, a
paper's neighbours, the calendar, the chart, the most featured papers, topics by month).
Pure functions of the catalog and the tagging, shared by the renderer and the exports."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from generator.catalog import Catalog, Digest, Paper
from generator.topics import Tagging, Topic, papers_by_topic

RECENT = 10  # digests listed on the home page; the archive page lists them all
MOST_FEATURED = 100  # papers on the "most featured" page
CHART_DIGESTS = 60  # digests in the home page's chart


def calendar_months(digests: tuple[Digest, ...]) -> list[tuple[str, list[list[tuple[date, Digest | None] | None]]]]:
    """Every month from the first dated digest to the last, newest first, as weeks (Monday
    first) of days: (day, its digest or None), or None for the days of other months."""
    by_day = {digest.date: digest for digest in digests if digest.date is not None}
    if not by_day:
        return []
    first, last = min(by_day), max(by_day)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        weeks = [[(day, by_day.get(day)) if day.month == month else None for day in week]
                 for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)]
        months.append((f"{calendar.month_name[month]} {year}", weeks))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months[::-1]


@dataclass(frozen=True)
class Bar:
    """One digest in the home page's chart: its papers, new there or returning."""

    digest: Digest
    new: int
    returning: int


def chart_bars(catalog: Catalog) -> list[Bar]:
    """The last CHART_DIGESTS dated digests, oldest first, with their new and returning counts."""
    dated = [digest for digest in catalog.digests if digest.date is not None][-CHART_DIGESTS:]
    bars = []
    for digest in dated:
        new = sum(catalog.paper(key).appearances[0].digest == digest.slug for key in digest.papers)
        bars.append(Bar(digest, new, len(digest.papers) - new))
    return bars


def most_featured(catalog: Catalog) -> list[Paper]:
    """The papers featured in the most digests (two or more), most first; ties by the latest
    appearance, newest first, then by slug."""
    repeated = [paper for paper in catalog.papers if len(paper.appearances) > 1]
    order = {digest.slug: number for number, digest in enumerate(catalog.digests)}
    repeated.sort(key=lambda paper: (-len(paper.appearances), -order[paper.latest.digest], paper.slug))
    return repeated[:MOST_FEATURED]


def newest_papers(catalog: Catalog) -> list[Paper]:
    """Papers by their latest appearance, newest first (undated-only papers last), then by rank there."""
    order = {digest.slug: number for number, digest in enumerate(catalog.digests)}
    return sorted(catalog.papers, key=lambda paper: (paper.latest.date is None, -order[paper.latest.digest],
                                                   paper.latest.position))


@dataclass(frozen=True)
class Month:
    """Papers last featured in one month (or, with slug "undated", only in undated digests)."""

    slug: str  # YYYY-MM, or "undated"
    label: str  # "March 2025", or "Undated"
    papers: tuple[Paper, ...]


def topic_months(catalog: Catalog, tagging: Tagging) -> dict[str, list[Month]]:
    """Each topic's papers by the month they were last featured in, newest first: the topic
    and month pages (and the sitemap's list of them)."""
    if not tagging.taxonomy.topics:
        return {}
    listed = papers_by_topic(newest_papers(catalog), tagging)
    return {slug: by_latest_month(papers) for slug, papers in listed.items()}


def by_latest_month(papers: list[Paper]) -> list[Month]:
    """Papers grouped by the month they were last featured, in the order given; undated last."""
    months: dict[tuple[str, str], list[Paper]] = {}
    named: dict[date | None, tuple[str, str]] = {None: ("undated", "Undated")}
    for paper in papers:
        day = paper.latest.date
        month = named.get(day) or named.setdefault(day, (f"{day:%Y-%m}", f"{day:%B} {day.year}"))
        months.setdefault(month, []).append(paper)
    return [Month(slug, label, tuple(listed)) for (slug, label), listed in months.items()]


def topic_counts(entries: list[dict]) -> list[tuple[Topic, int]]:
    """The topics of a digest's papers with how many papers have each, most first, then by name."""
    counts: dict[Topic, int] = {}
    for entry in entries:
        for topic in entry["topics"]:
            counts[topic] = counts.get(topic, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].name))


def by_month(digests: tuple[Digest, ...]) -> list[tuple[str, list[Digest]]]:
    """Dated digests grouped by month, newest month and newest digest first."""
    months: dict[str, list[Digest]] = {}
    for digest in reversed(digests):
        if digest.date is not None:
            months.setdefault(f"{digest.date:%B} {digest.date.year}", []).append(digest)
    return list(months.items())


def newest_first(digests: tuple[Digest, ...]) -> list[Digest]:
    """Archive order: dated digests newest first, then undated ones by file name."""
    dated = [digest for digest in digests if digest.date is not None]
    undated = [digest for digest in digests if digest.date is None]
    return dated[::-1] + undated


def neighbours(digests: tuple[Digest, ...]) -> dict[str, tuple[Digest | None, Digest | None]]:
    """(older, newer) for each digest; dated and undated digests form separate chains."""
    result: dict[str, tuple[Digest | None, Digest | None]] = {}
    for chain in ([d for d in digests if d.date], [d for d in digests if not d.date]):
        for index, digest in enumerate(chain):
            older = chain[index - 1] if index > 0 else None
            newer = chain[index + 1] if index + 1 < len(chain) else None
            result[digest.slug] = (older, newer)
    return result
