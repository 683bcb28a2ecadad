"""A file system that refuses the build: a full disk (ENOSPC, on a real tmpfs), a read-only
one (EROFS), a mount point as the output folder (EBUSY) and a folder the user may not write
(EACCES). Each ends the build with one line naming the path and the reason and exit code 1;
the site and the cache are left as they were, and a build once the disk is fixed equals a
clean build. Mounting needs root: where mount is refused, the test says so and is skipped."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import CONTENT, REPO, tree

from generator.build import BuildOptions, build
from generator.cache import Cache

FAILED = re.compile(r"paperdigest: build failed: (?P<reason>.+) (?P<doing>writing|reading) (?P<path>\S+); "
                    r"(?P<out>\S+) was left unchanged")
BOOKKEEPING = ("files.marshal", "state.json", "names.marshal", "tables/topics", "tables/part-versions")


def run(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "generator", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def sh(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True)


@pytest.fixture
def mount(tmp_path):
    """mount(folder, *options): a tmpfs, or a bind mount with options ("bind", source); every
    mount is undone after the test (umount -l), whatever happened."""
    mounted: list[Path] = []

    def make(folder: Path, *options: str, source: Path | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if shutil.which("mount") is None:
            pytest.skip("there is no mount command here")
        args = ["mount", "--bind", str(source), str(folder)] if source else \
            ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(folder)]
        result = sh(*args)
        if result.returncode != 0:
            pytest.skip(f"mount was refused ({'root' if os.geteuid() == 0 else 'not root'}): {result.stderr.strip()}")
        mounted.append(folder)

    yield make
    for folder in reversed(mounted):
        sh("umount", "-l", str(folder))


def remount(folder: Path, options: str) -> None:
    result = sh("mount", "-o", f"remount,{options}", str(folder))
    assert result.returncode == 0, result.stderr


def seeded(root: Path) -> Path:
    content = root / "content"
    shutil.copytree(CONTENT, content, ignore=shutil.ignore_patterns("theme"))
    return content


def retitle(content: Path) -> None:
    """A change to every page: the site's title."""
    toml = content / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("Daily Papers Digest", "Papers Kept"), encoding="utf-8")


def clean(content: Path, root: Path) -> dict[str, bytes]:
    out = root / "clean"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(root / ".clean.paperdigest", ignore_errors=True)
    build(BuildOptions(content, out))
    return tree(out)


def cache_files(out: Path) -> dict[str, bytes]:
    root = out.with_name(f".{out.name}.paperdigest")
    return {name: (root / name).read_bytes() for name in BOOKKEEPING if (root / name).exists()}


def the_one_line(result: subprocess.CompletedProcess) -> re.Match:
    """The failure: exit code 1, one line on stderr, no traceback."""
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    found = FAILED.fullmatch(lines[0])
    assert found, lines[0]
    return found


def fill(disk: Path, leave: int) -> None:
    """Fill the file system but for about `leave` bytes."""
    stats = os.statvfs(disk)
    with open(disk / "filler", "wb") as handle:
        handle.truncate(0)
        handle.write(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave))


@pytest.mark.parametrize("staging", ["fresh", "spare"])
def test_a_full_disk_fails_with_one_line_and_leaves_site_and_cache_as_they_were(tmp_path, mount, staging):
    """A site-wide change rewrites every page: in a new staging folder beside the site (`fresh`),
    or in the site before last that the cache keeps (`spare`, whose files are links to the live
    site's, so replacing them frees nothing). The tmpfs holds too little for either."""
    disk = tmp_path / "disk"
    mount(disk, "size=64m")
    content = seeded(tmp_path)
    out = disk / "site"
    build(BuildOptions(content, out))
    if staging == "spare":
        shutil.copy(REPO / "tests" / "fixtures" / "api" / "2025-03-15.json", content / "digests")
        build(BuildOptions(content, out))  # the first site is now the spare
        assert Cache(out).spare.is_dir()
    retitle(content)
    before, kept, (live, _) = tree(out), cache_files(out), Cache(out).file_keys()
    fill(disk, 1_500_000)
    found = the_one_line(run("build", "--content", str(content), "--out", str(out)))
    assert found["reason"] == "no space left on the device" and found["doing"] == "writing"
    assert found["path"].startswith(f"{out}/") and found["out"] == str(out)  # a site file, not the staging's
    assert tree(out) == before
    if staging == "spare":  # the spare is scratch space: it was written in, or dropped to make room
        assert Cache(out).file_keys()[0] == live
        kept.pop("files.marshal")
        assert {k: v for k, v in cache_files(out).items() if k != "files.marshal"} == kept
    else:
        assert cache_files(out) == kept
    assert sorted(p.name for p in disk.iterdir()) == [".site.paperdigest", "filler", "site"]
    (disk / "filler").unlink()
    result = run("build", "--quiet", "--content", str(content), "--out", str(out))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert tree(out) == clean(content, tmp_path)


def test_a_disk_too_small_for_the_cache_fails_as_clearly(tmp_path, mount):
    """Room for the site but not for the cache's copy of a new parsed dump."""
    disk = tmp_path / "disk"
    mount(disk, "size=64m")
    content = seeded(tmp_path)
    out = disk / "site"
    build(BuildOptions(content, out))
    before = tree(out)
    shutil.copy(REPO / "tests" / "fixtures" / "api" / "2025-03-15.json", content / "digests")
    fill(disk, 8_192)
    found = the_one_line(run("build", "--content", str(content), "--out", str(out)))
    assert found["reason"] == "no space left on the device"
    assert found["path"].startswith(f"{disk}/.site.paperdigest/"), found["path"]
    assert tree(out) == before
    assert not [p for p in (disk / ".site.paperdigest").rglob("*.tmp")]  # no half-written file left
    (disk / "filler").unlink()
    assert run("build", "--content", str(content), "--out", str(out)).returncode == 0
    assert tree(out) == clean(content, tmp_path)


