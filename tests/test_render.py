"""render.py and the default theme: what each page says and links to."""

from __future__ import annotations

import re

from support import dump, make_content, tree

from generator.build import BuildOptions, build
from generator.links import segments
from generator.commonmark import escape as markdown_escape

ABSTRACT = "An abstract long enough to be one. " * 10


def build_small(tmp_path, dumps, site_toml="default_year = 2025\n"):
    content = make_content(tmp_path, dumps, site_toml)
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    return content, out


def test_abstract_urls_become_links_without_trailing_punctuation(seeds_site):
    pages = [p.read_text() for p in (seeds_site / "papers").glob("*.html") if "edwardjhu" in p.read_text()]
    assert len(pages) == 1
    assert '<a href="https://github.com/edwardjhu/TP4" rel="nofollow noopener">github.com/edwardjhu/TP4</a>.' in pages[0]


def test_segments_round_trip_and_only_make_http_links():
    text = "see javascript:alert(1) and https://x.org/a). Also www.y.com, ftp://z.org"
    parts = segments(text)
    assert "".join(part.text for part in parts) == text
    assert [part.href for part in parts if part.href] == ["https://x.org/a", "https://www.y.com"]


def test_digest_page_marks_other_appearances_and_links_neighbours(tmp_path):
    _, out = build_small(tmp_path, {
        "a.txt": dump(("Shared Paper", ABSTRACT), ("Only Eleven", ABSTRACT), date="Mar 11"),
        "b.txt": dump(("Shared Paper", ABSTRACT), date="Mar 12"),
        "c.txt": dump(("Only Fourteen", ABSTRACT), ("shared paper!", ABSTRACT), date="Mar 14"),
    })
    middle = (out / "digests" / "2025-03-12.html").read_text()
    assert re.search(r'Also in\s*<a href="../digests/2025-03-11.html">Mar 11</a>, <a href="../digests/2025-03-14.html">Mar 14</a>', middle)
    assert 'rel="prev" href="2025-03-11.html"' in middle and 'rel="next" href="2025-03-14.html"' in middle
    oldest = (out / "digests" / "2025-03-11.html").read_text()
    assert 'rel="prev"' not in oldest
    paper = (out / "papers" / "shared-paper.html").read_text()
    assert paper.count('href="../digests/') == 7  # first seen, three in the timeline, three digest navigations
    assert "featured in 3 digests" in paper
    # Next to it in each digest: shown for the latest digest, the others there for ?from=<digest>.
    navs = re.findall(r'<nav class="paper-nav" data-digest="([^"]+)"[^>]*?( hidden)?>(.*?)</nav>', paper, re.DOTALL)
    assert [(slug, bool(hidden)) for slug, hidden, _ in navs] == [
        ("2025-03-11", True), ("2025-03-12", True), ("2025-03-14", False)]
    links = {slug: re.findall(r'rel="(prev|next)" href="([^"]+)"', body) for slug, _, body in navs}
    assert links == {"2025-03-11": [("next", "only-eleven.html?from=2025-03-11")], "2025-03-12": [],
                     "2025-03-14": [("prev", "only-fourteen.html?from=2025-03-14")]}


def test_index_shows_the_latest_digest_and_the_archive_newest_first(tmp_path):
    _, out = build_small(tmp_path, {
        "a.txt": dump(("Old Paper", ABSTRACT), date="Mar 11"),
        "b.txt": dump(("New Paper", ABSTRACT), date="Mar 14"),
        "u.txt": dump(("Undated Paper", ABSTRACT), date=None),
    })
    index = (out / "index.html").read_text()
    latest, archive = index.split('id="recent"')
    assert "New Paper" in latest and "Old Paper" not in latest
    order = re.findall(r'href="digests/([^"]+)\.html">[^<]+</a> <span class="count">(\d+) papers', archive)
    assert order == [("2025-03-14", "1"), ("2025-03-11", "1"), ("u", "1")]


