"""Full-text search: lunr's index, built fast and cut into shards that load only when needed.

What the browser runs is lunr.js, unmodified: it parses the query, expands wildcards, applies
field boosts and scores matches. What this module builds is the data a lunr index holds, with
lunr.py's own analysis pipeline (its trimmer, stop-word filter and Porter stemmer) and lunr's
BM25 scoring, but not with lunr.py's Builder: that builder splits text one character at a
time in Python and keeps per-token metadata, which costs about 2.5 ms per abstract (52 s for
20,000), and its single serialised index is ~2.5 KB per paper. Here each distinct token goes
through the pipeline once, and tests check the result against lunr.py's Builder term by term.

The index is split by term: a shard holds every posting of the terms whose first three
characters fall in its range, so any query over those terms scores exactly as the whole index
would (lunr scores a match as dot(query, field vector) / |query|, which touches only the
query's terms). The browser loads the shards its query's terms route to, assembles a
lunr.Index from them, and loads result rows (title, link, date, snippet) in small chunks.

Files (every one a script that calls `paperdigestSearch.<kind>(...)`, since fetch() of JSON
is blocked on file:// pages):
  search/meta.js         fields, document count, chunk size, and the first key of each shard
  search/shard-N.js      [[term, title doc deltas, title scores*1000, abstract deltas, scores], ...]
  search/docs-N.js       [[title, slug, last featured, snippet], ...] for docs N*CHUNK...
"""

from __future__ import annotations

import json
import math
import re
from array import array
from dataclasses import dataclass
from typing import Iterator, Mapping

import numpy as np
from lunr.stemmer import porter_stemmer
from lunr.stop_word_filter import WORDS as STOP_WORDS
from lunr.trimmer import full_re as TRIM

from generator.catalog import Catalog
from generator.render import OutputFile, long_date

FIELDS = ("title", "abstract")
BOOSTS = {"title": 10, "abstract": 1}
K1, B = 1.2, 0.75  # lunr's BM25 defaults
SEPARATORS = re.compile("[ \t\n\r\f\v\xa0-]+")  # lunr.py's tokenizer splits on exactly these
KEY_CHARS = 3  # terms route to shards by their first three characters
SHARD_POSTINGS = 40_000  # a shard closes once it holds this many postings (~300 KB)
DOCS_PER_CHUNK = 32
SNIPPET_CHARS = 240
SCRIPT = "paperdigestSearch.{kind}({args});\n"
STOP = -1  # term id of a token that makes no term (a stop word, or nothing between separators)


class Analyzer:
    """Text -> term ids, with terms exactly as lunr.py's tokenizer and default pipeline make them.

    lunr.py runs trimmer, stop-word filter and stemmer on every token; here each distinct
    token meets them once (the same regex, word list and Porter stemmer, from lunr.py itself).
    """

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}  # term -> id, in order of first appearance
        self.token_ids: dict[str, int] = {"": STOP}  # raw token -> term id (STOP: no term)
        self.stems: dict[str, str] = {}  # trimmed word -> stem

    def term_ids(self, text: str) -> list[int]:
        tokens = SEPARATORS.split(text.lower())
        found = list(map(self.token_ids.get, tokens))  # C-speed; new tokens come back None
        if None in found:
            for position, term_id in enumerate(found):
                if term_id is None:
                    token = tokens[position]
                    found[position] = self.token_ids.get(token)
                    if found[position] is None:
                        found[position] = self.token_ids[token] = self.identify(token)
        return found

    def identify(self, token: str) -> int:
        match = TRIM.match(token)
        word = match.group(1) if match else token
        if word in STOP_WORDS:
            return STOP
        stem = self.stems.get(word)
        if stem is None:
            stem = self.stems[word] = porter_stemmer.stem(word)
        return self.ids.setdefault(stem, len(self.ids))

    @property
    def terms(self) -> list[str]:
        return list(self.ids)


@dataclass(frozen=True)
class TermIndex:
    """Every posting of every term in flat arrays, terms in shard order (see cut_shards).

    The postings of term t in field f are positions bounds[t*F+f] to bounds[t*F+f+1] of docs
    (ascending), gaps (each doc minus the one before; the first is itself) and scores (lunr's
    score x 1000). Flat arrays keep 30,000 papers' 4.5 million postings in ~100 MB, where
    Python tuples of ints took over a gigabyte.
    """

    terms: list[str]
    bounds: np.ndarray
    docs: np.ndarray
    gaps: np.ndarray
    scores: np.ndarray

    def span(self, term: int, field: int) -> slice:
        at = term * len(FIELDS) + field
        return slice(int(self.bounds[at]), int(self.bounds[at + 1]))

    def size(self, term: int) -> int:
        return int(self.bounds[(term + 1) * len(FIELDS)] - self.bounds[term * len(FIELDS)])

    def row(self, term: int) -> list:
        """[term, gaps and scores per field], as a shard file lists it."""
        row: list = [self.terms[term]]
        for field in range(len(FIELDS)):
            span = self.span(term, field)
            row += [self.gaps[span].tolist(), self.scores[span].tolist()]
        return row


