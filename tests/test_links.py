"""A link checker over the whole built seeds site, HTML pages and Markdown twins alike.

Every internal reference must be relative (the site works from file://, a domain root and a
sub-path), must land on an existing file inside the site (never a folder, which file:// and
most static hosts do not turn into index.html), and a #fragment into an HTML page must name
an id on that page. No page may load anything from elsewhere (no CDN, no web fonts).
Beyond "nothing is broken", the links must also be the right ones: each paper page links to
exactly the digests the catalog says it appeared in, and each digest lists its papers in the
catalog's order. The catalog is rebuilt here from content/ with generator.parse and
generator.catalog, independently of the build.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from support import CONTENT, dump, make_content

from generator.build import BuildOptions, build
from generator.catalog import Catalog, build_catalog
from generator.config import load_config
from generator.parse import parse_dump

# Attributes whose value is a URL (data-meta / data-lunr are the search page's script paths).
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "cite", "data", "background",
                  "data-meta", "data-lunr"}
# <link rel=...> values that make the browser fetch the target as part of the page.
LOADING_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "prefetch", "modulepreload",
                "manifest", "mask-icon", "dns-prefetch", "preconnect", "import"}
EXTERNAL_SCHEMES = {"http", "https", "mailto"}
# A Markdown inline link's target: ](<target>) or ](target), where the "]" is not backslash-escaped.
MD_LINK = re.compile(r"(?<!\\)(?:\\\\)*\]\((?:<([^<>\n]*)>|([^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*))(?:\s+\"[^\"\n]*\")?\)")
FRONT_MATTER_LINK_KEYS = {"html", "previous", "next", "url"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]*)|@import\s+['\"]([^'\"]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Ref:
    page: str  # site-relative POSIX path of the file the reference is in
    kind: str  # "a@href", "link@href", "script@src", "markdown", "front-matter:url", ...
    value: str
    rel: frozenset[str] = frozenset()

    @property
    def loads(self) -> bool:
        """Fetched as part of showing the page (not merely a link the reader may follow)."""
        tag, _, attribute = self.kind.partition("@")
        if tag == "link":
            return bool(self.rel & LOADING_RELS)
        return attribute in {"src", "poster", "data", "background", "data-meta", "data-lunr"}

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}={self.value!r}"


@dataclass
class Page:
    refs: list[Ref] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


class PageParser(HTMLParser):
    def __init__(self, path: str):
        super().__init__(convert_charrefs=True)
        self.path = path
        self.result = Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.result.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.result.ids.add(values["name"])
        rel = frozenset(values.get("rel", "").lower().split())
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.result.refs.append(Ref(self.path, f"{tag}@{name}", value, rel))
            elif name == "srcset" and value:
                for candidate in value.split(","):
                    if candidate.strip():
                        self.result.refs.append(Ref(self.path, f"{tag}@srcset", candidate.split()[0], rel))

    handle_startendtag = handle_starttag


def parse_html(root: Path, path: Path) -> Page:
    relative = path.relative_to(root).as_posix()
    parser = PageParser(relative)
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.result


def split_front_matter(text: str) -> tuple[list[str], str]:
    """(front matter lines, body) of a twin that starts with a '---' block; ([], text) otherwise."""
    if not text.startswith("---\n"):
        return [], text
    end = text.index("\n---\n", 3)
    return text[4:end].splitlines(), text[end + 5:]


def parse_markdown(root: Path, path: Path) -> Page:
    relative = path.relative_to(root).as_posix()
    page = Page()
    front, body = split_front_matter(path.read_text(encoding="utf-8"))
    for line in front:
        match = re.match(r"\s*(?:-\s+)?([A-Za-z_]+):\s*(.*)$", line)
        assert match, f"{relative}: front matter line is not 'key: value': {line!r}"
        key, raw = match.groups()
        if key in FRONT_MATTER_LINK_KEYS and raw != "null":
            value = json.loads(raw)
            assert isinstance(value, str), f"{relative}: {key} is not a string: {raw!r}"
            page.refs.append(Ref(relative, f"front-matter:{key}", value))
    for match in MD_LINK.finditer(body):
        page.refs.append(Ref(relative, "markdown", match.group(1) if match.group(1) is not None else match.group(2)))
    return page


@dataclass
class Site:
    root: Path
    pages: dict[str, Page]  # site-relative path -> parsed .html or .md

    def resolve(self, ref: Ref) -> tuple[str, str]:
        """(site-relative target path, fragment) of a relative reference."""
        parts = urlsplit(ref.value)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(ref.page), unquote(parts.path)))
        return target, unquote(parts.fragment)


def scan(root: Path) -> Site:
    pages = {}
    for path in sorted(root.rglob("*")):
        if path.suffix == ".html":
            pages[path.relative_to(root).as_posix()] = parse_html(root, path)
        elif path.suffix == ".md":
            pages[path.relative_to(root).as_posix()] = parse_markdown(root, path)
    return Site(root, pages)


def link_problems(site: Site, base_path: str | None = None) -> list[str]:
    """Every broken, absolute or external-resource reference in the site, as readable lines.

    base_path is the path of the site's base_url ("/archive/"): the only place absolute paths
    are allowed is 404.html, which must use exactly that prefix.
    """
    problems = []
    for path, page in site.pages.items():
        for ref in page.refs:
            value = ref.value.strip()
            if value != ref.value:
                problems.append(f"{ref}: surrounding whitespace")
            parts = urlsplit(value)
            scheme = parts.scheme.lower()
            if value.startswith("//"):
                problems.append(f"{ref}: protocol-relative URL")
                continue
            if scheme:
                if scheme == "data" and (ref.kind == "img@src" or (ref.kind == "link@href" and "icon" in ref.rel)):
                    continue  # an inline image (a blank favicon, say) is part of the page, not fetched
                if scheme not in EXTERNAL_SCHEMES:
                    problems.append(f"{ref}: scheme {scheme!r} is not allowed")
                elif ref.loads or ref.kind.startswith("front-matter"):
                    problems.append(f"{ref}: loads an external resource")
                continue
            if value.startswith("#"):
                fragment = unquote(value[1:])
                if fragment and path.endswith(".html") and fragment not in page.ids:
                    problems.append(f"{ref}: no element with id {fragment!r} on this page")
                continue
            if not value:
                problems.append(f"{ref}: empty URL")
                continue
            if value.startswith("/"):
                if path == "404.html" and base_path and value.startswith(base_path):
                    value = value[len(base_path):]  # checked below as if relative to the site root
                    ref = Ref(path, ref.kind, value, ref.rel)
                else:
                    problems.append(f"{ref}: absolute path (links must be relative)")
                    continue
            target, fragment = site.resolve(ref)
            if target == ".." or target.startswith("../"):
                problems.append(f"{ref}: leads outside the site")
                continue
            file = site.root / target
            if file.is_dir():
                problems.append(f"{ref}: is a folder, not a file")
            elif not file.is_file():
                problems.append(f"{ref}: {target} does not exist")
            elif fragment and target.endswith(".html") and fragment not in site.pages[target].ids:
                problems.append(f"{ref}: {target} has no element with id {fragment!r}")
    return problems


def paper_catalog(content: Path) -> Catalog:
    """The catalog as generator.parse + generator.catalog read content/, independently of build()."""
    config, _ = load_config(content / "site.toml")
    dumps = [parse_dump(path.name, path.read_bytes(), config.default_year, config.dates.get(path.name), str(path))
             for path in sorted((content / "digests").glob("*.txt"))]
    return build_catalog(dumps)


def targets(site: Site, page: str, prefix: str, suffix: str, kinds: tuple[str, ...] = ("a@href", "markdown")) -> list[str]:
    """Slugs of the pages under `prefix` that `page` links to, in first-link order."""
    found: list[str] = []
    for ref in site.pages[page].refs:
        if ref.kind not in kinds or urlsplit(ref.value).scheme or ref.value.startswith("#"):
            continue
        target, _ = site.resolve(ref)
        if target.startswith(prefix) and target.endswith(suffix):
            slug = target[len(prefix):-len(suffix)]
            if slug not in found:
                found.append(slug)
    return found


@pytest.fixture(scope="module")
def seeds(seeds_site: Path) -> Site:
    return scan(seeds_site)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return paper_catalog(CONTENT)


def test_the_checker_finds_every_kind_of_broken_link(tmp_path: Path):
    """The checker itself, on a hand-made folder with one mistake of each kind."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "ok.html").write_text('<p id="here">ok</p>', encoding="utf-8")
    (tmp_path / "sub" / "page.html").write_text(
        '<a href="../ok.html#here">fine</a><a href="https://example.org/">fine</a><a href="#top">x</a>'
        '<a href="/ok.html">abs</a><a href="//cdn.example.org/x.js">proto</a><a href="../missing.html">gone</a>'
        '<a href="../sub/">dir</a><a href="../ok.html#nowhere">frag</a><a href="javascript:alert(1)">js</a>'
        '<a href="../../outside.html">out</a><script src="https://cdn.example.org/lib.js"></script>'
        '<link rel="stylesheet" href="https://fonts.example.org/css"><link rel="icon" href="data:,">'
        '<a href="data:text/html,hi">data</a>', encoding="utf-8")
    (tmp_path / "sub" / "twin.md").write_text(
        '---\nhtml: "page.html"\nnext: "gone.md"\n---\n\n[a](page.html) [b](nope.md) \\[c\\](escaped.md) [d](<../ok.html>)\n',
        encoding="utf-8")
    problems = link_problems(scan(tmp_path))
    expected = ["'#top'", "'/ok.html'", "'//cdn.example.org/x.js'", "'../missing.html'", "'../sub/'",
                "'../ok.html#nowhere'", "'javascript:alert(1)'", "'../../outside.html'",
                "'https://cdn.example.org/lib.js'", "'https://fonts.example.org/css'", "'data:text/html,hi'",
                "'gone.md'", "'nope.md'"]
    for needle in expected:
        assert sum(needle in problem for problem in problems) == 1, (needle, problems)
    assert len(problems) == len(expected), problems


