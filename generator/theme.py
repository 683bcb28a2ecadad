"""The theme: template and static folders (the user's overrides first), and the Jinja
environment with the filters templates use. Markup lives in the templates; these filters only
turn values into text (escaping for Markdown and YAML, dates, authors)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Iterator

import jinja2

from generator import commonmark
from generator.catalog import Digest
from generator.links import badges, segments
from generator.metadata import short_authors
from generator.output import OutputFile


@dataclass(frozen=True)
class Theme:
    """Template and static folders, searched in order: the user's overrides first."""

    dirs: tuple[Path, ...]

    def static_files(self) -> dict[str, Path]:
        """Relative path -> file; a file in an earlier theme dir wins."""
        found: dict[str, Path] = {}
        for base in reversed(self.dirs):
            static = base / "static"
            for path in sorted(static.rglob("*")) if static.is_dir() else ():
                if path.is_file():
                    found[path.relative_to(static).as_posix()] = path
        return dict(sorted(found.items()))

    def output_files(self) -> Iterator[OutputFile]:
        """The static files under assets/, and the marker that tells GitHub Pages not to run Jekyll."""
        for relative, path in self.static_files().items():
            yield OutputFile(f"assets/{relative}", path.read_bytes())
        yield OutputFile(".nojekyll", b"")


def default_theme_dir() -> Path:
    """The bundled theme: inside the package when installed, beside it in a source checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "themes" / "default"
    return installed if installed.is_dir() else here.parent / "themes" / "default"


def environment(theme: Theme, compiled: Path | None = None) -> jinja2.Environment:
    """The templates' environment. `compiled` is a folder (in the build cache) where Jinja keeps
    each template compiled, by a hash of its source: compiling them takes ~0.2 s a build."""
    if compiled is not None:
        compiled.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(base / "templates") for base in theme.dirs]),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled)) if compiled is not None else None,
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(segments=segments, badges=badges, md=commonmark.escape,
                       md_start=functools.partial(commonmark.escape, at_start=True), yaml=yaml_string,
                       long_date=long_date, short_date=short_date, short_authors=short_authors,
                       thousands="{:,}".format)
    return env


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (JSON strings are valid YAML): safe for any title."""
    return json.dumps(text, ensure_ascii=False)


def long_date(digest: Digest) -> str:
    if digest.date is None:
        return f"Undated ({PurePath(digest.sources[0]).stem})"
    return f"{digest.date:%b} {digest.date.day}, {digest.date.year}"


def short_date(digest: Digest) -> str:
    if digest.date is None:
        return "undated"
    return f"{digest.date:%b} {digest.date.day}"
