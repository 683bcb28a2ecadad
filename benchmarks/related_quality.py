"""Related papers with idf frozen per segment (issue 13): what it costs in quality, and in time.

Quality: the mean overlap |top 5 ∩ exact top 5| / |exact top 5| (over the papers with an exact
list) against exact TF-IDF cosine over the whole archive (one idf, every term, no budget: a
scipy sparse product in row blocks), for the formulation built (related.py: segments of
SEGMENT papers, each weighed by the statistics of its first SEGMENT papers, its base, with two
work budgets: WORK_INNER for pairs within a segment, WORK_OUTER for pairs across two) and for
the one it replaced ("before": one idf over
the archive and one budget of 30,000,000 multiply-adds, which is related.py with the whole
archive as one segment; byte for byte the code it replaced, tests/test_related.py checks).

Time: a cold build (no memory) and a warm one (the memory of the cold build, then one more
digest of 30 new papers, corpus.added_digest), both as related_papers() calls in this process,
wall and CPU (all threads) time, the best of --runs; the bytes the memory holds; and how many
of the papers before that digest have another list after it (churn: their pages are made again).

    .venv/bin/python benchmarks/related_quality.py                    # S, M quality; M, L time
    .venv/bin/python benchmarks/related_quality.py --quality S,M,L    # exact at L: ~2 CPU minutes
    .venv/bin/python benchmarks/related_quality.py --time M --runs 1
    .venv/bin/python benchmarks/related_quality.py --quality "" --time XL --runs 1 --memory   # ~10 min, ~3 GB in /tmp

Corpora are written under --work (default /tmp/related-quality; L takes ~1 GB) and reused."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tomllib
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

import numpy as np
import scipy
import scipy.sparse as sp

import corpus
from generator import related, similarity
from generator.catalog import Paper, build_catalog
from generator.parse import parse_dump

BEFORE_BUDGET = 30_000_000  # the whole archive's budget before segments
RESULT = REPO / "benchmarks" / "results" / "related-quality.md"


class Memory:
    """A dict-backed memory that, like the build cache, keeps only what a build got or put."""

    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}
        self.used: set[str] = set()

    def get(self, name: str) -> bytes | None:
        found = self.items.get(name)
        if found is not None:
            self.used.add(name)
        return found

    def put(self, name: str, data: bytes) -> None:
        self.items[name] = data
        self.used.add(name)

    def keep(self, name: str) -> None:
        self.used.add(name)

    def end_build(self) -> None:
        self.items = {name: data for name, data in self.items.items() if name in self.used}
        self.used = set()

    def bytes(self) -> int:
        return sum(map(len, self.items.values()))


def papers_of(size: str, work: Path) -> tuple[tuple[Paper, ...], tuple[Paper, ...] | None]:
    """A size's papers, and (but for S) its papers with one more digest of 30 new papers."""
    content = REPO / "content" if size == "S" else work / size / "content"
    if size != "S" and not (content / "site.toml").is_file():
        print(f"writing corpus {size} to {content} ...", flush=True)
        corpus.make(size, content)
    year = tomllib.loads((content / "site.toml").read_text(encoding="utf-8")).get("default_year", 2025)
    dumps = [parse_dump(path.name, path.read_bytes(), year) for path in sorted((content / "digests").glob("*.txt"))]
    if size == "S":
        return build_catalog(dumps).papers, None
    name, data = corpus.added_digest(content)
    return build_catalog(dumps).papers, build_catalog(dumps + [parse_dump(name, data, year)]).papers


def exact(papers: tuple[Paper, ...], count: int = 5) -> dict[str, tuple[str, ...]]:
    """Exact TF-IDF cosine over the whole archive: one idf, every term, no budget."""
    ordered = sorted(papers, key=lambda paper: (paper.slug, paper.key))
    n, bits = len(ordered), max(1, (len(ordered) - 1).bit_length())
    parts = [similarity.chunk_terms(ordered[a:b], a, bits) for a, b in similarity.chunk_bounds(ordered)]
    _, docs, counts, df = similarity.term_counts(parts, bits)
    weights = np.log(counts.astype(np.float64)) + 1.0
    weights *= np.repeat(np.log((n + 1) / df), df)
    weights /= np.sqrt(np.bincount(docs, weights=np.square(weights), minlength=n))[docs]
    shared = np.repeat(df >= 2, df)
    indptr = np.concatenate(([0], np.cumsum(np.where(df >= 2, df, 0))))
    vectors = sp.csc_matrix((weights[shared], docs[shared], indptr), shape=(n, len(df))).tocsr()
    transposed = vectors.T.tocsr()
    found: dict[str, tuple[str, ...]] = {}
    for start in range(0, n, 400):
        numbers, _ = similarity.top(vectors[start:start + 400] @ transposed, count, start)
        for row, chosen in enumerate(numbers.tolist()):
            found[ordered[start + row].key] = tuple(ordered[other].key for other in chosen if other >= 0)
    return found