def test_every_internal_link_is_relative_and_reaches_a_file(seeds: Site):
    pages = [p for p in seeds.pages if p.endswith(".html")]
    twins = [p for p in seeds.pages if p.endswith(".md")]
    assert len(pages) > 200 and len(twins) > 200
    assert sum(len(page.refs) for page in seeds.pages.values()) > 3000
    problems = link_problems(seeds)
    assert not problems, f"{len(problems)} broken link(s):\n" + "\n".join(problems)


def test_no_page_loads_anything_from_elsewhere(seeds: Site, seeds_site: Path):
    loaded = [ref for page in seeds.pages.values() for ref in page.refs if ref.loads]
    assert {ref.value for ref in loaded} >= {"assets/style.css", "../assets/style.css", "assets/search.js"}
    external = [str(ref) for ref in loaded  # data: is inline, not fetched from anywhere
                if urlsplit(ref.value).scheme not in ("", "data") or ref.value.startswith("//")]
    assert not external, external
    for css in seeds_site.rglob("*.css"):
        for match in CSS_URL.finditer(css.read_text(encoding="utf-8")):
            url = (match.group(1) or match.group(2) or "").strip()
            assert not (urlsplit(url).scheme in {"http", "https"} or url.startswith("//")), f"{css}: {url}"


