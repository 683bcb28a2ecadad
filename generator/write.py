"""Write a whole site or nothing: assemble it in a folder beside the target, then swap.

The staging folder is either new, or the site before last (kept by the previous build in its
cache folder), brought up to date by touching only the files that differ: unchanged files are
hard links to the current site's, so a one-digest change to a 60,000-file site writes a few
hundred files. Files are always replaced as new inodes, never rewritten in place, so the live
site's linked files are never touched. The staging folder lives on the target's file system
so the final step is a rename. On Linux the swap is a single atomic renameat2(RENAME_EXCHANGE): at every instant the
target path holds either the complete old site or the complete new one, even under kill -9.
Elsewhere it falls back to two renames, and a later build restores the old site if a crash
fell between them.

A file system that refuses the build (full, over quota, read-only, not permitted) is reported
as one DiskError naming the path as the user knows it: a file of the staging folder is named
as the site file it was to become.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import ctypes.util
import os
import shutil
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Container, Iterable, Iterator

from generator.diagnostics import BuildError, UsageError, error
from generator.manifest import NAME as MARKER  # marks a folder as a paperdigest build
from generator.output import OutputFile

TEMP_TAG = ".paperdigest-"
RENAME_EXCHANGE = 2
AT_FDCWD = -100
# What the file system can refuse a build for, in words; other OSErrors are bugs and stay themselves.
# (By name: not every system has every errno.)
REASONS = {getattr(errno, name): reason for name, reason in (
    ("ENOSPC", "no space left on the device"),
    ("EDQUOT", "the disk quota is exceeded"),
    ("EROFS", "the file system is read-only"),
    ("EACCES", "permission denied"),
    ("EPERM", "the operation is not permitted"),
    ("EIO", "an input/output error"),
    ("EBUSY", "the output folder is in use (a mount point cannot be replaced)"),
    ("EXDEV", "a file is on another file system (is the output folder a mount point?)"),
) if hasattr(errno, name)}


class DiskError(Exception):
    """The file system refused the build: what it refused and where, in one line."""


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """Name `path` in a file-system error raised inside: a write() that finds the disk full names
    no file, and an error must say where."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None or exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


def disk_error(exc: OSError, label: Path) -> DiskError | None:
    """`exc` as a DiskError if the file system refused the build for a reason in REASONS, else
    None. `label` is the output folder as the user wrote it."""
    reason = REASONS.get(exc.errno or 0)
    if reason is None:
        return None
    shown, output_side = user_path(exc.filename, label)
    return DiskError(f"{reason} {'writing' if output_side else 'reading'} {shown}")


def user_path(filename: str | bytes | None, label: Path) -> tuple[str, bool]:
    """(a path a build touched as the user knows it, whether it is on the output side). A staging
    folder's or the spare's file is named as the site file it was to become, and the cache's
    files beside `label` as the user would reach them."""
    if filename is None:
        return str(label), True
    out = label.resolve()
    path = Path(os.path.abspath(os.fsdecode(filename)))
    if out.parent not in path.parents:
        return os.fsdecode(filename), False
    parts = path.relative_to(out.parent).parts
    cache = f".{out.name}.paperdigest"
    if parts[:2] == (cache, "spare"):
        return str(label.joinpath(*parts[2:])), True
    if parts[0] == cache:  # beside the output folder as the user wrote it, unless that is a link
        beside = label.parent if Path(os.path.abspath(label)) == out else out.parent
        return str(beside.joinpath(*parts)), True
    if parts[0] == out.name or parts[0].startswith(f".{out.name}{TEMP_TAG}"):
        return str(label.joinpath(*parts[1:])), True
    return os.fsdecode(filename), False


