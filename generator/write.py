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
"""

from __future__ import annotations

import ctypes
import hashlib
import ctypes.util
import os
import shutil
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from generator.diagnostics import BuildError, UsageError, error
from generator.manifest import NAME as MARKER  # marks a folder as a paperdigest build
from generator.output import OutputFile

TEMP_TAG = ".paperdigest-"
RENAME_EXCHANGE = 2
AT_FDCWD = -100


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
               staging: Staging | None = None) -> tuple[dict[str, str], Path | None]:
    """Assemble every file in a staging folder, let `verify` inspect what is there, then swap it in.

    Files the stages reused (data None) are hard links to the current site's copies; with a
    `staging` folder that holds the site before last, only files that differ from it are
    touched, so a small change to a large site writes little. Without one, a fresh folder is
    used. `verify` returns the marker (manifest) to write last.

    Returns (path -> key of every file written, where the old site now is, or None).
    Any exception (from rendering, verify, the disk, or Ctrl-C) leaves `out` exactly as it was;
    a given `staging` folder is then left as it is, with `holds` saying what it holds.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    fresh = staging is None
    if staging is None:  # named before it exists, so an interrupt at any point can remove it
        staging = Staging(out.parent / f".{out.name}{TEMP_TAG}new-{os.getpid()}-{secrets.token_hex(4)}", {})
    try:
        if fresh:
            staging.root.mkdir(mode=0o700)
        written = Assembler(staging, out, fresh).assemble(files)
        (staging.root / MARKER).unlink(missing_ok=True)
        (staging.root / MARKER).write_bytes(verify(written))
        os.chmod(staging.root, 0o755)
        existed = out.exists()
        swap_in(staging.root, out)
    except BaseException:
        if fresh:
            shutil.rmtree(staging.root, ignore_errors=True)
        raise
    return written, staging.root if existed else None


class Assembler:
    """Brings a staging folder to hold exactly the files of one build."""

    def __init__(self, staging: Staging, live: Path, fresh: bool):
        self.root = staging.root
        self.holds = staging.holds
        self.live = live
        self.fresh = fresh  # an empty new folder: nothing to replace
        self.folders: set[Path] = set()

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
        """Two files with one path is a bug, never a silent overwrite; nothing leaves the site."""
        if item.path.startswith("/") or ".." in item.path.split("/"):
            raise BuildError([error(item.path, None, "an output path points outside the site",
                                    "this is a paperdigest or theme bug; please report it")])
        if item.path in written:
            raise BuildError([error(item.path, None, "two outputs would be written to this same file",
                                    "rename one of the clashing inputs (a hand-written page, an undated dump)")])

    def place(self, item: OutputFile, key: str) -> None:
        """Put one file in place as a new inode: the old one may be a link shared with the live site."""
        target = self.root / item.path
        self.holds.pop(item.path, None)
        if not self.fresh:  # even a file `holds` does not know of (a write cut short) goes first
            target.unlink(missing_ok=True)
        if target.parent not in self.folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(target.parent)
        if item.data is None:
            try:
                os.link(self.live / item.path, target)
            except FileNotFoundError:
                raise BuildError([error(str(self.live / item.path), None, "the current site lacks a file this build "
                                        "meant to keep", "build again with --replace")]) from None
        else:
            target.write_bytes(item.data)
        self.holds[item.path] = key


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