def test_every_page_is_reachable(seeds: Site, seeds_site: Path):
    """Each HTML page but 404.html is linked from another page, and each twin from its HTML page."""
    linked: set[str] = set()
    for path, page in seeds.pages.items():
        for ref in page.refs:
            if not urlsplit(ref.value).scheme and not ref.value.startswith(("#", "/")):
                target, _ = seeds.resolve(ref)
                if target != path:
                    linked.add(target)
    files = {p.relative_to(seeds_site).as_posix() for p in seeds_site.rglob("*") if p.suffix in (".html", ".md")}
    html = {p for p in files if p.endswith(".html")} - {"404.html"}
    assert not html - linked, sorted(html - linked)
    twins = {p for p in files if p.endswith(".md") and p.startswith(("papers/", "digests/"))}
    for twin in twins:
        assert twin in {seeds.resolve(r)[0] for r in seeds.pages[twin[:-3] + ".html"].refs}, f"{twin} not linked"


def test_the_site_has_one_page_and_one_twin_per_paper_and_digest(seeds_site: Path, catalog: Catalog):
    assert len(catalog.papers) > 200 and len(catalog.digests) >= 4
    for folder, slugs in (("papers", {p.slug for p in catalog.papers}), ("digests", {d.slug for d in catalog.digests})):
        for suffix in (".html", ".md"):
            found = {p.name[:-len(suffix)] for p in (seeds_site / folder).glob(f"*{suffix}")}
            assert found == slugs, (folder, suffix, sorted(found ^ slugs)[:10])


