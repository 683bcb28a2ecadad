"""Related papers: for each paper, the papers whose title and abstract read most alike.

Papers are cut into segments in the order they first appeared (a new digest's papers join the
last segment), and each paper is a TF-IDF vector with the idf of its own segment
(similarity.py); two papers are compared by the dot product of their vectors, on the postings
their segments keep within a work budget of their own (the commonest words of a segment link
only the papers of it where they weigh most): WORK_INNER for two papers of one segment,
WORK_OUTER (smaller, so a subset of those postings) for papers of two segments. A site of under
2 * SEGMENT papers is one segment: plain TF-IDF cosine within WORK_INNER, as before segments.

Each paper's list is the best `count` of the best `count` it has in each segment, so what the
papers of two segments make of each other depends on those two segments alone: with a
`memory` of the previous build, a new digest costs one segment's vectors and one row of
segment blocks (its segment against every segment), not the whole archive. A cold build does
every block once: each segment's own block (up to WORK_INNER) makes most of its cost, which
so grows with the number of segments, until past ~60 of them the cross blocks (K^2 / 2, up to
WORK_OUTER each) take over (benchmarks/README.md, "Related papers: idf frozen per segment").

The result is a pure function of the set of papers, whatever the memory holds: every sum is
taken in an order fixed by the data (never by threads, input order or what was remembered),
scores are compared on a grid of 2**-30 so that last-bit differences cannot reorder near-ties,
and ties go to the smaller slug."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from operator import attrgetter
from typing import Protocol, Sequence

import numpy as np
import scipy.sparse as sp

from generator import similarity
from generator.catalog import Paper
from generator.similarity import SCORE_STEP, STOP_WORDS, Postings, best, top
from generator.workers import cpu_count

VERSION = "2"  # of what the memory holds: names carry it, so another version's are never read
SEGMENT = 4096  # papers per segment (a site's last segment has up to 2 * SEGMENT - 1)
# Multiply-adds allowed in the product of a segment with itself (similarity.links): the one
# budget of the whole archive before segments, so a one-segment site's lists are the same.
WORK_INNER = 30_000_000
# ... and in the product of each of two segments, for their block (whose work is at most the
# geometric mean of theirs): the 21 cross blocks of 30,000 papers cost less than one own block.
WORK_OUTER = 1_000_000
BLOCK_WORK = 1_000_000  # multiply-adds per row block: bounds each block's output (~12 MB)
MAX_BLOCK_ROWS = 4096


class Memory(Protocol):
    """What related_papers() remembers between builds: bytes by name. Names neither got nor
    put in a build may be forgotten after it."""

    def get(self, name: str) -> bytes | None: ...

    def put(self, name: str, data: bytes) -> None: ...


def related_papers(papers: Sequence[Paper], count: int = 5, memory: Memory | None = None) -> dict[str, tuple[str, ...]]:
    """Paper.key -> the keys of its up-to-`count` most similar papers, most similar first.

    A paper is never related to itself, nor to a paper it shares no counted word with (so a
    list may be short or empty). Equal scores (to ~1e-9) are ordered by slug. `memory` only
    saves work: the result is the same with any memory, or none."""
    ordered = sorted(papers, key=lambda paper: (paper.slug, paper.key))  # papers are numbered in this order
    keys = [paper.key for paper in ordered]
    if len(ordered) < 2 or count < 1:
        return {key: () for key in keys}
    first = first_order(ordered)
    members = [np.sort(first[a:b]) for a, b in segments(len(ordered))]
    prints = [fingerprint([ordered[number] for number in group.tolist()]) for group in members]
    store = _Store(memory if len(set(prints)) == len(prints) else None, prints, count)
    pairs = [(a, b) for a in range(len(members)) for b in range(a, len(members))]
    found = {pair: store.pair(pair, len(members[pair[0]]), len(members[pair[1]])) for pair in pairs}
    missing = [pair for pair, got in found.items() if got is None]
    inner, outer = _postings(ordered, members, store, {a for a, b in missing if a == b},
                             {s for a, b in missing if a != b for s in (a, b)})
    for pair, got in _blocks(inner, outer, [len(group) for group in members], missing, count).items():
        found[pair] = got
        store.put_pair(pair, got)
    chosen = _merge(members, found, count)
    return {key: tuple(map(keys.__getitem__, row)) for key, row in zip(keys, chosen)}


def first_order(ordered: Sequence[Paper]) -> np.ndarray:
    """The numbers of papers (numbered in slug order) in order of first appearance: by their
    first digest (dated ones by date, undated after them), their place in it, then slug; papers
    that appear nowhere after all the others, by slug. So a new digest's new papers come after
    every paper seen before, and those keep their places."""
    firsts = [paper.appearances[0] if paper.appearances else None for paper in ordered]
    kinds = np.array([2 if at is None else 1 if at.date is None else 0 for at in firsts], np.int64)
    days = np.array([at.date.toordinal() if at is not None and at.date else 0 for at in firsts], np.int64)
    names = [at.digest if at is not None else "" for at in firsts]
    code = {name: number for number, name in enumerate(sorted(set(names)))}
    digests = np.array([code[name] for name in names], np.int64)
    places = np.array([at.position if at is not None else 0 for at in firsts], np.int64)
    return np.lexsort((np.arange(len(ordered)), places, digests, days, kinds))


def segments(n: int) -> list[tuple[int, int]]:
    """Runs of SEGMENT papers; the last run shorter than SEGMENT joins the one before, so each
    holds SEGMENT to 2 * SEGMENT - 1 papers (a site of fewer is one segment)."""
    if n < 2 * SEGMENT:
        return [(0, n)]
    starts = list(range(0, (n // SEGMENT) * SEGMENT, SEGMENT))
    return list(zip(starts, starts[1:] + [n]))


def doc_bits() -> int:
    """Bits of a paper's number within a segment (the term ids are the hashes' other bits)."""
    return max(1, (2 * SEGMENT - 2).bit_length())


def formulation() -> str:
    """What, beyond its papers, a segment's postings and blocks depend on."""
    return (f"related {VERSION} segment={SEGMENT} inner={WORK_INNER} outer={WORK_OUTER} step={SCORE_STEP!r} "
            f"stop={sorted(STOP_WORDS)}")


