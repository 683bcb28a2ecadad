"""Linux, macOS and Windows: every platform-specific call the build makes has a fallback, and a
build that takes the fallbacks writes the very bytes of the Linux build.

The Linux-only functions are removed in a subprocess, before `generator` is imported, by a small
driver (DRIVER, run with `python -c`) that then runs `paperdigest build` as the command line
does: the CPU count without os.sched_getaffinity / os.process_cpu_count (macOS, Windows), a
build with no fork (multiprocessing offers only spawn and os.fork is gone: Windows), no
renameat2 (libc without it: macOS; no libc found: Windows), hard links refused (EPERM: FAT and
some network file systems; EXDEV) and no os.nice (Windows). The seeds are built three times in a
row with a change between (incremental builds that reuse files and assemble the next site in the
one before last), and every file is compared with the same steps built normally. The driver
also counts what it saw, so a test cannot pass by never reaching the fallback it claims to test.

The unit tests below check each fallback in this process, one at a time."""

from __future__ import annotations

import ast
import errno
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import CONTENT, REPO, dump, tree

from generator import workers
from generator.build import BuildOptions, build
from generator.output import OutputFile
from generator.write import MARKER, swap_in, write_site

FORK = "fork" in multiprocessing.get_all_start_methods() and hasattr(os, "fork")

# Run as `python -c DRIVER CONFIG` in the repository: patch, then import generator, then build.
DRIVER = r'''
import errno, json, os, sys

config = json.loads(sys.argv[1])
seen = {"forks": 0, "links": 0, "exchanges": []}

if config.get("no_affinity"):  # macOS, Windows (and Python < 3.13 has no process_cpu_count)
    for name in ("sched_getaffinity", "process_cpu_count"):
        if hasattr(os, name):
            delattr(os, name)
if config.get("no_nice") and hasattr(os, "nice"):  # Windows
    del os.nice
if config.get("no_fork"):  # Windows: spawn only, no os.fork
    import multiprocessing
    real_get_context = multiprocessing.get_context
    def get_context(method=None):
        if method == "fork":
            raise ValueError("cannot find context for 'fork'")
        return real_get_context(method)
    multiprocessing.get_all_start_methods = lambda: ["spawn"]
    multiprocessing.get_context = get_context
    if hasattr(os, "fork"):
        del os.fork
elif hasattr(os, "fork"):
    real_fork = os.fork
    def counted_fork():
        seen["forks"] += 1  # counted in this process; children never write the report
        return real_fork()
    os.fork = counted_fork
if config.get("renameat2") == "no-libc":  # Windows: ctypes finds no C library
    import ctypes.util
    ctypes.util.find_library = lambda name: None
elif config.get("renameat2") == "no-symbol":  # macOS: a libc without renameat2
    import ctypes
    class LibcWithoutRenameat2(ctypes.CDLL):
        def __getattr__(self, name):
            if name == "renameat2":
                raise AttributeError(name)
            return super().__getattr__(name)
    ctypes.CDLL = LibcWithoutRenameat2
real_link = os.link
def link(source, target, *args, **kwargs):
    seen["links"] += 1
    if config.get("link_errno"):  # FAT, exFAT, some SMB/NFS shares: EPERM; other devices: EXDEV
        number = getattr(errno, config["link_errno"])
        raise OSError(number, os.strerror(number), str(source), None, str(target))
    return real_link(source, target, *args, **kwargs)
os.link = link

sys.path.insert(0, config["repo"])
from generator import cli, render, search, topics, workers, write

seen["cpu_count"], seen["os_cpu_count"] = workers.cpu_count(), os.cpu_count()
if config.get("cores"):  # so that only a missing fork can keep a stage in this process
    workers.cpu_count = lambda: config["cores"]
if config.get("eager"):  # fork even for the seeds' few papers (the thresholds only weigh cost)
    render.PARALLEL_MIN_PAPERS = topics.PARALLEL_MIN_PAPERS = search.PARALLEL_MIN_DOCS = 1
    render.BATCH = topics.BATCH = 8  # tasks per worker: several, so that a pool of workers is started
real_exchange = write.exchange
def exchange(a, b):
    done = real_exchange(a, b)
    seen["exchanges"].append(done)
    return done
write.exchange = exchange

code = cli.main(["build", "--content", config["content"], "--out", config["out"], "--quiet"])
with open(config["report"], "w", encoding="utf-8") as handle:
    json.dump(seen, handle)
sys.exit(code)
'''

