"""The full-text search index: built by lunr.py here, queried by lunr.js in the browser.

The index ships as a script that assigns a global (`window.PAPERDIGEST_SEARCH`), because
browsers block fetch() of JSON from file:// pages. Documents are referred to by short
numeric refs; what a result needs to show (title, slug, last date, snippet) travels beside
the index in `docs`, indexed by the same ref.
"""

from __future__ import annotations

import json

from lunr import lunr

from generator.catalog import Catalog
from generator.render import OutputFile, long_date

INDEX_PATH = "search-index.js"
TITLE_BOOST = 10
SNIPPET_CHARS = 240


def search_documents(catalog: Catalog) -> list[dict[str, str]]:
    return [
        {"id": str(number), "title": paper.title, "abstract": paper.abstract}
        for number, paper in enumerate(catalog.papers)
    ]


def result_rows(catalog: Catalog) -> list[list[str]]:
    """[title, slug, last featured, snippet] per paper, in ref order."""
    rows = []
    for paper in catalog.papers:
        last = catalog.digest(paper.latest.digest)
        rows.append([paper.title, paper.slug, long_date(last), snippet(paper.abstract)])
    return rows


def snippet(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def build_search_index(catalog: Catalog) -> OutputFile:
    index = lunr(
        ref="id",
        fields=[{"field_name": "title", "boost": TITLE_BOOST}, "abstract"],
        documents=search_documents(catalog),
    )
    payload = {"index": index.serialize(), "docs": result_rows(catalog)}
    body = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    return OutputFile(INDEX_PATH, f"window.PAPERDIGEST_SEARCH={body};\n".encode("ascii"))