def fingerprint(papers: Sequence[Paper]) -> str:
    """A segment's identity: its papers (key, slug, title, abstract, in order) and the formulation."""
    fields = list(map(attrgetter("key", "slug", "title", "abstract"), papers))
    digest = hashlib.sha256(formulation().encode())
    digest.update(np.array([len(field) for four in fields for field in four], np.int64).tobytes())
    for four in fields:  # (one string of all would be slower: a single non-ASCII letter widens it)
        digest.update("".join(four).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


# --- the vectors of each segment --------------------------------------------------------------------

def _postings(papers: list[Paper], members: list[np.ndarray], store: _Store, inner: set[int], outer: set[int]
              ) -> tuple[dict[int, Postings], dict[int, Postings]]:
    """The inner postings (WORK_INNER) of the `inner` segments, worked out, and the outer ones
    (WORK_OUTER) of the `outer` segments: remembered, or narrowed from the inner ones (and
    remembered). Only outer postings are remembered: a segment's inner ones serve only its own
    block, which is remembered too unless the segment changed (or the memory lost it). Every
    segment's are asked of the memory, so that it keeps them for the next build."""
    assert WORK_OUTER <= WORK_INNER, "the outer postings are narrowed from the inner ones"
    found = {s: store.segment(s, len(members[s]), s in outer) for s in range(len(members))}
    todo = sorted(inner | {s for s in outer if found[s] is None})
    bits = doc_bits()
    groups = {s: [papers[number] for number in members[s].tolist()] for s in todo}
    chunks = [(s, a, b) for s in todo for a, b in similarity.chunk_bounds(groups[s])]
    with ThreadPoolExecutor(_threads(len(chunks))) as pool:
        parts = list(pool.map(lambda chunk: similarity.chunk_terms(groups[chunk[0]][chunk[1]:chunk[2]], chunk[1], bits),
                              chunks))

        def vectors(s: int) -> tuple[Postings, Postings | None]:
            mine = [part for (owner, _, _), part in zip(chunks, parts) if owner == s]
            made = similarity.segment_postings(len(groups[s]), *similarity.term_counts(mine, bits), WORK_INNER)
            return made, similarity.narrowed(made, WORK_OUTER) if s in outer and found[s] is None else None

        made = dict(zip(todo, pool.map(vectors, todo)))
    for s, (_, narrow) in made.items():
        if narrow is not None:
            found[s] = narrow
            store.put_segment(s, narrow)
    return {s: made[s][0] for s in inner}, {s: found[s] for s in outer}


# --- blocks: the papers of segment a against those of segment b -------------------------------------

Block = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]  # a's best in b; b's best in a


