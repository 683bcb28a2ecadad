"""Related papers: for each paper, the papers whose title and abstract read most alike.

Each paper is a TF-IDF vector over the words of its title and abstract, and papers are compared
by cosine similarity, computed at build time for every paper at once. Everything is vectorised
(numpy, scipy.sparse): words are hashed and counted without a Python loop over words, and the
similarities come from a sparse matrix product in row blocks, so no N x N matrix is ever held
and no Python loop runs over pairs of papers. The product is exact while it fits a fixed work
budget (about 1,500 papers); beyond it the commonest words link only the papers where they
weigh most (_links), which keeps the cost flat as the archive grows.

The result is a pure function of the set of papers: papers are put in slug order first, every
sum is taken in an order fixed by the data (never by threads or input order), and scores are
compared on a grid of 2**-30 so that last-bit differences cannot reorder near-ties; ties go to
the smaller slug."""

from __future__ import annotations

import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from generator.catalog import Paper
from generator.workers import cpu_count

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

SCORE_STEP = 2.0 ** -30  # scores are compared as multiples of this (~1e-9)
# Multiply-adds allowed in the similarity product (see _links): ~0.3 s on the 2-core machine.
WORK_BUDGET = 30_000_000
BLOCK_WORK = 1_000_000  # multiply-adds per row block: bounds each block's output (~12 MB)
MAX_BLOCK_ROWS = 4096
SAMPLE = 128  # candidates per row sampled for a first bound (_block_nearest)
CHUNK_BYTES = 1 << 22  # text hashed at a time (keeps the per-byte arrays small and in cache)
GROUP_POSTINGS = 1 << 20  # postings of common terms ranked at a time (_strongest)

_NON_WORD = re.compile(r"[\W_]+")
# Bytes -> lowercase ASCII letters and digits as they are, other ASCII as a space, and bytes of
# UTF-8 sequences kept (non-ASCII texts are cleaned first, so those are parts of letters).
_TABLE = bytes(byte if byte >= 0x80 else ord(chr(byte).lower()) if chr(byte).isalnum() else 0x20
               for byte in range(256))
_MASKS = np.array([(1 << 8 * n) - 1 for n in range(9)], dtype=np.uint64)  # the first n bytes of 8
_MIX1, _MIX2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9)
_MIX3 = np.uint64(0x94D049BB133111EB)


def related_papers(papers: Sequence[Paper], count: int = 5) -> dict[str, tuple[str, ...]]:
    """Paper.key -> the keys of its up-to-`count` most similar papers, most similar first.

    A paper is never related to itself, nor to a paper it shares no counted word with (so a
    list may be short or empty). Equal scores (to ~1e-9) are ordered by slug."""
    ordered = sorted(papers, key=lambda paper: (paper.slug, paper.key))
    if len(ordered) < 2 or count < 1:
        return {paper.key: () for paper in ordered}
    vectors = tfidf_vectors(ordered)
    return {paper.key: tuple(ordered[other].key for other in found)
            for paper, found in zip(ordered, nearest(vectors, count))}


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


def _chunk_terms(papers: Sequence[Paper], first: int, doc_bits: int) -> np.ndarray:
    """The counted words of papers[i] (paper number first + i), each as its hash (top bits) |
    paper number (low bits), sorted."""
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