MODES = {
    "normal": {"cores": 4, "eager": True},  # the reference: on Linux, fork, renameat2 and hard links
    "no-affinity": {"no_affinity": True, "eager": True},
    "no-fork": {"no_fork": True, "renameat2": "no-symbol", "no_nice": True, "cores": 4, "eager": True},
    "no-fork-no-links": {"no_fork": True, "renameat2": "no-symbol", "link_errno": "EPERM", "no_nice": True,
                         "cores": 4, "eager": True},
    "windows-like": {"no_affinity": True, "no_fork": True, "renameat2": "no-libc", "link_errno": "EXDEV",
                     "no_nice": True, "eager": True},
}


class Failed(Exception):
    pass


def drive(config: dict, content: Path, out: Path, report: Path) -> dict:
    config = {**config, "repo": str(REPO), "content": str(content), "out": str(out), "report": str(report)}
    done = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(config)], cwd=REPO, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=300)
    if done.returncode != 0:
        raise Failed(f"the build failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return json.loads(report.read_text(encoding="utf-8"))


# -- the content, in three steps ------------------------------------------------------------

def seeds(content: Path) -> None:
    shutil.copytree(CONTENT, content)


def add_a_digest(content: Path) -> None:
    """A new day: one new paper, and one seed paper again (so its page lists two digests)."""
    paragraphs = (content / "digests" / "000_655177a3bb48841b.txt").read_text(encoding="utf-8").split("\n\n")
    title, abstract = paragraphs[5], paragraphs[6]
    assert len(abstract) > 300 and len(title) < 200, title
    text = dump(("Lifelong Editing of Knowledge Memories in Language Models",
                 "We edit the knowledge memory of large language models over a lifelong stream of edits. " * 6),
                (title, abstract), date="Mar 20")
    (content / "digests" / "005_new.txt").write_text(text, encoding="utf-8")


def edit_and_remove(content: Path) -> None:
    """An abstract edited, a digest removed (its papers' files go), the about page rewritten."""
    path = content / "digests" / "002_6631015e680066d9.txt"
    text = path.read_text(encoding="utf-8")
    edited = text.replace(" we ", " we carefully ", 1)
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    (content / "digests" / "001_f425eb0449c469b5.txt").unlink()
    about = content / "pages" / "about.md"
    about.write_text(about.read_text(encoding="utf-8") + "\nA paragraph added by the platform tests.\n",
                     encoding="utf-8")


STEPS = (seeds, add_a_digest, edit_and_remove)


def built_in_steps(root: Path, config: dict) -> list[tuple[dict[str, bytes], dict]] | str:
    """Each step's site (path -> bytes) and what the driver saw, building incrementally; or
    why a step failed."""
    content, out, found = root / "content", root / "site", []
    for number, change in enumerate(STEPS):
        change(content)
        try:
            seen = drive(config, content, out, root / f"seen-{number}.json")
        except Failed as exc:
            return f"step {number} ({change.__name__}): {exc}"
        found.append((tree(out), seen))
    return found


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[dict[str, bytes], dict]] | str]:
    """Every mode built in its own folder, the modes at once (each one's steps in order)."""
    root = tmp_path_factory.mktemp("platforms")
    with ThreadPoolExecutor(len(MODES)) as pool:
        runs = {name: pool.submit(built_in_steps, root / name, config) for name, config in MODES.items()}
        found = {name: run.result() for name, run in runs.items()}
    fresh = []  # each step's content built once more, from nothing, in this process
    for number, change in enumerate(STEPS):
        change(root / "fresh" / "content")
        out = root / "fresh" / f"site-{number}"
        build(BuildOptions(root / "fresh" / "content", out))
        fresh.append((tree(out), {}))
    found["fresh"] = fresh
    return found


@pytest.fixture
def steps(builds):
    """steps(mode): that mode's builds, failing the test (not the others) if one failed."""
    def get(mode: str) -> list[tuple[dict[str, bytes], dict]]:
        found = builds[mode]
        if isinstance(found, str):
            pytest.fail(f"{mode}: {found}", pytrace=False)
        return found

    return get


