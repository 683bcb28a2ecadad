"""A build killed at any moment, even at the swap, leaves the output folder a complete old or
complete new site; a damaged cache is noticed and the build starts from scratch; content that
changes during a build gives a site of one version or the other, never of both."""

from __future__ import annotations

import os
import random
import shutil
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
from generator.diagnostics import BuildError
from generator.write import TEMP_TAG

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


# -- a kill -9 at the very moment the new site is swapped in ----------------------------------

# Runs `paperdigest build` with write.swap_in wrapped so that the process kills itself with
# SIGKILL at one moment of the swap (PAPERDIGEST_TEST_KILL_AT): just before it, just after the
# atomic exchange, or after the 1st, 2nd or 3rd rename of the fallback used where renameat2 is
# missing (forced here). The hook lives in this test only; the generator has none.
KILLING_RUNNER = """
import os, signal, sys
import generator.write as write

MOMENT = os.environ["PAPERDIGEST_TEST_KILL_AT"]
real_swap_in, real_rename = write.swap_in, os.rename


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def renaming_then_dying(after):
    done = []

    def rename(source, target):
        real_rename(source, target)
        done.append(source)
        if len(done) == after:
            die()

    return rename


def swap_in(staging, out):
    if MOMENT == "before the swap":
        die()
    if MOMENT.startswith("after rename"):
        write.exchange = lambda a, b: False
        os.rename = renaming_then_dying(int(MOMENT.split()[-1]))
    real_swap_in(staging, out)
    if MOMENT == "after the exchange":
        die()


write.swap_in = swap_in
from generator.cli import main
sys.exit(main(sys.argv[1:]))
"""
MOMENTS = ["before the swap", "after the exchange", "after rename 1", "after rename 2", "after rename 3"]


@pytest.mark.parametrize("staging", ["fresh", "spare"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_kill_9_at_the_swap_leaves_a_whole_site_and_the_next_build_is_clean(tmp_path, moment, staging):
    """`fresh`: the new site is staged in a new folder; `spare`: in the site before last, kept
    in the cache, which after the swap holds the old site while the cache no longer vouches for it."""
    content, out, old = built_then_changed(tmp_path, 60, 20)
    if staging == "spare":
        build(BuildOptions(content, out))  # the site before is now the spare
        old = tree(out)
        (content / "digests" / "c.txt").write_text(many_papers("Newer", 10), encoding="utf-8")
    build(BuildOptions(content, tmp_path / "reference"))
    new = tree(tmp_path / "reference")
    runner = tmp_path / "runner.py"
    runner.write_text(KILLING_RUNNER, encoding="utf-8")
    process = subprocess.run([sys.executable, str(runner), "build", "--quiet", "--content", str(content),
                              "--out", str(out)], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO),
                                                                "PAPERDIGEST_TEST_KILL_AT": moment})
    assert process.returncode == -signal.SIGKILL
    backup = tmp_path / f".site{TEMP_TAG}old"
    if moment == "before the swap":
        assert tree(out) == old
    elif moment == "after rename 1":  # the old site, whole, under the name the next build restores
        assert not out.exists() and tree(backup) == old
    else:
        assert tree(out) == new
    build(BuildOptions(content, out))
    assert tree(out) == new
    assert listing(tmp_path) == ["content", "reference", "runner.py", "site"]
    assert build(BuildOptions(content, out)).up_to_date


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "three renames"])
@pytest.mark.parametrize("staging", ["fresh", "spare"])
def test_ctrl_c_just_after_the_swap_is_too_late_and_the_build_succeeds(tmp_path, monkeypatch, staging, exchange):
    """Ctrl-C as the swap returns: the new site is in place, so the build reports success (not
    "left unchanged"), and the cache records the new site's keys: the next builds reuse them and
    stay equal to clean builds."""
    import generator.write as write

    content, out, _ = built_then_changed(tmp_path, 60, 20)
    if staging == "spare":
        build(BuildOptions(content, out))
        (content / "digests" / "c.txt").write_text(many_papers("Newer", 10), encoding="utf-8")
    real_swap_in = write.swap_in
    if not exchange:
        monkeypatch.setattr(write, "exchange", lambda a, b: False)

    def interrupted(staging_root, target):
        real_swap_in(staging_root, target)
        raise KeyboardInterrupt

    monkeypatch.setattr(write, "swap_in", interrupted)
    summary = build(BuildOptions(content, out))
    monkeypatch.setattr(write, "swap_in", real_swap_in)
    build(BuildOptions(content, tmp_path / "reference", no_cache=True))
    assert not summary.up_to_date and tree(out) == tree(tmp_path / "reference")
    assert build(BuildOptions(content, out)).up_to_date
    (content / "digests" / "d.txt").write_text(many_papers("Newest", 5), encoding="utf-8")
    build(BuildOptions(content, out))
    build(BuildOptions(content, tmp_path / "reference2", no_cache=True))
    assert tree(out) == tree(tmp_path / "reference2")
    assert listing(tmp_path) == ["content", "reference", "reference2", "site"]


