"""The search index's format: text analysed with lunr.py's own pipeline, and one segment's
files (its head with document lengths, its terms cut into buckets of rows of postings).

search.py (the build stage) decides which documents go in which segment and which segments
must be written again; this module turns one segment's texts into its bytes, and nothing here
depends on any other segment, which is what lets a build rewrite only the segments that changed.
"""

from __future__ import annotations

import json
import re
from array import array
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from lunr.stemmer import porter_stemmer
from lunr.stop_word_filter import WORDS as STOP_WORDS
from lunr.trimmer import full_re as TRIM

FORMAT = 5  # of the files below; part of every segment's key (3: the author field; 4: word positions; 5: lengths as text)
FIELDS = ("title", "abstract", "author")  # author last: rows leave out trailing empty postings
# Author 5, between title (10) and abstract (1): a name matched is a deliberate search for a
# person, so it ranks well above a word somewhere in an abstract, but a surname that is also a
# word ("Field", "Model") must not push aside the papers with that word in their title. The
# field is short (~2 terms a name, like a title), so BM25's length normalisation already lifts
# it as it lifts titles; at half the title's boost, the same word still weighs about twice as
# much in a title as in an author list.
BOOSTS = {"title": 10, "abstract": 1, "author": 5}
K1, B = 1.2, 0.75  # lunr's BM25 defaults
SEPARATOR_CHARS = " \t\n\r\f\v\xa0-"  # lunr.py's tokenizer splits on exactly these
SEPARATORS = re.compile(f"[{SEPARATOR_CHARS}]+")
KEY_CHARS = 3  # a term's key: its first three characters; a key's terms share one bucket
BUCKET_BYTES = 24_000  # a bucket holds whole keys up to this much (a bigger key, alone)
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
        # (no empty first token: a word's position is its number among the tokens, as lunr's "index")
        tokens = SEPARATORS.split(text.lower().lstrip(SEPARATOR_CHARS))
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


@dataclass(frozen=True)
class SegmentIndex:
    """Every posting of a segment in flat arrays, terms in JavaScript string order.

    The postings of term t in field f are positions bounds[t*F+f] to bounds[t*F+f+1] of docs
    (ascending, counted from the segment's start) and tfs. lengths[doc, field] is the number
    of terms lunr counts in that field (tokens left after the pipeline). Posting i's word
    positions (ascending; a word's number among its field's tokens, stop words included, as
    lunr's tokenizer numbers them in its "index" metadata) are positions[starts[i]:starts[i+1]]."""

    terms: list[str]
    bounds: np.ndarray
    docs: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray
    positions: np.ndarray
    starts: np.ndarray

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
    firsts = np.cumsum(counts) - np.asarray(counts, dtype=np.int64)
    position = np.arange(len(ids), dtype=np.int64) - np.repeat(firsts, counts)
    kept = ids != STOP
    ids, slot, position = ids[kept], slot[kept], position[kept]
    lengths = np.bincount(slot, minlength=len(texts) * width).reshape(len(texts), width)
    present = np.unique(ids)
    names = analyzer.terms
    terms = sorted((names[term] for term in present.tolist()), key=utf16_order)
    rank = np.zeros(len(names), dtype=np.int64)  # analyzer id -> position in JavaScript order
    rank[[analyzer.ids[term] for term in terms]] = np.arange(len(terms))
    posting = (rank[ids] * width + slot % width) * documents + slot // width
    keys, tfs = np.unique(posting, return_counts=True)
    term_field, docs = np.divmod(keys, documents)
    bounds = np.searchsorted(term_field, np.arange(len(terms) * width + 1))
    positions = position[np.lexsort((position, posting))]  # by posting (as keys), then position
    starts = np.concatenate(([0], np.cumsum(tfs)))
    return SegmentIndex(terms, bounds, docs, tfs, lengths, positions, starts)


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


def position_codes(index: SegmentIndex) -> list[int]:
    """Every posting's word positions as positions files write them, flat, in posting order:
    the first position, then the gaps to the next ones (a posting has tf of them)."""
    codes = index.positions.copy()
    codes[1:] -= index.positions[:-1]
    firsts = index.starts[:-1]
    codes[firsts] = index.positions[firsts]
    return codes.tolist()


def key_of(term: str) -> str:
    return term[:KEY_CHARS]


