"""What a build was made from, so that an unchanged input is not built again.

Two files:
- `.paperdigest` inside the output: marks the folder as paperdigest's to replace, with the
  build's counts. It is part of the site, so it holds nothing that varies between machines.
- `.<out>.paperdigest.json` beside the output (local state, never deployed or committed): a
  fingerprint of every input (the content folder's files, the theme's files, the generator's
  own source and the versions of the libraries that shape the output) and the warnings the
  build printed. Files are fingerprinted by content, not modification time, so no edit is
  missed. It is written after the new site is in place; if that never happens, the next
  build simply does the work again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from generator import __version__
from generator.diagnostics import Diagnostic, Level

NAME = ".paperdigest"
LIBRARIES = ("jinja2", "markdown", "python-slugify", "lunr", "numpy", "markupsafe")
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

    def save_state(self, out: Path) -> None:
        data = {
            "inputs": self.inputs,
            "counts": [self.entries, self.papers, self.digests, self.files],
            "warnings": [[d.level.value, d.path, d.line, d.message, d.hint] for d in self.diagnostics],
        }
        state_path(out).write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")


def state_path(out: Path) -> Path:
    out = out.resolve()
    return out.with_name(f".{out.name}.paperdigest.json")


def read_state(out: Path) -> Manifest | None:
    """What the build now in `out` was made from; None if unknown (no state, or no site)."""
    if not (out / NAME).is_file():
        return None
    try:
        data = json.loads(state_path(out).read_text(encoding="utf-8"))
        entries, papers, digests, files = data["counts"]
        diagnostics = tuple(Diagnostic(Level(level), path, line, message, hint)
                            for level, path, line, message, hint in data["warnings"])
        return Manifest(data["inputs"], entries, papers, digests, files, diagnostics)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def fingerprint(content: Path, theme_dirs: tuple[Path, ...], strict: bool) -> str:
    """sha256 over every input file's relative path and bytes, the generator and its libraries."""
    digest = hashlib.sha256()
    digest.update(f"paperdigest {__version__} strict={strict}\n".encode())
    for library in LIBRARIES:
        digest.update(f"{library} {metadata.version(library)}\n".encode())
    for label, root in (("generator", GENERATOR), ("content", content), *(("theme", d) for d in theme_dirs)):
        for path in sorted(root.rglob("*")) if root.is_dir() else ():
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{label}/{path.relative_to(root).as_posix()}\0".encode("utf-8", "surrogateescape"))
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
