"""What one build keeps for the next, so that adding a digest to a large site costs little.

Everything lives in a local folder beside the output, `.<out>.paperdigest/` (never deployed;
git ignores it):

  state.json     what the site now in <out> was built from (see manifest.py)
  files.marshal  path -> key of every file in <out>, and of every file in spare/
  names.marshal  title -> (paper key, slug), see catalog.Names
  stats.marshal  each input file's size, mtime, inode and sha256 (unchanged files are not read)
  tables/<name>  the stages' tables (store.py): topics (topics.py), the versions of
                 papers.json's parts (exports.py)
  related/<name> what related.py keeps of each segment of papers (store.Memory)
  search-segments/<name>  each search segment's head and vocabulary, and the full ones' words (search.py)
  catalog/<name> the last catalog: a head and its papers in parts by month (catalogmemory.py)
  templates/     the theme's templates compiled by Jinja, by a hash of their source
  dumps/<hash>   a parsed dump, named by a hash of its bytes, its settings and the generator
  spare/         the site before last, which the writer turns into the next site (write.py)
  lock           held by the build of <out> under way, so that builds of one folder take turns

All of it is a cache. Each file is written whole under a temporary name and renamed, and each
is read defensively: anything missing or written by another Python is a miss, which costs
time and never correctness. A file that is there but cut short, garbled or of the wrong shape
is noted in `damaged`, so the build can say so and start over remembering nothing. The facts
that could make a build wrong (which files <out> holds) are forgotten *before* <out> changes
and recorded only after.

The lock is an OS-level lock (flock, through filelock): the kernel releases it when its process
ends, however it ends, so a build killed with kill -9 never leaves a lock behind; filelock
closes it in forked children, so workers that outlive a killed build do not hold it either.

marshal rather than JSON or pickle: it loads the parsed text of 1,000 dumps (72 MB) in
40 ms, where json or pickle take 0.2-0.6 s, and it only ever reads what this program wrote.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import shutil
import sys
import types
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

from generator.diagnostics import Diagnostic, Level
from generator.manifest import NAME as MARKER, read_state
from generator.metadata import freeze_meta, thaw_meta
from generator.reading import Dump, Entry
from generator.write import naming

FORMAT = f"paperdigest-cache 1 {sys.version}"  # marshal's format is specific to the Python version
STALE = "paperdigest-cache "  # how every header begins: another one is stale, not damaged
LOCK = "lock"
KEPT = (LOCK, "stats.marshal")  # what starting over keeps: the lock, and the stats this build just took


class Busy(Exception):
    """Another build of the same output folder holds its lock, and this one was not to wait."""


def is_dict(value: object) -> bool:
    return isinstance(value, dict)


def is_pair(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 2


def is_file_keys(value: object) -> bool:
    return is_pair(value) and is_dict(value[0]) and (value[1] is None or is_dict(value[1]))


def is_keyed(value: object) -> bool:
    """(a version or a time, a dict): the stats and the topics."""
    return is_pair(value) and is_dict(value[1])


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
        self.damaged: list[str] = []  # files found there but unusable, named from the cache folder
        self.was: bytes | None = None  # state.json as forget() found it, for restore()
        self.files_were: bytes | None = None  # files.marshal as forget() found it, likewise
        self.emptied = False  # start_over() cleared the folder: what is in it now, this build wrote

    # -- one build at a time -------------------------------------------------------------------

    @contextmanager
    def locked(self, wait: bool = True, waiting: Callable[[], None] = lambda: None) -> Iterator[None]:
        """Hold the output folder's build lock: without it, one build's clean-up would delete
        another's staging folder and the two would record each other's files. If another build
        holds it: call `waiting` and wait for it, or raise Busy if not to `wait`."""
        from filelock import FileLock, Timeout  # 25 ms to import: not for `fetch` or `--version`

        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.root / LOCK)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if not wait:
                raise Busy(str(self.out)) from None
            waiting()
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    # -- small files written whole --------------------------------------------------------

    def _load(self, name: str, always: bool = False, shape: Callable[[object], bool] = lambda value: True) -> object:
        """A cached value; None if missing, written by another Python, unusable (then noted in
        `damaged`) or not of the `shape` its reader expects, or if this cache does not read
        (unless `always`: what the output folder holds is a fact about it, not cached work)."""
        if not (self.read or always):
            return None
        try:
            header, data = marshal.loads((self.root / name).read_bytes())  # marshal.load(file) reads in small pieces
        except FileNotFoundError:
            return None
        except (OSError, EOFError, ValueError, TypeError):
            return self._damage(name)
        if header != FORMAT:
            return None if isinstance(header, str) and header.startswith(STALE) else self._damage(name)
        return data if shape(data) else self._damage(name)

    def _damage(self, name: str) -> None:
        """Note a damaged file (when reading: --no-cache starts from scratch anyway)."""
        if self.read and name not in self.damaged:
            self.damaged.append(name)

    def _save(self, name: str, data: object) -> None:
        write_whole(self.root / name, marshal.dumps((FORMAT, data)))

    def _forget(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    @property
    def templates(self) -> Path | None:
        """Where Jinja keeps the theme's compiled templates (none when not reading the cache,
        unless start_over() emptied it: then it holds only what this build compiles)."""
        return self.root / "templates" if self.read or self.emptied else None

    def previous(self):
        """What the site now in the output folder was built from (manifest.Manifest), if known."""
        if not self.read:
            return None
        found = read_state(self.out, self.state)
        if found is None and self.state.is_file() and (self.out / MARKER).is_file():
            self._damage(self.state.name)
        return found

    def check(self) -> None:
        """Check the files read only once the site is being written (the compiled templates),
        while the build can still start over; the others are checked as they are read."""
        if not self.read:
            return
        folder = self.root / "templates"
        for path in sorted(folder.glob("__jinja2_*.cache")) if folder.is_dir() else ():
            if not compiled_template(path):
                self._damage(f"templates/{path.name}")

    def start_over(self) -> None:
        """After damage: remember nothing from before for the rest of this build, and clear what
        is there (the spare too: only files.marshal vouched for it) but the lock and the stats."""
        self.read, self.emptied = False, True
        self.damaged = []
        for path in self.root.iterdir() if self.root.is_dir() else ():
            if path.name in KEPT:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    # -- which files the live site and the spare hold ------------------------------------------

    def file_keys(self) -> tuple[dict[str, str], dict[str, str] | None]:
        """(keys of the files in <out>, keys of the files in spare/ or None if unknown)."""
        found = self._load("files.marshal", always=True, shape=is_file_keys)
        if found is None:
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
        try:
            self.was = self.state.read_bytes()
        except OSError:
            self.was = None
        try:
            self.files_were = (self.root / "files.marshal").read_bytes()
        except OSError:
            self.files_were = None
        self._forget("files.marshal")
        self.state.unlink(missing_ok=True)

    def record_files(self, live: dict[str, str], spare: dict[str, str] | None) -> None:
        self._save("files.marshal", (live, spare))

    def restore(self, live: dict[str, str], spare: dict[str, str] | None) -> None:
        """After a build that failed before its swap: <out> is as it was, so what the cache knew
        of it is true again. On a full disk the spare makes room: it is scratch space, and what
        the live site holds is what spares the next build work. Failing even so, that build
        just redoes more of the work."""
        try:
            self._remember(live, spare)
        except OSError:
            if spare is None:
                return
            shutil.rmtree(self.spare, ignore_errors=True)
            try:
                self._remember(live, None)
            except OSError:
                pass

    def _remember(self, live: dict[str, str], spare: dict[str, str] | None) -> None:
        """Record what <out> and the spare hold: when that is what files.marshal said before,
        its very bytes (marshal's bytes for equal values can differ with how they are shared)."""
        if self.files_were is not None and unmarshalled(self.files_were) == (FORMAT, (live, spare)):
            write_whole(self.root / "files.marshal", self.files_were)
        else:
            self.record_files(live, spare)
        if self.was is not None:
            write_whole(self.state, self.was)

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
        return self._load("stats.marshal", shape=is_keyed)

    def record_stats(self, stats) -> None:
        self._save("stats.marshal", stats)

    # -- paper names -------------------------------------------------------------------------

    def names(self) -> dict[str, tuple[str, str]]:
        found = self._load("names.marshal", shape=is_dict)
        return found if isinstance(found, dict) else {}

    def record_names(self, names: dict[str, tuple[str, str]]) -> None:
        self._save("names.marshal", names)

    # -- the stages' tables and shelves (store.py) ----------------------------------------------

    def load_table(self, name: str) -> tuple[str, dict] | None:
        """(version, values) of tables/<name>, if readable."""
        found = self._load(f"tables/{name}", shape=is_keyed)
        return found if isinstance(found, tuple) and isinstance(found[0], str) else None

    def save_table(self, name: str, version: str, values: dict) -> None:
        self._save(f"tables/{name}", (version, values))

    def load_item(self, shelf: str, key: str) -> object | None:
        return self._load(f"{shelf}/{safe_name(key)}")

    def save_item(self, shelf: str, key: str, value: object) -> None:
        self._save(f"{shelf}/{safe_name(key)}", value)

    def keep_items(self, shelf: str, keys: set[str]) -> None:
        """Delete the shelf's files but those of `keys`, so the cache does not grow forever."""
        folder = self.root / shelf
        for path in folder.iterdir() if folder.is_dir() else ():
            if path.name not in keys:  # (a .tmp file left by a crash is never a key)
                path.unlink(missing_ok=True)

    # -- parsed dumps (a shelf of build.py's, in cache.py's own format) -------------------------

    def dump(self, key: str) -> Dump | None:
        found = self.load_item("dumps", key)
        if found is None:
            return None
        try:
            return thaw(found)
        except (ValueError, TypeError):
            return self._damage(f"dumps/{key}")

    def record_dump(self, key: str, dump: Dump) -> None:
        self.save_item("dumps", key, freeze(dump))


def safe_name(key: str) -> str:
    """A shelf key as a file name: stages name items by hashes and short words."""
    if not key or not all(char.isascii() and (char.isalnum() or char in "-_.") for char in key) or key[0] == ".":
        raise ValueError(f"not a cache item name: {key!r}")
    return key


def unmarshalled(data: bytes) -> object:
    try:
        return marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None


def write_whole(target: Path, data: bytes) -> None:
    """Write a file under a temporary name and rename it: a reader sees the old file or the new
    one, and a write the disk refuses leaves neither a partial file nor its temporary behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        with naming(target):
            temporary.write_bytes(data)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def compiled_template(path: Path) -> bool:
    """Whether a template Jinja compiled into the cache is whole, read as jinja2.bccache.Bucket
    reads it. Jinja takes a wrong header for a miss, but fails on a file cut short after it."""
    from jinja2.bccache import bc_magic

    try:
        with open(path, "rb") as file:
            magic = file.read(len(bc_magic))
            if magic != bc_magic:  # another Jinja's or Python's is stale, not damaged
                return len(magic) == len(bc_magic) and magic.startswith(b"j2")
            pickle.load(file)  # the source's checksum
            return isinstance(marshal.load(file), types.CodeType)
    except FileNotFoundError:
        return True
    except Exception:  # whatever a file cut short or garbled makes pickle or marshal raise
        return False


def dump_key(shown: str, content: bytes, settings: str) -> str:
    """Names a parsed dump: the file it was read from, the sha256 of its bytes, and the settings
    and generator code that shaped the parse."""
    digest = hashlib.sha256(f"{FORMAT}\0{settings}\0{shown}\0".encode("utf-8", "surrogateescape"))
    digest.update(content)
    return digest.hexdigest()


def freeze(dump: Dump) -> tuple:
    return (dump.source, dump.date.toordinal() if dump.date else None,
            [(entry.title, entry.abstract, entry.line, freeze_meta(entry.meta)) for entry in dump.entries],
            [(d.level.value, d.path, d.line, d.message, d.hint) for d in dump.diagnostics], dump.hashes)


def thaw(frozen: tuple) -> Dump:
    source, day, entries, diagnostics, hashes = frozen
    if len(hashes) != len(entries) or not all(type(found) is str for found in hashes):
        raise ValueError("entry hashes that do not fit the entries")
    return Dump(source, date.fromordinal(day) if day is not None else None,
                tuple(Entry(title, abstract, line, thaw_meta(meta)) for title, abstract, line, meta in entries),
                tuple(Diagnostic(Level(level), path, line, message, hint)
                      for level, path, line, message, hint in diagnostics), tuple(hashes))
