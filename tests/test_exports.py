"""exports.py: the feeds read by a real feed parser, papers.json, llms.txt, sitemap.xml and
robots.txt, on the real seeds and on hostile input."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import feedparser
import pytest

from support import CONTENT, SEEDS, dump, exported_papers, make_content

from generator.build import BuildOptions, build
from generator.cache import Cache
from generator.catalog import build_catalog
from generator.parse import parse_dump

BASE = "https://example.org/digest/"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def seeds_catalog():
    return build_catalog([parse_dump(seed.name, seed.read_bytes(), 2025) for seed in SEEDS])


@pytest.fixture(scope="module")
def hosted_site(tmp_path_factory) -> Path:
    """The seeds with base_url set, as a site published at BASE."""
    root = tmp_path_factory.mktemp("exports")
    content = root / "content"
    shutil.copytree(CONTENT, content)
    toml = content / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('base_url = ""', f'base_url = "{BASE}"'), encoding="utf-8")
    build(BuildOptions(content, root / "site"))
    return root / "site"


def parsed(path: Path):
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_the_digest_feed_lists_each_dated_digest_newest_first_with_its_papers(hosted_site):
    feed = parsed(hosted_site / "feed.xml")
    catalog = seeds_catalog()
    dated = [d for d in catalog.digests if d.date is not None]
    assert feed.feed.title and feed.feed.id == BASE + "feed.xml" and feed.feed.updated.startswith("2025-03-14")
    assert [e.link for e in feed.entries] == [f"{BASE}digests/{d.slug}.html" for d in reversed(dated)]
    for entry, digest in zip(feed.entries, reversed(dated)):
        assert entry.id == entry.link and entry.updated.startswith(digest.date.isoformat())
        assert entry.title.endswith(f"{digest.date:%b} {digest.date.day}, {digest.date.year}")
        html = entry.content[0].value
        for key in digest.papers:
            assert f'href="{BASE}papers/{catalog.paper(key).slug}.html"' in html


def test_the_paper_feed_lists_the_newest_first_appearances(hosted_site):
    feed = parsed(hosted_site / "papers.xml")
    catalog = seeds_catalog()
    newest = [p for p in catalog.papers if p.appearances[0].digest == "2025-03-14"]
    assert len(feed.entries) == 50
    assert all(e.updated.startswith("2025-03-14") for e in feed.entries[: min(50, len(newest))])
    titles = {p.title for p in catalog.papers}
    for entry in feed.entries:
        assert entry.title in titles and entry.link.startswith(BASE + "papers/") and entry.summary


def test_without_a_base_url_feeds_link_relatively_and_there_is_no_sitemap(seeds_site):
    feed = parsed(seeds_site / "feed.xml")
    assert feed.entries and all(e.link.startswith("digests/") for e in feed.entries)
    assert all(e.id.startswith("urn:paperdigest:") for e in feed.entries)
    assert not (seeds_site / "sitemap.xml").exists() and not (seeds_site / "robots.txt").exists()


def test_sitemap_and_robots_name_every_page_absolutely(hosted_site):
    locs = [loc.text for loc in ElementTree.parse(hosted_site / "sitemap.xml").iter(f"{SITEMAP}loc")]
    pages = sorted(p.relative_to(hosted_site).as_posix() for p in hosted_site.rglob("*.html") if p.name != "404.html"
                   and p.name != "search.html")
    assert sorted(loc[len(BASE):] for loc in locs) == pages
    assert all(loc.startswith(BASE) for loc in locs)
    assert (hosted_site / "robots.txt").read_text() == f"User-agent: *\nAllow: /\n\nSitemap: {BASE}sitemap.xml\n"


def test_papers_json_holds_every_paper_and_appearance(seeds_site):
    index = json.loads((seeds_site / "papers.json").read_text(encoding="utf-8"))
    catalog = seeds_catalog()
    assert index["site"] == {"title": "Daily Papers Digest", "base_url": ""}
    assert index["count"] == len(catalog.papers) == sum(part["papers"] for part in index["parts"])
    records = exported_papers(seeds_site)
    assert [p["slug"] for p in records] == [p.slug for p in catalog.papers]
    for record, paper in zip(records, catalog.papers):
        assert record["title"] == paper.title and record["abstract"] == paper.abstract
        assert [a["digest"] for a in record["appearances"]] == [a.digest for a in paper.appearances]
        assert (seeds_site / record["page"]).is_file() and (seeds_site / record["markdown"]).is_file()
        assert all(link.startswith(("http://", "https://")) and link.split("://", 1)[1] in paper.abstract
                   for link in record["links"])  # (a bare "github.com/..." in the text gets https://)
    assert any(record["links"] for record in records)


def test_papers_json_parts_are_the_months_papers_were_first_seen(seeds_site):
    """Each part holds, in slug order, exactly the papers first seen in its month (undated last),
    and data/ holds nothing else."""
    index = json.loads((seeds_site / "papers.json").read_text(encoding="utf-8"))
    catalog = seeds_catalog()
    expected: dict[str | None, list[str]] = {}
    for paper in catalog.papers:
        first = paper.appearances[0].date
        expected.setdefault(first.strftime("%Y-%m") if first else None, []).append(paper.slug)
    assert [part["first_seen"] for part in index["parts"]] == sorted(expected, key=lambda m: (m is None, m or ""))
    assert None in expected and len(expected) >= 2  # the seeds have an undated dump
    for part in index["parts"]:
        data = json.loads((seeds_site / part["path"]).read_text(encoding="utf-8"))
        assert part["path"] == f"data/papers-{part['first_seen'] or 'undated'}.json"
        assert data["first_seen"] == part["first_seen"] and part["papers"] == len(data["papers"])
        assert [record["slug"] for record in data["papers"]] == expected[part["first_seen"]]
        assert part["version"] == hashlib.blake2b((seeds_site / part["path"]).read_bytes(), digest_size=16).hexdigest()
    assert sorted(p.name for p in (seeds_site / "data").iterdir()) == sorted(
        Path(part["path"]).name for part in index["parts"])


def test_a_new_digest_rewrites_only_the_parts_of_the_months_it_touches(tmp_path):
    """A digest that brings a new paper and repeats one first seen in February rewrites
    February's part and makes April's; January's and March's stay the very same files (the
    engine kept them: same inode, same version), and a version moves exactly when its part's
    bytes do."""
    def abstract(subject: str) -> str:
        return f"An abstract long enough to be one, about {subject} and little else. " * 3

    months = {"jan.txt": ("Jan 10", "Sparse tidal models"), "feb.txt": ("Feb 12", "Dense tidal models"),
              "mar.txt": ("Mar 14", "Wide tidal models")}
    content = make_content(tmp_path, {name: dump((title, abstract(title)), date=day)
                                      for name, (day, title) in months.items()})
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    before = index_and_inodes(out)
    assert list(before) == ["2025-01", "2025-02", "2025-03"]
    (content / "digests" / "apr.txt").write_text(dump(("Dense tidal models", abstract("Dense tidal models")),
                                                      ("Narrow tidal models", abstract("narrow ones")),
                                                      date="Apr 2"), encoding="utf-8")
    build(BuildOptions(content, out))
    after = index_and_inodes(out)
    assert list(after) == ["2025-01", "2025-02", "2025-03", "2025-04"]
    for month in ("2025-01", "2025-03"):
        assert after[month] == before[month]
    assert after["2025-02"][0] != before["2025-02"][0] and after["2025-02"][2] != before["2025-02"][2]
    feb = json.loads((out / "data" / "papers-2025-02.json").read_text(encoding="utf-8"))["papers"]
    assert [a["digest"] for a in feb[0]["appearances"]] == ["2025-02-12", "2025-04-02"]
    assert [r["title"] for r in exported_papers(out)] == sorted(
        ["Sparse tidal models", "Dense tidal models", "Wide tidal models", "Narrow tidal models"],
        key=lambda title: title.lower().replace(" ", "-"))


def test_parts_are_kept_when_only_the_look_of_the_site_changes(tmp_path):
    """The site's title, a stylesheet and a hand page change every HTML page but no record:
    every part of papers.json is kept (same file, same version), and papers.json names the new title."""
    content = make_content(tmp_path, {"a.txt": dump(("Sparse tidal models", "An abstract about tides, long enough. " * 4))})
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    before = index_and_inodes(out)
    (content / "site.toml").write_text('default_year = 2025\ntitle = "Tides"\n', encoding="utf-8")
    (content / "theme" / "static").mkdir(parents=True)
    (content / "theme" / "static" / "style.css").write_text("body { color: teal }\n", encoding="utf-8")
    (content / "pages").mkdir()
    (content / "pages" / "about.md").write_text("# About\n\nTides.\n", encoding="utf-8")
    build(BuildOptions(content, out))
    assert index_and_inodes(out) == before
    assert json.loads((out / "papers.json").read_text(encoding="utf-8"))["site"]["title"] == "Tides"
    assert "Tides" in (out / "papers" / "sparse-tidal-models.html").read_text(encoding="utf-8")


def test_a_part_kept_without_its_remembered_version_is_made_again_with_the_same_one(tmp_path):
    """The cache lost the parts' versions (a table deleted by hand): the kept parts are made
    again, so papers.json still gives each part the hash of its bytes."""
    content = make_content(tmp_path, {"a.txt": dump(("Sparse tidal models", "An abstract about tides, long enough. " * 4))})
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    before = index_and_inodes(out)
    (Cache(out).root / "tables" / "part-versions").unlink()
    (content / "site.toml").write_text('default_year = 2025\ntitle = "Tides"\n', encoding="utf-8")
    build(BuildOptions(content, out))
    after = index_and_inodes(out)
    assert after.keys() == before.keys()
    for month, (version, inode, data) in after.items():
        assert (version, data) == before[month][::2]  # made again, the same (so linked, not written: write.py)


def index_and_inodes(site: Path) -> dict[str, tuple[str, int, bytes]]:
    """Each part's month -> (version, inode, bytes)."""
    index = json.loads((site / "papers.json").read_text(encoding="utf-8"))
    return {part["first_seen"]: (part["version"], (site / part["path"]).stat().st_ino, (site / part["path"]).read_bytes())
            for part in index["parts"]}


