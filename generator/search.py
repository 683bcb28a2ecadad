"""Full-text search: the data of a lunr index, cut so that adding papers rewrites only a little.

What the browser runs is lunr.js, unmodified: it parses the query, expands wildcards, applies
field boosts and scores matches. What this module writes is what lunr's scores are made of,
not the scores: for every term, field and document the term's frequency, and every document's
field lengths, counted with lunr.py's own analysis pipeline (its tokenizer's separators,
trimmer, stop-word filter and Porter stemmer). lunr.py's Builder is not used: it splits text
one character at a time in Python and keeps per-token metadata (~2.5 ms per abstract). Here
each distinct token goes through the pipeline once, and tests check the scores the browser
computes against lunr.py's Builder, term by term.

lunr's BM25 score of a posting depends on the whole collection (the document count, the average
field lengths, the number of documents with the term), so precomputed scores would change
everywhere whenever a paper is added. Term frequencies and lengths do not, so:

- Documents are numbered by first appearance (`document_order`): a new newest digest only
  appends documents.
- Documents are cut into segments whose bounds depend only on the document count (`segments`):
  full segments of SEGMENT_DOCS, then the rest as a binary counter of power-of-two blocks, so
  appending documents leaves every earlier segment, and its files, as it was.
- Inside a segment, terms are sorted (in JavaScript's string order) and cut into buckets of
  about BUCKET_BYTES, never inside a key (a term's first KEY_CHARS characters): a query term
  loads the segment's small head file and one bucket per segment.
- search.js adds up N and the field-length sums over the segments, computes lunr.js's Builder
  score for each posting of the terms a query needs (every posting of such a term is loaded,
  so its document frequency is exact), and assembles a lunr.Index with lunr's public
  constructor. lunr scores a match as dot(query, field vector) / |query|, which touches only
  the query's terms, so a lunr.Index over just those terms ranks exactly as the whole one.
  (search.js also counts the matches itself and gives lunr only the documents that can rank
  among the first 50, so that a word in every abstract does not cost lunr 30,000 matches.)

Each segment's files have a key (a hash of its documents' text, its range, the format and
this module), made without analysis: a later build that finds the same key for every file of
a segment reuses them (OutputFile with data=None), so adding a digest analyses only the last
segments. Result-row chunks are keyed by their segment's key and their papers' slugs, dates and
author lines.

The fields are the title, the abstract and the authors (`author`: the names joined by spaces,
so lunr's tokenizer makes a term of each given name and surname; a hyphen splits too). A paper
with no authors (every classic text dump) has an empty author field, as lunr's Builder has it:
length 0, and still counted in the field's average length (lunr.py and lunr.js both divide the
sum of a field's lengths by the number of documents, all of which have every field).

Files (every one a script that calls `paperdigestSearch.<kind>(...)`, since fetch() of JSON
is blocked on file:// pages; doc numbers inside a segment count from its start):
  search/meta.js              format, fields, boosts, k1, b, document count, row chunk size,
                              key length, and the segments as [start, end] pairs
  search/seg-S-E.js           segment(S, {documents, lengths: per field, each doc's term count,
                              trailing zeros left out (a segment with no authors has []);
                              sums: per field; buckets: [[first key, bytes], ...]})
  search/terms-S-E-B.js       terms(S, B, [[term, title postings, abstract postings, author
                              postings], ...]), trailing empty postings left out (most terms
                              are in no author's name: their rows are as without the field);
                              postings flat: (doc gap << 1 | tf > 1), then tf when above 1
  search/docs-N.js            docs(N, [[title, slug, last featured, snippet(, authors)], ...])
                              for docs N*CHUNK... in document order; authors, the short author
                              line ("A. Lovelace, A. Turing +3"), only where there is one
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import re
from array import array
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import lunr
import numpy as np
from lunr.stemmer import porter_stemmer
from lunr.stop_word_filter import WORDS as STOP_WORDS
from lunr.trimmer import full_re as TRIM

from generator.catalog import Appearance, Catalog, Paper
from generator.metadata import short_authors
from generator.render import OutputFile, long_date

FORMAT = 3  # of the files below; part of every segment's key (3: the author field)
FIELDS = ("title", "abstract", "author")  # author last: rows leave out trailing empty postings
# Author 5, between title (10) and abstract (1): a name matched is a deliberate search for a
# person, so it ranks well above a word somewhere in an abstract, but a surname that is also a
# word ("Field", "Model") must not push aside the papers with that word in their title. The
# field is short (~2 terms a name, like a title), so BM25's length normalisation already lifts
# it as it lifts titles; at half the title's boost, the same word still weighs about twice as
# much in a title as in an author list.
BOOSTS = {"title": 10, "abstract": 1, "author": 5}
K1, B = 1.2, 0.75  # lunr's BM25 defaults
SEPARATORS = re.compile("[ \t\n\r\f\v\xa0-]+")  # lunr.py's tokenizer splits on exactly these
KEY_CHARS = 3  # a term's key: its first three characters; a key's terms share one bucket
SEGMENT_DOCS = 4096  # full segments; the rest is cut into power-of-two blocks down to
BLOCK_MIN = 64  # this size, and a last block of fewer
BUCKET_BYTES = 24_000  # a bucket holds whole keys up to this much (a bigger key, alone)
DOCS_PER_CHUNK = 32
SNIPPET_CHARS = 240
PARALLEL_MIN_DOCS = 2 * SEGMENT_DOCS  # analyse in forked workers from this many stale documents
MAX_WORKERS = 4
SCRIPT = "paperdigestSearch.{kind}({args});\n"
PLAIN = re.compile(r'[ !#-\[\]-~]*\Z')  # printable ASCII but " and \: JSON writes it as it is
STOP = -1  # term id of a token that makes no term (a stop word, or nothing between separators)


class Analyzer:
    """Text -> term ids, with terms exactly as lunr.py's tokenizer and default pipeline make them.

    lunr.py runs trimmer, stop-word filter and stemmer on every token; here each distinct
    token meets them once (the same regex, word list and Porter stemmer, from lunr.py itself).
    Ids are in order of first appearance in this Analyzer, which only memoises: what it
    returns for a text never depends on what it saw before.
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