def _blocks(inner: dict[int, Postings], outer: dict[int, Postings], sizes: list[int], pairs: list[tuple[int, int]],
            count: int) -> dict[tuple[int, int], Block]:
    """For each pair (a, b), a <= b: the best `count` of b for each paper of a, and (a != b)
    the best `count` of a for each paper of b, as (numbers within the segment, -1 for none;
    grid scores), both from one product of one's rows and the other's columns, in row blocks:
    on the inner postings for a == b, the outer ones else. (Either way round gives the same
    scores: the same products, summed in the order of the terms. The rows are the segment in
    more pairs, so that a new digest transposes one.)"""
    if not pairs:
        return {}
    uses = Counter(s for pair in pairs for s in pair if pair[0] != pair[1])
    turned = {(a, b): (b, a) if uses[b] > uses[a] else (a, b) for a, b in pairs}
    # term x paper matrices: (s, True) of s's inner postings, (s, False) of its outer ones
    columns = {(s, True): _columns({s: inner[s]}, sizes)[s] for s in inner}
    columns.update({(s, False): matrix for s, matrix in _columns(outer, sizes).items()} if outer else {})
    rows = {(a, a == b): columns[a, a == b].T.tocsr() for a, b in turned.values()}  # (terms ascending in a paper)
    tasks = [(a, b, start, stop) for a, b in turned.values()
             for start, stop in _row_blocks(rows[a, a == b], columns[b, a == b])]

    def run(task: tuple[int, int, int, int]) -> tuple[np.ndarray, ...]:
        a, b, start, stop = task
        scores = rows[a, a == b][start:stop] @ columns[b, a == b]
        if a == b:
            return top(scores, count, start)
        return top(scores, count) + top(scores.T.tocsr(), count)

    with ThreadPoolExecutor(_threads(len(tasks))) as pool:
        done: dict[tuple[int, int], list] = {}
        for (a, b, start, _), part in zip(tasks, pool.map(run, tasks)):
            done.setdefault((a, b), []).append((start, part))
    found: dict[tuple[int, int], Block] = {}
    for pair, (a, b) in turned.items():
        mine = done[a, b]
        numbers = np.concatenate([part[0] for _, part in mine])
        grid = np.concatenate([part[1] for _, part in mine])
        if a == b:
            found[pair] = (numbers, grid, None, None)
            continue
        theirs = np.concatenate([np.where(part[2] >= 0, part[2] + start, -1) for start, part in mine], axis=1)
        theirs, their_grid = best(np.concatenate([part[3] for _, part in mine], axis=1), theirs, count)
        found[pair] = (numbers, grid, theirs, their_grid) if (a, b) == pair else (theirs, their_grid, numbers, grid)
    return found


