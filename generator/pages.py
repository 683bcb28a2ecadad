"""Hand-written Markdown pages from content/pages/*.md (an About page, say).

They are rendered with Python-Markdown, with raw HTML turned off and link targets limited to
safe schemes: a page is content, and content is never trusted to carry script.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from pathlib import Path

import markdown
from markdown.treeprocessors import Treeprocessor
from slugify import slugify

from generator.diagnostics import Diagnostic, error, warning

RESERVED = {"index", "search", "404"}
SAFE_LINK = re.compile(r"^(?:https?:|mailto:|#|[^:]*$)", re.IGNORECASE)  # no scheme = relative
# Browsers drop these from a URL before reading its scheme ("java\tscript:" is javascript:).
IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")
EXTENSIONS = ["tables", "fenced_code"]


@dataclass(frozen=True)
class HandPage:
    slug: str
    title: str
    html: str  # rendered body, already sanitised
    source: str  # the Markdown as written
    twin_is_safe: bool = True  # the source renders to the same HTML unsanitised: publish it as the twin


class _SafeLinks(Treeprocessor):
    """Drop href/src values with a scheme other than http(s)/mailto (javascript:, data:, ...).

    The check reads the URL as the browser will: entities decoded, blanks and controls removed,
    so `javascript&#58;` and `java&#x73;cript&colon;` are caught too.
    """

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None and not SAFE_LINK.match(IGNORED_IN_URLS.sub("", html.unescape(value))):
                    element.set(attribute, "#")


def render_markdown(text: str) -> str:
    md = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
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
        body = render_markdown(source)
        twin_is_safe = markdown.markdown(source, extensions=EXTENSIONS, output_format="html") == body
        if not twin_is_safe:
            problems.append(warning(str(path), None, "raw HTML or an unsafe link was removed from this page",
                                    "its Markdown source is not published as a twin"))
        pages.append(HandPage(slug, title, body, source, twin_is_safe))
    return pages, problems
