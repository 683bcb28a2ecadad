"""citation.py: BibTeX entries, read back with a real BibTeX parser and LaTeX decoder."""

from __future__ import annotations

from datetime import date

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors
from pylatexenc.latex2text import LatexNodes2Text

from generator.catalog import Appearance, Paper
from generator.citation import bibtex, cite_key, year_of
from generator.metadata import PaperMeta

SEEN = (Appearance("2025-03-14", date(2025, 3, 14), "a.json", 2, 0),)


def paper(title="Attention Is All You Need", **meta) -> Paper:
    meta.setdefault("arxiv_id", "1706.03762")
    return Paper("key", "slug", title, "Abstract.", SEEN, PaperMeta(**meta))


def read_back(entry: str) -> dict[str, object]:
    library = bibtexparser.parse_string(entry, append_middleware=[SeparateCoAuthors(), LatexDecodingMiddleware()])
    assert not library.failed_blocks and len(library.entries) == 1
    found = library.entries[0]
    decode = LatexNodes2Text().latex_to_text  # the middleware decodes strings, not the split author list
    return {"key": found.key, "type": found.entry_type, **{
        name: [decode(item) for item in field.value] if isinstance(field.value, list) else field.value
        for name, field in found.fields_dict.items()}}


def test_an_entry_has_the_fields_arxiv_exports():
    entry = bibtex(paper(authors=("Ashish Vaswani", "Noam Shazeer"), published=date(2017, 6, 12)))
    assert read_back(entry) == {
        "key": "vaswani2017attention", "type": "misc", "title": "Attention Is All You Need",
        "author": ["Ashish Vaswani", "Noam Shazeer"], "year": "2017", "eprint": "1706.03762",
        "archivePrefix": "arXiv", "url": "https://arxiv.org/abs/1706.03762"}


HOSTILE_TITLES = [
    "50% of {Braces} & Co: $x_1^2$ #1 ~ tilde \\ backslash",
    "Café, Zürich and 张三's 日本語 title",
    "} @misc{evil, title={pwned",
    "\\end{document} \\input{/etc/passwd}",
    "Dashes -- and --- and ``quotes'' stay as typed",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_titles_read_back_exactly(title):
    found = read_back(bibtex(paper(title)))
    assert found["title"].replace("ˆ", "^") == title  # pylatexenc spells \textasciicircum with U+02C6


def test_names_that_would_split_or_reorder_stay_whole():
    authors = ("Ada Lovelace", "Research and Development Lab", "Turing, Alan", "José Ñúñez", "王小明", "Ada {Brace} Man")
    found = read_back(bibtex(paper(authors=authors)))
    assert found["author"] == list(authors)


def test_no_arxiv_id_no_entry():
    assert bibtex(paper(arxiv_id="")) == ""


def test_the_year_falls_back_to_the_id_then_the_first_digest():
    assert year_of(paper(published=date(2019, 1, 1))) == 2019
    assert year_of(paper(arxiv_id="2403.01234")) == 2024
    assert year_of(paper(arxiv_id="hep-th/9901001")) == 2025  # old-style IDs: the digest's year


def test_cite_keys_are_plain_ascii():
    assert cite_key(paper("2 Bits Are Enough", authors=("Ada Lovelace",)), 2025) == "lovelace2025bits"
    assert cite_key(paper("日本語", authors=("王小明",)), 2025) == "wangxiaoming2025ri"  # slugify transliterates (Unidecode)
    assert cite_key(paper("!!!"), None) == "arxiv170603762"
