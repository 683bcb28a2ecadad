"""Write a whole site or nothing: build into a temporary folder beside the target, then swap.

The temporary folder lives in the target's parent so the final step is a rename on one file
system. On Linux the swap is a single atomic renameat2(RENAME_EXCHANGE): at every instant the
target path holds either the complete old site or the complete new one, even under kill -9.
Elsewhere it falls back to two renames, and a later build restores the old site if a crash
fell between them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from generator.diagnostics import BuildError, UsageError, error
from generator.manifest import NAME as MARKER  # marks a folder as a paperdigest build
from generator.render import OutputFile

TEMP_TAG = ".paperdigest-"
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def check_target(out: Path, content: Path, force: bool) -> None:
    """Refuse targets where a build would destroy something that is not a previous build."""
    out, content = out.resolve(), content.resolve()
    if out == content or out in content.parents:
        raise UsageError(f"refusing to build into {out}: it contains the content folder {content}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"refusing to build into {out}: it is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() and not force:
        raise UsageError(f"refusing to replace {out}: it is not empty and was not built by paperdigest "
                         "(use --force to replace it anyway)")


def write_site(files: Iterable[OutputFile], out: Path,
               verify: Callable[[set[str]], bytes] = lambda written: b"") -> int:
    """Write every file to a fresh folder, let `verify` inspect what was written, then swap it in.

    `verify` returns the marker (manifest) to write last. Returns how many files were written.
    Any exception (from rendering, verify, the disk, or Ctrl-C) leaves `out` exactly as it was.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}{TEMP_TAG}new-", dir=out.parent))
    try:
        written = write_all(files, staging)
        (staging / MARKER).write_bytes(verify(written))
        os.chmod(staging, 0o755)
        swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # The new site is in place and the build is done; `staging` now holds the old site.
    try:
        shutil.rmtree(staging, ignore_errors=True)
    except KeyboardInterrupt:
        pass  # Ctrl-C during clean-up: the next build's recover() removes what is left
    return len(written)


def write_all(files: Iterable[OutputFile], root: Path) -> set[str]:
    """Write files under root; two files with one path is a bug, never a silent overwrite."""
    written: set[str] = set()
    for item in files:
        relative = PurePosixPath(item.path)
        if relative.is_absolute() or ".." in relative.parts:
            raise BuildError([error(item.path, None, "an output path points outside the site",
                                    "this is a paperdigest or theme bug; please report it")])
        if item.path in written:
            raise BuildError([error(item.path, None, "two outputs would be written to this same file",
                                    "rename one of the clashing inputs (a hand-written page, an undated dump)")])
        written.add(item.path)
        target = root.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.data)
    return written


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
