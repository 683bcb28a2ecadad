"""Catalog -> output files, through the theme's Jinja templates.

Python decides what goes on a page (which papers, which neighbours); templates decide how it
looks. A user overrides any template or static file by putting one with the same name under
content/theme/. Every link a template writes is relative (`root` leads back to the site
root), so the output works from file://, at a domain root, and under a project sub-path.
"""

from __future__ import annotations

import calendar
import dataclasses
import functools
import hashlib
import json
import operator
import multiprocessing as mp
import os
import re
import signal
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePath
from typing import Callable, Iterator, Mapping

import jinja2

from generator.catalog import Appearance, Catalog, Digest, Paper
from generator.citation import bibtex
from generator.config import SiteConfig
from generator.links import badges, segments
from generator.metadata import short_authors
from generator.pages import HandPage
from generator.topics import Tagging, Taxonomy, Topic, papers_by_topic

RECENT = 10  # digests listed on the home page; the archive page lists them all
MOST_FEATURED = 100  # papers on the "most featured" page
CHART_DIGESTS = 60  # digests in the home page's chart
TOPIC_LATEST = 50  # papers on a topic's own page (its month pages list them all)
PARALLEL_MIN_PAPERS = 1000  # below this, starting workers costs more than it saves
MAX_WORKERS = 4
BATCH = 100  # papers per task handed to a worker

# Characters that mean something in Markdown when they come from a dump: backslash-escaped.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
# Raw-HTML characters have no backslash escape in Markdown; character references work everywhere.
MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


@dataclass(frozen=True)
class OutputFile:
    """One file of the site. A stage that can tell its file is unchanged since the last build
    (its `key` equals the key the previous build recorded for that path) yields it with
    `data=None`, and the writer reuses the previous build's file without the bytes being made.

    `key` is a fingerprint of everything the bytes are made from, so equal keys promise equal
    bytes; it is opaque to the writer. An empty key means "the bytes are the key"."""

    path: str  # POSIX path relative to the output root
    data: bytes | None
    key: str = ""


@dataclass(frozen=True)
class Theme:
    """Template and static folders, searched in order: the user's overrides first."""

    dirs: tuple[Path, ...]

    def static_files(self) -> dict[str, Path]:
        """Relative path -> file; a file in an earlier theme dir wins."""
        found: dict[str, Path] = {}
        for base in reversed(self.dirs):
            static = base / "static"
            for path in sorted(static.rglob("*")) if static.is_dir() else ():
                if path.is_file():
                    found[path.relative_to(static).as_posix()] = path
        return dict(sorted(found.items()))


def default_theme_dir() -> Path:
    """The bundled theme: inside the package when installed, beside it in a source checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "themes" / "default"
    return installed if installed.is_dir() else here.parent / "themes" / "default"


def environment(theme: Theme, compiled: Path | None = None) -> jinja2.Environment:
    """The templates' environment. `compiled` is a folder (in the build cache) where Jinja keeps
    each template compiled, by a hash of its source: compiling them takes ~0.2 s a build."""
    if compiled is not None:
        compiled.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(base / "templates") for base in theme.dirs]),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled)) if compiled is not None else None,
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(segments=segments, badges=badges, md=markdown_escape, yaml=yaml_string,
                       long_date=long_date, short_date=short_date, short_authors=short_authors,
                       thousands="{:,}".format)
    return env


def markdown_escape(text: str) -> str:
    """Escape Markdown syntax and raw HTML so dump text stays text in the Markdown twins."""
    escaped = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"[&<>]", lambda match: MARKDOWN_ENTITIES[match.group()], escaped)


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (JSON strings are valid YAML): safe for any title."""
    return json.dumps(text, ensure_ascii=False)


def long_date(digest: Digest) -> str:
    if digest.date is None:
        return f"Undated ({PurePath(digest.sources[0]).stem})"
    return f"{digest.date:%b} {digest.date.day}, {digest.date.year}"