def test_a_read_only_file_system_fails_with_one_line(tmp_path, mount):
    disk = tmp_path / "disk"
    mount(disk, "size=64m")
    content = seeded(tmp_path)
    out = disk / "site"
    build(BuildOptions(content, out))
    before, kept = tree(out), cache_files(out)
    retitle(content)
    remount(disk, "ro")
    found = the_one_line(run("build", "--content", str(content), "--out", str(out)))
    assert found["reason"] == "the file system is read-only" and found["doing"] == "writing"
    assert found["path"] == f"{disk}/.site.paperdigest/lock"  # the first thing a build writes
    remount(disk, "rw")
    assert tree(out) == before and cache_files(out) == kept
    assert run("build", "--content", str(content), "--out", str(out)).returncode == 0
    assert tree(out) == clean(content, tmp_path)


@pytest.mark.parametrize("cache", ["reused files", "--no-cache"])
def test_an_output_folder_that_is_a_read_only_mount_point_fails_with_one_line(tmp_path, mount, cache):
    """A build assembles the site beside the output folder and renames it in; files it reuses are
    hard links to the current site's, or copies where links are refused (here: EXDEV across the
    mount). The rename cannot replace a mount point (EBUSY), so a mounted output folder is
    refused with the reason, and the staged site is cleared away."""
    content = seeded(tmp_path)
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    before = tree(out)
    mount(out, source=out)
    remount(out, "bind,ro")
    retitle(content)
    found = the_one_line(run("build", "--content", str(content), "--out", str(out),
                             *(["--no-cache"] if cache == "--no-cache" else [])))
    assert found["reason"] == "the output folder is in use (a mount point cannot be replaced)"
    assert found["path"] == str(out)
    assert tree(out) == before
    assert not list(tmp_path.glob(".site.paperdigest-*"))
    sh("umount", "-l", str(out))
    assert run("build", "--content", str(content), "--out", str(out)).returncode == 0
    assert tree(out) == clean(content, tmp_path)


# Root may write anywhere (CAP_DAC_OVERRIDE). A user that may not: root without those
# capabilities (setpriv drops them from the bounding set, so the build has them in no form).
# A non-root user cannot be used here: the interpreter lives under /root, which only root reads.
NOT_ROOT = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


@pytest.mark.parametrize("locked_out", ["the output's parent", "the cache folder"])
def test_a_folder_the_user_may_not_write_fails_with_one_line(tmp_path, locked_out):
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv (util-linux) to drop the permission override")
    content = seeded(tmp_path)
    www = tmp_path / "www"
    out = www / "site"
    build(BuildOptions(content, out))
    before, kept = tree(out), cache_files(out)
    retitle(content)
    folder = www if locked_out == "the output's parent" else www / ".site.paperdigest"
    folder.chmod(0o555)
    try:
        found = the_one_line(run("build", "--content", str(content), "--out", str(out), prefix=NOT_ROOT))
    finally:
        folder.chmod(0o755)
    assert found["reason"] == "permission denied" and found["doing"] == "writing"
    if locked_out == "the output's parent":
        assert found["path"] == str(out)  # its staging folder, beside it, could not be made
    else:
        assert found["path"].startswith(f"{www}/.site.paperdigest/"), found["path"]
    assert tree(out) == before and cache_files(out) == kept
    assert run("build", "--content", str(content), "--out", str(out), prefix=NOT_ROOT).returncode == 0
    assert tree(out) == clean(content, tmp_path)


def test_an_unreadable_input_is_named_as_read(tmp_path):
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv (util-linux) to drop the permission override")
    content = seeded(tmp_path)
    digest = sorted((content / "digests").iterdir())[0]
    digest.chmod(0o000)
    found = the_one_line(run("build", "--content", str(content), "--out", str(tmp_path / "site"), prefix=NOT_ROOT))
    assert found["reason"] == "permission denied" and found["doing"] == "reading" and found["path"] == str(digest)


def test_a_disk_that_fills_after_the_swap_leaves_the_new_site_and_says_so(tmp_path, monkeypatch):
    """Simulated, as the moment cannot be picked on a real disk: the new site is in place when
    recording what it holds fails. The build succeeds, says the cache was not updated, and
    the next build, knowing less, still equals a clean build."""
    import errno

    from generator.cache import Cache as RealCache

    content = seeded(tmp_path)
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    retitle(content)

    def full(self, live, spare):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.root / "files.marshal"))

    monkeypatch.setattr(RealCache, "record_files", full)
    notices: list[str] = []
    build(BuildOptions(content, out), notice=notices.append)
    assert notices == [f"{out} is built, but its build cache could not be updated (no space left on the device "
                       f"writing {tmp_path}/.site.paperdigest/files.marshal); the next build will redo more work"]
    monkeypatch.undo()
    assert tree(out) == clean(content, tmp_path)
    assert not build(BuildOptions(content, out)).up_to_date  # it does not claim what it never recorded
    assert tree(out) == clean(content, tmp_path)
