"""Catalog -> the site's pages, through the theme's Jinja templates (theme.py), asking the
catalog through queries.py; each group of pages is a job for engine.py, which decides whether
it is made again.

Python decides what goes on a page (which papers, which neighbours); templates decide how it
looks. A user overrides any template or static file by putting one with the same name under
content/theme/. Every link a template writes is relative (`root` leads back to the site
root), so the output works from file://, at a domain root, and under a project sub-path.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterator, Mapping

from generator.catalog import Appearance, Catalog, Digest, Paper
from generator import scholarly
from generator.citation import bibtex, ris, unique_keys
from generator.config import SiteConfig
from generator.engine import Job
from generator.keys import Lineup, Neighbour
from generator.output import OutputFile
from generator.pages import HandPage
from generator.queries import (RECENT, Month, by_month, calendar_months, chart_bars, most_featured, neighbours,
                               newest_first, topic_counts, topic_months)
from generator.theme import Theme, environment, long_date
from generator.topics import Tagging, Taxonomy, Topic

TOPIC_LATEST = 50  # papers on a topic's own page (its month pages list them all)


class SiteRenderer:
    """The pages of one catalog, as jobs for the engine (engine.py): each job says which
    files it makes and what they are made of, and the engine makes only those whose inputs
    changed since the last build. Pages render independently of each other."""

    def __init__(self, catalog: Catalog, config: SiteConfig, theme: Theme, pages: tuple[HandPage, ...] = (),
                 tagging: Tagging | None = None, related: Callable[[], Mapping[str, tuple[str, ...]]] | None = None,
                 compiled: Path | None = None):
        """`related` gives each paper's related papers (Paper.key -> keys, most related first); it
        is called once, when the first paper page is reached (build.py computes them meanwhile)."""
        self.catalog = catalog
        self.config = config
        self.pages = pages
        self.env = environment(theme, compiled)
        self.newest_first = newest_first(catalog.digests)
        self.neighbours = neighbours(catalog.digests)
        self.tagging = tagging or Tagging(Taxonomy(), {})
        self._related = related or dict

    @functools.cached_property
    def related(self) -> Mapping[str, tuple[str, ...]]:
        return self._related()

    @functools.cached_property
    def topic_months(self) -> dict[str, list[Month]]:
        return topic_months(self.catalog, self.tagging)

    def jobs(self) -> Iterator[Job]:
        latest = self.newest_first[0] if self.newest_first else None
        yield Job(("index.html",), lambda key: [self.page("index.html", "index.html", "", latest=latest,
                  recent=self.newest_first[:RECENT], catalog=self.catalog, chart=chart_bars(self.catalog),
                  latest_entries=self.digest_entries(latest) if latest else [])])
        undated = tuple(digest for digest in self.catalog.digests if digest.date is None)
        yield self.single("archive.html", "", months=by_month(self.catalog.digests), undated=undated)
        yield self.single("calendar.html", "", months=calendar_months(self.catalog.digests), undated=undated)
        yield self.single("featured.html", "", ranked=[(paper, [self.catalog.digest(a.digest) for a in paper.appearances])
                                                      for paper in most_featured(self.catalog)])
        yield self.single("topics.html", "", per_paper=self.tagging.taxonomy.per_paper, topics=[
            (topic, sum(len(month.papers) for month in self.topic_months[topic.slug]))
            for topic in self.tagging.taxonomy.topics])
        for topic in self.tagging.taxonomy.topics:
            yield from self.topic_jobs(topic, self.topic_months[topic.slug])
        yield self.single("search.html", "", topics=self.tagging.taxonomy.topics)
        yield self.single("404.html", self.not_found_root())
        for hand in self.pages:
            yield Job((f"{hand.slug}.html",), partial(self.made, f"{hand.slug}.html", "page.html", ""), (hand,))
            if hand.twin_is_safe:
                yield Job((f"{hand.slug}.md",), lambda key, hand=hand: [OutputFile(f"{hand.slug}.md", hand.source.encode("utf-8"))])
        for digest in self.catalog.digests:
            older, newer = self.neighbours[digest.slug]
            papers = tuple(self.catalog.paper(key) for key in digest.papers)
            yield Job((f"digests/{digest.slug}.html", f"digests/{digest.slug}.md"), self.digest_files,
                      (digest, older, newer, papers))
            # (its citations are made of less than its pages: a new digest next to it keeps them)
            yield Job((f"digests/{digest.slug}.bib", f"digests/{digest.slug}.ris"), self.digest_citations, (digest, papers))
        for paper in self.catalog.papers:
            yield Job(paper_paths(paper), self.paper_files, partial(self.paper_inputs, paper), heavy=True)
        for path, paper in self.redirects.items():
            yield Job((path,), partial(self.made, path, "redirect.html", "../" * path.count("/")), (self.links[paper.key],))

    def single(self, path: str, root: str, **context) -> Job:
        """A page of its own template, made of what it is given."""
        names = tuple(context)
        return Job((path,), lambda key, *values: [self.page(path, path, root, key, **dict(zip(names, values)))],
                   tuple(context.values()))

    def made(self, path: str, template: str, root: str, key: str, value: object) -> list[OutputFile]:
        """A hand page (`hand`) or a redirect (`paper`): one template given one object."""
        name = "hand" if template == "page.html" else "paper"
        return [self.page(path, template, root, key, **{name: value})]

    @functools.cached_property
    def redirects(self) -> dict[str, Paper]:
        """Pages that lead to a paper's page: `abs/<arXiv ID>.html`, so an ID is enough to find
        a paper, and the pages its other titles had before an ID showed they are one paper."""
        found = {f"abs/{paper.meta.arxiv_id}.html": paper for paper in self.catalog.papers if paper.meta.arxiv_id}
        found |= {f"papers/{alias}.html": paper for paper in self.catalog.papers for alias in paper.aliases}
        return dict(sorted(found.items()))

    def paper_inputs(self, paper: Paper) -> tuple:
        """What a paper page is made of: the paper (with its digests), the lineup of each of its
        digests (for the papers before and after it there), and its related papers."""
        lineups, links = self.lineups, self.links
        return (paper, tuple([lineups[appearance.digest] for appearance in paper.appearances]),
                tuple([links[key] for key in self.related.get(paper.key, ())]))

    @functools.cached_property
    def links(self) -> dict[str, Neighbour]:
        """Paper.key -> the paper as a link (every paper page needs ~10 of them)."""
        return {paper.key: Neighbour(paper.slug, paper.title) for paper in self.catalog.papers}

    @functools.cached_property
    def lineups(self) -> dict[str, Lineup]:
        """Digest.slug -> its papers as links."""
        links = self.links
        return {digest.slug: Lineup(digest.slug, tuple([links[key] for key in digest.papers]))
                for digest in self.catalog.digests}

    def digest_files(self, key: str, digest: Digest, older: Digest | None, newer: Digest | None,
                     papers: tuple[Paper, ...]) -> list[OutputFile]:
        entries = self.digest_entries(digest)
        base = self.config.base_url
        context = dict(digest=digest, entries=entries, older=older, newer=newer, topics=topic_counts(entries),
                       sortable=any(entry["upvotes"] is not None for entry in entries),
                       jsonld=scholarly.item_list(digest, list(papers), base))
        return [self.page(f"digests/{digest.slug}.html", "digest.html", "../", key, **context),
                self.page(f"digests/{digest.slug}.md", "digest.md", "../", key, **context)]

    def digest_citations(self, key: str, digest: Digest, papers: tuple[Paper, ...]) -> list[OutputFile]:
        """A digest's papers as one BibTeX file and one RIS file."""
        base = self.config.base_url
        pages = [f"{base}papers/{paper.slug}.html" if base else "" for paper in papers]
        label = long_date(digest)
        return [self.page(f"digests/{digest.slug}.bib", "digest.bib", "../", key, digest=digest, entries=[
                    bibtex(paper, url, cite, fallback=True) for paper, url, cite in zip(papers, pages, unique_keys(papers))]),
                self.page(f"digests/{digest.slug}.ris", "digest.ris", "../", key, digest=digest,
                          records=[ris(paper, url, label) for paper, url in zip(papers, pages)])]

    def topic_jobs(self, topic: Topic, months: list[Month]) -> Iterator[Job]:
        """A topic's page (its newest papers and its months) and a page per month listing the
        papers last featured then. At 30,000 papers one page per topic would be 11 MB in all,
        rendered again whenever a digest adds a paper to it; by month, a new digest re-renders
        only the topic pages and the months its papers left or joined.

        These two are made of less than they are given: a topic's page shows of its months only
        their names and sizes, and a month's page only the months' names (so a new digest does
        not re-render every month page of a topic); the months are bound to `make` instead."""
        latest = tuple(paper for month in months for paper in month.papers)[:TOPIC_LATEST]
        sizes = tuple((month.slug, len(month.papers)) for month in months)
        yield Job((f"topics/{topic.slug}.html",), partial(self.topic_page, months=months, root="../"),
                  (topic, sizes, latest, None))
        names = tuple(month.slug for month in months)
        for month in months:
            yield Job((f"topics/{topic.slug}/{month.slug}.html",), partial(self.topic_page, months=months, root="../../"),
                      (topic, names, month.papers, month))

    def topic_page(self, key: str, topic: Topic, _shown: tuple, latest: tuple[Paper, ...], month: Month | None, *,
                   months: list[Month], root: str) -> list[OutputFile]:
        path = f"topics/{topic.slug}/{month.slug}.html" if month else f"topics/{topic.slug}.html"
        return [self.page(path, "topic.html", root, key, topic=topic, months=months, latest=list(latest), month=month)]

    def paper_files(self, key: str, paper: Paper, lineups: tuple[Lineup, ...], related: tuple[Neighbour, ...]) -> list[OutputFile]:
        digests = [self.catalog.digest(appearance.digest) for appearance in paper.appearances]
        catalog = self.catalog
        context = dict(paper=paper, appearances=list(zip(paper.appearances, digests)),
                       around=[around(appearance, lineup) for appearance, lineup in zip(paper.appearances, lineups)],
                       context_digest=paper.latest.digest, topics=self.tagging.of(paper), related=list(related),
                       bibtex=bibtex(paper), highwire=scholarly.highwire(paper, self.config.base_url),
                       jsonld=scholarly.article(paper, digests, self.config.base_url),
                       counts_digest=catalog.digest(paper.counts_from) if paper.counts_from else None,
                       stars_digest=catalog.digest(paper.stars_from) if paper.stars_from else None)
        html, markdown = paper_paths(paper)
        return [self.page(html, "paper.html", "../", key, **context), self.page(markdown, "paper.md", "../", key, **context)]

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


def salt(config: SiteConfig, pages: tuple[HandPage, ...], taxonomy: Taxonomy) -> str:
    """What every page may depend on besides its inputs (the engine adds it to every key).
    A paper's topics follow from its text and the taxonomy: the taxonomy here covers them."""
    return f"{config!r}\0{pages!r}\0{taxonomy!r}"


@dataclass(frozen=True)
class Around:
    """A paper's place in one digest, as its page shows it: the papers before and after it."""

    digest: str  # Digest.slug
    previous: Neighbour | None
    next: Neighbour | None


def around(appearance: Appearance, lineup: Lineup) -> Around:
    at, links = appearance.position, lineup.links
    return Around(appearance.digest, links[at - 1] if at > 0 else None, links[at + 1] if at + 1 < len(links) else None)


def paper_paths(paper: Paper) -> tuple[str, str]:
    return f"papers/{paper.slug}.html", f"papers/{paper.slug}.md"
