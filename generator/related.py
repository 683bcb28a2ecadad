"""Related papers: for each paper, the papers whose title and abstract read most alike.

Papers are numbered in the order they first appeared (a new digest's papers come last) and cut
in that order into segments. Each paper is a TF-IDF vector with the statistics of its
segment's base, the segment's first SEGMENT papers (similarity.py); two papers are compared by
the dot product of their vectors, on the postings their segments keep within a work budget of
their own (the commonest words of a base link only the papers where they weigh most):
WORK_INNER for two papers of one segment, WORK_OUTER (smaller, so a subset of those postings)
for papers of two segments. A site of at most SEGMENT papers is one segment, and its own base:
plain TF-IDF cosine within WORK_INNER, as before segments.

Each paper's list is the best `count` of the best `count` it has in each segment, so what the
papers of two segments make of each other depends on those two segments alone; and since a
segment's base fixes its statistics, a paper appended to it changes no score worked out
before. With a `memory` of the previous build (relatedmemory.py), a new digest costs one
segment's vectors and the products of its new papers' rows with every segment: the blocks
found cover the papers before them, and are extended by the new rows and columns only. A cold
build does every block once: each segment's own block (up to WORK_INNER) makes most of its
cost, which so grows with the number of segments, until past ~60 of them the cross blocks
(K^2 / 2, up to WORK_OUTER each) take over (benchmarks/README.md, "Related papers").

The result is a pure function of the set of papers, whatever the memory holds: every sum is
taken in an order fixed by the data (never by threads, input order or what was remembered),
scores are compared on a grid of 2**-30 so that last-bit differences cannot reorder near-ties,
and ties go to the paper that appeared first."""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Callable, Iterator, NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp

from generator import similarity
from generator.catalog import Paper, text_hash
from generator.relatedmemory import Block, Lists, Memory, Remembered, Store
from generator.similarity import SCORE_STEP, STOP_WORDS, Postings, best, top
from generator.workers import cpu_count

VERSION = "3"  # of what the memory holds: names carry it, so another version's are never read
SEGMENT = 4096  # papers per segment, and per base (a site's last segment has up to 2 * SEGMENT - 1)
# Multiply-adds allowed in the product of a segment's base with itself (similarity.links): the
# one budget of the whole archive before segments, so a one-segment site's lists are the same.
WORK_INNER = 30_000_000
# ... and in the product of each of two segments, for their block (whose work is at most the
# geometric mean of theirs): the 21 cross blocks of 30,000 papers cost less than one own block.
WORK_OUTER = 1_000_000
BLOCK_WORK = 1_000_000  # multiply-adds per row block: bounds each block's output (~12 MB)
MAX_BLOCK_ROWS = 4096