@contextmanager
def before(papers: tuple[Paper, ...]) -> Iterator[None]:
    """related.py as it was before segments: the whole archive one segment, one budget."""
    saved = related.SEGMENT, related.WORK_INNER, related.WORK_OUTER
    related.SEGMENT, related.WORK_INNER = max(2, len(papers)), BEFORE_BUDGET
    related.WORK_OUTER = min(related.WORK_OUTER, BEFORE_BUDGET)  # (unused: one segment)
    try:
        yield
    finally:
        related.SEGMENT, related.WORK_INNER, related.WORK_OUTER = saved


def same_segment(papers: tuple[Paper, ...], lists: dict[str, tuple[str, ...]]) -> float:
    """The share of listed papers that are in the listing paper's own segment."""
    ordered = sorted(papers, key=lambda paper: (paper.slug, paper.key))
    first, segment = related.first_order(ordered), {}
    for number, (a, b) in enumerate(related.segments(len(ordered))):
        segment.update((ordered[at].key, number) for at in first[a:b].tolist())
    pairs = [(key, other) for key, keys in lists.items() for other in keys]
    return sum(segment[key] == segment[other] for key, other in pairs) / max(1, len(pairs))


def overlap(got: dict[str, tuple[str, ...]], truth: dict[str, tuple[str, ...]]) -> float:
    shares = [len(set(got[key]) & set(keys)) / len(keys) for key, keys in truth.items() if keys]
    return sum(shares) / len(shares)