def test_every_paper_page_links_to_exactly_its_digests(seeds: Site, catalog: Catalog):
    several = 0
    for paper in catalog.papers:
        expected = [appearance.digest for appearance in paper.appearances]
        several += len(expected) > 1
        page = f"papers/{paper.slug}.html"
        assert targets(seeds, page, "digests/", ".html") == expected, page
        twin = f"papers/{paper.slug}.md"
        assert targets(seeds, twin, "digests/", ".md") == expected, twin
        assert targets(seeds, twin, "digests/", ".md", kinds=("front-matter:url",)) == expected, twin
    assert several > 10  # the seeds do feature papers in several digests


def test_every_digest_page_links_to_its_papers_in_catalog_order(seeds: Site, catalog: Catalog):
    for digest in catalog.digests:
        expected = [catalog.paper(key).slug for key in digest.papers]
        assert len(expected) > 10
        page = f"digests/{digest.slug}.html"
        assert targets(seeds, page, "papers/", ".html") == expected, page
        twin = f"digests/{digest.slug}.md"
        assert targets(seeds, twin, "papers/", ".md") == expected, twin


def test_the_index_links_every_digest_and_the_latest_digest_papers(seeds: Site, catalog: Catalog):
    dated = [d for d in catalog.digests if d.date]
    assert set(targets(seeds, "index.html", "digests/", ".html")) == {d.slug for d in catalog.digests}
    latest = max(dated, key=lambda d: d.date)
    assert targets(seeds, "index.html", "papers/", ".html") == [catalog.paper(k).slug for k in latest.papers]


def test_a_site_with_a_base_url_is_still_relative_except_404(tmp_path: Path):
    base = "https://example.org/deep/archive/"
    content = make_content(tmp_path, {
        "a.txt": dump(("First paper", "Its abstract."), ("Second paper", "Another abstract."), date="Mar 14"),
        "b.txt": dump(("First paper", "Seen again."), date="Mar 15"),
        "undated.txt": dump(("Third paper", "Undated."), date=None),
    }, site_toml=f'default_year = 2025\nbase_url = "{base}"\n')
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    site = scan(out)
    problems = link_problems(site, base_path="/deep/archive/")
    assert not problems, "\n".join(problems)
    not_found = site.pages["404.html"].refs
    internal = [r.value for r in not_found if not urlsplit(r.value).scheme]
    assert internal and all(v.startswith("/deep/archive/") for v in internal), internal
    for path, page in site.pages.items():
        canonical = [r.value for r in page.refs if "canonical" in r.rel]
        if path.endswith(".html") and path != "404.html":
            assert canonical == [base + path], (path, canonical)
        else:
            assert canonical == [], (path, canonical)


@pytest.mark.parametrize("text, expected", [
    ("Code at github.com/edwardjhu/TP4.", [("Code", "https://github.com/edwardjhu/TP4")]),
    ("See https://huggingface.co/spaces/x/demo and our page https://x.github.io/proj/.",
     [("Code", "https://huggingface.co/spaces/x/demo"), ("Project", "https://x.github.io/proj/")]),
    ("Project: https://example.org/p (code: https://gitlab.com/a/b)",
     [("Code", "https://gitlab.com/a/b"), ("Project", "https://example.org/p")]),
    ("As in arxiv.org/abs/1234.5678 and https://doi.org/10.1/x.", []),
    ("Two repos: github.com/a/one, github.com/b/two", [("Code", "https://github.com/a/one")]),
    ("No links here.", []),
])
def test_badges_name_code_and_project_pages(text, expected):
    from generator.links import badges

    assert [(badge.kind, badge.href) for badge in badges(text)] == expected
