"""The vectors related.py compares: each paper's words, hashed and counted, weighed by TF-IDF
with the statistics of its segment's base (the segment's first papers), and the postings the
similarity product keeps (within the inner budget, and narrowed to the outer one); then each
paper's best from a block of scores.

Everything is vectorised (numpy): words are hashed and counted without a Python loop over
words. Nothing here depends on threads: related.py hashes chunks of text (chunk_terms) on a
pool and merges them here (term_counts); each chunk's result depends on its text alone."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp

from generator.catalog import Paper

# English function words and the stock phrases of abstracts: they say nothing about a topic.
# (IDF alone would weigh them down, but dropping them early also halves the words to count.)
STOP_WORDS = frozenset("""
    about above across after again against all almost along already also although always am
    among an and another any are around as at be because been before being below between both
    but by can cannot could did do does doing done down during each either else even ever every
    few for from further had has have having he her here hers herself him himself his how however
    if in into is it its itself just many may me might more most much must my myself neither no
    nor not now of off often on once one only onto or other others otherwise our ours ourselves
    out over own per rather same she should since so some such than that the their theirs them
    themselves then there thereby therefore these they this those though through thus to too
    toward towards under until up upon us very via was we well were what when where whereas
    whether which while who whom whose why will with within without would yet you your yours
    paper propose proposed present show shows shown demonstrate demonstrates introduce
    introduces use used uses using based achieve achieves new results work approach method
""".split())

CHUNK_BYTES = 1 << 22  # text hashed at a time (keeps the per-byte arrays small and in cache)
GROUP_POSTINGS = 1 << 20  # postings of common terms ranked at a time (strongest)
SCORE_STEP = 2.0 ** -30  # scores are compared as multiples of this (~1e-9)
SAMPLE = 128  # candidates per row sampled for a first bound (top)
_NONE = np.uint64(2**64 - 1)  # no candidate, in packed keys

_NON_WORD = re.compile(r"[\W_]+")
# Bytes -> lowercase ASCII letters and digits as they are, other ASCII as a space, and bytes of
# UTF-8 sequences kept (non-ASCII texts are cleaned first, so those are parts of letters).
_TABLE = bytes(byte if byte >= 0x80 else ord(chr(byte).lower()) if chr(byte).isalnum() else 0x20
               for byte in range(256))
_MASKS = np.array([(1 << 8 * n) - 1 for n in range(9)], dtype=np.uint64)  # the first n bytes of 8
_MIX1, _MIX2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9)
_MIX3 = np.uint64(0x94D049BB133111EB)


class Postings(NamedTuple):
    """A segment's vectors, term by term (terms ascending, papers ascending within a term):
    term ids (uint64), where each term's postings start (int64, one more than the terms), and
    each posting's paper number within the segment (int32) and weight (float64)."""

    terms: np.ndarray
    indptr: np.ndarray
    docs: np.ndarray
    weights: np.ndarray


def document_text(paper: Paper) -> bytes:
    """What a paper is compared on: its title twice (a title is its paper's own summary, so its
    words count double) and its abstract, as UTF-8 with only word characters left beyond ASCII."""
    text = f"{paper.title}\n{paper.title}\n{paper.abstract}"
    if not text.isascii():  # rare: clean Unicode here, so the byte-level tokeniser needs no tables
        text = _NON_WORD.sub(" ", unicodedata.normalize("NFC", text).lower())
    return text.encode("utf-8")