def test_undated_dump_has_its_own_page_named_from_its_file(tmp_path):
    _, out = build_small(tmp_path, {"Daily Dump 7.txt": dump(("A Paper", ABSTRACT), date=None)})
    page = (out / "digests" / "daily-dump-7.html").read_text()
    assert "Undated (Daily Dump 7)" in page


def test_base_url_gives_canonical_links_and_an_absolute_404(tmp_path):
    _, out = build_small(tmp_path, {"a.txt": dump(("A Paper", ABSTRACT))},
                         'default_year = 2025\nbase_url = "https://me.github.io/repo"\n')
    paper = (out / "papers" / "a-paper.html").read_text()
    assert '<link rel="canonical" href="https://me.github.io/repo/papers/a-paper.html">' in paper
    assert 'href="/repo/assets/style.css"' in (out / "404.html").read_text()


def test_without_base_url_there_is_no_canonical_link(seeds_site):
    assert 'rel="canonical"' not in (seeds_site / "index.html").read_text()


def test_a_user_template_and_static_file_override_the_theme(tmp_path):
    content = make_content(tmp_path, {"a.txt": dump(("A Paper", ABSTRACT))})
    (content / "theme" / "templates").mkdir(parents=True)
    (content / "theme" / "static").mkdir(parents=True)
    (content / "theme" / "templates" / "paper.html").write_text(
        '{% extends "base.html" %}{% block main %}<p class="mine">{{ paper.title }}</p>{% endblock %}')
    (content / "theme" / "static" / "style.css").write_text("body { color: red; }")
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    assert '<p class="mine">A Paper</p>' in (out / "papers" / "a-paper.html").read_text()
    assert (out / "assets" / "style.css").read_text() == "body { color: red; }"
    assert (out / "assets" / "search.js").is_file()  # the rest of the theme still applies


def test_markdown_escape_neutralises_syntax():
    assert markdown_escape("[x](javascript:alert(1)) <b>*") == r"\[x\](javascript:alert(1)) &lt;b>\*"


def test_urls_are_found_whatever_their_case():
    parts = segments("Code: HTTPS://X.ORG/A and GitHub.com/Me/Repo. No link: https:// alone.")
    assert [part.href for part in parts if part.href] == ["HTTPS://X.ORG/A", "https://GitHub.com/Me/Repo"]
    assert segments("plain text only") == [segments("plain text only")[0]] and segments("") == []


def test_parallel_rendering_writes_exactly_what_serial_rendering_does(tmp_path, monkeypatch):
    import generator.engine as engine

    papers = [(f"Paper {n}: a study of things", ABSTRACT) for n in range(1200)]
    content = make_content(tmp_path, {"a.txt": dump(*papers[:700]), "b.txt": dump(*papers[500:], date="Mar 15")})
    build(BuildOptions(content, tmp_path / "parallel"))
    monkeypatch.setattr(engine, "PARALLEL_MIN", 10**9)
    build(BuildOptions(content, tmp_path / "serial"))

    parallel, serial = tree(tmp_path / "parallel"), tree(tmp_path / "serial")
    assert len(parallel) > 2400 and parallel == serial


def test_the_count_of_files_is_what_the_jobs_make(tmp_path):
    from generator.catalog import build_catalog
    from generator.config import SiteConfig
    from generator.engine import Engine, count
    from generator.keys import Keys
    from generator.pages import load_pages
    from generator.parse import parse_dump
    from generator.render import SiteRenderer
    from generator.theme import Theme, default_theme_dir

    pages_dir = tmp_path / "pages"
    pages_dir.mkdir()
    (pages_dir / "about.md").write_text("# About\n\nplain")
    (pages_dir / "raw.md").write_text("# Raw\n\n<b>raw html</b>")  # published without its twin
    pages, _ = load_pages(pages_dir)
    catalog = build_catalog([parse_dump("a.txt", dump(("One", ABSTRACT), ("Two", ABSTRACT)).encode(), 2025)])
    renderer = SiteRenderer(catalog, SiteConfig(), Theme((default_theme_dir(),)), tuple(pages))
    jobs = list(renderer.jobs())
    made = list(Engine(Keys(catalog, ""), {}).run(jobs))  # (nothing to reuse: the salt is moot)
    assert count(jobs) == len(made) == len({file.path for file in made}) == 7 + 3 + 4 + 4  # no taxonomy: no topic pages
    assert all(file.data is not None for file in made)



