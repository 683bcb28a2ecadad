"""The Markdown twins read as plain text: a real CommonMark parser (markdown-it-py) renders
each twin to exactly the source text of every title and abstract, character for character,
for the seeds, the mixed forms and a corpus made of Markdown and HTML syntax; and the
escaping adds a backslash only where one is needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from support import dump, exported_papers, make_content

from generator.build import BuildOptions, build
from generator.commonmark import escape

PARSER = MarkdownIt("commonmark")
OUR_EMPHASIS = {"Written by a language model for Hugging Face, not by the authors.", "No abstract was saved with this paper."}

HOSTILE_TITLES = [
    "# Not a heading", "## Also not", "> not a quote", "- not a list", "+ plus list", "1. Not ordered", "2) Nor this",
    "*emphasis* and **strong**", "_under_ and __dunder__ and snake_case_name", "`code` and ``double``",
    "[link](https://example.org) and ![image](x.png)", "[ref][1] and [1]: /url", "<b>bold</b> <script>x</script>",
    "<!-- comment --> and <?php ?>", "<https://autolink.example>", "&amp; &#65; &#x41; &copy and AT&T;",
    "back\\slash \\* \\\\ and end\\", "trailing hashes ##", "C #", "---", "***", "===", "| table | cell |",
    "~~strike~~ ~tilde~", "a*b*c and 2*3*4", "(parens) [brackets] {braces}", "Emoji 🙂 & ünïcødé — dashes",
    "tasks. However, bin-based (NAS)", "100% of 1.5x", "- - -", "10. Ten", "<div>block</div>",
]


def inline_text(token) -> str:
    """What a reader sees of an inline token: its text, code and link texts, entities decoded."""
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


def blocks(markdown: str) -> list[tuple[str, str, set[str]]]:
    """(block tag, its text, the kinds of inline token in it) of each heading, paragraph and
    list item paragraph of a document, in order."""
    found, opened = [], []
    for token in PARSER.parse(markdown):
        if token.type.endswith("_open"):
            opened.append(token.tag)
        elif token.type.endswith("_close"):
            opened.pop()
        elif token.type == "inline":
            kinds = {child.type for child in token.children or ()}
            found.append(("/".join(opened), inline_text(token), kinds))
        elif token.type in ("html_block",):
            found.append(("html", token.content, {"html_block"}))
    return found


def body(twin: str) -> str:
    return twin.split("\n---\n", 1)[1]


def check_paper_twin(twin: str, paper: dict) -> None:
    found = blocks(body(twin))
    assert found[0][:2] == ("h1", paper["title"])
    texts = [text for tag, text, _ in found if tag == "p"]
    for paragraph in paper["abstract"].split("\n\n") if paper["abstract"] else ():
        assert paragraph in texts, (paragraph[:80], texts[:4])
    if paper.get("authors"):
        assert ", ".join(paper["authors"]) in texts
    for tag, text, kinds in found:
        if text in OUR_EMPHASIS:
            continue
        assert not kinds & {"html_inline", "html_block", "em_open", "strong_open", "image"}, (tag, text, kinds)
        assert tag != "html"


def site_papers(site: Path) -> list[dict]:
    return exported_papers(site)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("twins")
    abstract = "An abstract with *stars*, _underscores_, `ticks`, [brackets](x), <b>tags</b>, &amp; and \\ too. " * 4
    papers = [(title, f"{abstract} Paper {number}.") for number, title in enumerate(HOSTILE_TITLES)]
    content = make_content(root, {"2025-03-14.txt": dump(*papers[:16]), "2025-03-15.txt": dump(*papers[12:], date="Mar 15")})
    (content / "digests" / "2025-03-16.json").write_text(json.dumps([
        {"paper": {"id": "2503.16001", "title": "# JSON *title* <i>x</i>", "summary": "- starts like a list. `x`",
                   "authors": [{"name": "*Star* Author", "hidden": False}, {"name": "<b>Bold</b> & Co", "hidden": False}],
                   "ai_summary": "1. An *AI* summary with [a link](javascript:x)"}}]), encoding="utf-8")
    build(BuildOptions(content, root / "site", strict=False))
    return root / "site"


@pytest.mark.parametrize("fixture", ["seeds_site", "forms_site", "hostile_site"])
def test_every_paper_twin_reads_back_as_its_text(request, fixture):
    site = request.getfixturevalue(fixture)
    papers = site_papers(site)
    assert len(papers) > 20
    for paper in papers:
        check_paper_twin((site / paper["markdown"]).read_text(encoding="utf-8"), paper)


@pytest.mark.parametrize("fixture", ["seeds_site", "hostile_site"])
def test_digest_twins_list_each_title_exactly(request, fixture):
    site = request.getfixturevalue(fixture)
    titles = {paper["title"] for paper in site_papers(site)}
    for path in (site / "digests").glob("*.md"):
        listed = [text for tag, text, _ in blocks(body(path.read_text(encoding="utf-8"))) if tag == "ol/li/p"]
        assert listed and all(any(text.startswith(title) for title in titles) for text in listed), path.name


def test_ai_summaries_round_trip(hostile_site):
    (paper,) = [p for p in site_papers(hostile_site) if p.get("arxiv_id") == "2503.16001"]
    texts = [text for tag, text, _ in blocks(body((hostile_site / paper["markdown"]).read_text(encoding="utf-8")))]
    assert paper["ai_summary"] in texts and "- starts like a list. `x`" in texts


@pytest.mark.parametrize("text", HOSTILE_TITLES + ["", "plain", "a_b", "x_", "_x", "&", "&;", "<", "<3", "1.5", "1."])
@pytest.mark.parametrize("at_start", [True, False])
def test_escape_round_trips_through_commonmark(text, at_start):
    markdown = escape(text, at_start) if at_start else f"x {escape(text)}"
    rendered = blocks(markdown)
    expected = text if at_start else f"x {text}".rstrip()
    if not text.strip():
        return
    assert [tag for tag, _, _ in rendered] == ["p"], (markdown, rendered)
    assert rendered[0][1] == expected.strip(), markdown


@pytest.mark.parametrize("text, escaped", [
    ("tasks. However, bin-based (NAS)", "tasks. However, bin-based (NAS)"),
    ("snake_case and 1.5x", "snake_case and 1.5x"),
    ("a*b", "a\\*b"),
    ("AT&T; and &", "AT&amp;T; and &"),
    ("a < b and <b>", "a < b and &lt;b>"),
])
def test_escaping_adds_backslashes_only_where_needed(text, escaped):
    assert escape(text) == escaped


def test_the_seed_twins_have_few_backslashes(seeds_site):
    """Before this escaping the seed twins held 7,326 backslashes (every `.`, `-`, `(`, `)`...)."""
    count = sum(path.read_text(encoding="utf-8").count("\\") for path in seeds_site.rglob("*.md"))
    assert count < 200, count
