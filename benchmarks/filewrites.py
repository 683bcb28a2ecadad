"""Does writing a site's files in parallel pay on this machine's disk? (issue 13)

    .venv/bin/python benchmarks/filewrites.py [--files 64000] [--runs 3] [--work DIR]

Creates --files new files in 500 folders, in a fresh folder beside where builds write (the
benchmarks' work folder), the way write.py does for a cold build: each file opened, written
whole and closed, the sizes alternating between a paper page (18 KB) and its Markdown twin
(5 KB). Each run times one way of doing it, in turn: one thread, then 2 and 4 threads of a
pool, then hard links to the files of the first run (what an incremental build does for kept
files). Every run starts after os.sync(), with the folder of the run before deleted and
synced away, so no run pays for the write-back of another. Prints a Markdown table and writes
it to benchmarks/results/filewrites.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
FOLDERS = 500
SIZES = (18_000, 5_000)


def paths(root: Path, files: int) -> list[Path]:
    return [root / f"d{number % FOLDERS}" / f"f{number}.html" for number in range(files)]


def prepare(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    os.sync()
    for folder in range(FOLDERS):
        (root / f"d{folder}").mkdir(parents=True)


def write_all(targets: list[Path], threads: int) -> None:
    data = [b"x" * size for size in SIZES]

    def write(number: int) -> None:
        with open(targets[number], "wb") as file:
            file.write(data[number % 2])

    if threads == 1:
        for number in range(len(targets)):
            write(number)
        return
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, range(len(targets)), chunksize=256))


def link_all(sources: list[Path], targets: list[Path]) -> None:
    for source, target in zip(sources, targets):
        os.link(source, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=64_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=BENCH / "work" / "filewrites")
    args = parser.parse_args(argv)
    ways = ("1 thread", "2 threads", "4 threads", "hard links")
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    source, target = args.work / "source", args.work / "target"
    try:
        for _ in range(args.runs):
            prepare(source)
            write_all(paths(source, args.files), 1)  # what the links point to
            for way in ways:
                prepare(target)
                os.sync()
                started = time.perf_counter()
                if way == "hard links":
                    link_all(paths(source, args.files), paths(target, args.files))
                else:
                    write_all(paths(target, args.files), int(way.split()[0]))
                seconds[way].append(time.perf_counter() - started)
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    base = statistics.median(seconds["1 thread"])
    lines = [f"# Creating {args.files:,} files ({', '.join(f'{s // 1000} KB' for s in SIZES)}, in turn), "
             f"median of {args.runs}", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
             f"Python {platform.python_version()}; folder: {args.work.parent}", "",
             "| way | seconds (median) | min | vs one thread |", "|---|---|---|---|"]
    for way in ways:
        median = statistics.median(seconds[way])
        lines.append(f"| {way} | {median:.2f} | {min(seconds[way]):.2f} | {median / base:.2f}x |")
    text = "\n".join(lines) + "\n"
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "filewrites.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