def check_target(out: Path, content: Path, replace: bool) -> None:
    """Refuse targets where a build would destroy something that is not a previous build."""
    out, content = out.resolve(), content.resolve()
    if out == content or out in content.parents:
        raise UsageError(f"refusing to build into {out}: it contains the content folder {content}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"refusing to build into {out}: it is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() and not replace:
        raise UsageError(f"refusing to replace {out}: it is not empty and was not built by paperdigest "
                         "(use --replace to replace it anyway)")


@dataclass
class Staging:
    """A folder to assemble the next site in that already holds a site: the one before last,
    kept by the previous build (see cache.py). `holds` is path -> key of each file in it; it is
    kept exact as files change, so even after a failure the caller knows what the folder holds."""

    root: Path
    holds: dict[str, str]


def write_site(files: Iterable[OutputFile], out: Path,
               verify: Callable[[dict[str, str]], bytes] = lambda written: b"",
               staging: Staging | None = None, live: Container[str] = ()) -> tuple[dict[str, str], Path | None]:
    """Assemble every file in a staging folder, let `verify` inspect what is there, then swap it in.

    Files the stages reused (data None) are hard links to the current site's copies; with a
    `staging` folder that holds the site before last, only files that differ from it are
    touched, so a small change to a large site writes little. Without one, a fresh folder is
    used. `verify` returns the marker (manifest) to write last. `live`: the paths the current
    site holds; a file made again with the very bytes the current site has is linked, not
    written (a key says what a file is made of, and a change to that need not change its bytes).

    Returns (path -> key of every file written, where the old site now is, or None).
    Any exception (from rendering, verify, the disk, or Ctrl-C) leaves `out` exactly as it was;
    a given `staging` folder is then left as it is, with `holds` saying what it holds. Ctrl-C
    once the new site is in place is too late to undo it: the build has succeeded.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    fresh = staging is None
    staged = None
    if staging is None:  # named before it exists, so an interrupt at any point can remove it
        staging = Staging(out.parent / f".{out.name}{TEMP_TAG}new-{os.getpid()}-{secrets.token_hex(4)}", {})
    try:
        if fresh:
            staging.root.mkdir(mode=0o700)
        written = Assembler(staging, out, fresh, live).assemble(files)
        (staging.root / MARKER).unlink(missing_ok=True)
        marker = verify(written)
        with naming(staging.root / MARKER):
            (staging.root / MARKER).write_bytes(marker)
        os.chmod(staging.root, 0o755)
        existed = out.exists()
        staged = os.stat(staging.root).st_ino
        swap_in(staging.root, out)
    except KeyboardInterrupt:
        if not swapped(out, staged):
            discard(staging, fresh)
            raise
        # Ctrl-C just after the exchange: the new site is whole and in place; saying it was left
        # unchanged would be false, and the cache would be told the old site's keys.
    except BaseException:
        discard(staging, fresh)
        raise
    return written, staging.root if existed and staging.root.is_dir() else None


def swapped(out: Path, staged: int | None) -> bool:
    """Whether `out` is now the folder that was staged (its inode, taken before the swap; 0 where
    the file system has none, which proves nothing)."""
    try:
        return bool(staged) and os.stat(out).st_ino == staged
    except OSError:
        return False


def discard(staging: Staging, fresh: bool) -> None:
    """After a failed build: a fresh staging folder goes; a spare is kept (its `holds` says what it holds)."""
    if fresh:
        shutil.rmtree(staging.root, ignore_errors=True)


class Assembler:
    """Brings a staging folder to hold exactly the files of one build."""

    def __init__(self, staging: Staging, live: Path, fresh: bool, existing: Container[str] = ()):
        self.root = staging.root
        self.holds = staging.holds
        self.live = live
        self.existing = existing  # paths the live site holds
        self.fresh = fresh  # an empty new folder: nothing to replace
        self.folders: set[Path] = set()
        self.links = True  # hard links to the live site's files, until the file system refuses one

    def assemble(self, files: Iterable[OutputFile]) -> dict[str, str]:
        written: dict[str, str] = {}
        for item in files:
            self.check(item, written)
            key = item.key or content_key(item.data or b"")
            written[item.path] = key
            if self.holds.get(item.path) != key:
                self.place(item, key)
        for path in sorted(set(self.holds) - set(written)):  # in the folder, not in this build
            self.holds.pop(path)
            (self.root / path).unlink(missing_ok=True)
        return written

    @staticmethod
    def check(item: OutputFile, written: dict[str, str]) -> None:
        """Two files with one path is a bug, never a silent overwrite; nothing leaves the site
        (on any platform: a backslash or a drive's colon would on Windows)."""
        if item.path.startswith("/") or ".." in item.path.split("/") or "\\" in item.path or ":" in item.path:
            raise BuildError([error(item.path, None, "an output path points outside the site",
                                    "this is a paperdigest or theme bug; please report it")])
        if item.path in written:
            raise BuildError([error(item.path, None, "two outputs would be written to this same file",
                                    "rename one of the clashing inputs (a hand-written page, an undated dump)")])

    def place(self, item: OutputFile, key: str) -> None:
        """Put one file in place as a new inode: the old one may be a link shared with the live site."""
        with naming(self.root / item.path):
            self.put(item)
        self.holds[item.path] = key

    def put(self, item: OutputFile) -> None:
        target = self.root / item.path
        self.holds.pop(item.path, None)
        if not self.fresh:  # even a file `holds` does not know of (a write cut short) goes first
            target.unlink(missing_ok=True)
        if target.parent not in self.folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(target.parent)
        if item.data is None or self.unchanged(item):
            try:
                self.reuse(self.live / item.path, target)
            except FileNotFoundError:
                raise BuildError([error(str(self.live / item.path), None, "the current site lacks a file this build "
                                        "meant to keep", "build again with --replace")]) from None
        else:
            target.write_bytes(item.data)

    def unchanged(self, item: OutputFile) -> bool:
        """Whether the live site's file has exactly these bytes (compared only when the sizes agree)."""
        if item.path not in self.existing or item.data is None:
            return False
        source = self.live / item.path
        try:
            return source.stat().st_size == len(item.data) and source.read_bytes() == item.data
        except OSError:
            return False

    def reuse(self, source: Path, target: Path) -> None:
        """A file of the live site, as a hard link where the file system allows them, else as a
        copy: FAT and exFAT, some network shares and Windows setups refuse links (EPERM, EACCES,
        EXDEV, EMLINK, ENOTSUP; WinError 1). Once one is refused, the rest of the build copies."""
        if self.links:
            try:
                os.link(source, target)
                return
            except (FileNotFoundError, FileExistsError):  # the live file is gone (the caller says so); a bug
                raise
            except OSError:
                self.links = False
        shutil.copyfile(source, target)  # a new file: the live site's is never written through


def content_key(data: bytes) -> str:
    """The key of a file whose stage gave none: its bytes' hash."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def swap_in(staging: Path, out: Path) -> None:
    """Make `out` the staged site. Afterwards `staging` holds the old site (or nothing)."""
    if not out.exists():
        os.rename(staging, out)
        return
    if exchange(staging, out):
        return
    backup = out.with_name(f".{out.name}{TEMP_TAG}old")
    shutil.rmtree(backup, ignore_errors=True)
    os.rename(out, backup)
    os.rename(staging, out)
    os.rename(backup, staging)


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2; False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return result == 0


def recover(out: Path) -> None:
    """Clear what an interrupted build left beside `out`, restoring the old site if it was moved."""
    backup = out.with_name(f".{out.name}{TEMP_TAG}old")
    if backup.is_dir() and not out.exists():
        os.rename(backup, out)
    for leftover in out.parent.glob(f".{out.name}{TEMP_TAG}*"):
        shutil.rmtree(leftover, ignore_errors=True)
