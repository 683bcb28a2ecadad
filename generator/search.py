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
from collections import Counter
from dataclasses import dataclass
from typing import Iterator

from lunr.pipeline import Pipeline
from lunr.stemmer import stemmer
from lunr.stop_word_filter import stop_word_filter
from lunr.trimmer import trimmer

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


class Analyzer:
    """Text -> index terms, exactly as lunr.py's tokenizer and default pipeline produce them."""

    def __init__(self) -> None:
        self.pipeline = Pipeline()
        self.pipeline.add(trimmer, stop_word_filter, stemmer)
        self.terms_of: dict[str, str | None] = {}  # raw token -> term (None: a stop word)

    def terms(self, text: str) -> list[str]:
        known = self.terms_of
        found = []
        for token in SEPARATORS.split(text.lower()):
            if not token:
                continue
            term = known.get(token, "")
            if term == "":
                term = known[token] = next(iter(self.pipeline.run_string(token)), None)
            if term is not None:
                found.append(term)
        return found


@dataclass(frozen=True)
class Postings:
    """One term's postings: per field, ascending doc numbers and their lunr scores (x1000)."""

    term: str
    docs: tuple[tuple[int, ...], ...]
    scores: tuple[tuple[int, ...], ...]

    @property
    def size(self) -> int:
        return sum(len(docs) for docs in self.docs)


def index_terms(texts: list[tuple[str, str]]) -> list[Postings]:
    """Every term of every (title, abstract) with its BM25 score, as lunr's builder computes it."""
    analyzer = Analyzer()
    count = len(texts)
    lengths = {field: [0] * count for field in FIELDS}
    raw: dict[str, tuple[list[list[int]], list[list[int]]]] = {}  # term -> (docs, tfs) per field
    for doc, fields in enumerate(texts):
        for slot, (field, text) in enumerate(zip(FIELDS, fields)):
            terms = analyzer.terms(text)
            lengths[field][doc] = len(terms)
            for term, tf in Counter(terms).items():
                entry = raw.get(term)
                if entry is None:
                    entry = raw[term] = ([[] for _ in FIELDS], [[] for _ in FIELDS])
                entry[0][slot].append(doc)
                entry[1][slot].append(tf)
    averages = {field: (sum(lengths[field]) / count if count else 0) or 1 for field in FIELDS}
    return [score_term(term, docs, tfs, count, lengths, averages) for term, (docs, tfs) in sorted(raw.items())]


def score_term(term: str, docs: list[list[int]], tfs: list[list[int]], count: int,
               lengths: dict[str, list[int]], averages: dict[str, float]) -> Postings:
    """lunr's score for each posting: idf * BM25 saturation * field boost, rounded to 3 places."""
    with_term = sum(len(field_docs) for field_docs in docs)  # lunr counts a doc once per field
    idf = math.log(1 + abs((count - with_term + 0.5) / (with_term + 0.5)))
    scores = []
    for slot, field in enumerate(FIELDS):
        field_lengths, average, boost = lengths[field], averages[field], BOOSTS[field]
        scores.append(tuple(
            round(round(idf * ((K1 + 1) * tf) / (K1 * (1 - B + B * (field_lengths[doc] / average)) + tf)
                        * boost, 3) * 1000)
            for doc, tf in zip(docs[slot], tfs[slot])))
    return Postings(term, tuple(tuple(field_docs) for field_docs in docs), tuple(scores))


def shard_key(term: str) -> str:
    return term[:KEY_CHARS]


def utf16_order(text: str) -> bytes:
    """Sort strings as JavaScript compares them (by UTF-16 code unit), so the browser's binary
    search over shard keys agrees with the order they were cut in."""
    return text.encode("utf-16-be", "surrogatepass")


def cut_shards(postings: list[Postings]) -> list[list[Postings]]:
    """Group terms by key, keys in JavaScript order, closing a shard when it is full. A key is
    never split, so a term's shard is the last one whose first key is not after the term's."""
    ordered = sorted(postings, key=lambda entry: (utf16_order(shard_key(entry.term)), utf16_order(entry.term)))
    shards: list[list[Postings]] = []
    size, last_key = SHARD_POSTINGS, None
    for entry in ordered:
        key = shard_key(entry.term)
        if size >= SHARD_POSTINGS and key != last_key:
            shards.append([])
            size = 0
        shards[-1].append(entry)
        size += entry.size
        last_key = key
    return shards


def deltas(docs: tuple[int, ...]) -> list[int]:
    return [doc - previous for previous, doc in zip((0,) + docs, docs)]


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


def search_files(catalog: Catalog) -> Iterator[OutputFile]:
    """The whole search index: meta, term shards, and result-row chunks."""
    shards = cut_shards(index_terms([(paper.title, paper.abstract) for paper in catalog.papers]))
    meta = {
        "fields": list(FIELDS),
        "documents": len(catalog.papers),
        "chunk": DOCS_PER_CHUNK,
        "keyChars": KEY_CHARS,
        "shards": [shard_key(shard[0].term) for shard in shards],
    }
    yield OutputFile("search/meta.js", script("meta", meta))
    for number, shard in enumerate(shards):
        rows = [[entry.term, *(part for slot in range(len(FIELDS))
                               for part in (deltas(entry.docs[slot]), list(entry.scores[slot])))]
                for entry in shard]
        yield OutputFile(f"search/shard-{number}.js", script("shard", number, rows))
    for start in range(0, len(catalog.papers), DOCS_PER_CHUNK):
        rows = [result_row(catalog, number) for number in range(start, min(start + DOCS_PER_CHUNK, len(catalog.papers)))]
        yield OutputFile(f"search/docs-{start // DOCS_PER_CHUNK}.js", script("docs", start // DOCS_PER_CHUNK, rows))