def _columns(postings: dict[int, Postings], sizes: list[int]) -> dict[int, sp.csr_matrix]:
    """Each segment's vectors as a term x paper matrix over the terms kept in two papers or more
    (only those can link two papers: leaving the others out changes no score)."""
    terms = np.concatenate([postings[s].terms for s in sorted(postings)])
    order = np.argsort(terms, kind="stable")
    terms = terms[order]
    starts = np.flatnonzero(np.concatenate(([True], terms[1:] != terms[:-1])))
    kept = np.concatenate([np.diff(postings[s].indptr) for s in sorted(postings)])[order]
    vocabulary = terms[starts][np.add.reduceat(kept, starts) >= 2] if terms.size else terms
    columns = {}
    for s, found in postings.items():
        at = np.minimum(np.searchsorted(vocabulary, found.terms), max(len(vocabulary) - 1, 0))
        linking = vocabulary[at] == found.terms if vocabulary.size else np.zeros(len(found.terms), bool)
        lengths = np.diff(found.indptr)
        indptr = np.zeros(len(vocabulary) + 1, np.int64)
        indptr[at[linking] + 1] = lengths[linking]
        keep = np.repeat(linking, lengths)
        columns[s] = sp.csr_matrix((found.weights[keep], found.docs[keep], np.cumsum(indptr)),
                                   shape=(len(vocabulary), sizes[s]))
    return columns


def _row_blocks(rows: sp.csr_matrix, columns: sp.csr_matrix) -> list[tuple[int, int]]:
    """rows cut into runs of about BLOCK_WORK multiply-adds against `columns` (and few enough
    rows for _top's packed keys)."""
    n = rows.shape[0]
    limit = min(MAX_BLOCK_ROWS, 1 << (32 - max(1, (columns.shape[1] - 1).bit_length())))
    df = np.diff(columns.indptr)
    if n <= limit and float(np.dot(np.bincount(rows.indices, minlength=len(df)), df)) <= BLOCK_WORK:
        return [(0, n)]
    work = np.cumsum(np.bincount(np.repeat(np.arange(n), np.diff(rows.indptr)), weights=df[rows.indices], minlength=n))
    blocks, start = [], 0
    while start < n:
        stop = int(np.searchsorted(work, (work[start - 1] if start else 0) + BLOCK_WORK, side="right"))
        blocks.append((start, min(max(stop, start + 1), start + limit, n)))
        start = blocks[-1][1]
    return blocks


def _merge(members: list[np.ndarray], found: dict[tuple[int, int], Block], count: int) -> list[list[int]]:
    """Each paper's best `count` over its best in every segment (ties: smaller slug), by number."""
    n, parts = sum(map(len, members)), len(members)
    grid = np.zeros((n, parts * count), np.int64)
    numbers = np.full((n, parts * count), -1, np.int64)
    for (a, b), (ours, our_grid, theirs, their_grid) in found.items():
        for mine, other, local, steps in ((a, b, ours, our_grid), (b, a, theirs, their_grid)):
            if local is not None:
                at = members[mine][:, None], other * count + np.arange(count)
                numbers[at] = np.where(local >= 0, members[other][np.maximum(local, 0)], -1)
                grid[at] = steps
    chosen, _ = best(grid, numbers, count)
    lengths = np.count_nonzero(chosen >= 0, axis=1).tolist()
    return [row[:length] for row, length in zip(chosen.tolist(), lengths)]


def _threads(tasks: int) -> int:
    """Threads for `tasks` independent tasks (no result depends on it)."""
    return max(1, min(tasks, cpu_count(), 4))


# --- memory: each segment's outer postings, each pair's blocks ---------------------------------------------

