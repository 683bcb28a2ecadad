"""What one build keeps for the next, so that adding a digest to a large site costs little.

Everything lives in a local folder beside the output, `.<out>.paperdigest/` (never deployed;
git ignores it):

  state.json     what the site now in <out> was built from (see manifest.py)
  files.marshal  path -> key of every file in <out>, and of every file in spare/
  names.marshal  title -> (paper key, slug), see catalog.Names
  stats.marshal  each input file's size, mtime, inode and sha256 (unchanged files are not read)
  records.marshal  each paper's papers.json record, by a hash of what it is made from (exports.py)
  topics.marshal  each paper's topics, by a hash of its text, and the taxonomy they are from
  templates/     the theme's templates compiled by Jinja, by a hash of their source
  dumps/<hash>   a parsed dump, named by a hash of its bytes, its settings and the generator
  spare/         the site before last, which the writer turns into the next site (write.py)

All of it is a cache. Each file is written whole under a temporary name and renamed, and each
is read defensively: anything missing, unreadable or written by another Python is a miss,
which costs time and never correctness. The facts that could make a build wrong (which
files <out> holds) are forgotten *before* <out> changes and recorded only after.

marshal rather than JSON or pickle: it loads the parsed text of 1,000 dumps (72 MB) in
40 ms, where json or pickle take 0.2-0.6 s, and it only ever reads what this program wrote.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import shutil
import sys
from datetime import date
from pathlib import Path

from generator.diagnostics import Diagnostic, Level
from generator.manifest import read_state
from generator.metadata import FIELDS, NO_META, PaperMeta
from generator.reading import Dump, Entry

FORMAT = f"paperdigest-cache 1 {sys.version}"  # marshal's format is specific to the Python version


class Cache:
    """The cache folder of one output folder. With `read=False` (--no-cache) it remembers
    nothing from before, as if the folder were empty, but still records this build's results
    for the next one: stages ask it the same questions either way and never test an option."""

    def __init__(self, out: Path, read: bool = True):
        out = out.resolve()
        self.out = out
        self.read = read
        self.root = out.with_name(f".{out.name}.paperdigest")
        self.spare = self.root / "spare"
        self.state = self.root / "state.json"

    # -- small files written whole --------------------------------------------------------

    def _load(self, name: str, always: bool = False) -> object:
        """A cached value; None if missing or unreadable, or if this cache does not read (unless
        `always`: what the output folder holds is a fact about it, not cached work)."""
        if not (self.read or always):
            return None
        try:
            header, data = marshal.loads((self.root / name).read_bytes())  # marshal.load(file) reads in small pieces
            return data if header == FORMAT else None
        except (OSError, EOFError, ValueError, TypeError):
            return None

    def _save(self, name: str, data: object) -> None:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(marshal.dumps((FORMAT, data)))
        os.replace(temporary, target)

    def _forget(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    @property
    def templates(self) -> Path | None:
        """Where Jinja keeps the theme's compiled templates (none when not reading the cache)."""
        return self.root / "templates" if self.read else None

    def previous(self):
        """What the site now in the output folder was built from (manifest.Manifest), if known."""
        return read_state(self.out, self.state) if self.read else None

    # -- which files the live site and the spare hold ------------------------------------------

    def file_keys(self) -> tuple[dict[str, str], dict[str, str] | None]:
        """(keys of the files in <out>, keys of the files in spare/ or None if unknown)."""
        found = self._load("files.marshal", always=True)
        if not isinstance(found, tuple) or len(found) != 2:
            return {}, None
        live, spare = found
        return live, (spare if spare is not None and self.spare.is_dir() else None)

    def reusable(self, live: dict[str, str], spare: dict[str, str] | None) -> tuple[dict[str, str], dict[str, str] | None]:
        """(the live site's files a build may reuse, the spare it may assemble the next site in):
        nothing, when this cache does not read, so every page is made and written anew."""
        return (live, spare) if self.read else ({}, None)

    def forget(self) -> None:
        """Called before <out> or spare/ changes: until recorded again, neither what they hold
        nor what the site was built from is vouched for."""
        self._forget("files.marshal")
        self.state.unlink(missing_ok=True)

    def record_files(self, live: dict[str, str], spare: dict[str, str] | None) -> None:
        self._save("files.marshal", (live, spare))

    def keep_as_spare(self, old: Path | None, keys: dict[str, str] | None) -> None:
        """Keep the site a build just replaced as the next build's staging folder, if what it
        holds is known; otherwise delete it."""
        if old is None:
            return
        if keys is None:
            shutil.rmtree(old, ignore_errors=True)
        elif old != self.spare:
            shutil.rmtree(self.spare, ignore_errors=True)
            self.root.mkdir(exist_ok=True)
            os.rename(old, self.spare)

    # -- input files' stats (manifest.fingerprint) ---------------------------------------------

    def stats(self):
        """When the inputs were last hashed, and each one's size, mtime, inode and sha256."""
        found = self._load("stats.marshal")
        return found if isinstance(found, tuple) and len(found) == 2 and isinstance(found[1], dict) else None

    def record_stats(self, stats) -> None:
        self._save("stats.marshal", stats)

    # -- paper names -------------------------------------------------------------------------

    def names(self) -> dict[str, tuple[str, str]]:
        found = self._load("names.marshal")
        return found if isinstance(found, dict) else {}

    def record_names(self, names: dict[str, tuple[str, str]]) -> None:
        self._save("names.marshal", names)

    # -- papers.json records --------------------------------------------------------------------

    def records(self) -> dict[str, str]:
        found = self._load("records.marshal")
        return found if isinstance(found, dict) else {}

    def record_records(self, records: dict[str, str]) -> None:
        self._save("records.marshal", records)

    # -- topics ------------------------------------------------------------------------------

    def topics(self, taxonomy: str) -> dict[bytes, tuple[str, ...]]:
        """Each paper's topic slugs by a hash of its text, if tagged with this taxonomy."""
        found = self._load("topics.marshal")
        if isinstance(found, tuple) and len(found) == 2 and found[0] == taxonomy and isinstance(found[1], dict):
            return found[1]
        return {}

    def record_topics(self, taxonomy: str, topics: dict[bytes, tuple[str, ...]]) -> None:
        self._save("topics.marshal", (taxonomy, topics))

    # -- parsed dumps --------------------------------------------------------------------------

    def dump(self, key: str) -> Dump | None:
        found = self._load(f"dumps/{key}")
        if found is None:
            return None
        try:
            return thaw(found)
        except (ValueError, TypeError):
            return None

    def record_dump(self, key: str, dump: Dump) -> None:
        self._save(f"dumps/{key}", freeze(dump))

    def keep_dumps(self, keys: set[str]) -> None:
        """Delete parsed dumps no input has any more, so the cache does not grow forever."""
        folder = self.root / "dumps"
        for path in folder.iterdir() if folder.is_dir() else ():
            if path.name not in keys:  # (a .tmp file left by a crash is never a key)
                path.unlink(missing_ok=True)


