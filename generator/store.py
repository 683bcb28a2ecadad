"""What stages remember from one build for the next: the one interface they have to the cache.

A stage that wants to spare work is handed the build's Store and opens a Table (small values,
kept together in one file) or a Memory (large values, one file each). It looks a value up by a key, a hash of
everything the value is made from, makes the value when it is not there, and puts it. What
a build neither looked up nor put is dropped when the table is saved, so the cache holds what
the current site needs and no more. Stages never see the cache folder, its format or the
build's options: with --no-cache the store simply finds nothing (but still keeps what this
build makes, for the next one), so no stage has a branch for it.

The cache behind it (cache.py) reads defensively: a missing, stale or damaged file is a miss.
"""

from __future__ import annotations

from typing import Callable, Generic, Protocol, TypeVar

V = TypeVar("V")


class Backing(Protocol):
    """Where tables and shelves live (cache.Cache)."""

    read: bool

    def load_table(self, name: str) -> tuple[str, dict] | None: ...

    def save_table(self, name: str, version: str, values: dict) -> None: ...

    def load_item(self, shelf: str, key: str) -> object | None: ...

    def save_item(self, shelf: str, key: str, value: object) -> None: ...

    def keep_items(self, shelf: str, keys: set[str]) -> None: ...


class Store:
    """The tables and memories of one build. save() writes what was used since the last save in
    this process: build.py calls it before forking stages, in each forked stage when it is
    done, and at the end, so each table is saved by the process that used it."""

    def __init__(self, backing: Backing | None = None) -> None:
        self.backing = backing
        self.opened: list[Table | Shelf] = []

    def table(self, name: str, version: str = "") -> "Table":
        table: Table = Table(self.backing, name, version)
        self.opened.append(table)
        return table

    def memory(self, name: str) -> "Memory":
        shelf = Shelf(self.backing, name)
        self.opened.append(shelf)
        return Memory(shelf)

    def save(self) -> None:
        for opened in self.opened:
            opened.save()


class Table(Generic[V]):
    """key -> value, for values made under one `version` (of the code or settings that make
    them: a table of another version is empty). Loaded when created, so that a damaged file
    is found while the build can still start over; saved by save() only if it changed."""

    def __init__(self, backing: Backing | None, name: str, version: str = "") -> None:
        self.backing, self.name, self.version = backing, name, version
        found = backing.load_table(name) if backing is not None and backing.read else None
        self.known: dict[str, V] = found[1] if found is not None and found[0] == version else {}
        self.used: dict[str, V] = {}
        self.changed = False
        self.touched = False  # used since the last save

    def get(self, key: str) -> V | None:
        self.touched = True
        value = self.used.get(key)
        if value is None:
            value = self.known.get(key)
            if value is not None:
                self.used[key] = value
        return value

    def put(self, key: str, value: V) -> None:
        self.touched = True
        if self.known.get(key) != value:
            self.changed = True
        self.used[key] = value

    def memo(self, key: str, make: Callable[[], V]) -> V:
        """The value under `key`, made and put if it is not there."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def save(self) -> None:
        """Keep what this build used or made, if that differs from what the table held (a table
        not used since the last save is left alone: another process may be using it)."""
        if not self.touched:
            return
        self.touched = False
        if self.backing is not None and (self.changed or self.used.keys() != self.known.keys()):
            self.backing.save_table(self.name, self.version, self.used)
            self.known, self.changed = dict(self.used), False


class Shelf:
    """key -> a large value, one file each: read only when asked for, written when put."""

    def __init__(self, backing: Backing | None, name: str) -> None:
        self.backing, self.name = backing, name
        self.used: set[str] = set()
        self.touched = False

    def get(self, key: str) -> object | None:
        self.touched = True
        found = self.backing.load_item(self.name, key) if self.backing is not None and self.backing.read else None
        if found is not None:
            self.used.add(key)
        return found

    def put(self, key: str, value: object) -> None:
        self.touched = True
        if self.backing is not None:
            self.backing.save_item(self.name, key, value)
        self.used.add(key)

    def keep(self, key: str) -> None:
        """Keep an item for the next build without reading it (this build does not need it)."""
        self.touched = True
        self.used.add(key)

    def save(self) -> None:
        """Delete what this build neither read, kept nor put (if it used the shelf at all)."""
        if self.touched and self.backing is not None:
            self.backing.keep_items(self.name, self.used)
        self.touched = False


class Memory:
    """A Shelf of bytes, as related.py wants it: get(name) -> bytes | None, put(name, bytes)."""

    def __init__(self, shelf: Shelf) -> None:
        self.shelf = shelf

    def get(self, name: str) -> bytes | None:
        found = self.shelf.get(name)
        return found if isinstance(found, bytes) else None

    def put(self, name: str, data: bytes) -> None:
        self.shelf.put(name, data)

    def keep(self, name: str) -> None:
        self.shelf.keep(name)