ANALYZER = Analyzer()  # one per process: segments analysed in turn share what it remembers


# --- document numbers and segments ------------------------------------------------------------

def document_order(catalog: Catalog) -> list[Paper]:
    """Papers by first appearance: those only ever in undated digests first (by digest, then
    position), then by the date and position of their first dated appearance; ties by key.

    Digests are ordered dated oldest first, then undated, and so are a paper's appearances, so
    a paper with any dated appearance has its first dated one first. A new newest digest
    therefore only appends documents."""
    rank = {digest.slug: number for number, digest in enumerate(catalog.digests)}  # dated ones by date

    def first_appearance(paper: Paper) -> tuple[bool, int, int, str]:
        first = paper.appearances[0]
        return (first.date is not None, rank[first.digest], first.position, paper.key)

    return sorted(catalog.papers, key=first_appearance)


def segments(count: int) -> list[range]:
    """Document ranges that depend on the count alone: full segments of SEGMENT_DOCS, then the
    remainder's binary digits from SEGMENT_DOCS/2 down to BLOCK_MIN, then what is left.

    Appending documents only ever replaces the last few ranges (like a counter's low bits),
    every earlier range stays as it was."""
    sizes = [SEGMENT_DOCS] * (count // SEGMENT_DOCS)
    rest = count % SEGMENT_DOCS
    block = SEGMENT_DOCS // 2
    while block >= BLOCK_MIN:
        if rest & block:
            sizes.append(block)
        block //= 2
    if rest % BLOCK_MIN:
        sizes.append(rest % BLOCK_MIN)
    found, start = [], 0
    for size in sizes:
        found.append(range(start, start + size))
        start += size
    return found


def segment_paths(segment: range, buckets: int) -> list[str]:
    name = f"{segment.start}-{segment.stop}"
    return [f"search/seg-{name}.js"] + [f"search/terms-{name}-{bucket}.js" for bucket in range(buckets)]


CODE_VERSION = hashlib.blake2b(Path(__file__).read_bytes() + lunr.__VERSION__.encode(), digest_size=8).hexdigest()


def author_text(paper: Paper) -> str:
    """The author field: the names as one text, split by lunr's tokenizer into their words."""
    return " ".join(paper.meta.authors)


def document_texts(papers: Sequence[Paper]) -> list[tuple[str, ...]]:
    """Each document's fields, in FIELDS order."""
    return [(paper.title, paper.abstract, author_text(paper)) for paper in papers]


def segment_key(segment: range, texts: Sequence[tuple[str, ...]]) -> str:
    """What a segment's files are made from, hashed: this module and lunr.py's version, the
    format, the range, and each document's fields (their lengths, then the text).
    About 10 ms for a full segment, where analysing it takes over half a second."""
    flat = list(chain.from_iterable(texts))
    digest = hashlib.sha256(f"{CODE_VERSION}/{FORMAT}/{segment.start}-{segment.stop}/".encode())
    digest.update(array("q", map(len, flat)).tobytes())
    digest.update(b"".join([text.encode("utf-8", "surrogatepass") for text in flat]))
    return digest.hexdigest()[:32]


# --- one segment's index ------------------------------------------------------------------------

@dataclass(frozen=True)
class SegmentIndex:
    """Every posting of a segment in flat arrays, terms in JavaScript string order.

    The postings of term t in field f are positions bounds[t*F+f] to bounds[t*F+f+1] of docs
    (ascending, counted from the segment's start) and tfs. lengths[doc, field] is the number
    of terms lunr counts in that field (tokens left after the pipeline)."""

    terms: list[str]
    bounds: np.ndarray
    docs: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray

    def span(self, term: int, field: int) -> slice:
        at = term * len(FIELDS) + field
        return slice(int(self.bounds[at]), int(self.bounds[at + 1]))


def index_segment(texts: Sequence[tuple[str, ...]], analyzer: Analyzer | None = None) -> SegmentIndex:
    """Term frequencies and field lengths of these documents (numbered from 0).

    Tokens become term ids in Python (one dict lookup each); counting runs over numpy arrays."""
    analyzer = analyzer or ANALYZER
    width, documents = len(FIELDS), max(len(texts), 1)
    tokens = array("q")
    counts: list[int] = []  # tokens per (doc, field) slot, slot = doc * fields + field
    for fields in texts:
        for text in fields:
            ids = analyzer.term_ids(text)
            tokens.extend(ids)
            counts.append(len(ids))
    assert len(counts) == len(texts) * width, "every document has every field"
    ids = np.frombuffer(tokens, dtype=np.int64)
    slot = np.repeat(np.arange(len(texts) * width, dtype=np.int64), counts)
    kept = ids != STOP
    ids, slot = ids[kept], slot[kept]
    lengths = np.bincount(slot, minlength=len(texts) * width).reshape(len(texts), width)
    present = np.unique(ids)
    names = analyzer.terms
    terms = sorted((names[term] for term in present.tolist()), key=utf16_order)
    rank = np.zeros(len(names), dtype=np.int64)  # analyzer id -> position in JavaScript order
    rank[[analyzer.ids[term] for term in terms]] = np.arange(len(terms))
    keys, tfs = np.unique((rank[ids] * width + slot % width) * documents + slot // width, return_counts=True)
    term_field, docs = np.divmod(keys, documents)
    bounds = np.searchsorted(term_field, np.arange(len(terms) * width + 1))
    return SegmentIndex(terms, bounds, docs, tfs, lengths)


def posting_codes(index: SegmentIndex) -> tuple[list[int], np.ndarray]:
    """Every (term, field) posting list as bucket files write it, flat: per posting,
    (doc gap << 1 | tf > 1), then the tf when it is above 1; and where each list starts."""
    gaps = index.docs.copy()
    gaps[1:] -= index.docs[:-1]
    firsts = index.bounds[:-1][index.bounds[:-1] < len(gaps)]  # each (term, field) list starts afresh
    gaps[firsts] = index.docs[firsts]
    repeated = index.tfs > 1
    shift = np.concatenate(([0], np.cumsum(repeated)))  # extra values before each posting
    at = np.arange(len(gaps)) + shift[:-1]
    codes = np.empty(len(gaps) + int(shift[-1]), dtype=np.int64)
    codes[at] = gaps * 2 + repeated
    codes[at[repeated] + 1] = index.tfs[repeated]
    return codes.tolist(), index.bounds + shift[index.bounds]


def key_of(term: str) -> str:
    return term[:KEY_CHARS]


def utf16_order(text: str) -> bytes:
    """Sort strings as JavaScript compares them (by UTF-16 code unit), so the browser's binary
    searches agree with the order buckets were cut in."""
    return text.encode("utf-16-be", "surrogatepass")


def encode_segment(segment: range, texts: Sequence[tuple[str, ...]]) -> list[bytes]:
    """A segment's files: its head, then its buckets (see segment_paths)."""
    index = index_segment(texts)
    codes, bounds = posting_codes(index)
    width, at = len(FIELDS), bounds.tolist()
    rows = [[name] for name in index.terms]
    for field in range(width):
        for term, row in enumerate(rows):
            row.append(codes[at[term * width + field]:at[term * width + field + 1]])
    for row in rows:
        while not row[-1]:  # a term has postings in some field, so this stops at the term's last
            row.pop()
    buckets = cut_buckets(index.terms, row_sizes(index.terms, codes, bounds))
    files = [script("terms", segment.start, number, rows[bucket.start:bucket.stop]) for number, bucket in enumerate(buckets)]
    head = {
        "documents": len(texts),
        "lengths": [without_trailing_zeros(index.lengths[:, field].tolist()) for field in range(width)],
        "sums": [int(index.lengths[:, field].sum()) for field in range(width)],
        "buckets": [[key_of(index.terms[bucket.start]) if bucket else "", len(data)] for bucket, data in zip(buckets, files)],
    }
    return [script("segment", segment.start, head)] + files


def without_trailing_zeros(values: list[int]) -> list[int]:
    """A list of lengths as a head writes it: search.js reads what is left out as 0."""
    end = len(values)
    while end and not values[end - 1]:
        end -= 1
    return values[:end]


def row_sizes(terms: list[str], codes: list[int], bounds: np.ndarray) -> list[int]:
    """The bytes of each term's row in a bucket file, `["term",[codes],[codes]],` up to its last
    non-empty field (JSON escapes worked out only for the few terms that need them)."""
    flat = np.array(codes, dtype=np.int64)
    digits = np.zeros(len(flat) + 1, dtype=np.int64)  # running sum of each code's digits and comma
    digits[1:] = np.cumsum(2 + (flat >= 10) + (flat >= 100) + (flat >= 1000) + (flat >= 10000) + (flat >= 100000))
    width = len(FIELDS)
    lists = (digits[bounds[width::width]] - digits[bounds[:-1:width]]).tolist()  # a comma too many per list
    present = np.diff(bounds).reshape(-1, width) > 0
    filled = present.sum(axis=1).tolist()
    written = (width - np.argmax(present[:, ::-1], axis=1)).tolist()  # fields up to the last non-empty one
    # ["", ], the row's comma, and per field written [] and a comma (one less than filled)
    return [(len(term) if PLAIN.match(term) else len(json.dumps(term)) - 2) + 5 + 3 * fields + size - full
            for term, size, full, fields in zip(terms, lists, filled, written)]


def cut_buckets(terms: list[str], sizes: list[int]) -> list[range]:
    """Consecutive term ranges of at most BUCKET_BYTES (unless one key alone is more), never cut
    inside a key, so that a key's terms, and a prefix's of KEY_CHARS letters, are in one bucket."""
    keys: list[list[int]] = []  # [first term, bytes] of each key, in order
    previous = None
    for term, (name, term_size) in enumerate(zip(terms, sizes)):
        key = name[:KEY_CHARS]
        if key != previous:
            keys.append([term, 0])
            previous = key
        keys[-1][1] += term_size
    buckets: list[range] = []
    start, size = 0, 0
    for first, key_size in keys:
        if size and size + key_size > BUCKET_BYTES:
            buckets.append(range(start, first))
            start, size = first, 0
        size += key_size
    buckets.append(range(start, len(terms)))
    return buckets


# --- files ------------------------------------------------------------------------------------------

def script(kind: str, *args: object) -> bytes:
    body = ",".join(json.dumps(arg, ensure_ascii=True, separators=(",", ":")) for arg in args)
    return SCRIPT.format(kind=kind, args=body).encode("ascii")


def latest(paper: Paper) -> Appearance:
    """paper.latest without a list per paper: appearances are dated ones first, then undated."""
    last = paper.appearances[-1]
    return last if last.date is not None or paper.appearances[0].date is None else paper.latest


def snippet(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def reusable(previous: Mapping[str, str], segment: range, key: str) -> list[OutputFile] | None:
    """The segment's files as the last build recorded them, if all of them carry this key.

    A segment's files all carry `<key>.<bucket count>`, so the head's key says how many
    bucket files there must be."""
    head = segment_paths(segment, 0)[0]
    recorded = previous.get(head, "")
    found, _, buckets = recorded.rpartition(".")
    if found != key or not buckets.isdigit():
        return None
    paths = segment_paths(segment, int(buckets))
    if any(previous.get(path) != recorded for path in paths):
        return None
    return [OutputFile(path, None, recorded) for path in paths]


def search_files(catalog: Catalog, previous: Mapping[str, str] | None = None) -> Iterator[OutputFile]:
    """The whole search index: meta, each segment's head and buckets, and result-row chunks.

    `previous` maps each path of the last build to the key it recorded: a segment whose files
    all carry the key it would have now is yielded with data=None and not analysed again."""
    previous = previous or {}
    papers = document_order(catalog)
    texts = document_texts(papers)
    cuts = segments(len(papers))
    meta = {
        "format": FORMAT,
        "fields": list(FIELDS),
        "boosts": [BOOSTS[field] for field in FIELDS],
        "k1": K1,
        "b": B,
        "documents": len(papers),
        "chunk": DOCS_PER_CHUNK,
        "keyChars": KEY_CHARS,
        "segments": [[segment.start, segment.stop] for segment in cuts],
    }
    yield OutputFile("search/meta.js", script("meta", meta))
    keys = [segment_key(segment, texts[segment.start:segment.stop]) for segment in cuts]
    stale: list[tuple[range, str]] = []
    for segment, key in zip(cuts, keys):
        reused = reusable(previous, segment, key)
        if reused is None:
            stale.append((segment, key))
        else:
            yield from reused
    for (segment, key), files in zip(stale, encoded(texts, [segment for segment, _ in stale])):
        recorded = f"{key}.{len(files) - 1}"
        for path, data in zip(segment_paths(segment, len(files) - 1), files):
            yield OutputFile(path, data, recorded)
    yield from row_chunks(catalog, papers, dict(zip(cuts, keys)), previous)


def row_chunks(catalog: Catalog, papers: list[Paper], keys: dict[range, str],
               previous: Mapping[str, str]) -> Iterator[OutputFile]:
    """Result rows in chunks of DOCS_PER_CHUNK. A chunk's key is its segment's key (which covers
    each paper's fields) with its papers' slugs, last-featured dates and author lines (which
    also depend on an author count, and on where one name ends), so a chunk is made again only
    when one of those changed (a repeat moves a paper's date)."""
    dates = {digest.slug: long_date(digest) for digest in catalog.digests}
    featured = [dates[latest(paper).digest] for paper in papers]
    bylines = [short_authors(paper.meta) for paper in papers]
    for start in range(0, len(papers), DOCS_PER_CHUNK):
        number, stop = start // DOCS_PER_CHUNK, min(start + DOCS_PER_CHUNK, len(papers))
        path = f"search/docs-{number}.js"
        inputs = [keys[cut] for cut in keys if cut.start < stop and start < cut.stop]
        inputs += [[paper.slug for paper in papers[start:stop]], featured[start:stop], bylines[start:stop]]
        key = hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:32]
        if previous.get(path) == key:
            yield OutputFile(path, None, key)
            continue
        rows = [[paper.title, paper.slug, date, snippet(paper.abstract)] + ([byline] if byline else [])
                for paper, date, byline in zip(papers[start:stop], featured[start:stop], bylines[start:stop])]
        yield OutputFile(path, script("docs", number, rows), key)


_TEXTS: list[tuple[str, ...]] = []  # what forked workers inherit


def _encode(segment: range) -> list[bytes]:
    return encode_segment(segment, _TEXTS[segment.start:segment.stop])


def encoded(texts: list[tuple[str, ...]], stale: list[range]) -> Iterator[list[bytes]]:
    """Each stale segment's files, in order: in forked workers when there is enough to do."""
    global _TEXTS
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, MAX_WORKERS, len(stale))
    if workers < 2 or sum(map(len, stale)) < PARALLEL_MIN_DOCS or "fork" not in mp.get_all_start_methods():
        for segment in stale:
            yield encode_segment(segment, texts[segment.start:segment.stop])
        return
    _TEXTS = texts
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_encode, stale)
    finally:
        _TEXTS = []