class _Store:
    """The names and formats of what related_papers() remembers. Each item is checked (a CRC
    of its name and bytes, and its shape) and anything unreadable is a miss."""

    def __init__(self, memory: Memory | None, prints: list[str], count: int) -> None:
        self.memory, self.prints, self.count = memory, prints, count

    def segment(self, s: int, size: int, wanted: bool) -> Postings | None:
        arrays = self._get(f"related-{VERSION}-seg-{self.prints[s]}", 1, 4)
        if arrays is None or not wanted:
            return None
        terms, indptr, docs, weights = arrays
        if [array.dtype.kind for array in arrays] != ["u", "i", "u" if docs.dtype.itemsize == 2 else "i", "f"] or not (
                indptr.size == terms.size + 1 and indptr[0] == 0 and indptr[-1] == docs.size == weights.size
                and np.all(np.diff(indptr) > 0) and np.all(terms[1:] > terms[:-1]) and terms.dtype == np.uint64
                and (docs.size == 0 or (docs.min() >= 0 and docs.max() < size)) and np.all(np.isfinite(weights))):
            return None
        return Postings(terms, indptr.astype(np.int64), docs.astype(np.int32), weights.astype(np.float64))

    def put_segment(self, s: int, postings: Postings) -> None:
        small = postings.docs.astype(np.uint16) if 2 * SEGMENT <= 2**16 else postings.docs
        self._put(f"related-{VERSION}-seg-{self.prints[s]}",
                  [postings.terms, postings.indptr.astype(np.int32), small, postings.weights])

    def pair(self, pair: tuple[int, int], rows: int, cols: int) -> Block | None:
        a, b = pair
        arrays = self._get(self._pair_name(pair), 2, 2 if a == b else 4)
        if arrays is None:
            return None
        for index, (mine, others) in zip((0, 2), ((rows, cols), (cols, rows))[:len(arrays) // 2]):
            numbers, grid = arrays[index], arrays[index + 1]
            if numbers.dtype.kind != "i" or grid.dtype.kind != "i" or numbers.shape != (mine, self.count) or grid.shape != numbers.shape or \
                    not np.all((numbers >= -1) & (numbers < others) & ((numbers >= 0) == (grid > 0))):
                return None
        if a == b and np.any(arrays[0] == np.arange(rows)[:, None]):
            return None
        blocks = [array.astype(np.int64) for array in arrays]
        return (blocks[0], blocks[1], None, None) if a == b else tuple(blocks)

    def put_pair(self, pair: tuple[int, int], block: Block) -> None:
        self._put(self._pair_name(pair), [part.astype(np.int16 if SEGMENT < 2**14 and index % 2 == 0 else np.int32)
                                          for index, part in enumerate(block) if part is not None])

    def _pair_name(self, pair: tuple[int, int]) -> str:
        return f"related-{VERSION}-pair-{self.prints[pair[0]]}-{self.prints[pair[1]]}-{self.count}"

    def _get(self, name: str, ndim: int, parts: int) -> list[np.ndarray] | None:
        if self.memory is None:
            return None
        data = self.memory.get(name)
        arrays = unpack(name, bytes(data)) if isinstance(data, (bytes, bytearray, memoryview)) else None
        return arrays if arrays is not None and len(arrays) == parts and all(a.ndim == ndim for a in arrays) else None

    def _put(self, name: str, arrays: list[np.ndarray]) -> None:
        if self.memory is not None:
            self.memory.put(name, pack(name, arrays))


MAGIC = b"PDRL"
DTYPES = frozenset({"<u8", "<i8", "<i4", "<i2", "<u2", "<f8"})


def pack(name: str, arrays: list[np.ndarray]) -> bytes:
    """Arrays as bytes: MAGIC, a JSON header of dtypes and shapes, the data, a CRC of it all."""
    header = json.dumps([[array.dtype.newbyteorder("<").str, list(array.shape)] for array in arrays]).encode()
    body = MAGIC + len(header).to_bytes(4, "little") + header + b"".join(
        np.ascontiguousarray(array, array.dtype.newbyteorder("<")).tobytes() for array in arrays)
    return body + zlib.crc32(body, zlib.crc32(name.encode())).to_bytes(4, "little")


def unpack(name: str, data: bytes) -> list[np.ndarray] | None:
    """pack()'s arrays (read-only views of `data`), or None if the bytes are not what pack()
    wrote under this name."""
    try:
        if data[:4] != MAGIC or zlib.crc32(data[:-4], zlib.crc32(name.encode())).to_bytes(4, "little") != data[-4:]:
            return None
        size = int.from_bytes(data[4:8], "little")
        header, at, arrays = json.loads(data[8:8 + size]), 8 + size, []
        if not isinstance(header, list):
            return None
        for dtype, shape in header:
            if dtype not in DTYPES or not all(isinstance(side, int) and side >= 0 for side in shape):
                return None
            length = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            arrays.append(np.frombuffer(data, dtype, length // np.dtype(dtype).itemsize, at).reshape(shape))
            at += length
        return arrays if at == len(data) - 4 else None
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        return None
