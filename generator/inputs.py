"""The content folder, read as the build's fingerprint saw it: settings, dumps, hand pages and the
taxonomy, with every problem gathered (build.py's parse stage).

A dump is read only when nothing the build keeps has it already: a dump parsed before with the
same bytes, settings and generator comes from the cache, and one the kept catalog was made of
(catalogmemory.py) is not even loaded, only listed with its diagnostics. A file that changed
since the fingerprint (caught half written, say) raises ContentChanged, so the build can begin
again rather than mix versions of its inputs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from generator.cache import Cache, dump_key
from generator.catalogmemory import Listed
from generator.config import SiteConfig, load_config
from generator.diagnostics import BuildError, Diagnostic, error, failing, warning
from generator.manifest import Fingerprint, fingerprint
from generator.pages import HandPage, load_pages
from generator.parse import SUFFIXES, Dump, parse_dump
from generator.reading import entry_hashes
from generator.theme import Theme
from generator.topics import Taxonomy, load_taxonomy


class ContentChanged(Exception):
    """An input changed between the fingerprint and the end of the build: the site built could
    mix files read before the change with files read after it. The message names the file."""


@dataclass
class Read:
    """The dumps of the digests folder: those read (all of them, or those `known` lacked), and
    every one listed, in file-name order."""

    dumps: list[Dump] = field(default_factory=list)
    listed: list[Listed] = field(default_factory=list)
    skipped: int = 0  # dumps found in `known`, as they were, and not read


@dataclass(frozen=True)
class Inputs:
    config: SiteConfig
    read: Read
    pages: list[HandPage]
    taxonomy: Taxonomy
    diagnostics: list[Diagnostic]


def read_inputs(content: Path, strict: bool, theme: Theme, prints: Fingerprint, cache: Cache,
                known: Mapping[str, tuple[str, tuple[Diagnostic, ...]]] = {}) -> Inputs:
    """Everything the content folder holds, or BuildError with every problem found. A problem in
    a file that changed since the fingerprint (a dump caught half written) is not the user's:
    that raises ContentChanged, to build again. `known`: see read_dumps."""
    try:
        config, diagnostics = load_config(content / "site.toml")
        read, more = read_dumps(content / "digests", config, prints, cache, known)
        pages, page_problems = load_pages(content / "pages")
        taxonomy, topic_notes = load_taxonomy(content)
        diagnostics += more + page_problems + topic_notes
        if failing(diagnostics, strict):
            raise BuildError(diagnostics)
    except BuildError:
        moved = changed(content, theme, strict, prints)
        if moved:
            raise ContentChanged(moved) from None
        raise
    return Inputs(config, read, pages, taxonomy, diagnostics)


def changed(content: Path, theme: Theme, strict: bool, prints: Fingerprint) -> str | None:
    """The content or theme file (or the first of them) that is no longer as the fingerprint saw
    it when the build began, if any; files whose size, mtime and inode are as they were then are
    not read again (see manifest.fingerprint). The generator's own source is not compared: the
    code running is what was imported, whatever is on disk now, so building again would not help."""
    now = fingerprint(content, theme.dirs, strict, prints.stats)
    if now.theme == prints.theme and now.files == prints.files:
        return None
    before, after = prints.stats[1], now.stats[1]
    moved = sorted(name for name in before.keys() | after.keys() if before.get(name, ())[3:] != after.get(name, ())[3:])
    return moved[0] if moved else str(content)


def read_dumps(folder: Path, config: SiteConfig, prints: Fingerprint, cache: Cache | None = None,
               known: Mapping[str, tuple[str, tuple[Diagnostic, ...]]] = {}) -> tuple[Read, list[Diagnostic]]:
    """Parse every digest (.txt, .json, .html) in the digests folder, in file-name order; a dump
    parsed before with the same bytes, settings and generator comes from the cache instead, and
    one `known` lists under the same key (name -> (key, diagnostics)) is only listed. Only the
    files the fingerprint saw, as it saw them, are read: any other raises ContentChanged."""
    if not folder.is_dir():
        raise BuildError([error(str(folder), None, "no digests folder", "put your saved pages (.txt, .html) or the API's JSON there")])
    read = Read()
    diagnostics: list[Diagnostic] = []
    names, used = set(), set()
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            diagnostics.append(warning(str(path), None, "skipped: not a digest (.txt, .json or .html)"))
            continue
        names.add(path.name)
        explicit = config.dates.get(path.name)
        settings = f"{prints.code} {config.default_year} {explicit}"
        if path not in prints.files:  # added since the fingerprint
            raise ContentChanged(str(path))
        key = dump_key(str(path), prints.files[path], settings)
        used.add(key)
        if known.get(path.name, ("",))[0] == key:
            noted = known[path.name][1]
            read.skipped += 1
        else:
            dump = cache.dump(key) if cache else None
            if dump is None:
                dump = parse_dump(path.name, read_as_fingerprinted(path, prints), config.default_year, explicit, str(path))
                dump = replace(dump, hashes=entry_hashes(dump))
                if cache:
                    cache.record_dump(key, dump)
            read.dumps.append(dump)
            noted = dump.diagnostics
        read.listed.append((path.name, key, noted))
        diagnostics.extend(noted)
    for name in sorted(set(config.dates) - names):
        diagnostics.append(warning("site.toml", None, f"[dates] names {name!r}, which is not in {folder}"))
    if cache:
        cache.keep_items("dumps", used)
    return read, diagnostics


def read_as_fingerprinted(path: Path, prints: Fingerprint) -> bytes:
    """A dump's bytes, if they are still the ones the fingerprint hashed: a parse cached under the
    fingerprint's hash must be of those bytes, and a build must not mix versions of its inputs."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ContentChanged(str(path)) from None
    if hashlib.sha256(data).digest() != prints.files[path]:
        raise ContentChanged(str(path))
    return data