def test_a_digests_citations_are_made_of_its_papers_not_its_neighbours():
    """A new digest next to an old one changes the old one's pages (their "newer" link), not its
    .bib and .ris: they are a job of their own, whose key does not hold the neighbours."""
    from generator.catalog import build_catalog
    from generator.config import SiteConfig
    from generator.engine import Engine
    from generator.keys import Keys
    from generator.parse import parse_dump
    from generator.render import SiteRenderer
    from generator.theme import Theme, default_theme_dir

    def keys(*texts: str) -> dict[str, str]:
        catalog = build_catalog([parse_dump(f"{day}.txt", dump(*text, date=day).encode(), 2025)
                                 for day, text in zip(("Mar 3", "Mar 4"), [[("One", ABSTRACT)], [("Two", ABSTRACT)]][:len(texts)])])
        jobs = list(SiteRenderer(catalog, SiteConfig(), Theme((default_theme_dir(),)), ()).jobs())
        return {file.path: file.key for file in Engine(Keys(catalog, ""), {}).run(jobs)}

    alone, neighboured = keys("one"), keys("one", "two")
    old = next(path.rsplit(".", 1)[0] for path in alone if path.startswith("digests/") and path.endswith(".html"))
    assert alone[f"{old}.html"] != neighboured[f"{old}.html"] and alone[f"{old}.md"] != neighboured[f"{old}.md"]
    assert alone[f"{old}.bib"] == neighboured[f"{old}.bib"] and alone[f"{old}.ris"] == neighboured[f"{old}.ris"]

def test_code_badges_and_searches_elsewhere(tmp_path):
    _, out = build_small(tmp_path, {"a.txt": dump(
        ("Tensor Programs IV", ABSTRACT + " Code: github.com/edwardjhu/TP4."), ("No Code Here", ABSTRACT), date="Mar 11")})
    paper = (out / "papers" / "tensor-programs-iv.html").read_text()
    assert '<a class="badge badge-code" href="https://github.com/edwardjhu/TP4" rel="nofollow noopener">Code</a>' in paper
    assert 'href="https://arxiv.org/search/?query=Tensor%20Programs%20IV&amp;searchtype=title"' in paper
    assert 'href="https://huggingface.co/papers?q=Tensor%20Programs%20IV"' in paper
    digest = (out / "digests" / "2025-03-11.html").read_text()
    assert '<li class="paper" id="p-tensor-programs-iv" data-code data-new>' in digest
    assert '<li class="paper" id="p-no-code-here" data-new>' in digest


def test_most_featured_ranks_papers_by_their_digests(seeds_site):
    from generator.catalog import build_catalog
    from generator.parse import parse_dump
    from support import SEEDS

    catalog = build_catalog([parse_dump(seed.name, seed.read_bytes(), 2025) for seed in SEEDS])
    html = (seeds_site / "featured.html").read_text()
    listed = re.findall(r'<a href="papers/([^"]+)\.html">.*?<span class="badge">(\d+) digests</span>', html, re.DOTALL)
    by_slug = {paper.slug: paper for paper in catalog.papers}
    assert [slug for slug, _ in listed] and all(int(n) == len(by_slug[slug].appearances) for slug, n in listed)
    counts = [int(n) for _, n in listed]
    assert counts == sorted(counts, reverse=True)
    assert {slug for slug, _ in listed} == {p.slug for p in catalog.papers if len(p.appearances) > 1}