def short_date(digest: Digest) -> str:
    if digest.date is None:
        return "undated"
    return f"{digest.date:%b} {digest.date.day}"


class SiteRenderer:
    """Renders every page of one catalog. Stateless beyond its inputs; pages render independently.

    Paper and digest pages (all but a handful) are keyed: a page's key is a hash of exactly
    what its template is given (see PageKeys), so when `previous` (path -> key, from the last
    build) has the same key the page is not rendered again and the writer reuses the file.
    """

    def __init__(self, catalog: Catalog, config: SiteConfig, theme: Theme, pages: tuple[HandPage, ...] = (),
                 previous: Mapping[str, str] | None = None, salt: str = "", tagging: Tagging | None = None,
                 related: Callable[[], Mapping[str, tuple[str, ...]]] | None = None, compiled: Path | None = None):
        """`related` gives each paper's related papers (Paper.key -> keys, most related first); it
        is called once, when the first paper page is reached (build.py computes them meanwhile)."""
        self.catalog = catalog
        self.config = config
        self.pages = pages
        self.env = environment(theme, compiled)
        self.newest_first = newest_first(catalog.digests)
        self.neighbours = neighbours(catalog.digests)
        self.previous = previous or {}
        self.tagging = tagging or Tagging(Taxonomy(), {})
        # A paper's topics follow from its text and the taxonomy: the taxonomy in the salt covers them.
        self.keys = PageKeys(catalog, f"{salt}\0{config!r}\0{pages!r}\0{self.tagging.taxonomy!r}", related)

    def page_count(self) -> int:
        """How many files files() yields: index, archive, calendar, most featured, topics, search, 404,
        each topic and hand page (and its twin, when published), two per digest and per paper, and
        the redirects (redirects())."""
        twins = sum(hand.twin_is_safe for hand in self.pages)
        topics = sum(1 + len(months) for months in self.topic_months.values())
        return 7 + topics + len(self.pages) + twins + 2 * (len(self.catalog.digests) + len(self.catalog.papers)) \
            + len(self.redirects)

    @functools.cached_property
    def topic_months(self) -> dict[str, list[Month]]:
        return topic_months(self.catalog, self.tagging)

    def files(self) -> Iterator[OutputFile]:
        latest = self.latest()
        yield self.page("index.html", "index.html", "", latest=latest, recent=self.newest_first[:RECENT],
                        catalog=self.catalog, latest_entries=self.digest_entries(latest) if latest else [],
                        chart=chart_bars(self.catalog))
        undated = [digest for digest in self.catalog.digests if digest.date is None]
        yield self.page("archive.html", "archive.html", "", months=by_month(self.catalog.digests), undated=undated)
        yield self.page("calendar.html", "calendar.html", "", months=calendar_months(self.catalog.digests),
                        undated=undated)
        yield self.page("featured.html", "featured.html", "", ranked=[
            (paper, [self.catalog.digest(a.digest) for a in paper.appearances]) for paper in most_featured(self.catalog)])
        yield self.page("topics.html", "topics.html", "", per_paper=self.tagging.taxonomy.per_paper, topics=[
            (topic, sum(len(month.papers) for month in self.topic_months[topic.slug]))
            for topic in self.tagging.taxonomy.topics])
        for topic in self.tagging.taxonomy.topics:
            yield from self.topic_pages(topic, self.topic_months[topic.slug])
        yield self.page("search.html", "search.html", "")
        yield self.page("404.html", "404.html", self.not_found_root())
        for hand in self.pages:
            yield self.page(f"{hand.slug}.html", "page.html", "", hand=hand)
            if hand.twin_is_safe:
                yield OutputFile(f"{hand.slug}.md", hand.source.encode("utf-8"))
        for digest in self.catalog.digests:
            yield from self.digest_files(digest)
        yield from self.all_paper_files()
        for path, paper in self.redirects.items():
            target = self.keys.neighbour(paper.key)  # all the page shows of the paper: its key
            yield self.keyed(path, "redirect.html", "../" * path.count("/"), flatten(target), paper=target)

    @functools.cached_property
    def redirects(self) -> dict[str, Paper]:
        """Pages that lead to a paper's page: `abs/<arXiv ID>.html`, so an ID is enough to find
        a paper, and the pages its other titles had before an ID showed they are one paper."""
        found = {f"abs/{paper.meta.arxiv_id}.html": paper for paper in self.catalog.papers if paper.meta.arxiv_id}
        found |= {f"papers/{alias}.html": paper for paper in self.catalog.papers for alias in paper.aliases}
        return dict(sorted(found.items()))

    def all_paper_files(self) -> Iterator[OutputFile]:
        """Paper pages, most of any site: rendered by forked workers while this process writes.

        Workers inherit the catalog by fork (nothing is pickled but the rendered bytes coming
        back), and imap keeps the order, so the output is the same as rendering in turn."""
        stale = []
        for number, paper in enumerate(self.catalog.papers):
            key = self.keys.paper(paper)
            paths = paper_paths(paper)
            if all(self.previous.get(path) == key for path in paths):
                yield from (OutputFile(path, None, key) for path in paths)
            else:
                stale.append(number)
        workers = min(len(os.sched_getaffinity(0)), MAX_WORKERS)
        if workers < 2 or len(stale) < PARALLEL_MIN_PAPERS or "fork" not in mp.get_all_start_methods():
            for number in stale:
                yield from self.paper_files(self.catalog.papers[number])
            return
        batches = [stale[start:start + BATCH] for start in range(0, len(stale), BATCH)]
        with mp.get_context("fork").Pool(workers, initializer=_adopt, initargs=(self,)) as pool:
            for batch in pool.imap(_render_papers, batches):
                yield from batch

    def digest_files(self, digest: Digest) -> Iterator[OutputFile]:
        older, newer = self.neighbours[digest.slug]
        key = self.keys.digest(digest, older, newer)
        paths = (f"digests/{digest.slug}.html", f"digests/{digest.slug}.md")
        if all(self.previous.get(path) == key for path in paths):
            yield from (OutputFile(path, None, key) for path in paths)
            return
        entries = self.digest_entries(digest)
        context = dict(digest=digest, entries=entries, older=older, newer=newer, topics=topic_counts(entries),
                       sortable=any(entry["upvotes"] is not None for entry in entries))
        yield self.page(paths[0], "digest.html", "../", key, **context)
        yield self.page(paths[1], "digest.md", "../", key, **context)

    def topic_pages(self, topic: Topic, months: list[Month]) -> Iterator[OutputFile]:
        """A topic's page (its newest papers and its months) and a page per month listing the
        papers last featured then. At 30,000 papers one page per topic would be 11 MB in all,
        rendered again whenever a digest adds a paper to it; by month, a new digest re-renders
        only the topic pages and the months its papers left or joined.

        Each page is keyed by what it shows of its papers (PageKeys.content)."""
        summary = "".join(f"{month.slug}:{len(month.papers)}," for month in months)
        latest = [paper for month in months for paper in month.papers][:TOPIC_LATEST]
        yield self.keyed(f"topics/{topic.slug}.html", "topic.html", "../",
                         flatten(topic) + summary + self.content_keys(latest),
                         topic=topic, months=months, latest=latest, month=None)
        names = "".join(f"{month.slug}," for month in months)  # month pages list the months, not their counts
        for month in months:
            yield self.keyed(f"topics/{topic.slug}/{month.slug}.html", "topic.html", "../../",
                             flatten(topic) + names + month.slug + self.content_keys(month.papers),
                             topic=topic, months=months, latest=month.papers, month=month)

    def content_keys(self, papers: list[Paper]) -> str:
        return "".join([self.keys.content(paper) for paper in papers])

    def keyed(self, path: str, template: str, root: str, made_of: str, **context) -> OutputFile:
        """A page whose key is a hash of `made_of`: reused when the last build's key is the same."""
        key = self.keys.hash(path, made_of)
        if self.previous.get(path) == key:
            return OutputFile(path, None, key)
        return self.page(path, template, root, key, **context)

    def paper_files(self, paper: Paper) -> Iterator[OutputFile]:
        digests = [self.catalog.digest(appearance.digest) for appearance in paper.appearances]
        around = [self.keys.around(appearance) for appearance in paper.appearances]
        related = [self.keys.neighbour(key) for key in self.keys.related().get(paper.key, ())]
        catalog = self.catalog
        context = dict(paper=paper, appearances=list(zip(paper.appearances, digests)), around=around,
                       context_digest=paper.latest.digest, topics=self.tagging.of(paper), related=related,
                       bibtex=bibtex(paper), counts_digest=catalog.digest(paper.counts_from) if paper.counts_from else None,
                       stars_digest=catalog.digest(paper.stars_from) if paper.stars_from else None)
        html, markdown = paper_paths(paper)
        key = self.keys.paper(paper)
        yield self.page(html, "paper.html", "../", key, **context)
        yield self.page(markdown, "paper.md", "../", key, **context)

    def digest_entries(self, digest: Digest) -> list[dict]:
        """Each paper of a digest with the other digests it was in, whether it is new here, and its topics."""
        entries = []
        for key in digest.papers:
            paper = self.catalog.paper(key)
            others = [self.catalog.digest(a.digest) for a in paper.appearances if a.digest != digest.slug]
            here = next(a for a in paper.appearances if a.digest == digest.slug)
            entries.append(dict(paper=paper, others=others, new=paper.appearances[0].digest == digest.slug,
                                topics=self.tagging.of(paper), upvotes=here.upvotes))
        return entries

    def latest(self) -> Digest | None:
        return self.newest_first[0] if self.newest_first else None

    def not_found_root(self) -> str:
        """404.html is served at any depth, so relative links cannot work; use base_url's path."""
        if not self.config.base_url:
            return ""
        return "/" + self.config.base_url.split("://", 1)[1].split("/", 1)[1]

    def page(self, path: str, template: str, root: str, key: str = "", **context) -> OutputFile:
        """Render one template. Templates see `site`, `root`, `path`, `nav` and the page's own
        context, nothing global (only index.html gets `catalog`): that is what makes a page's
        key a complete account of what its bytes depend on."""
        html = self.env.get_template(template).render(site=self.config, root=root, path=path, nav=self.pages, **context)
        return OutputFile(path, html.encode("utf-8"), key)


def paper_paths(paper: Paper) -> tuple[str, str]:
    return f"papers/{paper.slug}.html", f"papers/{paper.slug}.md"


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
        elif dataclasses.is_dataclass(field):
            parts.append(flatten(field))
        else:
            parts.append(repr(field))
    return "{" + ",".join(parts) + "}"


@functools.cache
def field_values(kind: type) -> Callable[[object], tuple]:
    """A function giving every field of a dataclass, in order, as a tuple."""
    names = [field.name for field in dataclasses.fields(kind)]
    getter = operator.attrgetter(*names)
    return getter if len(names) > 1 else lambda value: (getter(value),)


_WORKER: SiteRenderer | None = None  # the renderer a forked worker inherited (one per process)


def _adopt(renderer: SiteRenderer) -> None:
    """A worker's start. Ctrl-C, which a terminal sends to every process of the group, is the
    build's to handle: it ends its workers itself, and a worker's own KeyboardInterrupt would
    only print a traceback."""
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = renderer


def _render_papers(numbers: list[int]) -> list[OutputFile]:
    assert _WORKER is not None
    return [item for number in numbers for item in _WORKER.paper_files(_WORKER.catalog.papers[number])]


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