def related_papers(papers: Sequence[Paper], count: int = 5, memory: Memory | None = None) -> dict[str, tuple[str, ...]]:
    """Paper.key -> the keys of its up-to-`count` most similar papers, most similar first.

    A paper is never related to itself, nor to a paper it shares no counted word with (so a
    list may be short or empty). Equal scores (to ~1e-9) are ordered by first appearance.
    `memory` only saves work: the result is the same with any memory, or none."""
    by_slug = sorted(papers, key=lambda paper: (paper.slug, paper.key))
    ordered = [by_slug[number] for number in first_order(by_slug).tolist()]  # papers are numbered in this order
    keys = [paper.key for paper in ordered]
    if len(ordered) < 2 or count < 1:
        return {key: () for key in keys}
    runs = segments(len(ordered))
    sizes = [b - a for a, b in runs]

    @cache
    def prefix(s: int, n: int) -> str:
        return fingerprint(ordered[runs[s][0]:runs[s][0] + n])

    bases = [prefix(s, min(size, SEGMENT)) for s, size in enumerate(sizes)]
    store = Store(memory if len(set(bases)) == len(bases) else None, [prefix(s, size) for s, size in enumerate(sizes)],
                  bases, prefix, count, VERSION)
    lists = [store.lists(s, sizes) for s in range(len(runs))]

    def needed(s: int, b: int) -> bool:  # does segment s's merged list need its block with b?
        found = lists[s]
        return found is None or len(found.grid) < sizes[s] or found.covered[b] < sizes[b]

    pairs = [(a, b) for a in range(len(runs)) for b in range(a, len(runs))]
    wanted = [pair for pair in pairs if needed(*pair) or needed(*pair[::-1])]
    for pair in sorted(set(pairs) - set(wanted)):
        store.keep_pair(pair)  # (what it found is in both segments' lists already)
    merged = Merged(runs, lists, count)
    todo: dict[tuple[int, int], Remembered | None] = {}
    for pair in wanted:  # a whole block the memory kept goes into the lists at once, and is let go
        got = store.pair(pair, (sizes[pair[0]], sizes[pair[1]]))
        if got is not None and got.rows == (sizes[pair[0]], sizes[pair[1]]):
            merged.add(pair, got.block)
        else:
            todo[pair] = got
    inner, outer = _postings(ordered, runs, store, {a for a, b in todo if a == b},
                             {s for a, b in todo if a != b for s in (a, b)})
    for pair, block in _blocks(inner, outer, sizes, todo, count):
        store.put_pair(pair, block)
        merged.add(pair, block)
    chosen = merged.lists(store)
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
    """A segment's identity: its papers (key, slug and the hash of their text the catalog made:
    catalog.text_hash, in order) and the formulation."""
    fields = [(paper.key, paper.slug, text_hash(paper)) for paper in papers]
    digest = hashlib.sha256(formulation().encode())
    digest.update(np.array([len(field) for three in fields for field in three], np.int64).tobytes())
    digest.update("".join(["".join(three) for three in fields]).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


# --- the vectors of each segment --------------------------------------------------------------------

def _postings(papers: list[Paper], runs: list[tuple[int, int]], store: Store, inner: set[int], outer: set[int]
              ) -> tuple[dict[int, Postings], dict[int, Postings]]:
    """The inner postings (WORK_INNER) of the `inner` segments, worked out, and the outer ones
    (WORK_OUTER) of the `outer` segments: remembered, or narrowed from the inner ones (and
    remembered). Only outer postings are remembered: a segment's inner ones serve only its own
    block, which is remembered too unless the segment changed (or the memory lost it). Every
    segment's are asked of the memory, so that it keeps them for the next build."""
    assert WORK_OUTER <= WORK_INNER, "the outer postings are narrowed from the inner ones"
    found = {s: store.segment(s, b - a, s in outer) for s, (a, b) in enumerate(runs)}
    todo = sorted(inner | {s for s in outer if found[s] is None})
    bits = doc_bits()
    made: dict[int, tuple[Postings, Postings | None]] = {}
    threads = _threads(4)  # (a segment has a chunk or two of text: its own threads tokenise them)
    with ThreadPoolExecutor(threads) as pool:
        for at in range(0, len(todo), threads):  # a few segments at a time: their words are held until counted
            group = todo[at:at + threads]
            texts = {s: papers[runs[s][0]:runs[s][1]] for s in group}
            chunks = [(s, a, b) for s in group for a, b in similarity.chunk_bounds(texts[s])]
            parts = list(pool.map(lambda chunk: similarity.chunk_terms(texts[chunk[0]][chunk[1]:chunk[2]], chunk[1], bits),
                                  chunks))

            def vectors(s: int) -> tuple[Postings, Postings | None]:
                mine = [part for (owner, _, _), part in zip(chunks, parts) if owner == s]
                size, base = len(texts[s]), min(len(texts[s]), SEGMENT)
                made = similarity.segment_postings(size, base, *similarity.term_counts(mine, bits), WORK_INNER)
                return made, similarity.narrowed(made, base, WORK_OUTER) if s in outer and found[s] is None else None

            made.update(zip(group, pool.map(vectors, group)))  # (the next group's words replace these)
    for s, (_, narrow) in made.items():
        if narrow is not None:
            found[s] = narrow
            store.put_segment(s, narrow)
    return {s: made[s][0] for s in inner}, {s: found[s] for s in outer}


# --- blocks: the papers of segment a against those of segment b -------------------------------------

class Task(NamedTuple):
    """One product: rows start:stop of segment `rows` against every column of segment `cols`
    (of the first `upto` of them, if not None), for pair `pair`."""

    pair: tuple[int, int]
    rows: int
    cols: int
    start: int
    stop: int
    upto: int | None


def _blocks(inner: dict[int, Postings], outer: dict[int, Postings], sizes: list[int],
            todo: dict[tuple[int, int], Remembered | None], count: int) -> Iterator[tuple[tuple[int, int], Block]]:
    """Each pair (a, b), a <= b, of `todo`, made whole, as soon as its products are in: what a block found covers (the first ra
    of a's papers against the first rb of b's; none if nothing was found) is kept, and the rest
    is worked out as products whose rows are the new papers:
    - a's new rows against all of b (for a == b: all of a, never itself);
    - b's new rows against a's first ra (a != b: the rest of the pairs).
    Each product gives its rows their best in its columns, and its columns their best in its
    rows; every paper of a and b then takes the best `count` of what it got. On the inner
    postings for a == b, the outer ones else. (Either way round gives the same scores: the same
    products, summed in the order of the terms.)"""
    if not todo:
        return
    covered = {pair: got.rows if got is not None else (0, 0) for pair, got in todo.items()}
    columns = {(s, True): _columns({s: inner[s]}, sizes)[s] for s in inner}
    columns.update({(s, False): matrix for s, matrix in _columns(outer, sizes).items()} if outer else {})
    wanted = []
    for (a, b), (ra, rb) in covered.items():
        wanted.append(Task((a, b), a, b, ra, sizes[a], None))
        if a != b and ra > 0:
            wanted.append(Task((a, b), b, a, rb, sizes[b], ra))
    rows = {key: columns[key].T.tocsr()  # (terms ascending in a paper)
            for key in {(task.rows, task.pair[0] == task.pair[1]) for task in wanted if task.start < task.stop}}
    tasks = [task._replace(start=task.start + start, stop=task.start + stop) for task in wanted if task.start < task.stop
             for start, stop in _row_blocks(rows[task.rows, task.pair[0] == task.pair[1]][task.start:task.stop],
                                            columns[task.cols, task.pair[0] == task.pair[1]])]

    def run(task: Task) -> tuple[tuple[int, int, np.ndarray, np.ndarray], ...]:
        """(side, first row, numbers, grid) of what the product gives: side 0 is a's lists."""
        own = task.pair[0] == task.pair[1]
        scores = rows[task.rows, own][task.start:task.stop] @ columns[task.cols, own]
        if task.upto is not None:
            scores = scores[:, :task.upto]
        side = 0 if task.rows == task.pair[0] else 1
        mine = (side, task.start, *top(scores, count, task.start if own else None))
        old = covered[task.pair][0] if own else scores.shape[1]  # the columns to give their best in these rows
        if old == 0:
            return (mine,)
        numbers, grid = top(scores[:, :old].T.tocsr(), count)
        return mine, (1 - side if not own else 0, 0, np.where(numbers >= 0, numbers + task.start, -1), grid)

    parts: dict[tuple[tuple[int, int], int], list] = defaultdict(list)
    for pair, got in todo.items():
        if got is not None:
            parts[pair, 0].append((0, got.block.ours, got.block.our_grid))
            if pair[0] != pair[1]:
                parts[pair, 1].append((0, got.block.theirs, got.block.their_grid))
    def gather(pair: tuple[int, int]) -> tuple[tuple[int, int], Block]:  # (the candidates go)
        a, b = pair
        mine = _gathered(parts.pop((pair, 0), []), sizes[a], count)
        theirs = _gathered(parts.pop((pair, 1), []), sizes[b], count) if a != b else (None, None)
        return pair, Block(*mine, *theirs)

    threads = _threads(len(tasks))
    made_pairs = set()
    with ThreadPoolExecutor(threads) as pool:
        for at, made in enumerate(_in_order(pool, run, tasks, 4 * threads)):
            for side, first, numbers, grid in made:
                parts[tasks[at].pair, side].append((first, numbers, grid))
            if at + 1 == len(tasks) or tasks[at + 1].pair != tasks[at].pair:
                made_pairs.add(tasks[at].pair)
                yield gather(tasks[at].pair)
    for pair in sorted(todo.keys() - made_pairs):  # (nothing left to multiply: what was found is all)
        yield gather(pair)


def _in_order(pool: ThreadPoolExecutor, function: Callable, items: list, ahead: int) -> Iterator:
    """pool.map(function, items), with at most `ahead` items started and not yet taken
    (pool.map starts every item at once, and would hold all of their results)."""
    window = deque(pool.submit(function, item) for item in items[:ahead])
    for item in items[len(window):]:
        yield window.popleft().result()
        window.append(pool.submit(function, item))
    while window:
        yield window.popleft().result()


def _gathered(parts: list[tuple[int, np.ndarray, np.ndarray]], n: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The best `count` of n rows' candidates, from parts (first row, numbers, grid) of rows.
    Parts side by side take `count` columns each; parts of rows below those of a column's last
    part share its columns (a product's row blocks, in turn, take one)."""
    slots, ends = [], []  # each part's columns, and where each column's rows end
    for first, found, _ in parts:
        slot = next((at for at, end in enumerate(ends) if end <= first), len(ends))
        ends[slot:slot + 1] = [first + len(found)]
        slots.append(slot)
    numbers = np.full((n, count * max(1, len(ends))), -1, np.int64)
    grid = np.zeros(numbers.shape, np.int64)
    for slot, (first, found, steps) in zip(slots, parts):
        numbers[first:first + len(found), slot * count:(slot + 1) * count] = found
        grid[first:first + len(found), slot * count:(slot + 1) * count] = steps
    numbers, grid = best(grid, numbers, count)
    return numbers.astype(np.int32), grid.astype(np.int32)  # (numbers < 2**14, grid < 2**31: halves what is held)


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


class Merged:
    """Each segment's best `count` over its best in every segment (ties: the smaller number),
    with each block folded in as it comes and let go (a cold build's blocks are ~1 GB at
    300,000 papers). A segment's remembered lists are kept where whole; else they are their
    papers' candidates found before (among the papers then covered), and the blocks' among the
    papers since, and every block's for the rest: the same best, since no score worked out
    before has changed, and candidates taken in turn give the best of all (each has its own key)."""

    def __init__(self, runs: list[tuple[int, int]], lists: list[Lists | None], count: int) -> None:
        self.runs, self.found, self.count = runs, lists, count
        self.starts = np.array([a for a, _ in runs] + [runs[-1][1]], np.int64)
        self.best: list[tuple[np.ndarray, np.ndarray] | None] = []
        for found, (first, last) in zip(lists, runs):  # (lists of fewer papers than the segment has now: none for the rest)
            if found is None:
                self.best.append(None)
                continue
            numbers, grid = np.full((last - first, count), -1, np.int64), np.zeros((last - first, count), np.int64)
            numbers[:len(found.grid)] = np.where(found.segments >= 0, self.starts[np.maximum(found.segments, 0)] + found.numbers, -1)
            grid[:len(found.grid)] = found.grid
            self.best.append((numbers, grid))
        self.folded = [False] * len(runs)

    def needs(self, mine: int, other: int) -> bool:
        """Does segment `mine` take candidates from its block with `other`?"""
        found, (first, last), (start, stop) = self.found[mine], self.runs[mine], self.runs[other]
        return not (found is not None and len(found.grid) == last - first and found.covered[other] == stop - start)

    def add(self, pair: tuple[int, int], block: Block) -> None:
        a, b = pair
        if self.needs(a, b):
            self.fold(a, b, block.ours, block.our_grid)
        if a != b and self.needs(b, a):
            self.fold(b, a, block.theirs, block.their_grid)

    def fold(self, mine: int, other: int, ours: np.ndarray, steps: np.ndarray) -> None:
        found = self.found[mine]
        old = len(found.grid) if found is not None else 0
        ours = ours.astype(np.int64)  # (a remembered block's are int16: too narrow for a paper's number past 32,767)
        fresh = ours >= (found.covered[other] if found is not None else 0)
        fresh[old:] = ours[old:] >= 0
        numbers, grid = np.where(fresh, self.runs[other][0] + ours, -1), np.where(fresh, steps, 0)
        held = self.best[mine]
        if held is not None:
            numbers, grid = np.concatenate((held[0], numbers), axis=1), np.concatenate((held[1], grid), axis=1)
        self.best[mine] = best(grid, numbers, self.count)
        self.folded[mine] = True

    def lists(self, store: Store) -> list[list[int]]:
        """Each paper's list, by number; each segment's lists that changed are remembered."""
        merged: list[list[int]] = []
        for mine, (first, last) in enumerate(self.runs):
            numbers, grid = self.best[mine] if self.best[mine] is not None else \
                (np.full((last - first, self.count), -1, np.int64), np.zeros((last - first, self.count), np.int64))
            chosen, steps = _gathered([(0, numbers, grid)], last - first, self.count)
            if self.found[mine] is None or self.folded[mine]:
                segment = np.searchsorted(self.starts, chosen, side="right") - 1
                store.put_lists(mine, Lists(np.where(chosen >= 0, segment, -1),
                                            np.where(chosen >= 0, chosen - self.starts[segment], -1), steps,
                                            tuple(stop - start for start, stop in self.runs)))
            lengths = np.count_nonzero(chosen >= 0, axis=1).tolist()
            merged += [row[:length] for row, length in zip(chosen.tolist(), lengths)]
        return merged


def _threads(tasks: int) -> int:
    """Threads for `tasks` independent tasks (no result depends on it)."""
    return max(1, min(tasks, cpu_count(), 4))
