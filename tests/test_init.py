"""`paperdigest init`, run as a user runs it: the files of a new archive (from the templates in
generator/scaffold/), values escaped for TOML, YAML and Markdown, no overwriting without
--force, a second init with nothing to do, the first fetch against a local server; and this
repository's own content/, workflows and netlify.toml checked to be the same templates."""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
import tomllib
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from support import REPO, SEEDS, run_cli
from werkzeug import Request, Response

from generator import __version__
from generator.config import KNOWN_KEYS, load_config
from generator.fetch import Settings
from generator.init import FILES, Values, render, toml_string, yaml_string

# This repository's values: its content/, workflows and netlify.toml are the scaffold rendered
# with them. (To change one of those files, change its template in generator/scaffold/.) The
# digests' .README.md is not among them: content/digests/ holds the seeds alone, which tests read
# file by file as dumps.
REPOSITORY = Values(title="Daily Papers Digest", default_year=2025, package=".", package_note="this checkout",
                    build_command="make site", sources="pages saved as plain text")
SHARED = ["content/site.toml", "content/pages/about.md", ".github/workflows/site.yml",
          ".github/workflows/pages.yml", ".github/workflows/fetch.yml", "netlify.toml"]


def init(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return run_cli("init", *args, cwd=cwd)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_init_writes_a_whole_archive_that_builds(tmp_path):
    done = init(str(tmp_path / "my-archive"))
    assert done.returncode == 0, done.stderr
    archive = tmp_path / "my-archive"
    assert sorted(files(archive)) == sorted(FILES)
    assert (archive / "content" / "digests").is_dir()
    assert "wrote:" in done.stdout and "cd " in done.stdout and "paperdigest fetch" in done.stdout
    shutil.copy(SEEDS[0], archive / "content" / "digests")
    built = run_cli("build", "--strict", cwd=archive)  # --strict: the digests' README is no warning
    assert built.returncode == 0, built.stderr
    assert built.stderr == "" and (archive / "site" / "index.html").is_file()


def test_site_toml_has_every_setting_each_with_a_comment_and_the_defaults(tmp_path):
    assert init(str(tmp_path)).returncode == 0
    path = tmp_path / "content" / "site.toml"
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert set(data) == KNOWN_KEYS
    assert data["fetch"] == {f.name: getattr(Settings(), f.name) for f in fields(Settings)}
    assert data["default_year"] == datetime.now().year and data["base_url"] == "" and data["dates"] == {}
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert lines[number - 1].startswith("# "), f"line {number + 1} has no comment above it: {line}"
    assert len([line for line in lines if line.startswith("#")]) >= len(KNOWN_KEYS) + len(fields(Settings))
    config, diagnostics = load_config(path)
    assert diagnostics == [] and config.title == "Daily Papers Digest"


def test_gitignore_covers_the_output_the_cache_and_virtual_environments(tmp_path):
    assert init(str(tmp_path)).returncode == 0
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    ignored = ["site/index.html", ".site.paperdigest/state.json", ".site.paperdigest-x1/a", "_site/index.html",
               "._site.paperdigest/state.json", ".venv/bin/python", "venv/pyvenv.cfg",
               "content/digests/.2025-03-14.json.fetching"]
    kept = ["content/site.toml", "content/digests/2025-03-14.json", "content/digests/.README.md", "README.md",
            ".github/workflows/site.yml", "netlify.toml"]
    check = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", "--no-index", *ignored, *kept],
                           capture_output=True, text=True)
    assert sorted(check.stdout.split()) == sorted(ignored)


def test_title_and_address_with_quotes_and_backslashes_are_escaped(tmp_path):
    title = 'Ada\'s "papers" \\ C:\\new *digest* <b> # 1'
    done = init(str(tmp_path), "--title", title, "--base-url", "https://you.github.io/a\"b")
    assert done.returncode == 0, done.stderr
    data = tomllib.loads((tmp_path / "content" / "site.toml").read_text(encoding="utf-8"))
    assert data["title"] == title and data["base_url"] == 'https://you.github.io/a"b/'
    rendered = MarkdownIt().render((tmp_path / "README.md").read_text(encoding="utf-8")).splitlines()[0]
    assert rendered == "<h1>" + title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;") \
        .replace(">", "&gt;") + "</h1>"