def utf16_order(text: str) -> bytes:
    """Sort strings as JavaScript compares them (by UTF-16 code unit), so the browser's binary
    searches agree with the order buckets were cut in."""
    return text.encode("utf-16-be", "surrogatepass")


def field_rows(index: SegmentIndex, codes: list[int], bounds: list[int], named: bool) -> list[list]:
    """Per term, its flat codes per field (sliced at bounds: each (term, field) list's start),
    trailing empty fields left out; the term first when named."""
    width = len(FIELDS)
    rows: list[list] = [[name] if named else [] for name in index.terms]
    for field in range(width):
        for term, row in enumerate(rows):
            row.append(codes[bounds[term * width + field]:bounds[term * width + field + 1]])
    for row in rows:
        while not row[-1]:  # a term has postings in some field, so this stops at the term's last
            row.pop()
    return rows


def vocabulary(index: SegmentIndex) -> bytes:
    """The segment's terms with the number of its documents that have each (in any field), as
    JSON: [[term, documents], ...], what the term dictionary (search.py) adds up over segments."""
    width = len(FIELDS)
    documents = int(index.docs.max()) + 1 if len(index.docs) else 1
    term_of = np.repeat(np.arange(len(index.bounds) - 1) // width, np.diff(index.bounds))
    pairs = np.unique(term_of * documents + index.docs)
    counts = np.bincount(pairs // documents, minlength=len(index.terms)).tolist()
    return json.dumps([[term, count] for term, count in zip(index.terms, counts)], separators=(",", ":")).encode()


def encode_segment(segment: range, texts: Sequence[tuple[str, ...]]) -> tuple[dict, list[bytes], bytes]:
    """A segment's head (for meta.js), its files: its buckets, then each bucket's positions (see
    segment_paths); and its vocabulary.

    A positions file has a row for each row of its bucket, in the same order, without the
    term: only a quoted phrase loads it."""
    index = index_segment(texts)
    codes, bounds = posting_codes(index)
    width = len(FIELDS)
    rows = field_rows(index, codes, bounds.tolist(), named=True)
    where = field_rows(index, position_codes(index), index.starts[index.bounds].tolist(), named=False)
    buckets = cut_buckets(index.terms, row_sizes(index.terms, codes, bounds))
    files = [script("terms", segment.start, number, rows[bucket.start:bucket.stop]) for number, bucket in enumerate(buckets)]
    positions = [script("positions", segment.start, number, where[bucket.start:bucket.stop]) for number, bucket in enumerate(buckets)]
    head = {
        "documents": len(texts),
        "lengths": [packed_lengths(without_trailing_zeros(index.lengths[:, field].tolist())) for field in range(width)],
        "sums": [int(index.lengths[:, field].sum()) for field in range(width)],
        "buckets": [[key_of(index.terms[bucket.start]) if bucket else "", len(data), len(near)]
                    for bucket, data, near in zip(buckets, files, positions)],
    }
    return head, files + positions, vocabulary(index)


# A head's lengths are text: each length in base LENGTH_BASE, its last digit from the second half
# of LENGTH_DIGITS and any before it from the first, so a title's length is one character and
# most abstracts' two, where a JSON list of numbers spends three to five bytes on each. A head is
# loaded for every query (its lengths are most of it), so this is a third of what a query loads
# before its buckets. The digits are ASCII without '"' or '\\': JSON writes them as they are.
LENGTH_BASE = 45
LENGTH_DIGITS = "".join(chr(code) for code in range(0x23, 0x7F) if code != 0x5C)[:2 * LENGTH_BASE]


def packed_lengths(values: list[int]) -> str:
    """Lengths as a head writes them (search-index.js's lengthsOf reads them)."""
    out = []
    for value in values:
        digits = [value % LENGTH_BASE]
        while value >= LENGTH_BASE:
            value //= LENGTH_BASE
            digits.append(value % LENGTH_BASE)
        out.append("".join(LENGTH_DIGITS[digit] for digit in reversed(digits[1:])) + LENGTH_DIGITS[LENGTH_BASE + digits[0]])
    return "".join(out)


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


def script(kind: str, *args: object) -> bytes:
    body = ",".join(json.dumps(arg, ensure_ascii=True, separators=(",", ":")) for arg in args)
    return SCRIPT.format(kind=kind, args=body).encode("ascii")