# -- a cache folder with a damaged file --------------------------------------------------------

DAMAGE = {
    "cut short": lambda data: data[: len(data) // 2],
    "garbage": lambda data: random.Random(len(data)).randbytes(max(len(data), 64)),
    "empty": lambda data: b"",  # what a crash can leave of a file renamed before it reached the disk
}


def cache_files(root: Path) -> list[str]:
    """The cache's own files, by name from its folder: not the spare site, not the lock, and not
    what related.py and search.py keep (each checks its own entries, and a damaged one is a miss
    it recomputes, without a word: tests/test_related.py and tests/test_search.py damage them)."""
    own = {"spare", "related", "search-segments"}
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not own & set(p.relative_to(root).parts) and p.name != "lock")


def test_each_damaged_cache_file_is_noticed_and_the_build_starts_from_scratch(tmp_path):
    """Every file of the cache in turn, each cut short, garbled or emptied (the damage in turn
    too): the next build (of a retitled site, so that it has work to do) says so in one line,
    remembers nothing, and equals a clean build."""
    content = make_content(tmp_path, {"a.txt": many_papers("First", 12), "b.txt": many_papers("Second", 12)})
    shutil.copy(REPO / "tests" / "fixtures" / "api" / "2025-03-15.json", content / "digests")
    titles = {title: f'default_year = 2025\ntitle = "{title}"\n' for title in ("One", "Two")}
    out = tmp_path / "site"
    references = {}
    for title, toml in titles.items():
        (content / "site.toml").write_text(toml, encoding="utf-8")
        build(BuildOptions(content, tmp_path / f"reference-{title}"))
        references[title] = tree(tmp_path / f"reference-{title}")
    build(BuildOptions(content, out))
    root = Cache(out).root
    names = cache_files(root)
    assert {"state.json", "files.marshal", "names.marshal", "stats.marshal", "tables/topics",
            "tables/part-versions", "catalog/head"} <= set(names)
    assert [n for n in names if n.startswith("dumps/")] and [n for n in names if n.startswith("templates/")]
    damages = sorted(DAMAGE)
    for turn, name in enumerate(names):
        assert cache_files(root) == names  # the build before wrote every file again
        damage = damages[turn % len(damages)]
        (root / name).write_bytes(DAMAGE[damage]((root / name).read_bytes()))
        if name.startswith("dumps/"):  # a parsed dump is read only when the kept catalog cannot stand in for it
            (root / "catalog" / "head").unlink()
        title = ("One", "Two")[turn % 2]
        (content / "site.toml").write_text(titles[title], encoding="utf-8")
        notices: list[str] = []
        build(BuildOptions(content, out), notice=notices.append)
        assert notices == [f"the build cache in {root} was damaged ({name}); rebuilding from scratch"], (name, damage)
        assert tree(out) == references[title], (name, damage)
    notices = []
    assert build(BuildOptions(content, out), notice=notices.append).up_to_date and notices == []


def test_a_damaged_cache_is_one_line_on_the_command_line(tmp_path):
    content, out, _ = built_then_changed(tmp_path, 20, 5)
    (Cache(out).root / "names.marshal").write_bytes(b"\x00garbage")
    result = run_cli("build", "--quiet", "--content", str(content), "--out", str(out))
    assert result.returncode == 0
    assert result.stderr.splitlines() == [f"paperdigest: the build cache in {Cache(out).root} was damaged "
                                          "(names.marshal); rebuilding from scratch"]
    build(BuildOptions(content, tmp_path / "reference"))
    assert tree(out) == tree(tmp_path / "reference")


# -- content that changes while a build reads it -----------------------------------------------

class Versions:
    """A content folder of many dumps and the change that makes its next version: one dump
    rewritten (its papers renamed) and one added, each replaced whole, a moment apart, as an
    editor or `paperdigest fetch` would. `old` and `new` are clean builds of the two."""

    def __init__(self, root: Path, dumps: int, papers: int):
        self.content = make_content(root, {f"d{n:02}.txt": many_papers(f"Batch {n}", papers) for n in range(dumps)})
        self.rewritten = self.content / "digests" / "d05.txt"
        self.added = self.content / "digests" / f"d{dumps:02}.txt"
        self.before = self.rewritten.read_bytes()
        self.after = many_papers("Rewritten batch", papers).encode()
        self.old = self.reference(root / "reference-old")
        self.change()
        self.new = self.reference(root / "reference-new")
        self.undo()

    def reference(self, out: Path) -> dict[str, bytes]:
        build(BuildOptions(self.content, out))
        return tree(out)

    def change(self) -> None:
        replace(self.rewritten, self.after)
        replace(self.added, many_papers("Added batch", 7).encode())

    def undo(self) -> None:
        replace(self.rewritten, self.before)
        self.added.unlink(missing_ok=True)


def replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def test_a_dump_rewritten_and_one_added_while_the_dumps_are_read(tmp_path, monkeypatch):
    """The change lands while the build parses the one dump it has no parse cached for: the
    dumps after it come from the cache as the fingerprint saw them, the added one does not. The
    build starts again rather than make a site of both versions."""
    versions = Versions(tmp_path, 10, 8)
    out = tmp_path / "site"
    build(BuildOptions(versions.content, out))
    replace(versions.content / "digests" / "d00.txt", many_papers("Batch 0, edited", 8).encode())
    build(BuildOptions(versions.content, tmp_path / "reference-old"))  # the version the build begins with
    versions.old = tree(tmp_path / "reference-old")
    versions.change()
    build(BuildOptions(versions.content, tmp_path / "reference-new"))
    versions.new = tree(tmp_path / "reference-new")
    versions.undo()
    import generator.inputs as pipeline

    parse, changed = pipeline.parse_dump, []

    def parse_during_a_change(*args, **kwargs):
        if not changed:
            versions.change()
            changed.append(True)
        return parse(*args, **kwargs)

    monkeypatch.setattr(pipeline, "parse_dump", parse_during_a_change)
    notices: list[str] = []
    build(BuildOptions(versions.content, out), notice=notices.append)
    # The added dump (or the rewritten one, if the generator's source changed since the cache
    # was written and no parse is reused) is seen to be newer than the fingerprint.
    assert notices in ([f"{versions.added} changed during the build; building again"],
                       [f"{versions.rewritten} changed during the build; building again"])
    assert tree(out) == versions.new


def test_a_template_changed_while_pages_are_rendered(tmp_path):
    """Jinja reloads a template whose file changed, so pages rendered after the change would use
    it: the build notices the theme changed before its swap, and builds again."""
    content = make_content(tmp_path, {f"d{n}.txt": many_papers(f"Batch {n}", 30) for n in range(4)})
    override = content / "theme" / "templates" / "paper.html"
    override.parent.mkdir(parents=True)
    original = (REPO / "themes" / "default" / "templates" / "paper.html").read_text(encoding="utf-8")
    assert "Featured in" in original
    references = {}
    for version, text in (("old", original), ("new", original.replace("Featured in", "Seen in"))):
        override.write_text(text, encoding="utf-8")
        build(BuildOptions(content, tmp_path / f"reference-{version}"))
        references[version] = tree(tmp_path / f"reference-{version}")
    override.write_text(original, encoding="utf-8")
    out = tmp_path / "site"

    def progress(files, total):
        for number, item in enumerate(files):
            if number == total // 2 and "Seen in" not in override.read_text(encoding="utf-8"):
                replace(override, original.replace("Featured in", "Seen in").encode())
            yield item

    notices: list[str] = []
    build(BuildOptions(content, out), progress=progress, notice=notices.append)
    assert notices == [f"{override} changed during the build; building again"]
    assert tree(out) == references["new"]
    assert build(BuildOptions(content, out)).up_to_date


def test_content_that_changes_during_every_attempt_fails_and_leaves_the_site(tmp_path):
    content, out, _ = built_then_changed(tmp_path, 20, 5)
    build(BuildOptions(content, out))
    before = tree(out)
    (content / "digests" / "c.txt").write_text(many_papers("Third", 3), encoding="utf-8")
    moving = content / "digests" / "b.txt"

    def progress(files, total):
        replace(moving, moving.read_bytes() + b"More words.\n\n")
        yield from files

    with pytest.raises(BuildError, match="changed during each of 3 attempts"):
        build(BuildOptions(content, out), progress=progress)
    assert tree(out) == before
    assert listing(tmp_path) == ["content", "site"]


def test_content_changed_at_random_moments_of_real_builds_gives_one_version_or_the_other(tmp_path):
    """A second writer (a thread here) changes the content while `paperdigest build` runs in
    its own process, at moments spread over the whole build: each site is a clean build of the
    old content or of the new, never a mix, and the following build brings it up to date."""
    versions = Versions(tmp_path, 30, 20)
    out = tmp_path / "site"
    command = [sys.executable, "-m", "generator", "build", "--quiet", "--no-cache", "--content",
               str(versions.content), "--out", str(out)]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO)
    full = time.perf_counter() - started
    rng = random.Random(20261202)
    outcomes = []
    for attempt in range(6):
        versions.undo()
        process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
        writer = threading.Timer(rng.uniform(0.0, full), versions.change)
        writer.start()
        _, stderr = process.communicate(timeout=300)
        writer.join()
        assert process.returncode == 0, stderr
        now = tree(out)
        assert now in (versions.old, versions.new), f"attempt {attempt}: a site of neither version"
        outcomes.append("built again" if "changed during the build; building again" in stderr else "")
        build(BuildOptions(versions.content, out))
        assert tree(out) == versions.new
    assert "built again" in outcomes, f"no change landed during a build: {outcomes}"
