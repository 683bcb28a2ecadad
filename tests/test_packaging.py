"""The package as PyPI and a user get it: an sdist and a wheel built with `python -m build` from a
clean copy of the source (the wheel from the sdist, as `build` does), passing `twine check`;
complete metadata; every file of the wheel and the sdist on a list; and the wheel installed
into a fresh virtual environment outside the repository, where `paperdigest init`, a seed
dump, `build` and `serve` make a working archive, searched in Chromium from file://."""

from __future__ import annotations

import email.parser
import os
import queue
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect
from support import REPO, SEEDS

from generator import __version__
from generator.init import FILES

WINDOWS = os.name == "nt"
TITLE = "Papers we keep"


def clean_copy(target: Path) -> Path:
    """The files a fresh clone of the work tree would have: tracked ones and new ones git does
    not ignore (no .venv, no site cache, no build leftovers)."""
    command = ["git", "-c", "safe.directory=*", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
               "--exclude-standard"]  # safe.directory: a checkout another user owns (CI's containers)
    listed = subprocess.run(command, capture_output=True, check=True).stdout.decode("utf-8").split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel, built once (no build isolation: the backend from the test extra)."""
    source = clean_copy(tmp_path_factory.mktemp("checkout"))
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return {"sdist": next(out.glob("*.tar.gz")), "wheel": next(out.glob("*.whl"))}


def test_twine_check_passes(dist):
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(dist["sdist"]), str(dist["wheel"])],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


def test_the_metadata_is_complete_and_the_version_is_the_packages(dist):
    assert dist["wheel"].name == f"paperdigest-{__version__}-py3-none-any.whl"
    assert dist["sdist"].name == f"paperdigest-{__version__}.tar.gz"
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        text = wheel.read(f"paperdigest-{__version__}.dist-info/METADATA").decode("utf-8")
    meta = email.parser.Parser().parsestr(text)
    assert meta["Name"] == "paperdigest" and meta["Version"] == __version__
    assert meta["License-Expression"] == "MIT" and meta.get_all("License-File") == ["LICENSE"]
    assert meta["Description-Content-Type"] == "text/markdown" and meta["Requires-Python"] == ">=3.11"
    assert "pipx install paperdigest" in meta.get_payload()  # the README is the long description
    classifiers = meta.get_all("Classifier")
    assert "Programming Language :: Python :: 3.11" in classifiers and "Environment :: Console" in classifiers
    assert {url.split(",")[0] for url in meta.get_all("Project-URL")} >= {"Homepage", "Source", "Issues", "Changelog"}
    assert "daily papers" in meta["Keywords"]
    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in declared and declared["dynamic"] == ["version"]  # one place: generator/__init__.py


def wheel_allowlist() -> set[str]:
    """Every file the wheel may hold: the package's modules and data, the default theme, the
    scaffold templates, the dist-info. Made from the source tree's own lists, so a file that
    is not one of these (a test, a seed, the site, a cache) has no place in it."""
    modules = {f"generator/{path.name}" for path in (REPO / "generator").glob("*.py")}
    data = {"generator/livereload.js", "generator/topics.toml"}
    scaffold = {f"generator/scaffold/{template}" for template in FILES.values()}
    theme = {f"generator/themes/{path.relative_to(REPO / 'themes').as_posix()}"
             for path in (REPO / "themes").rglob("*") if path.is_file()}
    info = f"paperdigest-{__version__}.dist-info"
    meta = {f"{info}/{name}" for name in ("METADATA", "WHEEL", "RECORD", "entry_points.txt", "licenses/LICENSE")}
    return modules | data | scaffold | theme | meta


def test_every_file_in_the_wheel_is_on_the_list(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
        entry_points = wheel.read(f"paperdigest-{__version__}.dist-info/entry_points.txt").decode()
    assert names == wheel_allowlist()
    assert not any(re.search(r"(^|/)(tests?|content|site|benchmarks|__pycache__)/|\.pyc$", name) for name in names)
    assert "generator/themes/default/templates/paper.html" in names and "generator/scaffold/site.toml" in names
    assert "paperdigest = generator.cli:main" in entry_points


def test_the_sdist_holds_the_sources_and_the_tests_and_nothing_built(dist):
    with tarfile.open(dist["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    tops = {name.split("/")[0] if not name.startswith(".github/") else ".github/workflows" for name in names}
    assert tops == {"generator", "themes", "tests", "content", ".github/workflows", "netlify.toml", "Makefile",
                    "CHANGELOG.md", "README.md", "LICENSE", "pyproject.toml", "PKG-INFO", ".gitignore"}
    assert not any(re.search(r"(^|/)(__pycache__|site|benchmarks|\.venv|test-artifacts)(/|$)|\.pyc$", name)
                   for name in names)
    assert "content/digests/000_655177a3bb48841b.txt" in names and "tests/test_packaging.py" in names


# --- a user's installation ---------------------------------------------------------------

def venv_command(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if WINDOWS else "bin") / (name + (".exe" if WINDOWS else ""))


@pytest.fixture(scope="session")
def installed(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment outside the repository, with the wheel installed (its
    dependencies from the package index) and nothing else of this checkout."""
    venv = tmp_path_factory.mktemp("user") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run([str(venv_command(venv, "python")), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", str(dist["wheel"])],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


def user_env() -> dict[str, str]:
    """The environment, less anything that could put this checkout on the path."""
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}


def run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv_command(venv, "paperdigest")), *args], cwd=cwd, capture_output=True, text=True,
                          env=user_env(), timeout=300)