def test_llms_txt_links_every_twin(seeds_site):
    text = (seeds_site / "llms.txt").read_text(encoding="utf-8")
    assert text.startswith("# Daily Papers Digest\n\n> ")

    targets = re.findall(r"\]\(([^)]+)\)", text)
    twins = sorted(p.relative_to(seeds_site).as_posix() for p in (seeds_site / "papers").glob("*.md"))
    twins += sorted(p.relative_to(seeds_site).as_posix() for p in (seeds_site / "digests").glob("*.md"))
    assert set(twins) <= set(targets)
    assert all((seeds_site / target).is_file() for target in targets)


def test_hostile_titles_stay_text_in_feeds(tmp_path):
    title = "<script>alert(1)</script> & ]]> Title"
    content = make_content(tmp_path, {"a.txt": dump((title, "An abstract long enough to be one. " * 8))},
                           f'default_year = 2025\nbase_url = "{BASE}"\n')
    build(BuildOptions(content, tmp_path / "site"))
    papers = parsed(tmp_path / "site" / "papers.xml")
    assert papers.entries[0].title == title
    digests = parsed(tmp_path / "site" / "feed.xml")
    assert "<script>" not in digests.entries[0].content[0].value
    assert "&lt;script&gt;" in digests.entries[0].content[0].value
