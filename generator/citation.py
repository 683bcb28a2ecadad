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
LIGATURE = re.compile(r"([-`'])(?=\1)")
SPLITS_A_NAME = re.compile(r"\band\b|,", re.IGNORECASE)
STOP_WORDS = frozenset({"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "towards", "toward"})


def escape(text: str) -> str:
    """Text that LaTeX prints as it is: special characters escaped, and the ligatures TeX
    makes of `--`, `---`, ```` `` ```` and `''` (dashes, curly quotes) broken with an empty group."""
    return LIGATURE.sub(r"\1{}", SPECIAL.sub(lambda match: ESCAPES[match.group()], text))


def url_value(url: str) -> str:
    """A URL for a `url` field, which BibTeX tools read verbatim: as it is, but for the braces
    and backslashes that would unbalance the value (percent-encoded)."""
    return url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


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
    says something (`bits2025` with no authors); ASCII letters and digits only, as every BibTeX
    tool accepts."""
    surname = slugify(paper.meta.authors[0].split()[-1], separator="") if paper.meta.authors else ""
    words = [word for word in slugify(paper.title).split("-") if word not in STOP_WORDS and not word.isdigit()]
    word, when = (words[0] if words else ""), (str(year) if year else "")
    key = f"{surname}{when}{word}" if surname else f"{word}{when}"
    if re.match(r"[a-z]", key):
        return key
    return f"arxiv{paper.meta.arxiv_id.replace('.', '').replace('/', '')}" if paper.meta.arxiv_id else f"paper{key}"


def bibtex(paper: Paper, page_url: str = "", key: str = "", fallback: bool = False) -> str:
    """The entry, or "" for a paper with no arXiv ID unless `fallback`: then a @misc with what
    is known (title, authors, year, and the paper's page when `page_url` is given)."""
    identifier = paper.meta.arxiv_id
    if not identifier and not fallback:
        return ""
    year = year_of(paper)
    fields = [("title", escape(paper.title))]
    if paper.meta.authors:
        fields.append(("author", author_list(paper.meta.authors)))
    if year:
        fields.append(("year", str(year)))
    if identifier:
        fields += [("eprint", escape(identifier)), ("archivePrefix", "arXiv"),
                   ("url", url_value(f"https://arxiv.org/abs/{identifier}"))]
    elif page_url:
        fields.append(("url", url_value(page_url)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key or cite_key(paper, year)},\n{body}\n}}\n"


def unique_keys(papers: list[Paper]) -> list[str]:
    """Each paper's cite key, with a letter added where two papers of one file would share one
    (lovelace2025bits, lovelace2025bitsb)."""
    keys, seen = [], {}
    for paper in papers:
        key = cite_key(paper, year_of(paper))
        seen[key] = seen.get(key, 0) + 1
        keys.append(key if seen[key] == 1 else f"{key}{chr(ord('a') + seen[key] - 1) if seen[key] <= 26 else seen[key]}")
    return keys


def ris(paper: Paper, page_url: str = "", digest_label: str = "") -> list[tuple[str, str]]:
    """The paper as RIS tags, in order (TY first, ER last), for reference managers (Zotero,
    EndNote, Mendeley). An arXiv paper is a journal article of "arXiv preprint arXiv:<id>", as
    Google Scholar exports them; another is a generic work. RIS has no escaping: values are one
    line each, which the readers already made every title and name."""
    meta, identifier = paper.meta, paper.meta.arxiv_id
    tags = [("TY", "JOUR" if identifier else "GEN"), ("TI", paper.title)]
    tags += [("AU", name) for name in meta.authors]
    year = year_of(paper)
    if year:
        tags.append(("PY", str(year)))
    if meta.published:
        tags.append(("DA", meta.published.strftime("%Y/%m/%d")))
    if identifier:
        tags += [("JO", f"arXiv preprint arXiv:{identifier}"), ("DO", f"10.48550/arXiv.{identifier}"),
                 ("UR", f"https://arxiv.org/abs/{identifier}"), ("L1", f"https://arxiv.org/pdf/{identifier}")]
    if page_url:
        tags.append(("UR", page_url))
    if paper.abstract:
        tags.append(("AB", " ".join(paper.abstract.split())))
    tags += [("KW", word) for word in meta.keywords]
    if digest_label:
        tags.append(("N1", f"Featured in the Hugging Face Daily Papers digest of {digest_label}"))
    return [(tag, " ".join(value.split())) for tag, value in tags] + [("ER", "")]
