"""`paperdigest init`: a new archive, made from the templates in generator/scaffold/ (real
files in the package, rendered with Jinja; the repository's own content/, workflows and
netlify.toml are the same templates rendered with its values, which tests/test_init.py checks).

It never overwrites: a file that is already there with other bytes is reported and nothing is
written, unless `force`. A folder that already has content/site.toml is an archive already,
and is left alone. Values go into the files through escaping filters (`toml`, `yaml`, `md_start`),
so a title with quotes or backslashes still gives valid TOML and Markdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import jinja2

from generator import __version__, commonmark
from generator.diagnostics import UsageError
from generator.fetch import DEFAULT_API, Settings

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"

# Where each file goes in the archive -> its template in scaffold/. (Templates have no leading
# dots: a .gitignore in the package would apply to the package's own folder in git.)
FILES = {
    "content/site.toml": "site.toml",
    # A dot keeps builds quiet: they skip dot files in digests/ and warn of any other non-digest.
    "content/digests/.README.md": "digests-README.md",
    "content/pages/about.md": "about.md",
    "README.md": "README.md",
    ".gitignore": "gitignore",
    ".github/workflows/site.yml": "workflows/site.yml",
    ".github/workflows/pages.yml": "workflows/pages.yml",
    ".github/workflows/fetch.yml": "workflows/fetch.yml",
    "netlify.toml": "netlify.toml",
}
ARCHIVE_MARK = "content/site.toml"  # a folder that has it is an archive already
PACKAGE = re.compile(r"\.|paperdigest(==[0-9A-Za-z.+!-]+)?")  # what a workflow may pip install


@dataclass(frozen=True)
class Values:
    """What the templates are filled with. The defaults are a user's archive (paperdigest
    from PyPI, pinned to this version); the repository renders them with its own."""

    title: str = "Daily Papers Digest"
    description: str = "An offline, searchable archive of the Hugging Face Daily Papers digests."
    base_url: str = ""
    default_year: int = field(default_factory=lambda: date.today().year)
    language: str = "en"
    api: str = DEFAULT_API
    package: str = f"paperdigest=={__version__}"  # what the workflows pip install
    package_note: str = "the paperdigest that made this archive; raise it to upgrade"
    build_command: str = f"python -m pip install paperdigest=={__version__} && paperdigest build"  # Netlify's
    sources: str = "the daily papers API and saved pages"  # the About page: what the digests came from
    version: str = __version__

    def check(self) -> None:
        for name in ("title", "description", "base_url", "language", "api", "package_note", "sources"):
            if any(ord(c) < 32 or ord(c) == 127 for c in getattr(self, name)):
                raise UsageError(f"the {name.replace('_', ' ')} must be one line of text, got {getattr(self, name)!r}")
        if not PACKAGE.fullmatch(self.package):
            raise UsageError(f"cannot pin the workflows to {self.package!r}")


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    return '"' + "".join(escapes.get(c) or (f"\\u{ord(c):04X}" if ord(c) < 32 or ord(c) == 127 else c)
                         for c in text) + '"'


def yaml_string(text: str) -> str:
    """A YAML double-quoted scalar: every character YAML would not keep as it is (controls, line
    breaks, U+2028/9, BOM, surrogates) escaped, so GitHub reads back exactly `text`."""
    def escaped(c: str) -> str:
        point = ord(c)
        if c in '"\\':
            return "\\" + c
        if 0x20 <= point <= 0x7E or 0xA0 <= point <= 0xD7FF and point not in (0x2028, 0x2029) \
                or 0xE000 <= point <= 0xFFFD and point != 0xFEFF or point >= 0x10000:
            return c
        return f"\\x{point:02X}" if point <= 0xFF else f"\\u{point:04X}"
    return '"' + "".join(map(escaped, text)) + '"'


def environment() -> jinja2.Environment:
    """Jinja with delimiters that the files' own syntax never uses: `${{ }}` is GitHub's,
    `[[ ]]` TOML's; a value is << value >>."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(SCAFFOLD)), undefined=jinja2.StrictUndefined, autoescape=False,
        keep_trailing_newline=True, variable_start_string="<<", variable_end_string=">>",
        block_start_string="<%", block_end_string="%>", comment_start_string="<#", comment_end_string="#>")
    env.filters.update(toml=toml_string, yaml=yaml_string, md_start=lambda text: commonmark.escape(text, at_start=True))
    return env


def render(values: Values) -> dict[str, bytes]:
    """Every file of a new archive: path in the archive (POSIX) -> bytes (UTF-8, LF)."""
    values.check()
    env = environment()
    context = {**values.__dict__, "fetch": Settings()}
    return {target: env.get_template(template).render(context).encode("utf-8") for target, template in FILES.items()}


@dataclass
class Outcome:
    """What init did, or would not do."""

    folder: Path
    written: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)  # the written files that were there (force)
    unchanged: list[str] = field(default_factory=list)  # there already, with the same bytes
    conflicts: list[str] = field(default_factory=list)  # there already, different: nothing was written
    archive: bool = False  # the folder is an archive already: nothing was done


def create(folder: Path, values: Values, force: bool = False) -> Outcome:
    """Write the archive's files into `folder` (made if missing). Checks every file first, so
    that a refusal changes nothing. Raises UsageError for a folder that cannot be one."""
    files = render(values)
    outcome = Outcome(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder")
    if not force and (folder / ARCHIVE_MARK).is_file():
        outcome.archive = True
        return outcome
    for name, data in files.items():
        path = folder / name
        if path.is_dir() or any(parent.is_file() for parent in list(path.parents)[:name.count("/")]):
            raise UsageError(f"{path} is in the way: a folder where a file belongs, or a file where a folder does")
        if path.is_file():
            if path.read_bytes() == data:
                outcome.unchanged.append(name)
                continue
            (outcome.overwritten if force else outcome.conflicts).append(name)
            if not force:
                continue
        outcome.written.append(name)
    if outcome.conflicts:
        outcome.written = []
        return outcome
    for name in outcome.written:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
    (folder / "content" / "digests").mkdir(parents=True, exist_ok=True)
    return outcome


def report(outcome: Outcome, shown: str) -> tuple[int, list[str], list[str]]:
    """The exit code, the lines for stdout and those for stderr."""
    if outcome.archive:
        return 0, [f"paperdigest init: {shown} is already an archive ({ARCHIVE_MARK}); nothing to do"], []
    if outcome.conflicts:
        lines = [f"paperdigest init: {Path(shown, name).as_posix()}: already there, and different; not overwritten"
                 for name in outcome.conflicts]
        return 1, [], lines + ["paperdigest init: nothing was written (--force overwrites those files)"]
    if not outcome.written:
        return 0, [f"paperdigest init: every file of an archive is in {shown} already; nothing to do"], []
    lines = [f"paperdigest init: an archive in {shown}; wrote:"]
    lines += [f"  {name}" + (" (overwritten)" if name in outcome.overwritten else "") for name in outcome.written]
    lines += ["Next:"] + ([f"  cd {shown}"] if shown != "." else [])
    lines += ["  paperdigest fetch   # the newest digest from the daily papers API into content/digests/",
              "  paperdigest serve   # build the site and preview it on http://127.0.0.1:8000/",
              "Then push to GitHub and set Settings -> Pages -> Source to GitHub Actions (see README.md)."]
    return 0, lines, []
