"""What related.py remembers between builds, and how: each segment's outer postings (under the
fingerprint of all its papers), each pair of segments' block (under the fingerprints of the
two bases, with how many papers of each it covers) and each segment's merged lists (under its
base, with how many papers of every segment they were worked out from), checked on the way in.

Blocks and lists are named by bases, not by all their papers, because a segment's base fixes
every statistic its vectors use: a paper appended to a segment changes no score already worked
out. So what a build finds for a grown segment is still right for the papers it covers (their
fingerprint says whether they are the same), and only the new papers' rows and columns are left
to do; a block whose papers the lists on both sides cover is not even read, only kept."""

from __future__ import annotations

import json
import zlib
from typing import Callable, NamedTuple, Protocol

import numpy as np

from generator.similarity import Postings


class Memory(Protocol):
    """Bytes by name, kept from build to build. Names neither got, kept nor put in a build may
    be forgotten after it."""

    def get(self, name: str) -> bytes | None: ...

    def put(self, name: str, data: bytes) -> None: ...

    def keep(self, name: str) -> None: ...


class Block(NamedTuple):
    """What segments a and b (a <= b) make of each other: for each of a's papers its best
    `count` of b's (numbers within b, -1 for none; scores on the grid, 0 there), and, when
    a != b, for each of b's papers its best of a's (None when a == b)."""

    ours: np.ndarray
    our_grid: np.ndarray
    theirs: np.ndarray | None
    their_grid: np.ndarray | None


class Remembered(NamedTuple):
    """A block found in the memory, and how many papers of a and of b it covers (the first
    ones of each: a later build may have more)."""

    block: Block
    rows: tuple[int, int]


class Lists(NamedTuple):
    """A segment's merged lists as a build left them: for each of its first `len(grid)` papers,
    its best `count` of the archive as (segment, number within it; -1 for none) and grid
    scores, worked out from the first `covered[b]` papers of each segment b."""

    segments: np.ndarray
    numbers: np.ndarray
    grid: np.ndarray
    covered: tuple[int, ...]


