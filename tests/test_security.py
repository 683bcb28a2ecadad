"""Hostile input stays text: a small site whose dumps, settings and hand-written page try XSS.

Three angles on the same built site:
(a) static: every .html, parsed, has no script but the site's own files, no on* attribute,
    no javascript:/vbscript:/data: URL (after the normalisation a browser applies), and no
    embedding element (iframe, object, svg, ...);
(b) the Markdown twins, rendered by Python-Markdown with raw HTML allowed (as permissive
    renderers do), pass the same check with no script at all, and show the hostile titles
    as the exact text they are;
(c) real Chromium opens every page (and the search page with queries that hit the hostile
    papers) from file://: no dialog opens, no element carries an on* attribute, no link or
    form goes to javascript:, and the hostile titles are visible, as text.
A canary page with a real XSS proves (a) and (c) detect what they claim to.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest

from support import ENGINE_SCRIPTS, dump, make_content

from generator.build import BuildOptions, build
from generator.catalog import Catalog, build_catalog
from generator.config import load_config
from generator.parse import parse_dump

SITE_TOML = """default_year = 2025
title = "<script>alert('site title')</script>"
description = "\\"><img src=x onerror=alert('description')>"
language = "en\\" onmouseover=\\"alert('lang')"
"""

# Titles: each a different paper (different identity key), each an attack of its own.
TITLES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)//>",
    "\"><svg onload=alert(1)>",
    "[click](javascript:alert(1))",
    "javascript:alert(1)",
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#60;b&#62; and &quot;entities&quot;",
    "</title><script>alert(1)</script><!--",
    "' onmouseover='alert(1)' x='",
    "Innocent title about alert scripts",
]
ABSTRACTS = [
    "<img src=x onerror=alert(1)> and \"><svg onload=alert(1)> and javascript:alert(1) and "
    "[click](javascript:alert(1)) and <a href=\"javascript:alert(1)\">a link</a>. This script calls alert.",
    "See https://example.com/\"onmouseover=\"alert(1) and www.example.org/<script>alert(1)</script> and "
    "https://example.com/?a=1&b=<svg/onload=alert(1)> and javascript://example.com/%0Aalert(1) and "
    "github.com/x/y'onclick='alert(1)' and [x](<javascript:alert(1)>) for the script alert.",
    "&lt;img src=x onerror=alert(1)&gt; &amp;lt;script&amp;gt; &#x3C;svg onload=alert(1)&#x3E; &quot; alert script",
    "<iframe src=\"javascript:alert(1)\"></iframe><object data=\"javascript:alert(1)\"></object> alert script\n\n"
    "A second paragraph, long enough to be read as the continuation of this abstract rather than as a title: "
    "<script>alert(2)</script> <img src=x onerror=alert(2)> <base href=\"javascript:alert(2)//\"> "
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(2)\"> " + "More words about alert scripts. " * 10,
]
HOSTILE_FILE = "<img src=x onerror=alert(7)>.txt"  # an undated dump: its name is shown as the digest's date

EVIL_PAGE = """# <img src=x onerror=alert(1)> Evil page

<script>alert(1)</script>

<div onmouseover="alert(1)">hover me</div>

<a href="javascript:alert(1)">raw link</a> <iframe src="javascript:alert(1)"></iframe>

