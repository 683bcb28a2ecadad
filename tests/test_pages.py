"""pages.py: hand-written Markdown pages, rendered without raw HTML or unsafe links."""

from __future__ import annotations

from generator.diagnostics import Level
from generator.pages import load_pages, render_markdown


def test_markdown_renders_and_raw_html_stays_text():
    html = render_markdown("# Hi\n\n<script>alert(1)</script>\n\nSome *text* <b onclick=x>b</b>")
    assert "<h1>Hi</h1>" in html and "<em>text</em>" in html
    assert "<script" not in html and "<b " not in html and "&lt;script&gt;" in html


def test_unsafe_link_schemes_are_dropped():
    html = render_markdown("[a](javascript:alert(1)) [b](https://ok.org) [c](about.html) [d](data:text/html,x)")
    assert "javascript:" not in html and "data:" not in html
    assert 'href="https://ok.org"' in html and 'href="about.html"' in html


def test_pages_load_in_name_order_with_titles(tmp_path):
    (tmp_path / "b-page.md").write_text("# Second\n\ntext")
    (tmp_path / "a-page.md").write_text("no heading here")
    pages, problems = load_pages(tmp_path)
    assert problems == []
    assert [(p.slug, p.title) for p in pages] == [("a-page", "A page"), ("b-page", "Second")]


def test_reserved_names_are_errors(tmp_path):
    (tmp_path / "index.md").write_text("# Home")
    pages, problems = load_pages(tmp_path)
    assert pages == [] and [p.level for p in problems] == [Level.ERROR]
