"""One build at a time per output folder: a second build waits for the first (or, with
--no-wait, exits with code 3), serve's rebuilds take the same lock, and a build killed with
kill -9 never leaves a lock that blocks the next one. Real processes throughout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support import REPO, dump, make_content, run_cli, tree

from generator.build import BuildOptions, build
from generator.cache import Cache
from generator.reporting import run_build

ABSTRACT = "An abstract long enough to count as one, repeated. " * 12
WAITING = "paperdigest: another build of {out} is running; waiting (--no-wait to give up)"
GAVE_UP = "paperdigest: another build of {out} is running; not waiting for it (--no-wait)"
# Holds a folder's build lock as a build does (cache.Cache.locked), forks a child that lives on
# (where the system forks), says so, and waits for its standard input to close (or to be killed).
HOLDER = """
import os, sys, time
from pathlib import Path
from generator.cache import Cache
with Cache(Path(sys.argv[1])).locked():
    child = os.fork() if hasattr(os, "fork") else -1
    if child == 0:
        time.sleep(60)
        os._exit(0)
    print(child, flush=True)
    sys.stdin.read()
"""


def many_papers(prefix: str, count: int) -> str:
    return dump(*[(f"{prefix} paper number {n}", ABSTRACT) for n in range(count)])


def content_of(root: Path, papers: int) -> Path:
    return make_content(root, {"a.txt": many_papers("Some", papers)})


def command(content: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "generator", "build", "--quiet", *extra, "--content", str(content), "--out", str(out)]


def wait_until_writing(root: Path, process: subprocess.Popen, name: str = "site") -> None:
    """Wait until the build has its staging folder, so it holds the lock (taken before anything else)."""
    deadline = time.monotonic() + 120
    while not list(root.glob(f".{name}.paperdigest-new-*")) and process.poll() is None:
        assert time.monotonic() < deadline, "the build never began writing"
        time.sleep(0.005)
    assert process.poll() is None, "the build ended before it could be caught writing"


class Holder:
    """Another process holding the output folder's lock, as a build would, until released."""

    def __init__(self, out: Path):
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], cwd=REPO, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.child = int(self.process.stdout.readline())

    def release(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def end(self) -> None:
        for pid in (self.child, self.process.pid) if self.child > 0 else (self.process.pid,):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=30)


@pytest.fixture
def holder():
    held: list[Holder] = []
    yield lambda out: held.append(Holder(out)) or held[-1]
    for one in held:
        one.end()


def test_two_builds_of_one_folder_take_turns_and_the_site_is_one_whole_build(tmp_path):
    content = content_of(tmp_path, 600)
    out = tmp_path / "site"
    build(BuildOptions(content, tmp_path / "reference"))
    first = subprocess.Popen(command(content, out), cwd=REPO, stderr=subprocess.PIPE, text=True)
    wait_until_writing(tmp_path, first)
    second = subprocess.Popen(command(content, out), cwd=REPO, stderr=subprocess.PIPE, text=True)
    _, first_err = first.communicate(timeout=300)
    _, second_err = second.communicate(timeout=300)
    assert first.returncode == 0 and first_err == "", first_err
    assert second.returncode == 0, second_err
    assert second_err.splitlines() == [WAITING.format(out=out)]  # it waited, then found the site up to date
    assert tree(out) == tree(tmp_path / "reference")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".reference.paperdigest", ".site.paperdigest", "content",
                                                          "reference", "site"]


def test_builds_started_together_all_succeed_and_leave_one_whole_site(tmp_path):
    content = content_of(tmp_path, 300)
    out = tmp_path / "site"
    build(BuildOptions(content, tmp_path / "reference"))
    builds = [subprocess.Popen(command(content, out, "--no-cache"), cwd=REPO, stderr=subprocess.PIPE, text=True)
              for _ in range(3)]
    results = [process.communicate(timeout=300) for process in builds]
    assert [process.returncode for process in builds] == [0, 0, 0], results
    waited = sum(WAITING.format(out=out) in stderr for _, stderr in results)
    assert waited >= 1, "no build had to wait: the lock was never contended"
    assert tree(out) == tree(tmp_path / "reference")
    assert not list(tmp_path.glob(".site.paperdigest-*"))


def test_no_wait_gives_up_with_code_3_while_another_build_holds_the_lock(tmp_path, holder):
    content = content_of(tmp_path, 5)
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    (content / "digests" / "b.txt").write_text(many_papers("New", 3), encoding="utf-8")
    before = tree(out)
    held = holder(out)
    result = run_cli("build", "--no-wait", "--content", str(content), "--out", str(out))
    assert result.returncode == 3
    assert result.stderr.splitlines() == [GAVE_UP.format(out=out)] and result.stdout == ""
    assert tree(out) == before
    # Without --no-wait it says it waits, and builds once the other is done.
    waiting = subprocess.Popen(command(content, out), cwd=REPO, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert waiting.poll() is None, "the build did not wait for the lock"
    assert tree(out) == before
    held.release()
    _, stderr = waiting.communicate(timeout=120)
    assert waiting.returncode == 0 and stderr.splitlines() == [WAITING.format(out=out)]
    assert "papers/new-paper-number-2.html" in tree(out)


def test_serves_rebuilds_take_the_same_lock(tmp_path, holder, capsys):
    """serve rebuilds with reporting.run_build (cli.run_serve): it waits for the lock too."""
    content = content_of(tmp_path, 5)
    out = tmp_path / "site"
    held = holder(out)
    threading.Timer(1.0, held.release).start()
    started = time.monotonic()
    code, failure = run_build(BuildOptions(content, out), out, quiet=True)
    assert (code, failure) == (0, "")
    assert time.monotonic() - started >= 1.0
    assert capsys.readouterr().err.splitlines() == [WAITING.format(out=out)]
    assert (out / "index.html").is_file()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork: a forked worker outliving the build")
def test_a_lock_holder_killed_with_kill_9_blocks_nothing_even_with_its_fork_alive(tmp_path, holder):
    """The kernel drops a flock when the last descriptor of it closes: the killed process's
    descriptors close at once, and filelock closes the lock in forked children, so a build's
    workers that outlive it (they finish their task first) do not hold it either."""
    content = content_of(tmp_path, 5)
    out = tmp_path / "site"
    held = holder(out)
    held.kill()
    os.kill(held.child, 0)  # the forked child is still alive
    result = run_cli("build", "--no-wait", "--content", str(content), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_build_killed_with_kill_9_at_any_moment_never_blocks_the_next(tmp_path):
    content = content_of(tmp_path, 400)
    out = tmp_path / "site"
    build(BuildOptions(content, tmp_path / "reference"))
    started = time.perf_counter()
    subprocess.run(command(content, tmp_path / "timing"), check=True, cwd=REPO)
    full = time.perf_counter() - started
    for delay in (0.3 * full, 0.6 * full, None):
        process = subprocess.Popen(command(content, out, "--no-cache"), cwd=REPO)
        if delay is None:
            wait_until_writing(tmp_path, process)  # workers are alive: they render, search, export
        else:
            time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        result = run_cli("build", "--no-wait", "--quiet", "--content", str(content), "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert tree(out) == tree(tmp_path / "reference")


def test_the_lock_is_per_output_folder(tmp_path, holder):
    """Another output folder builds meanwhile; the lock lives in the folder's cache, beside it."""
    content = content_of(tmp_path, 5)
    holder(tmp_path / "site")
    assert (Cache(tmp_path / "site").root / "lock").is_file()
    result = run_cli("build", "--no-wait", "--content", str(content), "--out", str(tmp_path / "other"))
    assert result.returncode == 0, result.stderr
