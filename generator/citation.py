"""A BibTeX entry for each paper with an arXiv ID: what a reader pastes into their .bib file.

The entry is `@misc`, as arXiv's own export has it for preprints: title, authors joined by
" and ", year, eprint, archivePrefix and url. Every value is data from a web page, so it is
escaped for BibTeX: the characters LaTeX reads as commands become their escaped forms, and a
name that would split or reorder (one holding " and " or a comma) is braced whole.
"""

from __future__ import annotations

import re
from datetime import date

from slugify import slugify

from generator.catalog import Paper

# LaTeX's special characters, each as it is written to mean itself.
ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "$": r"\$",
           "#": r"\#", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}
SPECIAL = re.compile(r"[\\{}%&$#_^~]")
SPLITS_A_NAME = re.compile(r"\band\b|,", re.IGNORECASE)
STOP_WORDS = frozenset({"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "towards", "toward"})


def escape(text: str) -> str:
    return SPECIAL.sub(lambda match: ESCAPES[match.group()], text)


def author_list(names: tuple[str, ...]) -> str:
    return " and ".join(f"{{{escape(name)}}}" if SPLITS_A_NAME.search(name) else escape(name) for name in names)


def year_of(paper: Paper) -> int | None:
    """The publication year; else the year the new-style arXiv ID encodes (YYMM.NNNNN); else
    the year of the first digest it was in."""
    if paper.meta.published:
        return paper.meta.published.year
    if re.fullmatch(r"\d{4}\.\d{4,5}", paper.meta.arxiv_id):
        return 2000 + int(paper.meta.arxiv_id[:2])
    first: date | None = next((a.date for a in paper.appearances if a.date), None)
    return first.year if first else None


def cite_key(paper: Paper, year: int | None) -> str:
    """`lovelace2025bits`: the first author's surname, the year, the title's first word that
    says something; ASCII letters and digits only, as every BibTeX tool accepts."""
    surname = paper.meta.authors[0].split()[-1] if paper.meta.authors else ""
    words = [word for word in slugify(paper.title).split("-") if word not in STOP_WORDS and not word.isdigit()]
    key = slugify(surname, separator="") + (str(year) if year else "") + (words[0] if words else "")
    return key if re.match(r"[a-z]", key) else f"arxiv{key or paper.meta.arxiv_id.replace('.', '')}"


def bibtex(paper: Paper) -> str:
    """The entry, or "" for a paper with no arXiv ID."""
    identifier = paper.meta.arxiv_id
    if not identifier:
        return ""
    year = year_of(paper)
    fields = [("title", escape(paper.title))]
    if paper.meta.authors:
        fields.append(("author", author_list(paper.meta.authors)))
    if year:
        fields.append(("year", str(year)))
    fields += [("eprint", escape(identifier)), ("archivePrefix", "arXiv"),
               ("url", escape(f"https://arxiv.org/abs/{identifier}"))]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{cite_key(paper, year)},\n{body}\n}}\n"