def term_counts(papers: Sequence[Paper]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (term, paper) that occurs, term by term (terms in hash order, papers ascending):
    the paper numbers (int32), the counts (int32), and each term's document frequency.

    Words are told apart by a hash (64 bits less those of the paper number): two different
    words share one with probability ~V^2 / 2^(65 - log2 N), about 1e-5 for 130,000 words in
    30,000 papers, and would then count as one word. The text is cut into chunks hashed on
    several threads (numpy lets go of the GIL); each chunk's keys come sorted, and a stable
    sort merges the runs."""
    n = len(papers)
    doc_bits = max(1, (n - 1).bit_length())
    ends = np.cumsum([2 * len(paper.title) + len(paper.abstract) for paper in papers])
    bounds = np.unique([0, n] + np.searchsorted(ends, np.arange(0, ends[-1], CHUNK_BYTES), side="right").tolist())
    chunks = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    with ThreadPoolExecutor(_threads(len(chunks))) as pool:
        parts = list(pool.map(lambda chunk: _chunk_terms(papers[chunk[0]:chunk[1]], chunk[0], doc_bits), chunks))
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
    return docs, counts, np.diff(np.flatnonzero(new))


def tfidf_vectors(papers: Sequence[Paper]) -> sp.csr_matrix:
    """One L2-normalised row per paper (in the given order), over the terms that can link two.

    Weighting, and why:
    - tf: 1 + ln(count). A word repeated in an abstract (its method's name, five times) is
      more telling than one said once, but not five times more.
    - idf: ln((N + 1) / df), N papers, df of them with the word. A word in every paper weighs
      ~0 (its mere presence tells nothing), a word in two papers ~ln(N/2); it is never
      negative or zero, so any shared counted word makes two papers (slightly) related.
    - rows are normalised over all of a paper's terms, so the product of two rows is the exact
      cosine of their TF-IDF vectors. Terms in one paper only cannot link two papers, so they
      are left out of the product (but not of the norm); so are a common term's postings
      beyond the work budget (_links)."""
    n = len(papers)
    docs, counts, df = term_counts(papers)
    weights = counts.astype(np.float64)
    del counts
    np.log(weights, out=weights)
    weights += 1.0
    weights *= np.repeat(np.log((n + 1) / df), df)
    weights /= np.sqrt(np.bincount(docs, weights=np.square(weights), minlength=n))[docs]
    links = _links(df)
    kept = np.repeat(df >= 2, df) & _strongest(weights, docs, df, links, max(1, (n - 1).bit_length()))
    indptr = np.concatenate(([0], np.cumsum(np.where(df >= 2, np.minimum(df, links), 0))))
    return sp.csc_matrix((weights[kept], docs[kept], indptr), shape=(n, len(df))).tocsr()


def _links(df: np.ndarray) -> int:
    """How many papers one term may link: the largest L with sum(min(df, L)^2) <= WORK_BUDGET.

    A term in d papers costs d^2 multiply-adds in X @ X.T, so the most common terms make
    nearly all of the work, and would link nearly every pair of papers (an N x N output).
    Rather than dropping them, each such term keeps the L papers where it weighs most, and
    links those. Measured on 6,550 real texts (Python docstrings: first line as title) against
    the exact top 5: at equal work, dropping terms kept 67% (work 3e6) and 80% (1e7) of it,
    this keeps 74% and 86%; at WORK_BUDGET, 93% (L = 242). Sites whose whole product fits the
    budget (up to about 1,500 papers of abstracts) are exact; larger ones stay at a fixed cost."""
    shared = df[df >= 2].astype(np.float64)
    low, high = 2, int(shared.max(initial=2))
    while low < high:  # the largest L within the budget (at least 2)
        middle = (low + high + 1) // 2
        if float(np.sum(np.minimum(shared, middle) ** 2)) <= WORK_BUDGET:
            low = middle
        else:
            high = middle - 1
    return low


def _strongest(weights: np.ndarray, docs: np.ndarray, df: np.ndarray, links: int, doc_bits: int) -> np.ndarray:
    """Which postings (term-major, papers ascending) the product keeps: all of a term's if it
    is in at most `links` papers, else the `links` where its weight is largest (on a 2**-24
    grid; ties to the lower paper). Common terms are ranked a group at a time, with keys
    term | 2**24 - weight | paper: each term's links-th key in order (np.partition) is its bar."""
    keep = np.ones(len(weights), bool)
    firsts = np.cumsum(df) - df
    common = np.flatnonzero(df > links)
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
        bars = np.cumsum(lengths) - lengths + links - 1
        bars = np.partition(packed, bars)[bars]
        keep[at] = packed <= np.repeat(bars, lengths)
    return keep


def nearest(vectors: sp.csr_matrix, count: int) -> list[list[int]]:
    """For each row, the rows of the `count` largest positive dot products (not itself), largest
    first, equal ones (on the SCORE_STEP grid) by row number."""
    n = vectors.shape[0]
    transposed = vectors.T.tocsr()
    df = np.diff(transposed.indptr)
    rows = np.repeat(np.arange(n), np.diff(vectors.indptr))
    work = np.cumsum(np.bincount(rows, weights=df[vectors.indices], minlength=n))
    limit = min(MAX_BLOCK_ROWS, 1 << (32 - (n - 1).bit_length()))  # packed keys fit in 63 bits
    blocks, start = [], 0
    while start < n:
        stop = int(np.searchsorted(work, (work[start - 1] if start else 0) + BLOCK_WORK, side="right"))
        blocks.append((start, min(max(stop, start + 1), start + limit, n)))
        start = blocks[-1][1]
    found: list[list[int]] = []
    with ThreadPoolExecutor(_threads(len(blocks))) as pool:  # scipy and numpy let go of the GIL
        for part in pool.map(lambda block: _block_nearest(vectors, transposed, *block, count), blocks):
            found.extend(part)
    return found


def _threads(tasks: int) -> int:
    """Threads for `tasks` independent tasks (no result depends on it)."""
    return max(1, min(tasks, cpu_count(), 4))


def _block_nearest(vectors: sp.csr_matrix, transposed: sp.csr_matrix, start: int, stop: int,
                   count: int) -> list[list[int]]:
    """nearest() for rows start..stop-1: one sparse product, then one sort of packed keys.

    Rows can have thousands of candidates; before sorting, each row drops those below a bound
    of its count-th best: the (count + 1)-th best of a sample of its candidates (one of which
    may be the row itself), less a grid step so that nothing tied on the grid is lost."""
    n = vectors.shape[0]
    scores = vectors[start:stop] @ transposed
    indptr, data = scores.indptr.astype(np.int64), scores.data
    if not data.size:
        return [[] for _ in range(start, stop)]
    size = max(SAMPLE, 2 * (count + 1))
    sample = indptr[:-1, None] + np.arange(size)
    sample = np.where(sample < indptr[1:, None], data[np.minimum(sample, data.size - 1)], -1.0)
    bound = np.partition(sample, size - count - 1, axis=1)[:, size - count - 1] - SCORE_STEP
    at = np.flatnonzero(data >= np.repeat(bound, np.diff(indptr)))
    rows = np.searchsorted(indptr, at, side="right") - 1
    cols = scores.indices[at].astype(np.int64)
    grid = np.rint(data[at] / SCORE_STEP).astype(np.int64)
    keep = (cols != rows + start) & (grid > 0)
    rows, cols, grid = rows[keep], cols[keep], grid[keep]
    col_bits = max(1, (n - 1).bit_length())
    packed = (rows << (31 + col_bits)) | ((2**31 - 1 - grid) << col_bits) | cols
    packed.sort()
    per_row = np.bincount(rows, minlength=stop - start)
    take = np.minimum(per_row, count)
    firsts = np.repeat(np.cumsum(per_row) - per_row, take) + np.arange(take.sum()) - np.repeat(np.cumsum(take) - take, take)
    chosen = (packed[firsts] & ((1 << col_bits) - 1)).tolist()
    ends = np.cumsum(take).tolist()
    return [chosen[a:b] for a, b in zip([0] + ends[:-1], ends)]
