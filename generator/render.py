"""Catalog -> output files, through the theme's Jinja templates (theme.py), asking the catalog
through queries.py, keyed by keys.py.

Python decides what goes on a page (which papers, which neighbours); templates decide how it
looks. A user overrides any template or static file by putting one with the same name under
content/theme/. Every link a template writes is relative (`root` leads back to the site
root), so the output works from file://, at a domain root, and under a project sub-path.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Iterator, Mapping

from generator.catalog import Catalog, Digest, Paper
from generator import scholarly
from generator.citation import bibtex, ris, unique_keys
from generator.config import SiteConfig
from generator.keys import PageKeys, flatten
from generator.output import OutputFile
from generator.pages import HandPage
from generator.queries import (RECENT, Month, by_month, calendar_months, chart_bars, most_featured, neighbours,
                               newest_first, topic_counts, topic_months)
from generator.theme import Theme, environment, long_date
from generator.topics import Tagging, Taxonomy, Topic
from generator.workers import forked_map

TOPIC_LATEST = 50  # papers on a topic's own page (its month pages list them all)
PARALLEL_MIN_PAPERS = 1000  # below this, starting workers costs more than it saves
BATCH = 100  # papers per task handed to a worker

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
        each topic and hand page (and its twin, when published), four per digest (page, twin,
        .bib, .ris), two per paper, and the redirects (redirects())."""
        twins = sum(hand.twin_is_safe for hand in self.pages)
        topics = sum(1 + len(months) for months in self.topic_months.values())
        return 7 + topics + len(self.pages) + twins + 4 * len(self.catalog.digests) + 2 * len(self.catalog.papers) \
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
        """Paper pages, most of any site: rendered by forked workers while this process writes
        (workers.forked_map: they inherit the renderer, and the order is kept, so the output is
        the same as rendering in turn)."""
        stale = []
        for number, paper in enumerate(self.catalog.papers):
            key = self.keys.paper(paper)
            paths = paper_paths(paper)
            if all(self.previous.get(path) == key for path in paths):
                yield from (OutputFile(path, None, key) for path in paths)
            else:
                stale.append(number)
        batches = [stale[start:start + BATCH] for start in range(0, len(stale), BATCH)]
        for batch in forked_map(_render_papers, batches, self, enough=len(stale) >= PARALLEL_MIN_PAPERS):
            yield from batch

    def digest_files(self, digest: Digest) -> Iterator[OutputFile]:
        older, newer = self.neighbours[digest.slug]
        key = self.keys.digest(digest, older, newer)
        paths = [f"digests/{digest.slug}.{suffix}" for suffix in ("html", "md", "bib", "ris")]
        if all(self.previous.get(path) == key for path in paths):
            yield from (OutputFile(path, None, key) for path in paths)
            return
        entries = self.digest_entries(digest)
        papers = [entry["paper"] for entry in entries]
        base = self.config.base_url
        context = dict(digest=digest, entries=entries, older=older, newer=newer, topics=topic_counts(entries),
                       sortable=any(entry["upvotes"] is not None for entry in entries),
                       jsonld=scholarly.item_list(digest, papers, base))
        yield self.page(paths[0], "digest.html", "../", key, **context)
        yield self.page(paths[1], "digest.md", "../", key, **context)
        pages = [f"{base}papers/{paper.slug}.html" if base else "" for paper in papers]
        label = long_date(digest)
        yield self.page(paths[2], "digest.bib", "../", key, digest=digest, entries=[
            bibtex(paper, url, cite, fallback=True) for paper, url, cite in zip(papers, pages, unique_keys(papers))])
        yield self.page(paths[3], "digest.ris", "../", key, digest=digest,
                        records=[ris(paper, url, label) for paper, url in zip(papers, pages)])

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
                       bibtex=bibtex(paper), highwire=scholarly.highwire(paper, self.config.base_url),
                       jsonld=scholarly.article(paper, digests, self.config.base_url), counts_digest=catalog.digest(paper.counts_from) if paper.counts_from else None,
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


def _render_papers(renderer: SiteRenderer, numbers: list[int]) -> list[OutputFile]:
    """One batch of paper pages (in a worker, which inherited the renderer)."""
    return [item for number in numbers for item in renderer.paper_files(renderer.catalog.papers[number])]


