"""The site for programs: Atom feeds, papers.json (an index) and its parts under data/,
llms.txt, and (with base_url) sitemap.xml, robots.txt and opensearch.xml.

The papers' records are split by the month each paper was first seen, so a new digest rewrites
the parts of the months its papers were first seen in (this month's, and those its repeats came
from) and the engine keeps the others: at 30,000 papers the whole archive is ~70 MB of JSON.

Feeds are written with feedgen. Every date in them is a digest's date (midnight UTC), never
the clock, so a rebuild of the same input gives the same bytes. Undated digests have no date
to put in a feed and are left out of the feeds (they are in papers.json and llms.txt). Links
are absolute when base_url is set; otherwise they are relative to the feed's own address,
which Atom allows and feed readers resolve.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Iterator

from feedgen.feed import FeedGenerator

from generator.catalog import Catalog, Digest, Paper
from generator.citation import bibtex
from generator.config import SiteConfig
from generator.engine import Engine, Job
from generator.links import urls
from generator.pages import HandPage
from generator.topics import Tagging, Taxonomy
from generator.output import OutputFile
from generator.queries import newest_first, topic_months
from generator.store import Store
from generator.theme import Theme, environment, long_date

FEED_DIGESTS = 30  # entries of feed.xml: the newest dated digests
FEED_PAPERS = 50  # entries of papers.xml: the papers most recently seen for the first time
VERSION_FORMAT = "1"  # of the part-versions table: engine key -> blake2b of the part's bytes
VERSION = re.compile(r"[0-9a-f]{32}")
PARTS = "data"  # the folder of papers.json's parts: data/papers-<YYYY-MM>.json, data/papers-undated.json
UNDATED = "undated"  # the part of papers first seen in an undated digest


class Exports:
    """Makes the machine-readable files of one catalog."""

    def __init__(self, catalog: Catalog, config: SiteConfig, theme: Theme, pages: tuple[HandPage, ...] = (),
                 store: Store | None = None, tagging: Tagging | None = None, compiled: Path | None = None):
        """`compiled`: where Jinja keeps compiled templates (see theme.environment)."""
        self.versions = (store or Store()).table("part-versions", VERSION_FORMAT)  # opened here: see store.Table
        self.catalog = catalog
        self.tagging = tagging or Tagging(Taxonomy(), {})
        self.config = config
        self.pages = pages
        self.env = environment(theme, compiled)
        self.dated = [digest for digest in catalog.digests if digest.date is not None]

    def files(self, engine: Engine) -> Iterator[OutputFile]:
        """Every export; `engine` decides which parts of papers.json are made again, and the
        store remembers each part's version (a hash of its bytes) under its key."""
        yield OutputFile("feed.xml", self.digest_feed())
        yield OutputFile("papers.xml", self.paper_feed())
        groups = self.parts()
        versions: list[str] = []  # (each part's, as it goes: a part is let go once it is handed on)
        yield from self.versioned([Job((part_path(month),), self.part, (month, tuple(papers)))
                                   for month, papers in groups.items()], engine, versions)
        yield OutputFile("papers.json", self.papers_index(groups, versions))
        yield OutputFile("llms.txt", self.render("llms.txt"))
        if self.config.base_url:
            yield OutputFile("sitemap.xml", self.sitemap())
            yield OutputFile("robots.txt", self.render("robots.txt"))
            yield OutputFile("opensearch.xml", self.render("opensearch.xml"))

    def url(self, path: str) -> str:
        return self.config.base_url + path

    def identity(self, path: str) -> str:
        """An entry's Atom id: its page's address, or a URN naming the page when there is no base_url."""
        return self.url(path) if self.config.base_url else f"urn:paperdigest:{path}"

    def feed(self, path: str, title: str) -> FeedGenerator:
        feed = FeedGenerator()
        feed.id(self.identity(path))
        feed.title(title)
        feed.subtitle(self.config.description or title)
        feed.link(href=self.url(path), rel="self")
        feed.link(href=self.url("index.html"), rel="alternate")
        feed.language(self.config.language)
        feed.updated(midnight(self.dated[-1]) if self.dated else datetime(1970, 1, 1, tzinfo=timezone.utc))
        return feed

    def digest_feed(self) -> bytes:
        feed = self.feed("feed.xml", f"{self.config.title}: digests")
        for digest in reversed(self.dated[-FEED_DIGESTS:]):  # newest first
            entry = feed.add_entry(order="append")
            path = f"digests/{digest.slug}.html"
            entry.id(self.identity(path))
            entry.title(f"Digest: {long_date(digest)}")
            entry.link(href=self.url(path), rel="alternate")
            entry.updated(midnight(digest))
            papers = [self.catalog.paper(key) for key in digest.papers]
            entry.content(self.env.get_template("feed_digest.html").render(
                digest=digest, papers=papers, new={p.key for p in papers if p.appearances[0].digest == digest.slug},
                base=self.config.base_url), type="html")
        return feed.atom_str(pretty=True)

    def paper_feed(self) -> bytes:
        feed = self.feed("papers.xml", f"{self.config.title}: new papers")
        newest = heapq.nlargest(FEED_PAPERS, (p for p in self.catalog.papers if p.appearances[0].date is not None),
                                key=lambda p: (p.appearances[0].date, p.appearances[0].position, p.slug))
        for paper in newest:  # newest first (slugs are unique: no two keys are equal)
            entry = feed.add_entry(order="append")
            path = f"papers/{paper.slug}.html"
            entry.id(self.identity(path))
            entry.title(paper.title)
            entry.link(href=self.url(path), rel="alternate")
            if paper.meta.arxiv_id:
                entry.link(href=f"https://arxiv.org/abs/{paper.meta.arxiv_id}", rel="related", title="arXiv")
            for name in paper.meta.authors:
                entry.author(name=name)
            entry.updated(midnight(self.catalog.digest(paper.appearances[0].digest)))
            entry.summary(paper.abstract or "No abstract was saved with this paper.")
        return feed.atom_str(pretty=True)

    def salt(self, code: str) -> str:
        """What the parts of papers.json depend on besides their papers (the engine's salt for
        them): the generator and the taxonomy (a paper's topics), not the theme or the hand pages,
        so a new stylesheet does not make every part again."""
        return f"{code}\0{self.tagging.taxonomy!r}"

    def versioned(self, jobs: list[Job], engine: Engine, versions: list[str]) -> Iterator[OutputFile]:
        """Each part, kept by the engine or made, with its version (a hash of its bytes) added
        to `versions`: a kept part's is the one the store remembers under its key; one the
        store lost is made again."""
        for job, file in zip(jobs, engine.run(jobs)):
            version = self.versions.get(file.key) if file.data is None else None
            if file.data is None and not (isinstance(version, str) and VERSION.fullmatch(version)):
                file = job.make(file.key, *job.inputs)[0]
            if file.data is not None:
                version = hashlib.blake2b(file.data, digest_size=16).hexdigest()
            self.versions.put(file.key, version)
            versions.append(version)
            yield file

    def parts(self) -> dict[str, list[Paper]]:
        """The papers by the month they were first seen (YYYY-MM, or UNDATED), in slug order
        within each, the months in order and UNDATED last."""
        groups: dict[str, list[Paper]] = {}
        months: dict[date | None, str] = {None: UNDATED}  # (a few thousand days: each formatted once)
        for paper in self.catalog.papers:
            first = paper.appearances[0].date
            month = months.get(first) or months.setdefault(first, first.strftime("%Y-%m"))
            groups.setdefault(month, []).append(paper)
        return dict(sorted(groups.items()))

    def part(self, key: str, month: str, papers: tuple[Paper, ...]) -> list[OutputFile]:
        """One part of papers.json: the records of the papers first seen in one month. (Made
        only when one of its papers changed: the engine keeps the others, so no record needs
        remembering between builds; a part of a month is ~1,000 papers, ~25 ms to encode.)"""
        records = ",".join(encode(paper_record(paper, self.catalog, [topic.slug for topic in self.tagging.of(paper)]))
                           for paper in papers)
        first_seen = encode(None if month == UNDATED else month)
        return [OutputFile(part_path(month), f'{{"first_seen":{first_seen},"papers":[{records}]}}\n'.encode("utf-8"), key)]

    def papers_index(self, groups: dict[str, list[Paper]], versions: list[str]) -> bytes:
        """papers.json: the site, how many papers, and each part with its path, its count and its
        version (a hash of its bytes: a mirror fetches again only the parts whose version moved)."""
        listed = [{"first_seen": None if month == UNDATED else month, "path": part_path(month), "papers": len(groups[month]),
                   "version": version} for month, version in zip(groups, versions)]
        index = {"site": {"title": self.config.title, "base_url": self.config.base_url},
                 "count": len(self.catalog.papers), "parts": listed}
        return (json.dumps(index, ensure_ascii=False, indent=1) + "\n").encode("utf-8")

    def sitemap(self) -> bytes:
        """Every page, the topic and month pages included (as render.py makes them, from queries.topic_months)."""
        months = topic_months(self.catalog, self.tagging)
        return self.render("sitemap.xml", topics=[(topic, months[topic.slug]) for topic in self.tagging.taxonomy.topics])

    def render(self, template: str, **context) -> bytes:
        text = self.env.get_template(template).render(
            site=self.config, catalog=self.catalog, base=self.config.base_url, pages=self.pages,
            archive=newest_first(self.catalog.digests), **context)
        return text.encode("utf-8")


