"""Hand-written Markdown pages from content/pages/*.md (an About page, say).

They are rendered with Python-Markdown, with raw HTML turned off and link targets limited to
safe schemes: a page is content, and content is never trusted to carry script.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from pathlib import Path

import markdown
from markdown.treeprocessors import Treeprocessor
from slugify import slugify

from generator.diagnostics import Diagnostic, error

RESERVED = {"index", "search", "404"}
SAFE_LINK = re.compile(r"^(?:https?:|mailto:|#|[^:]*$)", re.IGNORECASE)  # no scheme = relative


@dataclass(frozen=True)
class HandPage:
    slug: str
    title: str
    html: str  # rendered body, already sanitised
    source: str  # the Markdown as written (published as the page's twin)


class _SafeLinks(Treeprocessor):
    """Drop href/src values with a scheme other than http(s)/mailto (javascript:, data:, ...)."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None and not SAFE_LINK.match(value.strip()):
                    element.set(attribute, "#")


def render_markdown(text: str) -> str:
    md = markdown.Markdown(extensions=["tables", "fenced_code"], output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.treeprocessors.register(_SafeLinks(md), "safe_links", 0)
    return md.convert(text)


def load_pages(folder: Path) -> tuple[list[HandPage], list[Diagnostic]]:
    """Every *.md in folder, by file name; the title is the first '# ' heading or the file stem."""
    pages: list[HandPage] = []
    problems: list[Diagnostic] = []
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else ():
        try:
            source = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            problems.append(error(str(path), None, f"not valid UTF-8 at byte {exc.start}", "re-save the file as UTF-8"))
            continue
        slug = slugify(path.stem)
        if not slug or slug in RESERVED:
            problems.append(error(str(path), None, f"a page cannot be named {path.stem!r}",
                                  f"rename it; {', '.join(sorted(RESERVED))} are the site's own pages"))
            continue
        heading = re.search(r"^#\s+(.+?)\s*#*\s*$", source, re.MULTILINE)
        title = heading.group(1) if heading else path.stem.replace("-", " ").replace("_", " ").capitalize()
        pages.append(HandPage(slug, title, render_markdown(source), source))
    return pages, problems
