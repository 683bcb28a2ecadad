"""A build killed at any moment leaves the output folder a complete old or complete new site."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from support import REPO, dump, make_content, tree

from generator.build import BuildOptions, build

ABSTRACT = "An abstract long enough to count as one, repeated. " * 12



def listing(folder: Path) -> list[str]:
    """What is in a folder, leaving out the builds' local cache folders (.<out>.paperdigest)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".paperdigest"))


def many_papers(prefix: str, count: int) -> str:
    return dump(*[(f"{prefix} paper number {n}", ABSTRACT) for n in range(count)])


def built_then_changed(tmp_path: Path, old: int, new: int) -> tuple[Path, Path, dict[str, bytes]]:
    """A site built from `old` papers, and its content then given `new` more: (content, out, old site)."""
    content = make_content(tmp_path, {"a.txt": many_papers("Old", old)})
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    (content / "digests" / "b.txt").write_text(many_papers("New", new), encoding="utf-8")
    return content, out, tree(out)


def test_kill_9_at_random_moments_never_leaves_a_partial_site(tmp_path):
    content, out, old = built_then_changed(tmp_path, 300, 300)
    build(BuildOptions(content, tmp_path / "reference"))
    new = tree(tmp_path / "reference")

    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "generator", "build", "--quiet", "--content", str(content),
                    "--out", str(tmp_path / "timing")], check=True, cwd=REPO)
    full = time.perf_counter() - started

    outcomes = []
    rng = random.Random(20250314)
    for _ in range(8):
        process = subprocess.Popen([sys.executable, "-m", "generator", "build", "--quiet", "--no-cache",
                                    "--content", str(content), "--out", str(out)], cwd=REPO)  # always a real build
        time.sleep(rng.uniform(0.0, full))
        process.send_signal(signal.SIGKILL)
        process.wait()
        now = tree(out)
        assert now in (old, new), "site/ is neither the complete old nor the complete new site"
        outcomes.append("new" if now == new else "old")
    # The next build clears what the killed ones left beside the output folder.
    build(BuildOptions(content, out))
    assert tree(out) == new
    assert listing(tmp_path) == ["content", "reference", "site", "timing"]
    assert "old" in outcomes, f"no kill landed before the swap: {outcomes}"


def test_kill_9_during_incremental_builds_never_leaves_a_partial_site_or_a_lying_cache(tmp_path):
    """Incremental builds write into the kept spare site and trust the cache; killed at random
    moments, the site is still whole, and the builds after it still equal clean builds."""
    content, out, without = built_then_changed(tmp_path, 300, 40)
    build(BuildOptions(content, tmp_path / "reference"))
    with_b = tree(tmp_path / "reference")
    extra = content / "digests" / "b.txt"
    saved = extra.read_bytes()
    command = [sys.executable, "-m", "generator", "build", "--quiet", "--content", str(content), "--out", str(out)]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO)  # the site now has b.txt; the old one is the spare
    full = time.perf_counter() - started
    rng = random.Random(20251122)
    for attempt in range(8):
        extra.unlink() if extra.exists() else extra.write_bytes(saved)
        process = subprocess.Popen(command, cwd=REPO)
        time.sleep(rng.uniform(0.0, full))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert tree(out) in (without, with_b), f"attempt {attempt}: a partial site"
    for wanted in (with_b, without, with_b):
        extra.unlink() if extra.exists() else extra.write_bytes(saved)
        build(BuildOptions(content, out))
        assert tree(out) == (with_b if extra.exists() else without)
    assert listing(tmp_path) == ["content", "reference", "site"]


def test_a_template_error_leaves_the_site_untouched(tmp_path):
    content = make_content(tmp_path, {"a.txt": many_papers("Some", 3)})
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    before = tree(out)
    (content / "theme" / "templates").mkdir(parents=True)
    (content / "theme" / "templates" / "paper.html").write_text("{{ paper.no_such_field.oops }}")
    from support import run_cli

    result = run_cli("build", "--content", str(content), "--out", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr and "left unchanged" in result.stderr
    assert tree(out) == before


def test_ctrl_c_midway_leaves_the_old_site_and_says_so(tmp_path):
    content, out, old = built_then_changed(tmp_path, 50, 1500)  # parallel rendering, a wide window
    process = subprocess.Popen([sys.executable, "-m", "generator", "build", "--content", str(content), "--out", str(out)],
                               cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".site.paperdigest-new-*")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)  # wait until the build is writing its staging folder
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert tree(out) == old
    assert listing(tmp_path) == ["content", "site"]