class Store:
    """The names and formats of what related_papers() remembers. Each item is checked (a CRC
    of its name and bytes, its shape, and that it covers papers the segments still begin with)
    and anything unreadable is a miss.

    `prints[s]` names segment s's papers, `bases[s]` its base; `prefix(s, n)` is the
    fingerprint of segment s's first n papers (prefix(s, len) == prints[s])."""

    def __init__(self, memory: Memory | None, prints: list[str], bases: list[str], prefix: Callable[[int, int], str],
                 count: int, version: str) -> None:
        self.memory, self.prints, self.bases, self.prefix = memory, prints, bases, prefix
        self.count, self.version = count, version

    def segment(self, s: int, size: int, wanted: bool) -> Postings | None:
        """Segment s's outer postings if `wanted`; else they are kept unread for a later build."""
        if not wanted:
            if self.memory is not None:
                self.memory.keep(f"related-{self.version}-seg-{self.prints[s]}")
            return None
        arrays = self._get(f"related-{self.version}-seg-{self.prints[s]}", [1, 1, 1, 1])
        if arrays is None:
            return None
        terms, indptr, docs, weights = arrays
        if [array.dtype.kind for array in arrays] != ["u", "i", "u" if docs.dtype.itemsize == 2 else "i", "f"] or not (
                indptr.size == terms.size + 1 and indptr[0] == 0 and indptr[-1] == docs.size == weights.size
                and np.all(np.diff(indptr) > 0) and np.all(terms[1:] > terms[:-1]) and terms.dtype == np.uint64
                and (docs.size == 0 or (docs.min() >= 0 and docs.max() < size)) and np.all(np.isfinite(weights))):
            return None
        return Postings(terms, indptr.astype(np.int64), docs.astype(np.int32), weights.astype(np.float64))

    def put_segment(self, s: int, postings: Postings) -> None:
        small = postings.docs.astype(np.uint16) if postings.docs.size and postings.docs.max() < 2**16 else postings.docs
        self._put(f"related-{self.version}-seg-{self.prints[s]}",
                  [postings.terms, postings.indptr.astype(np.int32), small, postings.weights])

    def pair(self, pair: tuple[int, int], sizes: tuple[int, int]) -> Remembered | None:
        """Pair (a, b)'s block, if it covers only papers segments a and b still begin with."""
        a, b = pair
        arrays = self._get(self._pair_name(pair), [1] + [2] * (2 if a == b else 4))
        if arrays is None or arrays[0].dtype != np.uint64 or arrays[0].shape != (6,):
            return None
        rows, cols = (int(side) for side in arrays[0][:2])
        if rows > sizes[0] or cols > sizes[1] or (a == b and rows != cols) or \
                arrays[0][2:].tobytes() != _print_bytes(self.prefix(a, rows)) + _print_bytes(self.prefix(b, cols)):
            return None
        for index, (mine, others) in zip((1, 3), ((rows, cols), (cols, rows))):
            if index >= len(arrays):
                break
            numbers, grid = arrays[index], arrays[index + 1]
            if numbers.dtype.kind != "i" or grid.dtype.kind != "i" or numbers.shape != (mine, self.count) or \
                    grid.shape != numbers.shape or \
                    not np.all((numbers >= -1) & (numbers < others) & ((numbers >= 0) == (grid > 0))):
                return None
        if a == b and np.any(arrays[1] == np.arange(rows)[:, None]):
            return None
        blocks = list(arrays[1:])  # (as read: int16 and int32 views of the bytes, which is all they hold)
        block = Block(blocks[0], blocks[1], None, None) if a == b else Block(*blocks)
        return Remembered(block, (rows, cols))

    def put_pair(self, pair: tuple[int, int], block: Block) -> None:
        a, b = pair
        rows, cols = len(block.ours), len(block.ours) if block.theirs is None else len(block.theirs)
        meta = np.frombuffer(np.array([rows, cols], np.uint64).tobytes() + _print_bytes(self.prefix(a, rows))
                             + _print_bytes(self.prefix(b, cols)), np.uint64)
        small = max(rows, cols) < 2**15
        self._put(self._pair_name(pair), [meta] + [part.astype(np.int16 if small and index % 2 == 0 else np.int32)
                                                   for index, part in enumerate(block) if part is not None])

    def keep_pair(self, pair: tuple[int, int]) -> None:
        """Keep pair's block (if there is one) for a later build, without reading it."""
        if self.memory is not None:
            self.memory.keep(self._pair_name(pair))

    def lists(self, s: int, sizes: list[int]) -> Lists | None:
        """Segment s's merged lists, if they cover only papers the segments still begin with
        (a segment the lists never saw counts as covered by none of its papers)."""
        arrays = self._get(self._lists_name(s), [1, 1, 2, 2, 2])
        if arrays is None:
            return None
        meta, prints, segments, numbers, grid = arrays
        if meta.dtype != np.uint64 or prints.dtype != np.uint64 or meta.size < 1 or meta.size - 1 > len(sizes) or \
                prints.size != 2 * meta.size:
            return None
        rows, covered = int(meta[0]), [int(side) for side in meta[1:]]
        covered += [0] * (len(sizes) - len(covered))
        # (A segment they saw part of had its base then, so its statistics are the same: only a site of one
        # segment has one of fewer than SEGMENT papers, and that segment's base is all of it, in the name.)
        if rows > sizes[s] or any(side > size for side, size in zip(covered, sizes)) or \
                prints.tobytes() != self._covered(s, rows, covered[:meta.size - 1]):
            return None
        if any(array.dtype.kind != "i" or array.shape != (rows, self.count) for array in (segments, numbers, grid)):
            return None
        limits = np.array(covered + [0], np.int64)[np.where(segments >= 0, np.minimum(segments, len(covered)), len(covered))]
        if not np.all((segments >= -1) & (segments < len(covered)) & ((segments >= 0) == (numbers >= 0))
                      & ((segments >= 0) == (grid > 0)) & (numbers < np.maximum(limits, 1))):
            return None
        return Lists(segments, numbers, grid, tuple(covered))

    def put_lists(self, s: int, lists: Lists) -> None:
        rows = len(lists.grid)
        meta = np.array([rows, *lists.covered], np.uint64)
        prints = np.frombuffer(self._covered(s, rows, lists.covered), np.uint64)
        self._put(self._lists_name(s), [meta, prints, lists.segments.astype(np.int16),
                                        lists.numbers.astype(np.int32), lists.grid.astype(np.int32)])

    def _covered(self, s: int, rows: int, covered: list[int] | tuple[int, ...]) -> bytes:
        """The fingerprints of segment s's first `rows` papers and of each segment b's first covered[b]."""
        return b"".join(_print_bytes(self.prefix(b, side)) for b, side in [(s, rows)] + list(enumerate(covered)))

    def _lists_name(self, s: int) -> str:
        return f"related-{self.version}-lists-{self.bases[s]}-{self.count}"

    def _pair_name(self, pair: tuple[int, int]) -> str:
        return f"related-{self.version}-pair-{self.bases[pair[0]]}-{self.bases[pair[1]]}-{self.count}"

    def _get(self, name: str, ndims: list[int]) -> list[np.ndarray] | None:
        if self.memory is None:
            return None
        data = self.memory.get(name)
        arrays = unpack(name, bytes(data)) if isinstance(data, (bytes, bytearray, memoryview)) else None
        return arrays if arrays is not None and [array.ndim for array in arrays] == ndims else None

    def _put(self, name: str, arrays: list[np.ndarray]) -> None:
        if self.memory is not None:
            self.memory.put(name, pack(name, arrays))


def _print_bytes(fingerprint: str) -> bytes:
    """A fingerprint (32 hex digits) as its 16 bytes."""
    return bytes.fromhex(fingerprint)


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
