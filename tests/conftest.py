"""Fixtures: the seeds built once per session, and a real headless Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import CHROMIUM, CHROMIUM_ARGS, CONTENT  # noqa: E402

from generator.build import BuildOptions, build  # noqa: E402


@pytest.fixture(scope="session")
def seeds_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """content/ (the five real seed dumps) built into a temporary folder."""
    out = tmp_path_factory.mktemp("seeds") / "site"
    build(BuildOptions(CONTENT, out))
    return out


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright (which cannot download a browser here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def watched_page(context):
    """A new page of the context that records console errors, page errors and failed requests."""
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda message: message.type == "error" and tab.problems.append(f"console: {message.text}"))
    tab.on("pageerror", lambda exc: tab.problems.append(f"pageerror: {exc}"))
    tab.on("requestfailed", lambda request: "ERR_ABORTED" not in (request.failure or "")  # cut short by navigating on
           and tab.problems.append(f"requestfailed: {request.url} ({request.failure})"))
    return tab


@pytest.fixture
def page(browser):
    """A fresh page, in a context of its own, that records what goes wrong."""
    context = browser.new_context()
    yield watched_page(context)
    context.close()


FORMS = [Path(__file__).resolve().parent / "fixtures" / part for part in (
    "api/2025-03-15.json", "forms/2025-03-16.txt", "api/2025-03-17.html", "forms/2025-03-18.json")]


@pytest.fixture(scope="session")
def forms_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds plus one digest in each other input form (API JSON, the current page's text, a
    saved page, and hostile JSON), built together."""
    import shutil

    root = tmp_path_factory.mktemp("forms")
    shutil.copytree(CONTENT, root / "content")
    for path in FORMS:
        shutil.copy(path, root / "content" / "digests" / path.name)
    build(BuildOptions(root / "content", root / "site"))
    return root / "site"


PUBLIC_BASE = "https://example.org/archive/"


@pytest.fixture(scope="session")
def public_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed forms with a base_url, as a published site is built (canonical links, the
    sitemap, OpenSearch, absolute URLs in the metadata)."""
    import shutil

    root = tmp_path_factory.mktemp("public")
    shutil.copytree(CONTENT, root / "content")
    for path in FORMS:
        shutil.copy(path, root / "content" / "digests" / path.name)
    toml = root / "content" / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('base_url = ""', f'base_url = "{PUBLIC_BASE}"'),
                    encoding="utf-8")
    build(BuildOptions(root / "content", root / "site"))
    return root / "site"


NEEDS_A_BROWSER = {"browser", "page", "vnu"}  # Chromium through Playwright; vnu: the Nu checker, on Java


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `browser` every test that needs Chromium or Java, through any fixture it uses, so
    that `-m "not browser"` leaves them out where neither is installed (macOS and Windows CI)."""
    for item in items:
        if NEEDS_A_BROWSER & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
        if sys.platform == "win32" and item.path.name in POSIX_ONLY:
            item.add_marker(pytest.mark.skip(reason=POSIX_ONLY[item.path.name]))


# Test modules that drive POSIX process machinery Windows lacks; what they test (locking, crash
# safety, the server) runs there the same, but is proved here, on Linux.
POSIX_ONLY = {
    "test_faults.py": "kills builds with SIGKILL and SIGINT at chosen moments",
    "test_locking.py": "kills lock holders with SIGKILL",
    "test_serve.py": "stops the server with SIGINT and SIGTERM to its process group",
    "test_serve_hostile.py": "stops the server with SIGINT (and uses Linux-only addresses)",
    "test_disk.py": "mounts tmpfs file systems",
}