def index_terms(texts: list[tuple[str, ...]]) -> TermIndex:
    """Every term of every document with lunr's score for each posting.

    Tokens become term ids in Python (one dict lookup each); counting, field lengths and BM25
    run over numpy arrays, in the same order of float operations as lunr.py's builder.
    """
    analyzer = Analyzer()
    tokens = array("q")
    counts: list[int] = []  # tokens per (doc, field) segment, segment = doc * fields + field
    for fields in texts:
        for text in fields:
            ids = analyzer.term_ids(text)
            tokens.extend(ids)
            counts.append(len(ids))
    width, documents = len(FIELDS), max(len(texts), 1)
    terms = sorted(analyzer.terms, key=lambda term: (utf16_order(shard_key(term)), utf16_order(term)))
    rank = np.empty(len(terms) + 1, dtype=np.int64)  # first-seen id -> position in shard order
    rank[[analyzer.ids[term] for term in terms]] = np.arange(len(terms))
    rank[STOP] = STOP
    ids = rank[np.frombuffer(tokens, dtype=np.int64)]
    del tokens
    segment = np.repeat(np.arange(len(texts) * width, dtype=np.int64), counts)
    kept = ids != STOP
    ids, segment = ids[kept], segment[kept]
    lengths = np.bincount(segment, minlength=len(texts) * width).reshape(len(texts), width)
    keys, tfs = np.unique((ids * width + segment % width) * documents + segment // width, return_counts=True)
    del ids, segment, kept
    term_of, rest = np.divmod(keys, width * documents)
    field_of, doc_of = np.divmod(rest, documents)
    del keys, rest
    scores = bm25(term_of, field_of, doc_of, tfs, lengths, len(terms))
    bounds = np.searchsorted(term_of * width + field_of, np.arange(len(terms) * width + 1))
    gaps = doc_of.copy()
    gaps[1:] -= doc_of[:-1]
    firsts = bounds[:-1][bounds[:-1] < len(gaps)]  # each (term, field) list starts afresh
    gaps[firsts] = doc_of[firsts]
    return TermIndex(terms, bounds, doc_of, gaps, scores)


def bm25(term_of, field_of, doc_of, tfs, lengths, term_count: int) -> "np.ndarray":
    """lunr's score of each posting: idf * BM25 saturation * field boost, x1000 as an integer."""
    documents = lengths.shape[0]
    with_term = np.bincount(term_of, minlength=term_count)  # lunr counts a doc once per field
    idf = np.array([math.log(1 + abs((documents - n + 0.5) / (n + 0.5))) for n in with_term.tolist()])
    averages = np.array([(lengths[:, slot].sum() / documents if documents else 0) or 1 for slot in range(len(FIELDS))])
    boosts = np.array([BOOSTS[field] for field in FIELDS], dtype=float)
    field_length = lengths[doc_of, field_of]
    score = idf[term_of] * ((K1 + 1) * tfs) / (K1 * (1 - B + B * (field_length / averages[field_of])) + tfs)
    return round_like_python(score * boosts[field_of])


def round_like_python(scores) -> "np.ndarray":
    """int(round(round(score, 3) * 1000)) for each score, as lunr.py rounds, without a Python loop.

    rint(score * 1000) agrees except where the product lands within float error of a half;
    those few are redone with Python's correctly rounded round().
    """
    scaled = scores * 1000
    result = np.rint(scaled).astype(np.int64)
    near_half = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    for position in near_half.tolist():
        result[position] = round(round(float(scores[position]), 3) * 1000)
    return result


def shard_key(term: str) -> str:
    return term[:KEY_CHARS]


def utf16_order(text: str) -> bytes:
    """Sort strings as JavaScript compares them (by UTF-16 code unit), so the browser's binary
    search over shard keys agrees with the order they were cut in."""
    return text.encode("utf-16-be", "surrogatepass")


def cut_shards(index: TermIndex) -> list[range]:
    """Consecutive term ranges, closed once full but never inside a key, so a term's shard is
    the last one whose first key is not after the term's (terms are in JavaScript order)."""
    shards: list[range] = []
    start, size = 0, 0
    for term in range(len(index.terms)):
        if size >= SHARD_POSTINGS and shard_key(index.terms[term]) != shard_key(index.terms[term - 1]):
            shards.append(range(start, term))
            start, size = term, 0
        size += index.size(term)
    if start < len(index.terms):
        shards.append(range(start, len(index.terms)))
    return shards


def script(kind: str, *args: object) -> bytes:
    body = ",".join(json.dumps(arg, ensure_ascii=True, separators=(",", ":")) for arg in args)
    return SCRIPT.format(kind=kind, args=body).encode("ascii")


def result_row(catalog: Catalog, number: int) -> list[str]:
    paper = catalog.papers[number]
    return [paper.title, paper.slug, long_date(catalog.digest(paper.latest.digest)), snippet(paper.abstract)]


def snippet(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def search_files(catalog: Catalog, previous: Mapping[str, str] | None = None) -> Iterator[OutputFile]:
    """The whole search index: meta, term shards, and result-row chunks. (`previous`, the last
    build's path -> key, is not used yet: every file is made again.)"""
    index = index_terms([(paper.title, paper.abstract) for paper in catalog.papers])
    shards = cut_shards(index)
    meta = {
        "fields": list(FIELDS),
        "documents": len(catalog.papers),
        "chunk": DOCS_PER_CHUNK,
        "keyChars": KEY_CHARS,
        "shards": [shard_key(index.terms[shard.start]) for shard in shards],
    }
    yield OutputFile("search/meta.js", script("meta", meta))
    for number, shard in enumerate(shards):
        yield OutputFile(f"search/shard-{number}.js", script("shard", number, [index.row(term) for term in shard]))
    for start in range(0, len(catalog.papers), DOCS_PER_CHUNK):
        rows = [result_row(catalog, number) for number in range(start, min(start + DOCS_PER_CHUNK, len(catalog.papers)))]
        yield OutputFile(f"search/docs-{start // DOCS_PER_CHUNK}.js", script("docs", start // DOCS_PER_CHUNK, rows))