def differences(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    return sorted(path for path in a.keys() | b.keys() if a.get(path) != b.get(path))


def test_the_reference_build_is_a_full_build_of_each_step(steps):
    normal = steps("normal")
    for number, ((site, _), (fresh, _)) in enumerate(zip(normal, steps("fresh"))):
        assert len(site) > 400 and differences(site, fresh) == [], f"step {number}"
    assert "papers/lifelong-editing-of-knowledge-memories-in-language-models.html" in normal[1][0]
    assert len(normal[2][0]) < len(normal[1][0])  # a digest's papers left the site


@pytest.mark.parametrize("mode", [name for name in MODES if name != "normal"])
def test_a_build_with_the_fallbacks_forced_writes_the_same_bytes(steps, mode):
    for number, ((site, _), (reference, _)) in enumerate(zip(steps(mode), steps("normal"))):
        assert differences(site, reference) == [], f"{mode}, step {number}"


@pytest.mark.parametrize("mode", list(MODES))
def test_each_build_took_the_path_it_claims_to_test(steps, mode):
    config = MODES[mode]
    for number, (_, seen) in enumerate(steps(mode)):
        if config.get("no_fork"):
            assert seen["forks"] == 0, seen
        elif FORK:  # three forked stages, and (a full build) a pool of forked workers
            assert seen["forks"] >= (5 if number == 0 else 3), seen
        if config.get("renameat2"):
            assert seen["exchanges"] == ([] if number == 0 else [False]), seen  # two renames instead
        else:
            assert len(seen["exchanges"]) == (0 if number == 0 else 1), seen  # one swap once a site exists
        if number == 1:  # unchanged files reused (with links refused: a link tried, then copies)
            assert seen["links"] > 0, seen
        if config.get("no_affinity"):
            assert seen["cpu_count"] == (seen["os_cpu_count"] or 1), seen


# -- each fallback on its own, in this process ---------------------------------------------------

def test_cpu_count_uses_the_best_counter_the_platform_has(monkeypatch):
    monkeypatch.setattr(os, "process_cpu_count", lambda: 3, raising=False)
    assert workers.cpu_count() == 3
    monkeypatch.setattr(os, "process_cpu_count", lambda: None)
    assert workers.cpu_count() == 1
    monkeypatch.delattr(os, "process_cpu_count")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert workers.cpu_count() == 2  # the cores this process may run on, not the machine's

    def hidden(pid):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "sched_getaffinity", hidden)
    assert workers.cpu_count() == 8
    monkeypatch.delattr(os, "sched_getaffinity")
    assert workers.cpu_count() == 8  # macOS, Windows
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert workers.cpu_count() == 1


def square_plus(state: int, item: int) -> int:
    return item * item + state


def no_fork(monkeypatch) -> None:
    """What Windows offers: spawn only, and no os.fork."""
    monkeypatch.setattr(workers.mp, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.delattr(os, "fork", raising=False)
    monkeypatch.setattr(workers, "cpu_count", lambda: 4)


def refused_fork(monkeypatch) -> None:
    """fork exists but the system refuses it (EAGAIN: a process limit such as a container's pids.max)."""
    def refuse():
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse, raising=False)
    monkeypatch.setattr(workers.mp, "get_all_start_methods", lambda: ["fork", "spawn"])
    monkeypatch.setattr(workers, "cpu_count", lambda: 4)


@pytest.mark.parametrize("situation", [
    pytest.param(no_fork, id="no fork"),
    pytest.param(refused_fork, id="fork refused", marks=pytest.mark.skipif(not FORK, reason="no fork to refuse")),
])
def test_workers_run_in_this_process_without_fork(monkeypatch, situation):
    situation(monkeypatch)
    items = list(range(50))
    assert list(workers.forked_map(square_plus, items, 7, enough=True)) == [n * n + 7 for n in items]
    made = []

    def make():
        made.append(os.getpid())
        yield from (OutputFile(f"search/{n}.js", bytes([n % 256])) for n in range(300))

    with workers.Forked(make) as stage:
        assert stage.pid == 0 and made == []  # nothing runs until the files are asked for
        assert [item.path for item in stage.files()] == [f"search/{n}.js" for n in range(300)]
    assert made == [os.getpid()]
    with workers.Forked(lambda: iter([42])) as stage:
        assert stage.value() == 42

    def broken():
        yield OutputFile("a", b"")
        raise ValueError("the index could not be made")

    with workers.Forked(broken) as stage, pytest.raises(ValueError, match="could not be made"):
        list(stage.files())


@pytest.mark.skipif(not FORK, reason="fork is what this platform lacks")
@pytest.mark.parametrize("nice", ["missing", "refused"])
def test_a_forked_stage_runs_without_os_nice(monkeypatch, nice):
    """The child lowers its priority where it can; without os.nice, or refused it, it just runs."""
    if nice == "missing":
        monkeypatch.delattr(os, "nice", raising=False)
    else:
        def refuse(increment):
            raise PermissionError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "nice", refuse)
    monkeypatch.setattr(workers, "cpu_count", lambda: 2)
    with workers.Forked(lambda: iter([os.getpid()])) as stage:  # os.getpid() runs in the child
        assert stage.pid
        assert stage.value() == stage.pid != os.getpid()


