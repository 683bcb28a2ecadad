"""Where a build spends its time: cProfile of one generator.build.build() on a benchmark corpus.

    .venv/bin/python benchmarks/profile.py --size M [--rev HEAD] [--top 30] [--memory]

Prints the top functions by own time and by cumulative time, and writes the same text to
benchmarks/results/profile-<size>.txt. --memory adds a tracemalloc run (peak traced memory,
and the largest allocation sites in a snapshot taken near the peak; tracemalloc slows the
build ~15 times: use XS or M). The build runs in a child process started in the generator's folder (the working tree, or a
`git archive` of --rev), like benchmarks/run.py.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import corpus  # noqa: E402
import run  # noqa: E402

PROFILE = """
import cProfile, io, pstats, sys, time
from pathlib import Path
from generator.build import BuildOptions, build
content, out, top = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
profiler = cProfile.Profile()
started = time.perf_counter()
profiler.enable()
summary = build(BuildOptions(content, out))
profiler.disable()
print(f"build under cProfile: {time.perf_counter() - started:.1f} s; stages (profiled): "
      + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in summary.stages))
for order in ("tottime", "cumulative"):
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(order).print_stats(top)
    body = text.getvalue()
    print(f"\\n=== top {top} by {order} ===")
    print(body[body.index("   ncalls"):].rstrip())
"""

MEMORY = """
import sys, threading, time, tracemalloc
from pathlib import Path
from generator.build import BuildOptions, build
content, out, top = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
tracemalloc.start(1)
state = {"best": 0, "snapshot": None, "at": 0.0, "done": False}
started = time.perf_counter()
def watch():  # snapshot whenever traced memory reaches a new high (+10%): the picture at the peak
    while not state["done"]:
        current, _ = tracemalloc.get_traced_memory()
        if current > state["best"] * 1.1:
            state["best"], state["at"] = current, time.perf_counter() - started
            state["snapshot"] = tracemalloc.take_snapshot()
        time.sleep(0.5)
watcher = threading.Thread(target=watch)
watcher.start()
try:
    build(BuildOptions(content, out))
finally:
    state["done"] = True
    watcher.join()
current, most = tracemalloc.get_traced_memory()
print(f"\\n=== tracemalloc: peak traced {most / 2**20:.0f} MB; largest allocation sites in the snapshot at "
      f"{state['best'] / 2**20:.0f} MB ({state['at']:.0f} s into the traced build) ===")
for stat in (state["snapshot"].statistics("lineno") if state["snapshot"] else [])[:top]:
    print(f"{stat.size / 2**20:8.1f} MB  {stat.count:9,d} blocks  {stat.traceback[0]}")
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="M", choices=list(corpus.SIZES))
    parser.add_argument("--rev", help="profile this git revision's generator instead of the working tree")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--memory", action="store_true", help="also trace memory allocations")
    args = parser.parse_args(argv)
    work = run.WORK / f"profile-{args.size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        if args.rev:
            run.snapshot(args.rev, prefix="profile-generator")
        corpus.make(args.size, work / "content")
        cwd = run.GENERATOR["cwd"]
        header = f"# cProfile of one build, size {args.size}, generator: {run.GENERATOR['label']}\n"
        output = subprocess.run([run.PYTHON, "-c", PROFILE, str(work / "content"), str(work / "site"), str(args.top)],
                                cwd=cwd, capture_output=True, text=True, check=True).stdout
        if args.memory:
            shutil.rmtree(work / "site", ignore_errors=True)
            output += subprocess.run([run.PYTHON, "-c", MEMORY, str(work / "content"), str(work / "site"), str(args.top)],
                                     cwd=cwd, capture_output=True, text=True, check=True).stdout
        run.RESULTS.mkdir(parents=True, exist_ok=True)
        (run.RESULTS / f"profile-{args.size}.txt").write_text(header + output, encoding="utf-8")
        print(header + output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.rev:
            shutil.rmtree(run.GENERATOR["cwd"], ignore_errors=True)
        if run.WORK.exists() and not any(run.WORK.iterdir()):
            run.WORK.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
