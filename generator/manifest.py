"""What a build was made from, so that an unchanged input is not built again.

Two files:
- `.paperdigest` inside the output: marks the folder as paperdigest's to replace, with the
  build's counts. It is part of the site, so it holds nothing that varies between machines.
- `state.json` in the local cache folder beside the output (see cache.py; never deployed or
  committed): a fingerprint of every input (the content folder's files, the theme's files, the generator's
  own source and the versions of the libraries that shape the output) and the warnings the
  build printed. Files are fingerprinted by content, not modification time, so no edit is
  missed. It is written after the new site is in place; if that never happens, the next
  build simply does the work again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from stat import S_ISREG

from generator import __version__
from generator.diagnostics import Diagnostic, Level

NAME = ".paperdigest"
LIBRARIES = ("jinja2", "markdown", "python-slugify", "lunr", "numpy", "scipy", "markupsafe", "feedgen", "lxml")
GENERATOR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Manifest:
    inputs: str  # fingerprint of everything the build read
    entries: int
    papers: int
    digests: int
    files: int
    diagnostics: tuple[Diagnostic, ...]  # the warnings the build printed

    def marker(self) -> bytes:
        """The `.paperdigest` file inside the site: the same bytes on every machine."""
        data = {
            "generator": f"paperdigest {__version__}",
            "note": "This folder is built by paperdigest and is replaced whole by each build.",
            "counts": {"entries": self.entries, "papers": self.papers, "digests": self.digests, "files": self.files},
        }
        return (json.dumps(data, indent=1) + "\n").encode("utf-8")

    def save_state(self, path: Path) -> None:
        data = {
            "inputs": self.inputs,
            "counts": [self.entries, self.papers, self.digests, self.files],
            "warnings": [[d.level.value, d.path, d.line, d.message, d.hint] for d in self.diagnostics],
        }
        path.parent.mkdir(exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n")
        os.replace(temporary, path)


def read_state(out: Path, path: Path) -> Manifest | None:
    """What the build now in `out` was made from; None if unknown (no state, or no site)."""
    if not (out / NAME).is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries, papers, digests, files = data["counts"]
        diagnostics = tuple(Diagnostic(Level(level), path, line, message, hint)
                            for level, path, line, message, hint in data["warnings"])
        return Manifest(data["inputs"], entries, papers, digests, files, diagnostics)
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Fingerprint:
    """sha256 fingerprints of a build's inputs, whole and in the parts later stages key on."""

    code: str  # the generator's source and the versions of the libraries that shape output
    theme: str  # every theme file, the user's overrides included
    inputs: str  # all of it: code, theme, every content file, and --strict
    files: dict[Path, bytes]  # each content file -> its sha256, so nobody hashes it twice
    stats: Stats  # what the next build needs to trust a file unchanged without reading it


# path -> (size, mtime_ns, inode, sha256) of every input file when last hashed, and when that was.
Stats = tuple[int, dict[str, tuple[int, int, int, bytes]]]
RACY_NS = 2_000_000_000  # a file modified this close to the last look may have changed unseen since


def fingerprint(content: Path, theme_dirs: tuple[Path, ...], strict: bool, known: Stats | None = None) -> Fingerprint:
    """Hash every input file by content. A file whose size, modification time and inode are
    what they were when the last build hashed it is not read again (at 30,000 papers that is
    72 MB), unless it was modified within RACY_NS of that look: then an edit made in the same
    clock tick as the look could hide behind an equal time, so it is hashed again (as git does)."""
    now = time.time_ns()
    trusted = known[1] if known else {}
    cutoff = known[0] - RACY_NS if known else 0
    seen: dict[str, tuple[int, int, int, bytes]] = {}
    code = hashlib.sha256(f"paperdigest {__version__}\n".encode())
    for library in LIBRARIES:
        code.update(f"{library} {metadata.version(library)}\n".encode())
    hash_tree(code, "generator", GENERATOR, trusted, cutoff, seen)
    theme = hashlib.sha256()
    for folder in theme_dirs:
        hash_tree(theme, "theme", folder, trusted, cutoff, seen)
    inputs = hashlib.sha256(f"{code.hexdigest()} {theme.hexdigest()} strict={strict}\n".encode())
    files = hash_tree(inputs, "content", content, trusted, cutoff, seen)
    return Fingerprint(code.hexdigest(), theme.hexdigest(), inputs.hexdigest(), files, (now, seen))


def hash_tree(digest, label: str, root: Path, trusted: dict | None = None, cutoff: int = 0,
              seen: dict | None = None) -> dict[Path, bytes]:
    """Feed each file's relative path and sha256 into `digest`; return those sha256s. `trusted`
    (path -> size, mtime, inode, sha256) gives the hashes of files unchanged since, and `seen`
    collects them all for next time."""
    found: dict[Path, bytes] = {}
    trusted = trusted or {}
    for path in sorted(root.rglob("*")) if root.is_dir() else ():
        if "__pycache__" in path.parts:
            continue
        try:
            stat = path.stat()
        except OSError:
            continue
        if not S_ISREG(stat.st_mode):
            continue
        name = str(path)
        known = trusted.get(name)
        if known and known[:3] == (stat.st_size, stat.st_mtime_ns, stat.st_ino) and stat.st_mtime_ns < cutoff:
            found[path] = known[3]
        else:
            found[path] = hashlib.sha256(path.read_bytes()).digest()
        if seen is not None:
            seen[name] = (stat.st_size, stat.st_mtime_ns, stat.st_ino, found[path])
        digest.update(f"{label}/{path.relative_to(root).as_posix()}\0".encode("utf-8", "surrogateescape"))
        digest.update(found[path])
    return found