* [plain](javascript:alert(1))
* [mixed case](JaVaScRiPt:alert(1))
* [spaced]( javascript:alert(1) )
* [angle](<javascript:alert(1)>)
* [decimal entity](javascript&#58;alert(1))
* [hex entities](&#x6A;avascript&#x3A;alert(1))
* [named entity](java&#x73;cript&colon;alert(1))
* [tabbed](java&#9;script:alert(1))
* [vbscript](vbscript:msgbox(1))
* [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
* [reference][evil]
* ![image](javascript:alert(1))
* <javascript:alert(1)>
* [fine](https://example.org/) and [also fine](index.html)

[evil]: JAVASCRIPT:alert(1)
"""

SCRIPT_SCHEME = re.compile(r"(?:javascript|vbscript):", re.IGNORECASE)
# data: is only an image where it cannot be navigated to or framed (an inline icon, say).
DATA_SCHEME = re.compile(r"data:", re.IGNORECASE)
NAVIGABLE = {"a", "area", "iframe", "frame", "object", "embed", "form", "button", "input", "base"}
EMBEDDING = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "svg", "math", "style", "template"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "data", "cite", "background", "xlink:href",
                  "srcset", "ping", "data-meta", "data-lunr"}
SITE_SCRIPTS = re.compile(r"^assets/.+\.js$")
# The home page's chart is the one <svg> the theme writes: these attributes, and inside it only
# shapes and text (no <a>, <script>, <foreignObject>, <use>, <image>, <animate>...).
CHART_SVG_ATTRIBUTES = {"xmlns", "viewbox", "role", "aria-labelledby", "preserveaspectratio"}
CHART_ELEMENTS = {"title", "desc", "g", "rect"}

# Run in the page: everything a hostile string could have turned into active content.
ACTIVE_CONTENT_JS = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (attr.name.toLowerCase().startsWith("on")) found.push(`${el.tagName} ${attr.name}=${attr.value}`);
    }
  }
  const navigable = "a[href], area[href], iframe[src], embed[src], form[action], object[data]";
  for (const el of document.querySelectorAll(`${navigable}, link[href], img[src], script[src]`)) {
    const url = el.href || el.src || el.action || el.data;
    try {
      const protocol = new URL(url, document.baseURI).protocol;
      const bad = el.matches(navigable) ? ["javascript:", "vbscript:", "data:"] : ["javascript:", "vbscript:"];
      if (bad.includes(protocol)) found.push(`${el.tagName} -> ${url}`);
    } catch (error) { /* not a URL at all: nothing to run */ }
  }
  for (const el of document.querySelectorAll("iframe, frame, object, embed, base, svg, math")) {
    const chart = el.matches("figure.chart > svg") && !el.querySelector(":not(title, desc, g, rect)");
    if (!chart) found.push(`element ${el.tagName}`);
  }
  return found;
}"""
# Scripts that run: every script element but the JSON-LD data blocks (checked apart, below).
SCRIPTS_JS = ("() => [...document.scripts].filter(s => s.type !== 'application/ld+json')"
              ".map(s => [s.getAttribute('src'), s.textContent])")
DATA_JS = "() => [...document.scripts].filter(s => s.type === 'application/ld+json').map(s => s.textContent)"


# The one refresh the theme writes (redirect.html): at once, to a paper page, by a relative path.
REDIRECT = re.compile(r"0; url=(?:\.\./)+papers/[a-z0-9-]+\.html")


def normalised_url(value: str) -> str:
    """What a browser reads as the URL: tab/newline removed anywhere, C0 and spaces trimmed."""
    return re.sub(r"[\t\n\r]", "", value).strip("".join(map(chr, range(0x21))))


@dataclass
class Scan:
    problems: list[str] = field(default_factory=list)
    scripts: list[tuple[str | None, str]] = field(default_factory=list)  # (src, inline text)
    data: list[str] = field(default_factory=list)  # the texts of JSON-LD blocks (<script type=application/ld+json>)


class ActiveContentParser(HTMLParser):
    """Collects what would run: script elements, on* attributes, dangerous URLs, embedding elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scan = Scan()
        self._script: list | None = None
        self._chart = False  # inside the home page's chart: an <svg> of shapes and text only
        self._data = False  # inside a JSON-LD block

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.scan.problems.append(f"<{tag}> has event handler {name}={value!r}")
            url = normalised_url(value or "") if name in URL_ATTRIBUTES else ""
            if SCRIPT_SCHEME.match(url) or (tag in NAVIGABLE and DATA_SCHEME.match(url)):
                self.scan.problems.append(f"<{tag} {name}={value!r}> uses a script-capable scheme")
        values = {name: value or "" for name, value in attrs}
        if tag == "svg" and set(values) == CHART_SVG_ATTRIBUTES and not self._chart:
            self._chart = True  # the theme's chart; every element inside is checked below
        elif self._chart and tag not in CHART_ELEMENTS:
            self.scan.problems.append(f"<{tag}> element inside the chart's <svg>")
        elif tag in EMBEDDING:
            self.scan.problems.append(f"<{tag}> element")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh" \
                and not REDIRECT.fullmatch(values.get("content", "")):
            self.scan.problems.append(f"<meta http-equiv=refresh content={values.get('content')!r}>")
        if tag == "script":
            self._script = [values.get("src"), ""]
            self._data = values.get("type") == "application/ld+json" and "src" not in values

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._chart = False
        if tag == "script" and self._script is not None:
            if self._data:
                self.check_data(self._script[1])
            else:
                self.scan.scripts.append((self._script[0], self._script[1]))
            self._script = None

    def check_data(self, text: str) -> None:
        """The one kind of script element the theme writes inline: JSON-LD, a data block that
        never runs. It must be JSON, and hold no `<` at all (so no `</script>` can end it early)."""
        self.scan.data.append(text)
        if "<" in text:
            self.scan.problems.append(f"JSON-LD holds a '<': {text[:80]!r}")
        try:
            json.loads(text)
        except ValueError:
            self.scan.problems.append(f"JSON-LD is not JSON: {text[:80]!r}")


def scan_html(html: str) -> Scan:
    parser = ActiveContentParser()
    parser.feed(html)
    parser.close()
    if parser._script is not None:  # an unclosed <script> still runs
        parser.scan.scripts.append((parser._script[0], parser._script[1]))
    return parser.scan


def page_problems(site: Path, path: Path) -> list[str]:
    """(a) for one built page: its own problems, plus any script that is not one of the site's files."""
    relative = path.relative_to(site).as_posix()
    scan = scan_html(path.read_text(encoding="utf-8"))
    problems = [f"{relative}: {problem}" for problem in scan.problems]
    for src, text in scan.scripts:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(relative), src)) if src else None
        if src is None or text.strip() or not SITE_SCRIPTS.match(target) or not (site / target).is_file():
            problems.append(f"{relative}: foreign script src={src!r} text={text[:80]!r}")
    return problems


def split_twin(text: str) -> tuple[dict[str, object], str]:
    """Front matter (every value must be plain JSON/YAML data) and the Markdown body of a twin."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.index("\n---\n", 3)
    data: dict[str, object] = {}
    for line in text[4:end].splitlines():
        match = re.fullmatch(r"(\s*(?:-\s+)?)([A-Za-z_]+):(?: (.*))?", line)
        assert match, f"front matter line is not 'key: value': {line!r}"
        indent, key, raw = match.groups()
        if raw in (None, "null") or re.fullmatch(r"\d+|\d{4}-\d{2}-\d{2}", raw or ""):
            continue
        value = json.loads(raw)  # a JSON string or list of strings is a YAML flow scalar: no tags, no anchors
        assert isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)), line
        if not indent:
            data[key] = value
    return data, text[end + 5:]


def render_twin(body: str) -> str:
    """A permissive, GitHub-like rendering: raw HTML is kept as it is."""
    return markdown.markdown(body, extensions=["tables", "fenced_code"])


def text_of(html: str, tag: str) -> list[str]:
    """The text content of every <tag> element (entities decoded), as a browser would show it."""
    texts: list[str] = []

    class Collector(HTMLParser):
        depth = 0

        def handle_starttag(self, name, attrs):
            if name == tag:
                self.depth += 1
                texts.append("")

        def handle_endtag(self, name):
            if name == tag:
                self.depth -= 1

        def handle_data(self, data):
            if self.depth:
                texts[-1] += data

    collector = Collector(convert_charrefs=True)
    collector.feed(html)
    collector.close()
    return [" ".join(text.split()) for text in texts]


def hostile_catalog(content: Path) -> Catalog:
    config, _ = load_config(content / "site.toml")
    dumps = [parse_dump(path.name, path.read_bytes(), config.default_year, config.dates.get(path.name), str(path))
             for path in sorted((content / "digests").glob("*.txt"))]
    return build_catalog(dumps)


@dataclass(frozen=True)
class HostileSite:
    root: Path
    catalog: Catalog

    def html(self) -> list[Path]:
        return sorted(self.root.rglob("*.html"))

    def twins(self) -> list[Path]:
        return sorted(self.root.rglob("*.md"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HostileSite:
    root = tmp_path_factory.mktemp("hostile")
    papers = [(title, ABSTRACTS[i % len(ABSTRACTS)]) for i, title in enumerate(TITLES)]
    content = make_content(root, {
        "2025-03-14.txt": dump(*papers[:5], date="Mar 14"),
        "2025-03-15.txt": dump(*papers[3:], date="Mar 15"),
        HOSTILE_FILE: dump(papers[0], papers[-1], ("Undated & <b>bold</b>", ""), date=None),
    }, site_toml=SITE_TOML)
    (content / "pages").mkdir()
    (content / "pages" / "evil.md").write_text(EVIL_PAGE, encoding="utf-8")
    out = root / "site"
    build(BuildOptions(content, out))
    catalog = hostile_catalog(content)
    assert {paper.title for paper in catalog.papers} >= set(TITLES)  # each attack is a paper of its own
    return HostileSite(out, catalog)


# (a) static ---------------------------------------------------------------------------------

def test_the_static_check_catches_real_attacks():
    page = ('<p onclick="x()">a</p><a href=" JaVa&#x09;ScRiPt&colon;alert(1)">b</a><script>alert(1)</script>'
            '<img src=x onerror=alert(1)><svg><a href="vbscript:x"></a></svg><form action="data:text/html,x"></form>'
            '<meta http-equiv="refresh" content="0;url=javascript:alert(1)"><script src="https://cdn.example.org/x.js"></script>'
            '<link rel="icon" href="data:,"><a href="https://example.org/javascript:alert(1)">fine</a>')
    scan = scan_html(page)
    assert len(scan.problems) == 7, scan.problems  # onclick, href, onerror, svg, vbscript, form action, meta refresh
    assert scan.scripts == [(None, "alert(1)"), ("https://cdn.example.org/x.js", "")]
    data = scan_html('<script type="application/ld+json">{"a": "</script><script>alert(1)</script>"}</script>'
                     '<script type="application/ld+json">{not json}</script>')
    assert len(data.problems) == 2 and data.scripts == [(None, "alert(1)")], data  # broken out, and not JSON


def test_pages_carry_no_active_content(hostile: HostileSite):
    pages = hostile.html()
    assert len(pages) >= 3 + 1 + 3 + len(TITLES)  # index/search/404, the hand page, 3 digests, the papers
    problems = [problem for path in pages for problem in page_problems(hostile.root, path)]
    assert not problems, "\n".join(problems)
    scripts = {(path.relative_to(hostile.root).as_posix(), src)
               for path in pages for src, _ in scan_html(path.read_text(encoding="utf-8")).scripts}
    # Only the theme's own script files: site.js everywhere (by the page's relative way back to
    # the root), the search engine and search.js on the search page; never inline script.
    expected = {(path.relative_to(hostile.root).as_posix(), "../" * (len(path.relative_to(hostile.root).parts) - 1)
                 + "assets/site.js") for path in pages if path.name != "404.html"}
    expected |= {("search.html", script) for script in ENGINE_SCRIPTS}
    expected |= {("search.html", "assets/search.js"), ("404.html", "assets/site.js")}
    assert scripts == expected


def test_the_hostile_text_is_in_the_pages_as_text(hostile: HostileSite):
    for paper in hostile.catalog.papers:
        html = (hostile.root / "papers" / f"{paper.slug}.html").read_text(encoding="utf-8")
        assert text_of(html, "h1") == [" ".join(paper.title.split())], paper.slug
        assert text_of(html, "title")[0].startswith(" ".join(paper.title.split()))


# (b) Markdown twins -------------------------------------------------------------------------

def test_dump_twins_render_to_no_active_content(hostile: HostileSite):
    twins = [path for path in hostile.twins() if path.parent.name in ("papers", "digests")]
    assert len(twins) == len(hostile.catalog.papers) + len(hostile.catalog.digests)
    problems = []
    for path in twins:
        _, body = split_twin(path.read_text(encoding="utf-8"))
        scan = scan_html(render_twin(body))
        name = path.relative_to(hostile.root).as_posix()
        problems += [f"{name}: {problem}" for problem in scan.problems]
        problems += [f"{name}: script src={src!r} text={text[:80]!r}" for src, text in scan.scripts]
        problems += [f"{name}: <img> element" for _ in re.finditer(r"<img\b", render_twin(body))]
    assert not problems, "\n".join(problems)


def test_dump_twins_show_the_hostile_titles_as_text(hostile: HostileSite):
    """Escaping must keep the text exact: a Markdown reader shows the title as it was saved."""
    wrong = []
    for paper in hostile.catalog.papers:
        data, body = split_twin((hostile.root / "papers" / f"{paper.slug}.md").read_text(encoding="utf-8"))
        assert data["title"] == paper.title  # the front matter carries the exact title
        shown = text_of(render_twin(body), "h1")
        if shown != [" ".join(paper.title.split())]:
            wrong.append(f"papers/{paper.slug}.md: {paper.title!r} is shown as {shown!r}")
    assert not wrong, "\n".join(wrong)


def test_the_hand_page_twin_renders_to_no_active_content(hostile: HostileSite):
    """The hand page's HTML is sanitised; its published Markdown twin must not undo that."""
    twin = hostile.root / "evil.md"
    assert (hostile.root / "evil.html").is_file()
    if not twin.exists():
        return  # a site may choose not to publish the twin at all: nothing to exploit
    scan = scan_html(render_twin(split_twin(twin.read_text(encoding="utf-8"))[1]))
    problems = scan.problems + [f"script src={src!r} text={text[:80]!r}" for src, text in scan.scripts]
    assert not problems, "evil.md:\n" + "\n".join(problems)


# (c) real browser ---------------------------------------------------------------------------

def open_and_inspect(page, url: str) -> list[str]:
    page.goto(url, wait_until="load")
    if "search.html?q=" in url:
        page.wait_for_function(
            "() => { const s = document.getElementById('search-status').textContent;"
            " return s && !s.startsWith('Searching'); }", timeout=15000)
    page.wait_for_timeout(50)  # let any error/load handler that was injected get its turn
    return page.evaluate(ACTIVE_CONTENT_JS)


@pytest.fixture
def watched(page):
    """The conftest page, with every dialog (alert, confirm, prompt, beforeunload) recorded and dismissed."""
    page.dialogs = []

    def record(dialog):
        page.dialogs.append(f"{page.url}: {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    page.on("dialog", record)
    return page


def test_the_browser_check_catches_a_real_alert(watched, tmp_path: Path):
    canary = tmp_path / "canary.html"
    canary.write_text('<!doctype html><title>c</title><img src="missing.png" onerror="alert(1)">'
                      '<a href="javascript:alert(2)">x</a>', encoding="utf-8")
    found = open_and_inspect(watched, canary.as_uri())
    assert watched.dialogs and "alert '1'" in watched.dialogs[0]
    assert len(found) == 2, found  # the onerror attribute and the javascript: link


def test_no_page_runs_hostile_script_in_chromium(watched, hostile: HostileSite):
    urls = [path.as_uri() for path in hostile.html()]
    search = (hostile.root / "search.html").as_uri()
    urls += [f"{search}?q=alert", f"{search}?q=script"]
    active = {}
    for url in urls:
        found = open_and_inspect(watched, url)
        if found:
            active[url] = found
        scripts = watched.evaluate(SCRIPTS_JS)
        assert all(src and not text.strip() for src, text in scripts), (url, scripts)
        for text in watched.evaluate(DATA_JS):  # as the browser parsed it: the whole block, valid JSON
            assert "<" not in text and json.loads(text)["@context"] == "https://schema.org", (url, text[:120])
    assert not watched.dialogs, watched.dialogs
    assert not active, active
    assert not watched.problems, watched.problems


def test_the_hostile_titles_are_visible_as_text_in_chromium(watched, hostile: HostileSite):
    for paper in hostile.catalog.papers:
        watched.goto((hostile.root / "papers" / f"{paper.slug}.html").as_uri())
        heading = watched.locator("h1")
        assert heading.is_visible()
        assert heading.inner_text() == " ".join(paper.title.split())
        assert watched.title().startswith(" ".join(paper.title.split()))
    for digest in hostile.catalog.digests:
        watched.goto((hostile.root / "digests" / f"{digest.slug}.html").as_uri())
        shown = watched.locator("li.paper .paper-title a").all_inner_texts()
        assert shown == [" ".join(hostile.catalog.paper(key).title.split()) for key in digest.papers]
    watched.goto((hostile.root / "evil.html").as_uri())
    assert watched.locator("h1").inner_text() == "<img src=x onerror=alert(1)> Evil page"
    assert watched.locator("header nav a", has_text="Evil page").inner_text() == "<img src=x onerror=alert(1)> Evil page"
    assert watched.locator("header .site-title").inner_text() == "<script>alert('site title')</script>"
    assert not watched.dialogs, watched.dialogs


@pytest.mark.parametrize("query", ["alert", "script"])
def test_search_results_show_hostile_titles_as_text(watched, hostile: HostileSite, query: str):
    watched.goto(f"{(hostile.root / 'search.html').as_uri()}?q={query}")
    watched.wait_for_function("() => document.querySelectorAll('#search-results > li').length > 0", timeout=15000)
    titles = {" ".join(paper.title.split()) for paper in hostile.catalog.papers}
    shown = watched.locator("#search-results > li .paper-title a").all_inner_texts()
    assert shown and set(shown) <= titles, shown
    assert set(shown) & set(TITLES) - {"Innocent title about alert scripts"}, shown  # hostile ones among them
    assert watched.evaluate(ACTIVE_CONTENT_JS) == []
    assert not watched.dialogs, watched.dialogs
