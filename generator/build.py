"""One build, top to bottom: config -> parse -> catalog -> render + search -> write.

Each stage hands the next plain frozen dataclasses. Input problems from every file are
gathered before anything is rendered, so a user sees them all in one run; nothing reaches
the output folder unless every stage succeeded and every entry read is on the site.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from generator.catalog import Catalog, build_catalog, digest_slugs, paper_key
from generator.config import SiteConfig, load_config
from generator.diagnostics import BuildError, Diagnostic, error, failing, warning
from generator.pages import load_pages
from generator.parse import Dump, parse_dump
from generator.render import OutputFile, SiteRenderer, Theme, default_theme_dir
from generator.search import build_search_index
from generator.write import check_target, write_site

DUMP_SUFFIX = ".txt"


@dataclass(frozen=True)
class BuildOptions:
    content: Path
    out: Path
    strict: bool = False
    force: bool = False


@dataclass(frozen=True)
class BuildSummary:
    entries: int
    papers: int
    digests: int
    files: int
    seconds: float
    diagnostics: tuple[Diagnostic, ...]  # warnings that did not stop the build


def build(options: BuildOptions) -> BuildSummary:
    """Run the whole pipeline; raise BuildError (with every diagnostic) if the input is unusable."""
    started = time.perf_counter()
    check_target(options.out, options.content, options.force)
    config, diagnostics = load_config(options.content / "site.toml")
    dumps, more = read_dumps(options.content / "digests", config)
    pages, page_problems = load_pages(options.content / "pages")
    diagnostics += more + page_problems
    if failing(diagnostics, options.strict):
        raise BuildError(diagnostics)
    catalog = build_catalog(dumps)
    theme = Theme((options.content / "theme", default_theme_dir()))
    renderer = SiteRenderer(catalog, config, theme, tuple(pages))
    count = write_site(site_files(renderer, catalog, theme), options.out,
                       verify=lambda written: check_accounting(dumps, catalog, written))
    return BuildSummary(catalog.entries_read, len(catalog.papers), len(catalog.digests), count,
                        time.perf_counter() - started, tuple(diagnostics))


def read_dumps(folder: Path, config: SiteConfig) -> tuple[list[Dump], list[Diagnostic]]:
    """Parse every *.txt in the digests folder, in file-name order."""
    if not folder.is_dir():
        raise BuildError([error(str(folder), None, "no digests folder", "put your saved pages (*.txt) there")])
    dumps: list[Dump] = []
    diagnostics: list[Diagnostic] = []
    names = set()
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix != DUMP_SUFFIX or not path.is_file():
            diagnostics.append(warning(str(path), None, "skipped: not a .txt dump"))
            continue
        names.add(path.name)
        dump = parse_dump(path.name, path.read_bytes(), config.default_year, config.dates.get(path.name), str(path))
        dumps.append(dump)
        diagnostics.extend(dump.diagnostics)
    for name in sorted(set(config.dates) - names):
        diagnostics.append(warning("site.toml", None, f"[dates] names {name!r}, which is not in {folder}"))
    return dumps, diagnostics


def site_files(renderer: SiteRenderer, catalog: Catalog, theme: Theme) -> Iterator[OutputFile]:
    """Everything the site consists of, produced lazily so large sites stream to disk."""
    yield from renderer.files()
    yield build_search_index(catalog)
    for relative, path in theme.static_files().items():
        yield OutputFile(f"assets/{relative}", path.read_bytes())
    yield OutputFile(".nojekyll", b"")


def check_accounting(dumps: list[Dump], catalog: Catalog, written: set[str]) -> None:
    """Every title/abstract pair read must be on the site, as a paper page and in its digest."""
    lost = []
    slugs = digest_slugs(dumps)
    for dump in dumps:
        slug = slugs[dump.source]
        digest = catalog.digest(slug) if f"digests/{slug}.html" in written else None
        for entry in dump.entries:
            key = paper_key(entry.title)
            paper = catalog.find_paper(key)
            if paper is None or f"papers/{paper.slug}.html" not in written or digest is None or key not in digest.papers:
                lost.append(error(dump.source, entry.line, f"paper {entry.title[:80]!r} did not reach the site",
                                  "this is a paperdigest bug; please report it with this file"))
    if lost:
        raise BuildError(lost)