class LibcWithout:
    """A C library as ctypes would load it, without renameat2 (macOS), or whose renameat2 fails
    (EINVAL: a file system without RENAME_EXCHANGE; ENOSYS: an old kernel or a sandbox)."""

    def __init__(self, failing: bool):
        self.failing = failing

    def __call__(self, name, use_errno=False):
        if not self.failing:
            return type("Libc", (), {})()
        return type("Libc", (), {"renameat2": staticmethod(lambda *args: -1)})()


@pytest.mark.parametrize("libc", ["none found", "no renameat2", "renameat2 fails"])
def test_the_swap_falls_back_to_two_renames(tmp_path, monkeypatch, libc):
    import ctypes
    import ctypes.util

    if libc == "none found":
        monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    else:
        monkeypatch.setattr(ctypes.util, "find_library", lambda name: "libc.so.6")
        monkeypatch.setattr(ctypes, "CDLL", LibcWithout(failing=libc == "renameat2 fails"))
    out, staging = tmp_path / "site", tmp_path / ".site.paperdigest-new"
    for folder, text in ((out, "old"), (staging, "new")):
        (folder / "papers").mkdir(parents=True)
        (folder / "papers" / "a.html").write_text(text, encoding="utf-8")
    swap_in(staging, out)
    assert (out / "papers" / "a.html").read_text(encoding="utf-8") == "new"
    assert (staging / "papers" / "a.html").read_text(encoding="utf-8") == "old"  # the old site, kept
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, staging.name])


@pytest.mark.parametrize("number", ["EPERM", "EXDEV", "EMLINK", "EACCES"])
def test_reused_files_are_copied_where_hard_links_are_refused(tmp_path, monkeypatch, number):
    out = tmp_path / "site"
    keys, _ = write_site([OutputFile("papers/a.html", b"a1"), OutputFile("b.html", b"b1")], out)
    code = getattr(errno, number)

    def refuse(source, target, *args, **kwargs):
        raise OSError(code, os.strerror(code), str(source), None, str(target))

    monkeypatch.setattr(os, "link", refuse)
    _, old = write_site([OutputFile("papers/a.html", None, keys["papers/a.html"]), OutputFile("b.html", b"b2")], out)
    assert (out / "papers" / "a.html").read_bytes() == b"a1" and (out / "b.html").read_bytes() == b"b2"
    assert not (out / "papers" / "a.html").samefile(old / "papers" / "a.html")
    assert set(tree(out)) == {"b.html", MARKER, "papers/a.html"}


def test_a_file_the_live_site_lacks_is_still_a_clear_error_when_links_are_refused(tmp_path, monkeypatch):
    from generator.diagnostics import BuildError

    out = tmp_path / "site"
    write_site([OutputFile("b.html", b"b1")], out)

    def refuse(source, target, *args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", refuse)
    with pytest.raises(BuildError, match="lacks a file"):
        write_site([OutputFile("gone.html", None, "k")], out)
    assert tree(out)["b.html"] == b"b1"


# -- text and paths ----------------------------------------------------------------------------

def calls(name: str):
    """(file:line, call) of every call of `name` (a function or a method) in generator/."""
    for path in sorted((REPO / "generator").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if called == name:
                    yield f"{path.name}:{node.lineno}", node


def names_an_encoding(node: ast.Call) -> bool:
    """open(file, mode, buffering, encoding), Path.open(mode, buffering, encoding),
    Path.read_text(encoding), Path.write_text(data, encoding): binary, or with an encoding."""
    builtin = isinstance(node.func, ast.Name)
    method = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
    if method == "open":
        at = 1 if builtin else 0
        mode = node.args[at] if len(node.args) > at else next((k.value for k in node.keywords if k.arg == "mode"), None)
        if isinstance(mode, ast.Constant) and "b" in str(mode.value):
            return True
        position = at + 2
    else:
        position = {"read_text": 0, "write_text": 1}[method]
    return len(node.args) > position or any(k.arg == "encoding" for k in node.keywords)


def test_text_files_are_read_and_written_as_utf8_on_every_platform():
    """Without encoding=, Python uses the locale's (cp1252 on most Windows machines)."""
    found = [where for name in ("open", "read_text", "write_text") for where, node in calls(name)]
    assert len(found) >= 5  # the check sees the calls it is about
    unnamed = [where for name in ("open", "read_text", "write_text") for where, node in calls(name)
               if not names_an_encoding(node)]
    assert unnamed == []


def test_no_platform_line_ends_reach_the_site():
    """The site's bytes are the same everywhere: its files are written as bytes (write.py), and
    nothing uses os.linesep ("\\r\\n" on Windows)."""
    found = []
    for path in sorted((REPO / "generator").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "linesep":
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