def test_calendar_shows_each_digest_day_and_the_gaps(tmp_path):
    _, out = build_small(tmp_path, {
        "a.txt": dump(("One Paper", ABSTRACT), date="Jan 30"),
        "b.txt": dump(("Two Paper", ABSTRACT), ("Three Paper", ABSTRACT), date="Mar 3"),
        "u.txt": dump(("Undated Paper", ABSTRACT), date=None),
    })
    html = (out / "calendar.html").read_text()
    assert re.findall(r"<caption>([^<]+)</caption>", html) == ["March 2025", "February 2025", "January 2025"]
    digests = re.findall(r'<td class="digest"><a href="digests/([^"]+)\.html"><span class="visually-hidden">[^<]*</span>'
                         r'<span class="day">(\d+)</span> <span class="count">(\d+)<', html)
    assert digests == [("2025-03-03", "3", "2"), ("2025-01-30", "30", "1")]
    assert html.count('<td class="gap">') == 31 + 28 + 31 - 2  # every other day of the three months
    assert 'href="digests/u.html"' in html  # undated, listed apart


def test_the_home_chart_is_well_formed_svg_with_a_bar_per_digest(seeds_site):
    import xml.etree.ElementTree as ElementTree

    from generator.catalog import build_catalog
    from generator.parse import parse_dump
    from support import SEEDS

    catalog = build_catalog([parse_dump(seed.name, seed.read_bytes(), 2025) for seed in SEEDS])
    html = (seeds_site / "index.html").read_text()
    svg = ElementTree.fromstring(html[html.index("<svg"):html.index("</svg>") + 6])  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.get("role") == "img" and svg.find(f"{ns}title") is not None and svg.find(f"{ns}desc") is not None
    dated = [digest for digest in catalog.digests if digest.date is not None]
    groups = svg.findall(f"{ns}g")
    assert len(groups) == len(dated)
    tallest = max(len(digest.papers) for digest in dated)
    for group, digest in zip(groups, dated):
        new = sum(catalog.paper(key).appearances[0].digest == digest.slug for key in digest.papers)
        assert group.find(f"{ns}title").text.endswith(f"{new} new, {len(digest.papers) - new} returning")
        heights = [float(rect.get("height")) for rect in group.findall(f"{ns}rect")]
        assert abs(sum(heights) - 120 * len(digest.papers) / tallest) < 0.02


def test_each_paper_page_lists_its_related_papers_in_order(seeds_site):
    """The pages show what related.py computes for the catalog: up to five, most related first,
    never the paper itself, in the HTML page and its Markdown twin alike."""
    from support import CONTENT

    from generator.inputs import read_dumps
    from generator.catalog import build_catalog
    from generator.config import load_config
    from generator.manifest import fingerprint
    from generator.related import related_papers
    from generator.theme import default_theme_dir

    config, _ = load_config(CONTENT / "site.toml")
    read, _ = read_dumps(CONTENT / "digests", config, fingerprint(CONTENT, (default_theme_dir(),), False))
    catalog = build_catalog(read.dumps)
    related = related_papers(catalog.papers)
    shown = 0
    for paper in catalog.papers:
        html = (seeds_site / "papers" / f"{paper.slug}.html").read_text(encoding="utf-8")
        section = re.search(r'id="related-heading".*?</ul>', html, re.S)
        listed = re.findall(r'<li><a href="([^"]+)\.html">', section.group()) if section else []
        expected = [catalog.paper(key).slug for key in related[paper.key]]
        assert listed == expected and paper.slug not in listed and len(listed) <= 5
        twin = (seeds_site / "papers" / f"{paper.slug}.md").read_text(encoding="utf-8")
        assert re.findall(r"^- \[.*\]\(([^)]+)\.md\)$", twin.split("## Related papers")[1].split("## Featured in")[0],
                          re.M) == expected if expected else "## Related papers" not in twin
        shown += bool(listed)
    assert shown > 0.9 * len(catalog.papers)