@settings(max_examples=300, deadline=None)
@given(st.text())
@example('say "hi" \\ C:\\new\ttab\nline \x7f del \x85 next \u2028 \ufeff \x00 # not a comment')
def test_toml_and_yaml_strings_read_back_as_the_text(text):
    assert tomllib.loads(f"value = {toml_string(text)}\n")["value"] == text
    surrogate_free = text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    assert yaml.safe_load(f"value: {yaml_string(surrogate_free)} # a comment\n")["value"] == surrogate_free


def test_workflows_are_valid_yaml_with_the_pinned_version(tmp_path):
    assert init(str(tmp_path)).returncode == 0
    for name in ("site.yml", "fetch.yml"):
        workflow = yaml.safe_load((tmp_path / ".github" / "workflows" / name).read_text(encoding="utf-8"))
        steps = next(iter(workflow["jobs"].values()))["steps"]
        install = next(step for step in steps if step.get("name") == "Install paperdigest")
        assert install["env"] == {"PAPERDIGEST": f"paperdigest=={__version__}"}
        assert install["run"] == 'python -m pip install --quiet "$PAPERDIGEST"'
    netlify = tomllib.loads((tmp_path / "netlify.toml").read_text(encoding="utf-8"))
    assert netlify["build"]["command"] == f"python -m pip install paperdigest=={__version__} && paperdigest build"


def test_init_never_overwrites_and_then_changes_nothing(tmp_path):
    (tmp_path / "README.md").write_text("my own notes\n", encoding="utf-8")
    (tmp_path / "netlify.toml").write_text("# mine\n", encoding="utf-8")
    done = init(str(tmp_path))
    assert done.returncode == 1 and done.stdout == ""
    assert f"{tmp_path.as_posix()}/README.md: already there, and different; not overwritten" in done.stderr
    assert f"{tmp_path.as_posix()}/netlify.toml: already there" in done.stderr
    assert "nothing was written (--force overwrites those files)" in done.stderr
    assert files(tmp_path) == {"README.md": b"my own notes\n", "netlify.toml": b"# mine\n"}


def test_force_overwrites(tmp_path):
    (tmp_path / "README.md").write_text("my own notes\n", encoding="utf-8")
    done = init(str(tmp_path), "--force", "--title", "Forced")
    assert done.returncode == 0, done.stderr
    assert "  README.md (overwritten)" in done.stdout.splitlines()
    assert files(tmp_path) == render(Values(title="Forced"))


def test_a_second_init_has_nothing_to_do_even_after_edits(tmp_path):
    assert init(str(tmp_path), "--title", "First").returncode == 0
    (tmp_path / "content" / "site.toml").write_text('title = "Edited"\n', encoding="utf-8")
    (tmp_path / "netlify.toml").unlink()
    before = files(tmp_path)
    again = init("--title", "Second", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "paperdigest init: . is already an archive (content/site.toml); nothing to do"
    assert files(tmp_path) == before
    today = datetime.now(timezone.utc).date().isoformat()
    fetching = init("--fetch-since", today, cwd=tmp_path)  # no fetch (no server here): it says how instead
    assert fetching.returncode == 0 and f"paperdigest fetch --content content --since {today}" in fetching.stdout
    assert files(tmp_path) == before


@pytest.mark.parametrize("args, message", [
    (["--base-url", "ftp://example.org/"], "is not an http(s) address"),
    (["--base-url", "you.github.io"], "is not an http(s) address"),
    (["--title", "two\nlines"], "is not one line of text"),
    (["--fetch-since", "2025-02-30"], "is not a date like 2025-03-14"),
    (["--fetch-since", "2999-01-01"], "--fetch-since 2999-01-01 is in the future"),
])
def test_bad_options_are_usage_errors_that_write_nothing(tmp_path, args, message):
    done = init(str(tmp_path / "new"), *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "new").exists()


def test_a_file_in_the_way_is_named_and_nothing_is_written(tmp_path):
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    done = init(str(tmp_path / "taken"))
    assert done.returncode == 1 and "taken is a file, not a folder" in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "a" / "content").mkdir(parents=True)
    (tmp_path / "a" / "content" / "pages").write_text("x", encoding="utf-8")
    done = init(str(tmp_path / "a"))
    assert done.returncode == 1 and "pages" in done.stderr and "in the way" in done.stderr
    assert files(tmp_path / "a") == {"content/pages": b"x"}