def paper_record(paper: Paper, catalog: Catalog, topics: list[str]) -> dict:
    return base_record(paper, catalog, topics) | meta_record(paper)


def meta_record(paper: Paper) -> dict:
    """What the input's metadata says of the paper: only the keys something is known for, so a
    paper from the classic dumps has the record it always had."""
    meta = paper.meta
    found: dict[str, object] = {}
    if meta.arxiv_id:
        found |= {"arxiv_id": meta.arxiv_id, "arxiv": f"https://arxiv.org/abs/{meta.arxiv_id}",
                  "pdf": f"https://arxiv.org/pdf/{meta.arxiv_id}", "huggingface": f"https://huggingface.co/papers/{meta.arxiv_id}",
                  "abs_page": f"abs/{meta.arxiv_id}.html", "bibtex": bibtex(paper)}
    values = {"authors": list(meta.authors), "author_count": meta.author_count, "organization": meta.organization,
              "published": meta.published.isoformat() if meta.published else None, "upvotes": meta.upvotes,
              "comments": meta.comments, "counts_as_of": paper.counts_from, "github": meta.github,
              "github_stars": meta.stars, "stars_as_of": paper.stars_from, "project": meta.project,
              "ai_summary": meta.ai_summary, "keywords": list(meta.keywords),
              "withdrawn": meta.withdrawn.isoformat() if meta.withdrawn else None}
    found |= {key: value for key, value in values.items() if value not in (None, "", [])}
    return found


def base_record(paper: Paper, catalog: Catalog, topics: list[str]) -> dict:
    return {
        "title": paper.title,
        "slug": paper.slug,
        "abstract": paper.abstract,
        "page": f"papers/{paper.slug}.html",
        "markdown": f"papers/{paper.slug}.md",
        "links": urls(paper.abstract),
        "topics": topics,
        "appearances": [
            {"digest": a.digest, "date": a.date.isoformat() if a.date else None,
             "position": a.position + 1, "of": len(catalog.digest(a.digest).papers)}
            | ({"upvotes": a.upvotes} if a.upvotes is not None else {})
            for a in paper.appearances
        ],
    }


def part_path(month: str) -> str:
    return f"{PARTS}/papers-{month}.json"


def encode(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def midnight(digest: Digest) -> datetime:
    assert digest.date is not None
    return datetime.combine(digest.date, time(0, 0), tzinfo=timezone.utc)