def timed(run: Callable[[], object], runs: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `runs` calls (CPU: every thread of this process)."""
    best = (float("inf"), float("inf"))
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def peak_memory(run: Callable[[], object]) -> tuple[float, float] | None:
    """(peak RSS, RSS at the start) in GB of one call run in a forked child, which holds what
    this process held (so the start is what it inherited); None where there is no fork."""
    if not hasattr(os, "fork"):
        return None
    import resource  # (POSIX only, like fork)

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report, leave without the parent's exit handlers
        status = 1
        try:
            start = resident()
            run()
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
            os.write(write, f"{peak / 1e9} {start / 1e9}".encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read) as pipe:
        found = pipe.read().split()
    os.waitpid(pid, 0)
    return (float(found[0]), float(found[1])) if len(found) == 2 else None


def resident() -> float:
    """This process's resident memory now, in bytes (from /proc where there is one, else its peak)."""
    import resource

    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def measure_quality(size: str, work: Path) -> dict:
    papers, _ = papers_of(size, work)
    started = time.perf_counter()
    truth = exact(papers)
    print(f"{size}: exact top 5 of {len(papers)} papers in {time.perf_counter() - started:.0f} s", flush=True)
    built = related.related_papers(papers)
    with before(papers):
        old = related.related_papers(papers)
    return {"size": size, "papers": len(papers), "segments": len(related.segments(len(papers))),
            "new": overlap(built, truth), "before": overlap(old, truth),
            "same_lists": sum(built[key] == old[key] for key in built) / len(built),
            "own_segment": (same_segment(papers, built), same_segment(papers, truth))}


def measure_time(size: str, work: Path, runs: int, measure_memory: bool = False) -> dict:
    papers, added = papers_of(size, work)
    assert added is not None
    memory = Memory()

    def cold() -> None:
        memory.items, memory.used = {}, set()
        related.related_papers(papers, memory=memory)
        memory.end_build()

    kept: dict[str, bytes] = {}

    def warm() -> None:
        memory.items, memory.used = dict(kept), set()
        related.related_papers(added, memory=memory)
        memory.end_build()

    cold_time = timed(cold, runs)
    kept.update(memory.items)
    stored, names = memory.bytes(), len(memory.items)
    warm_time = timed(warm, runs)
    memory_peaks = (peak_memory(cold), peak_memory(warm)) if measure_memory else (None, None)
    clean = related.related_papers(added)
    assert related.related_papers(added, memory=memory) == clean
    lists = related.related_papers(papers)
    churn = sum(lists[key] != clean[key] for key in lists)
    before_time = (float("nan"), float("nan"))
    if size != "XL":  # (one segment of 300,000 papers: a product past any budget this script can wait for)
        with before(papers):
            before_time = timed(lambda: related.related_papers(papers), runs)
    print(f"{size}: cold {cold_time[0]:.2f} s, warm {warm_time[0]:.2f} s, before {before_time[0]:.2f} s", flush=True)
    return {"size": size, "papers": len(papers), "added": len(added) - len(papers),
            "segments": len(related.segments(len(added))), "cold": cold_time, "warm": warm_time,
            "before": before_time, "bytes": stored, "names": names, "churn": churn, "peaks": memory_peaks}


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    return (f"{models[0] if models else platform.processor()}, {len(models) or '?'} cores, "
            f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}")


def report(quality: list[dict], times: list[dict], runs: int, note: str) -> str:
    lines = ["# Related papers: statistics frozen per segment (issue 13)", "",
             f"Measured {datetime.now(timezone.utc):%Y-%m-%d} on {machine()} by `benchmarks/related_quality.py`.",
             *([note] if note else []),
             (f"Formulation: SEGMENT = {related.SEGMENT}, WORK_INNER = {related.WORK_INNER:,} multiply-adds per "
              f"segment for pairs within it, WORK_OUTER = {related.WORK_OUTER:,} per segment for pairs across two; "
              f"before: one segment, {BEFORE_BUDGET:,}."), ""]
    if quality:
        lines += ["## Quality: mean overlap of the top 5 with exact TF-IDF cosine (whole archive, no budget)", "",
                  ("| size | papers | segments | per segment (new) | before (one idf, one budget) | lists equal new vs "
                   "before | listed from the paper's own segment: new / exact |"),
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {q['size']} | {q['papers']:,} | {q['segments']} | {q['new']:.1%} | {q['before']:.1%} | "
                  f"{q['same_lists']:.1%} | {q['own_segment'][0]:.1%} / {q['own_segment'][1]:.1%} |" for q in quality]
        lines.append("")
    if times:
        lines += [f"## Time: related_papers() alone, best of {runs} (wall / CPU seconds, CPU = all threads)", "",
                  ("| size | papers | segments | cold (no memory) | warm (+1 digest of 30 new) | before (cold, no memory) "
                   "| memory kept | names | lists the digest changed |"),
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {t['size']} | {t['papers']:,} + {t['added']} | {t['segments']} | {t['cold'][0]:.2f} / {t['cold'][1]:.2f} | "
                  f"{t['warm'][0]:.2f} / {t['warm'][1]:.2f} | {t['before'][0]:.2f} / {t['before'][1]:.2f} | "
                  f"{t['bytes'] / 1e6:.1f} MB | {t['names']} | {t['churn']:,} |" for t in times]
        lines.append("")
        peaks = [(t["size"], kind, found) for t in times for kind, found in zip(("cold", "warm"), t["peaks"]) if found]
        if peaks:
            lines += ["Peak memory of one call in a forked child (RSS; it starts with what the measuring process held):", "",
                      "| size | call | peak RSS | of which inherited at the start |", "| --- | --- | ---: | ---: |"]
            lines += [f"| {size} | {kind} | {peak:.2f} GB | {start:.2f} GB |" for size, kind, (peak, start) in peaks]
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quality", default="S,M", help="sizes whose quality to measure (S, XS, M, L)")
    parser.add_argument("--time", default="M,L", help="sizes to time (XS, M, L, XL)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="also the peak memory of a cold and a warm call")
    parser.add_argument("--work", type=Path, default=Path("/tmp/related-quality"))
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument("--note", default="Other work ran on the machine at the same time: the times are rough.",
                        help="a line for the report on how the machine was")
    args = parser.parse_args(argv)
    quality = [measure_quality(size, args.work) for size in args.quality.split(",") if size]
    times = [measure_time(size, args.work, args.runs, args.memory) for size in args.time.split(",") if size]
    text = report(quality, times, args.runs, args.note)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