def test_fetch_since_runs_the_first_fetch_with_the_settings_written(tmp_path, httpserver):
    def answer(request: Request) -> Response:
        day = request.args["date"]
        return Response(json.dumps([{"paper": {"id": "2503.00001", "title": f"A paper of {day}",
                                               "summary": "An abstract with a sentence or two. " * 3},
                                     "numComments": 0}]), content_type="application/json")

    httpserver.expect_request("/api/daily_papers").respond_with_handler(answer)
    today = datetime.now(timezone.utc).date()
    since = today - timedelta(days=1)
    api = httpserver.url_for("/api/daily_papers")
    done = init(str(tmp_path), "--fetch-since", since.isoformat(), "--api", api)
    assert done.returncode == 0, done.stderr
    summary = "paperdigest fetch: 2 dates fetched, 2 papers, 2 files written, 0 with no papers"
    assert done.stdout.splitlines()[-1] == summary
    assert tomllib.loads((tmp_path / "content" / "site.toml").read_text(encoding="utf-8"))["fetch"]["api"] == api
    assert sorted(p.name for p in (tmp_path / "content" / "digests").glob("*.json")) == \
        [f"{since.isoformat()}.json", f"{today.isoformat()}.json"]
    assert {request.args["date"] for request, _ in httpserver.log} == {since.isoformat(), today.isoformat()}
    built = run_cli("build", cwd=tmp_path)
    assert built.returncode == 0, built.stderr


def test_a_failed_first_fetch_keeps_the_archive_and_exits_1(tmp_path, httpserver):
    httpserver.expect_request("/api/daily_papers").respond_with_data("down", status=404)
    today = datetime.now(timezone.utc).date().isoformat()
    done = init(str(tmp_path), "--fetch-since", today, "--api", httpserver.url_for("/api/daily_papers"))
    assert done.returncode == 1 and f"paperdigest fetch: {today}: HTTP 404" in done.stderr
    assert sorted(files(tmp_path)) == sorted(FILES)


def test_the_repository_is_the_scaffold_rendered_with_its_values():
    """content/, the workflows and netlify.toml of this repository are the templates init
    writes; what differs is only what this repository sets differently."""
    rendered = render(REPOSITORY)
    for name in SHARED:
        ours = (REPO / name).read_text(encoding="utf-8")
        theirs = rendered[name].decode("utf-8")
        diff = "".join(difflib.unified_diff(theirs.splitlines(True), ours.splitlines(True), "scaffold", name))
        assert ours == theirs, f"{name} is not its template in generator/scaffold/ rendered:\n{diff}"


def test_an_archive_differs_from_the_repository_only_in_how_paperdigest_is_installed():
    ours, theirs = render(REPOSITORY), render(Values(title=REPOSITORY.title, default_year=2025))
    for name in (".github/workflows/site.yml", ".github/workflows/pages.yml", ".github/workflows/fetch.yml",
                 "netlify.toml"):
        pairs = zip(ours[name].decode().splitlines(), theirs[name].decode().splitlines())
        changed = [(a, b) for a, b in pairs if a != b]
        assert len(ours[name].splitlines()) == len(theirs[name].splitlines())
        assert all("PAPERDIGEST:" in a or "command =" in a for a, _ in changed), (name, changed)
        assert len(changed) == (0 if name.endswith("pages.yml") else 1), name
