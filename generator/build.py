"""One build, top to bottom: config -> parse -> catalog -> topics -> render + related + search -> write.

Each stage hands the next plain frozen dataclasses. Input problems from every file are
gathered before anything is rendered, so a user sees them all in one run; nothing reaches
the output folder unless every stage succeeded and every entry read is on the site.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from itertools import chain
from typing import Callable, Container, Iterable, Iterator, Mapping, TypeVar

from generator.cache import Busy, Cache  # noqa: F401  (Busy and DiskError: what build() raises)
from generator.catalog import Catalog, Ledger, Names, catalog_of, digest_slugs, paper_key
from generator.catalogmemory import CatalogMemory, extend_catalog
from generator.diagnostics import BuildError, Diagnostic, error
from generator.engine import Engine, count
from generator.exports import Exports
from generator.inputs import ContentChanged, Read, changed, read_dumps, read_inputs
from generator.keys import Keys
from generator.parse import Dump
from generator.topics import Tagging, tag_papers
from generator.output import OutputFile
from generator.render import SiteRenderer, salt
from generator.store import Store
from generator.theme import Theme, default_theme_dir
from generator.manifest import NAME as MARKER, Manifest, fingerprint
from generator.workers import Forked, kept_heap, release_heap
from generator.write import DiskError, Staging, check_target, disk_error, recover, user_path, write_site  # noqa: F401

# How much the forked stages yield the CPU to the build's own process (workers.Forked): the
# paper pages wait for the related papers; the search index and the exports are needed only
# once every page is through, so they give way to both.
SOONER, LATER = 1, 10
STAGES = ("parse", "catalog", "topics", "related", "render", "search", "write")
T = TypeVar("T")


@dataclass(frozen=True)
class BuildOptions:
    content: Path
    out: Path
    strict: bool = False
    no_cache: bool = False  # rebuild everything, as if nothing had been built before
    replace: bool = False  # allow replacing an output folder paperdigest did not build
    wait: bool = True  # wait while another build of the same output folder runs (else raise Busy)


@dataclass(frozen=True)
class BuildSummary:
    entries: int
    papers: int
    digests: int
    files: int
    seconds: float
    diagnostics: tuple[Diagnostic, ...]  # warnings that did not stop the build
    stages: tuple[tuple[str, float], ...] = ()  # seconds spent in each stage, in pipeline order
    up_to_date: bool = False  # nothing changed since the last build: nothing was written
    read: int = 0  # dumps read (parsed, or loaded from the cache): all of them, or those new since the kept catalog


class Stopwatch:
    """Seconds per stage. Rendering streams into writing, so time spent producing each file is
    charged to the stage that produced it and the rest of the write to "write". Time a stage
    spends waiting for another process's result is charged to that result's stage instead."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.waited = 0.0  # seconds charged by wait(), so produce() does not count them again

    def charge(self, stage: str, started: float, less: float = 0.0) -> float:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - started - less
        return now

    def wait(self, stage: str, get: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return get()
        finally:
            self.waited += time.perf_counter() - started
            self.charge(stage, started)

    def produce(self, stage: str, items: Iterable[T]) -> Iterator[T]:
        iterator = iter(items)
        while True:
            started, waited = time.perf_counter(), self.waited
            try:
                item = next(iterator)
            except StopIteration:
                self.charge(stage, started, self.waited - waited)
                return
            self.charge(stage, started, self.waited - waited)
            yield item


Progress = Callable[[Iterator[OutputFile], int], Iterator[OutputFile]]
Notice = Callable[[str], None]  # one line for the user, while the build runs
ATTEMPTS = 3  # builds begun because the content changed during the one before, before giving up


class CacheDamaged(Exception):
    """Files of the build cache are damaged (named in the message): start over without it."""


def no_progress(files: Iterator[OutputFile], total: int) -> Iterator[OutputFile]:
    return files


def no_notice(line: str) -> None:
    """Where the lines a build has for its user while it runs go by default: nowhere."""


def build(options: BuildOptions, progress: Progress = no_progress, notice: Notice = no_notice) -> BuildSummary:
    """Run the whole pipeline; raise BuildError (with every diagnostic) if the input is unusable.

    `progress` wraps the stream of output files (with the number of pages to render), so the
    command line can show a progress bar without the pipeline knowing about terminals; `notice`
    gets the lines the user should see meanwhile (waiting for another build, starting over).

    What the last build left in the cache (cache.py) is used for speed only: parsed dumps,
    paper names, and the keys of the files now in the site, so unchanged pages are neither
    rendered nor written. --no-cache makes the cache remember nothing (cache.Cache(read=False)).

    Builds of one output folder take turns, under the cache folder's lock (or raise Busy with
    `wait` False). A file system that refuses the build raises write.DiskError, which says where."""
    check_target(options.out, options.content, options.replace)
    cache = Cache(options.out, read=not options.no_cache)
    try:
        with cache.locked(options.wait, lambda: notice(f"another build of {options.out} is running; "
                                                       "waiting (--no-wait to give up)")):
            return attempts(options, cache, progress, notice)
    except OSError as exc:
        problem = disk_error(exc, options.out)
        if problem is None:
            raise
        raise problem from exc
    finally:
        release_heap()


def attempts(options: BuildOptions, cache: Cache, progress: Progress, notice: Notice) -> BuildSummary:
    """Build, and begin again when what was built cannot be trusted: once, remembering nothing,
    when the cache proves damaged; and when the content changed during the build (its files read
    before and after the change could make a site of neither), up to ATTEMPTS times."""
    started = time.perf_counter()
    changes = 0
    while True:
        recover(options.out.resolve())
        try:
            return build_once(options, cache, started, progress, notice)
        except CacheDamaged as exc:
            folder, _ = user_path(str(cache.root), options.out)
            notice(f"the build cache in {folder} was damaged ({exc}); rebuilding from scratch")
            cache.start_over()
        except ContentChanged as exc:
            changes += 1
            if changes == ATTEMPTS:
                raise BuildError([error(str(exc), None, f"changed during each of {ATTEMPTS} attempts to build the site",
                                        "build again once nothing is writing to the content folder")]) from None
            notice(f"{exc} changed during the build; building again")


def build_once(options: BuildOptions, cache: Cache, started: float, progress: Progress,
               notice: Notice) -> BuildSummary:
    """One attempt (see build()); `started` is when the first one began."""
    clock = Stopwatch()
    begun = time.perf_counter()
    theme = Theme((options.content / "theme", default_theme_dir()))
    prints = fingerprint(options.content, theme.dirs, options.strict, cache.stats())
    cache.record_stats(prints.stats)
    previous = cache.previous()
    if previous and previous.inputs == prints.inputs and not cache.damaged:
        return BuildSummary(previous.entries, previous.papers, previous.digests, previous.files,
                            time.perf_counter() - started, previous.diagnostics, up_to_date=True)
    kept = Store(cache)  # the catalog's own (saved when the site is in place, not with the stages')
    memory = CatalogMemory(kept.memory("catalog"))
    with kept_heap():
        inputs = read_inputs(options.content, options.strict, theme, prints, cache, memory.dumps)
    config, pages, taxonomy, diagnostics = inputs.config, inputs.pages, inputs.taxonomy, inputs.diagnostics
    mark = clock.charge("parse", begun)

    with kept_heap():
        names = Names(cache.names())
        ledger, dumps, grown = make_catalog(inputs.read, memory, names,
                                            lambda: read_dumps(options.content / "digests", config, prints, cache)[0].dumps)
    catalog = ledger.catalog
    mark = clock.charge("catalog", mark)
    store = Store(cache)
    with kept_heap():
        tagging = tag_papers(catalog.papers, taxonomy, store)
    mark = clock.charge("topics", mark)
    exports = Exports(catalog, config, theme, tuple(pages), store, tagging, compiled=cache.templates)
    live, spare = cache.file_keys() if (options.out / MARKER).is_file() else ({}, None)
    cache.check()
    if cache.damaged:  # noticed while nothing is changed yet: start over remembering nothing
        raise CacheDamaged(listed(cache.damaged))
    reuse, usable = cache.reusable(live, spare)
    staging = Staging(cache.spare, dict(usable)) if usable is not None else None

    def manifest(files: int) -> Manifest:
        return Manifest(prints.inputs, catalog.entries_read, len(catalog.papers), len(catalog.digests), files,
                        tuple(diagnostics))

    def finish(written: dict[str, str]) -> bytes:
        check_accounting(dumps, catalog, written, names)
        moved = changed(options.content, theme, options.strict, prints)  # every input read: all of one version?
        if moved:
            raise ContentChanged(moved)
        return manifest(len(written)).marker()

    # The search index, the exports and the related papers are made in processes of their own
    # meanwhile (each saving what it used of the store); pages wait for the related papers only
    # when the first paper page is reached.
    store.save()
    shared = f"{prints.code} {prints.theme}\0{salt(config, tuple(pages), tagging.taxonomy)}"
    parts = Engine(Keys(catalog, exports.salt(prints.code)), reuse)  # which parts of papers.json to make again
    result = None  # what write_site returned: once set, the new site is in place
    try:
        with Forked(saving(store, lambda: search_index(catalog, reuse, tagging, store)), LATER, cache.root) as search, \
                Forked(saving(store, lambda: exports.files(parts)), LATER, cache.root) as exported, \
                Forked(saving(store, lambda: related_stage(catalog, store)), SOONER, cache.root) as related:
            renderer = SiteRenderer(catalog, config, theme, tuple(pages), tagging=tagging,
                                    related=lambda: clock.wait("related", related.value), compiled=cache.templates)
            engine = Engine(Keys(catalog, shared), reuse)
            with kept_heap():
                jobs = list(renderer.jobs())
            files = chain(clock.produce("render", progress(engine.run(jobs), count(jobs))),
                          clock.produce("search", search.files()),
                          clock.produce("render", exported.files()),
                          clock.produce("render", theme.output_files()))
            cache.forget()  # from here until recorded again, neither the site nor the spare is vouched for
            try:
                result = write_site(files, options.out, verify=finish, staging=staging, live=live)
            except BaseException:
                cache.restore(live, staging.holds if staging else spare)  # the site is untouched
                raise
    except KeyboardInterrupt:  # after the swap (as the stages' processes end), the build is done
        if result is None:
            raise
    written, old = result
    try:  # the new site is in place: the build is done, whatever happens to the bookkeeping
        settle(cache, written, old, live, manifest(len(written)), names, dict(names) if grown else names.for_dumps(dumps))
        store.save()
        if inputs.read.dumps or not grown:  # else the kept catalog is this one
            memory.remember(ledger, inputs.read.listed)
        kept.save()
    except KeyboardInterrupt:
        pass  # Ctrl-C now: the next build has less to reuse, and recover() clears what is left
    except OSError as exc:  # a full disk, say: the site is built all the same
        notice(f"{options.out} is built, but its build cache could not be updated "
               f"({disk_error(exc, options.out) or exc}); the next build will redo more work")
    total = time.perf_counter() - started
    clock.seconds["write"] = total - sum(clock.seconds.values())
    stages = tuple((name, clock.seconds[name]) for name in STAGES if name in clock.seconds)
    return BuildSummary(catalog.entries_read, len(catalog.papers), len(catalog.digests), len(written),
                        total, tuple(diagnostics), stages, read=len(dumps))


def listed(names: list[str], shown: int = 3) -> str:
    """A few names, and how many more: a damaged cache may have thousands of damaged files."""
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def settle(cache: Cache, written: dict[str, str], old: Path | None, live: dict[str, str], manifest: Manifest,
           names: Names, needed: dict[str, tuple[str, str]]) -> None:
    """Record what the new site and the spare hold, what the site was built from, and the names
    the next build will need (those of every dump)."""
    old_keys = live if old is not None and live else None  # what the replaced site holds, if known
    cache.keep_as_spare(old, old_keys)
    cache.record_files(written, old_keys)
    manifest.save_state(cache.state)
    if names.learned or len(needed) != len(names):  # else the cache already holds exactly these
        cache.record_names(needed)


def make_catalog(read: Read, memory: CatalogMemory, names: Names,
                 every_dump: Callable[[], list[Dump]]) -> tuple[Ledger, list[Dump], bool]:
    """(the catalog's ledger, the dumps read for it, whether it grew the kept one). When every dump the kept catalog was made
    of is here as it was, it is grown by the others (catalogmemory.py): only they are read.
    Otherwise, or where growing is not adding to it, the catalog is made of every dump."""
    if read.skipped and read.skipped == len(memory.dumps):
        ledger = memory.ledger()
        grown = extend_catalog(ledger, read.dumps, names) if ledger is not None and read.dumps else ledger
        if grown is not None:
            return grown, read.dumps, True
    dumps = every_dump() if read.skipped else read.dumps
    return catalog_of(dumps, names), dumps, False


def saving(store: Store, make: Callable[[], Iterable[T]]) -> Callable[[], Iterator[T]]:
    """A stage that saves what it used of the store when it is done (in its forked process)."""
    def run() -> Iterator[T]:
        yield from make()
        store.save()
    return run


def related_stage(catalog: Catalog, store: Store) -> list[dict[str, tuple[str, ...]]]:
    """Each paper's related papers, from what the last build kept of each segment (related.py,
    which imports scipy, is imported here, in the forked process that runs it, like search.py)."""
    from generator.related import related_papers

    return [related_papers(catalog.papers, memory=store.memory("related"))]


def search_index(catalog: Catalog, reuse: Mapping[str, str], tagging: Tagging, store: Store) -> Iterator[OutputFile]:
    """The search stage, imported (numpy, lunr) in the forked process that runs it."""
    from generator.search import search_files

    return search_files(catalog, reuse, tagging, store)


def check_accounting(dumps: list[Dump], catalog: Catalog, written: Container[str], names: Names | None = None) -> None:
    """Every paper read must be on the site, as a paper page and in its digest: each entry of
    `dumps` (all of them, or those read to grow the kept catalog), and every paper of the catalog."""
    lost = [error(paper.appearances[0].source, paper.appearances[0].line, f"paper {paper.title[:80]!r} did not reach the site",
                  "this is a paperdigest bug; please report it with this file")
            for paper in catalog.papers if f"papers/{paper.slug}.html" not in written]
    slugs = digest_slugs(dumps)
    for dump in dumps:
        slug = slugs[dump.source]
        digest = catalog.digest(slug) if f"digests/{slug}.html" in written else None
        for entry in dump.entries:
            key = names[entry.title][0] if names is not None else paper_key(entry.title)
            paper = catalog.paper_of(key, entry.meta.arxiv_id)
            if paper is None or f"papers/{paper.slug}.html" not in written or digest is None \
                    or paper.key not in digest.papers:
                lost.append(error(dump.source, entry.line, f"paper {entry.title[:80]!r} did not reach the site",
                                  "this is a paperdigest bug; please report it with this file"))
    if lost:
        raise BuildError(lost)