@pytest.fixture(scope="session")
def user_archive(installed, tmp_path_factory) -> Path:
    """`paperdigest init` in an empty folder, one seed dump copied in, `paperdigest build`."""
    home = tmp_path_factory.mktemp("home")
    done = run(installed, "init", "my-archive", "--title", TITLE, cwd=home)
    assert done.returncode == 0, done.stderr
    archive = home / "my-archive"
    shutil.copy(SEEDS[0], archive / "content" / "digests")
    built = run(installed, "build", "--strict", cwd=archive)
    assert built.returncode == 0, built.stdout + built.stderr
    assert re.fullmatch(r"paperdigest: \d+ entries, \d+ papers, 1 digests?; wrote \d+ files to site in [\d.]+ s\n",
                        built.stdout), built.stdout
    return archive


def test_the_installed_command_is_the_wheels_own(installed, tmp_path):
    version = run(installed, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"paperdigest {__version__}"
    python = str(venv_command(installed, "python"))
    where = subprocess.run([python, "-c", "import generator; print(generator.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, env=user_env(), timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stdout + where.stderr


def test_the_archive_builds_into_a_site_with_its_title(user_archive):
    site = user_archive / "site"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert f"{TITLE}</title>" in index
    papers = sorted((site / "papers").glob("*.html"))
    assert len(papers) > 10 and (site / "search.html").is_file() and (site / "about.html").is_file()
    assert "Hugging Face Daily Papers" in (site / "about.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in (site / "digests").glob("*.html"))  # the seed's digest page


def lines_of(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)


def test_the_archive_is_served(installed, user_archive):
    server = subprocess.Popen([str(venv_command(installed, "paperdigest")), "serve", "--port", "0"], cwd=user_archive,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=user_env())
    said: queue.Queue = queue.Queue()
    threading.Thread(target=lines_of, args=(server.stdout, said), daemon=True).start()
    try:
        deadline, url, seen = time.monotonic() + 60, None, []
        while url is None and time.monotonic() < deadline:
            try:
                seen.append(said.get(timeout=1))
            except queue.Empty:
                continue
            if found := re.search(r"serving \S+ at (http://[^/\s]+:\d+/)", seen[-1]):
                url = found.group(1)
        assert url, "".join(seen)
        for page in ("index.html", "search.html", "about.html"):
            with urllib.request.urlopen(url + page, timeout=10) as answer:
                assert answer.status == 200 and TITLE in answer.read().decode("utf-8")
    finally:
        server.kill()
        server.wait(timeout=30)
        server.stdout.close()


WASSERSTEIN = "Uncertainty quantification in a mechanical submodel driven by a Wasserstein-GAN"  # in SEEDS[0]


def test_search_works_from_file_in_chromium(user_archive, page):
    site = user_archive / "site"
    page.goto((site / "search.html").as_uri() + "?q=wasserstein")
    hit = page.locator("#search-results").get_by_role("link", name=WASSERSTEIN, exact=True)
    expect(hit).to_have_count(1)
    expect(page.locator("#search-status")).to_contain_text("wasserstein")
    hit.click()
    expect(page.locator("h1")).to_contain_text("Wasserstein-GAN")
    assert page.url.startswith((site / "papers").as_uri() + "/")
    assert page.problems == []


def test_the_readme_starts_with_the_users_path_and_keeps_the_repositorys():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    first_screen = text.split("\n## ", 1)[0]
    commands = ["pipx install paperdigest", "paperdigest init my-archive", "paperdigest fetch", "paperdigest serve"]
    places = [first_screen.find(command) for command in commands]
    assert -1 not in places and places == sorted(places), places
    assert "## Start an archive of your own" in text
    setup = text.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
    assert "make site" in setup and "make test" in setup


def test_the_archives_readme_tells_how_to_add_build_preview_and_publish(tmp_path):
    from support import run_cli

    assert run_cli("init", str(tmp_path), "--title", "Mine").returncode == 0
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert text.startswith("# Mine\n")
    assert [line for line in text.splitlines() if line.startswith("## ")] == \
        ["## Add a digest", "## Build and preview", "## Publish"]
    for command in ("paperdigest fetch", "paperdigest build", "paperdigest serve", f"paperdigest {__version__}"):
        assert command in text