def dump_key(shown: str, content: bytes, settings: str) -> str:
    """Names a parsed dump: the file it was read from, the sha256 of its bytes, and the settings
    and generator code that shaped the parse."""
    digest = hashlib.sha256(f"{FORMAT}\0{settings}\0{shown}\0".encode("utf-8", "surrogateescape"))
    digest.update(content)
    return digest.hexdigest()


def freeze(dump: Dump) -> tuple:
    return (dump.source, dump.date.toordinal() if dump.date else None,
            [(entry.title, entry.abstract, entry.line, freeze_meta(entry.meta)) for entry in dump.entries],
            [(d.level.value, d.path, d.line, d.message, d.hint) for d in dump.diagnostics])


def thaw(frozen: tuple) -> Dump:
    source, day, entries, diagnostics = frozen
    return Dump(source, date.fromordinal(day) if day is not None else None,
                tuple(Entry(title, abstract, line, thaw_meta(meta)) for title, abstract, line, meta in entries),
                tuple(Diagnostic(Level(level), path, line, message, hint)
                      for level, path, line, message, hint in diagnostics))


def freeze_meta(meta: PaperMeta) -> tuple | None:
    """A meta as marshal-able values (dates as ordinals), or None for the classic dumps' empty one."""
    if not meta:
        return None
    return tuple(value.toordinal() if isinstance(value, date) else value
                 for value in (getattr(meta, name) for name in FIELDS))


def thaw_meta(frozen: tuple | None) -> PaperMeta:
    if frozen is None:
        return NO_META
    if len(frozen) != len(FIELDS):
        raise ValueError("a meta of another format")
    values = dict(zip(FIELDS, frozen))
    for name in ("published", "withdrawn"):
        if values[name] is not None:
            values[name] = date.fromordinal(values[name])
    return PaperMeta(**values)