def hash_tokens(buffer: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each token buffer[start:start + length], eight bytes at a time.

    `buffer` must have 8 spare bytes after its last token."""
    words = np.ndarray((len(buffer) - 7,), dtype="<u8", buffer=buffer, strides=(1,))  # unaligned
    hashes = (words[starts] & _MASKS[np.minimum(lengths, 8)]) * _MIX1
    hashes ^= hashes >> np.uint64(29)
    offset, longer = 8, np.flatnonzero(lengths > 8)
    while longer.size:
        tail = words[starts[longer] + offset] & _MASKS[np.minimum(lengths[longer] - offset, 8)]
        mixed = (hashes[longer] ^ tail) * _MIX2
        hashes[longer] = mixed ^ (mixed >> np.uint64(31))
        offset += 8
        longer = longer[lengths[longer] > offset]
    hashes *= _MIX3
    return hashes ^ (hashes >> np.uint64(32))


def _stop_table() -> tuple[int, np.ndarray]:
    """A 16384-slot table holding each stop word's hash at slot (hash >> shift) & 16383, for a
    shift at which no two stop words share a slot (free slots repeat one of them), so that one
    gather and one comparison tell whether a token is a stop word."""
    words = sorted(STOP_WORDS)
    text = (" ".join(words) + " " * 9).encode()
    starts = np.cumsum([0] + [len(word) + 1 for word in words[:-1]])
    hashes = hash_tokens(text, starts, np.array([len(word) for word in words]))
    for shift in range(53):
        slots = (hashes >> np.uint64(shift)) & np.uint64(16383)
        if len(np.unique(slots)) == len(words):
            table = np.full(16384, hashes[0], np.uint64)
            table[slots] = hashes
            return shift, table
    raise AssertionError("no collision-free stop-word table")  # pragma: no cover


_STOP_SHIFT, _STOP_HASHES = _stop_table()


def chunk_bounds(papers: Sequence[Paper]) -> list[tuple[int, int]]:
    """papers cut into runs of about CHUNK_BYTES of text, to hash one at a time."""
    if not papers:
        return []
    ends = np.cumsum([2 * len(paper.title) + len(paper.abstract) for paper in papers])
    bounds = np.unique([0, len(papers)] + np.searchsorted(ends, np.arange(0, ends[-1], CHUNK_BYTES), side="right").tolist())
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def chunk_terms(papers: Sequence[Paper], first: int, doc_bits: int) -> np.ndarray:
    """The counted words of papers[i] (paper number first + i), each as its hash (top bits) |
    paper number (low `doc_bits` bits), sorted."""
    texts = [document_text(paper) for paper in papers]
    buffer = (b" " + b" ".join(texts) + b" " * 9).translate(_TABLE)
    codes = np.frombuffer(buffer, np.uint8)
    edges = np.flatnonzero(np.diff((codes != 0x20).view(np.int8))) + 1  # starts and ends, in turn
    starts, lengths = edges[0::2], edges[1::2] - edges[0::2]
    keep = lengths >= 2
    # Plain numbers: they start with a digit (few tokens do), and have nothing but digits.
    digits, at = np.flatnonzero((codes[starts] >= 0x30) & (codes[starts] <= 0x39)), 1
    while digits.size:
        keep[digits[lengths[digits] == at]] = False
        digits = digits[lengths[digits] > at]
        following = codes[starts[digits] + at]
        digits, at = digits[(following >= 0x30) & (following <= 0x39)], at + 1
    # Tokens with non-ASCII letters (few): their length in characters, not bytes.
    for index in np.unique(np.searchsorted(starts, np.flatnonzero(codes >= 0x80), side="right") - 1).tolist():
        word = buffer[starts[index]:starts[index] + lengths[index]].decode("utf-8")
        keep[index] = len(word) >= 2 and not word.isdigit()
    starts, lengths = starts[keep], lengths[keep]
    offsets = np.cumsum([1] + [len(text) + 1 for text in texts])
    numbers = np.repeat(np.arange(first, first + len(texts), dtype=np.uint64),
                        np.diff(np.searchsorted(starts, offsets)))
    hashes = hash_tokens(buffer, starts, lengths)
    content = _STOP_HASHES[((hashes >> np.uint64(_STOP_SHIFT)) & np.uint64(16383)).astype(np.intp)] != hashes
    keys = (hashes[content] & ~np.uint64((1 << doc_bits) - 1)) | numbers[content]
    keys.sort()
    return keys


def term_counts(parts: list[np.ndarray], doc_bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (term, paper) of one segment, from its chunks' keys (chunk_terms) in paper order,
    term by term (terms ascending, papers ascending): the term ids (uint64, the hash's top
    64 - doc_bits bits), the paper numbers (int32), the counts (int32), and each term's
    document frequency. `parts` is emptied as it is merged.

    Words are told apart by a hash of 64 - doc_bits bits (51 with segments of under 8192
    papers): two different words share one with probability ~V^2 / 2^52, about 4e-6 for the
    130,000 words of 30,000 papers, and would then count as one word. Each chunk's keys come
    sorted, and a stable sort merges the runs."""
    keys, start = np.empty(sum(len(part) for part in parts), np.uint64), 0
    for index, part in enumerate(parts):  # (freeing each part as it is copied)
        keys[start:start + len(part)], start, parts[index] = part, start + len(part), None
    keys.sort(kind="stable")  # merges the sorted runs
    new = np.ones(len(keys) + 1, bool)  # where a (term, paper) starts, and the end
    np.not_equal(keys[1:], keys[:-1], out=new[1:-1])
    at = np.flatnonzero(new)
    np.subtract(at[1:], at[:-1], out=at[:-1])
    counts = at[:-1].astype(np.int32)
    del at
    keys = keys[new[:-1]]
    del new
    docs = (keys & np.uint64((1 << doc_bits) - 1)).astype(np.int32)
    keys >>= np.uint64(doc_bits)
    new = np.ones(len(keys) + 1, bool)  # where a term starts, and the end
    np.not_equal(keys[1:], keys[:-1], out=new[1:-1])
    return keys[new[:-1]], docs, counts, np.diff(np.flatnonzero(new))


def segment_postings(n: int, base: int, terms: np.ndarray, docs: np.ndarray, counts: np.ndarray, df: np.ndarray,
                     budget: int) -> Postings:
    """A segment's TF-IDF vectors (one per paper, L2-normalised), and the postings of them the
    similarity product keeps. Its papers are numbered in order of first appearance, and its
    statistics are those of its first `base` papers (its base), so that a paper appended to
    the segment moves no other paper's vector and no other posting in or out.

    Weighting, and why:
    - tf: 1 + ln(count). A word repeated in an abstract (its method's name, five times) is
      more telling than one said once, but not five times more.
    - idf: ln((N + 1) / df), N papers of the base, df of them with the word (a word no paper of
      the base has counts as df = 1: it is rare). A word in every paper weighs ~0 (its mere
      presence tells nothing), a word in two papers ~ln(N/2); it is never negative or zero, so
      any shared counted word makes two papers (slightly) related. It is the segment's own: a
      new segment never moves the vectors of the others.
    - rows are normalised over all of a paper's terms, so the product of two rows is the cosine
      of their vectors. A common term of the base (in more of its papers than the segment's
      work budget allows, links) keeps only the postings at least as strong as its bar, its
      base's L-th strongest, in the product (but all in the norm)."""
    weights = counts.astype(np.float64)
    np.log(weights, out=weights)
    weights += 1.0
    in_base = base_counts(df, docs, base)
    weights *= np.repeat(np.log((base + 1) / np.maximum(in_base, 1)), df)
    weights /= np.sqrt(np.bincount(docs, weights=np.square(weights), minlength=n))[docs]
    kept = strongest(weights, docs, df, in_base, links(in_base, budget), max(1, (n - 1).bit_length()))
    return _kept(Postings(terms, np.concatenate(([0], np.cumsum(df))).astype(np.int64), docs, weights), kept)


def narrowed(postings: Postings, base: int, budget: int) -> Postings:
    """The postings a segment keeps within a smaller `budget`, from those it keeps within a
    larger one (segment_postings, the same `base`): exactly those segment_postings would keep
    within `budget`.

    Why exact: a term of the base keeping k = min(df, L) of its base postings within a larger
    budget's L has min(k, l) = min(df, l) for every l <= L, so links() finds the same l from
    the k's, and l <= L; its l strongest base postings (the same keys: weight on the grid, then
    paper) are among its k, so its bar within l is the same, and no weaker than within L: every
    posting that clears it cleared the larger budget's bar, and is among those kept."""
    df = np.diff(postings.indptr)
    in_base = base_counts(df, postings.docs, base)
    kept = strongest(postings.weights, postings.docs, df, in_base, links(in_base, budget),
                     max(1, int(postings.docs.max(initial=0)).bit_length()))
    return _kept(postings, kept)


def base_counts(df: np.ndarray, docs: np.ndarray, base: int) -> np.ndarray:
    """Of each term's postings (df of them, in turn), how many are of the base (docs < base)."""
    if not docs.size:
        return np.zeros(len(df), np.int64)
    return np.add.reduceat((docs < base).astype(np.int64), np.cumsum(df) - df)


def _kept(postings: Postings, keep: np.ndarray) -> Postings:
    """postings, with only those where `keep` is set."""
    lengths = np.add.reduceat(keep.astype(np.int64), postings.indptr[:-1]) if keep.size else np.zeros(0, np.int64)
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return Postings(postings.terms, indptr, postings.docs[keep], postings.weights[keep])


def links(df: np.ndarray, budget: int) -> int:
    """How many papers of a segment's base one term may link: the largest L with
    sum(min(df, L)^2) <= budget over the terms in two papers of the base or more.

    A term in d papers costs d^2 multiply-adds in X @ X.T, so the most common terms make
    nearly all of the work, and would link nearly every pair of papers (an N x N output).
    Rather than dropping them, each such term keeps the L papers where it weighs most, and
    links those. Measured on 6,550 real texts (Python docstrings: first line as title) against
    the exact top 5: at equal work, dropping terms kept 67% (work 3e6) and 80% (1e7) of it,
    this keeps 74% and 86%."""
    shared = df[df >= 2].astype(np.float64)
    low, high = 2, int(shared.max(initial=2))
    while low < high:  # the largest L within the budget (at least 2)
        middle = (low + high + 1) // 2
        if float(np.sum(np.minimum(shared, middle) ** 2)) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def strongest(weights: np.ndarray, docs: np.ndarray, df: np.ndarray, in_base: np.ndarray, most: int,
              doc_bits: int) -> np.ndarray:
    """Which postings (term-major, papers ascending, the base's first) the product keeps: all of
    a term's if it is in at most `most` papers of the base, else those whose key is at most
    its bar, the `most`-th key of its base postings in order. The key is term | 2**24 - weight
    (on a 2**-24 grid) | paper, so a stronger posting comes first, and of equal ones the paper
    that appeared first. Common terms are ranked a group at a time (np.partition finds the bars)."""
    keep = np.ones(len(weights), bool)
    firsts = np.cumsum(df) - df
    common = np.flatnonzero(in_base > most)
    assert len(common).bit_length() <= 64 - 25 - doc_bits, "too many papers for the packed keys"
    groups = np.searchsorted(np.cumsum(df[common]), np.arange(0, int(df[common].sum()), GROUP_POSTINGS), "right")
    for a, b in zip(groups.tolist(), groups[1:].tolist() + [len(common)]):
        terms = common[a:b]
        if not terms.size:
            continue
        lengths = df[terms]
        at = np.repeat(firsts[terms] - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        packed = np.minimum(weights[at] * 2**24, 2**24).astype(np.uint64)
        np.subtract(np.uint64(2**24), packed, out=packed)
        packed <<= np.uint64(doc_bits)
        packed |= docs[at].astype(np.uint64)
        packed |= np.repeat(np.arange(len(terms), dtype=np.uint64) << np.uint64(25 + doc_bits), lengths)
        bases = in_base[terms]
        ours = np.repeat(np.cumsum(lengths) - lengths, bases) + np.arange(int(bases.sum())) - np.repeat(
            np.cumsum(bases) - bases, bases)  # where each term's base postings are (its first ones)
        bars = np.cumsum(bases) - bases + most - 1
        bars = np.partition(packed[ours], bars)[bars]
        keep[at] = packed <= np.repeat(bars, lengths)
    return keep


# --- each paper's best: from a block of scores (top), from candidates of several (best) -----------

def top(scores: sp.csr_matrix, count: int, itself: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the columns of its `count` largest positive scores, largest first, equal
    ones (on the SCORE_STEP grid) by column: (columns, -1 where none; grid scores, 0 there).
    With `itself`, row r is column r + itself, which it never takes.

    Rows can have thousands of candidates; before sorting, each row drops those below a bound
    of its count-th best: the (count + 1)-th best of a sample of its candidates (one of which
    may be the row itself), less a grid step so that nothing tied on the grid is lost."""
    n, width = scores.shape
    numbers, grid = np.full((n, count), -1, np.int64), np.zeros((n, count), np.int64)
    indptr, data = scores.indptr.astype(np.int64), scores.data
    if not data.size:
        return numbers, grid
    size = max(SAMPLE, 2 * (count + 1))
    sample = indptr[:-1, None] + np.arange(size)
    sample = np.where(sample < indptr[1:, None], data[np.minimum(sample, data.size - 1)], -1.0)
    bound = np.partition(sample, size - count - 1, axis=1)[:, size - count - 1] - SCORE_STEP
    at = np.flatnonzero(data >= np.repeat(bound, np.diff(indptr)))
    rows = np.searchsorted(indptr, at, side="right") - 1
    cols = scores.indices[at].astype(np.int64)
    steps = np.rint(data[at] / SCORE_STEP).astype(np.int64)
    keep = (steps > 0) if itself is None else (cols != rows + itself) & (steps > 0)
    rows, cols, steps = rows[keep], cols[keep], steps[keep]
    col_bits = max(1, (width - 1).bit_length())
    assert (n - 1).bit_length() + 31 + col_bits <= 63, "too many rows for the packed keys"
    packed = (rows << (31 + col_bits)) | ((2**31 - 1 - steps) << col_bits) | cols
    packed.sort()
    per_row = np.bincount(rows, minlength=n)
    take = np.minimum(per_row, count)
    slot = np.arange(take.sum()) - np.repeat(np.cumsum(take) - take, take)
    chosen = packed[np.repeat(np.cumsum(per_row) - per_row, take) + slot]
    row = np.repeat(np.arange(n), take)
    numbers[row, slot] = chosen & ((1 << col_bits) - 1)
    grid[row, slot] = 2**31 - 1 - ((chosen >> col_bits) & (2**31 - 1))
    return numbers, grid


def best(grid: np.ndarray, numbers: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Row by row, the `count` best of candidates (numbers, -1 for none) with grid scores:
    higher scores first, then smaller numbers."""
    packed = np.where(numbers >= 0, ((2**31 - 1 - grid).astype(np.uint64) << np.uint64(32)) | numbers.astype(np.uint64),
                      _NONE)
    if packed.shape[1] > count:  # the `count` smallest keys first (in linear time), then only those sorted
        packed = np.partition(packed, count - 1, axis=1)[:, :count]
    packed = np.sort(packed, axis=1)
    none = packed == _NONE
    numbers = np.where(none, -1, (packed & np.uint64(2**32 - 1)).astype(np.int64))
    return numbers, np.where(none, 0, 2**31 - 1 - (packed >> np.uint64(32)).astype(np.int64))
