"""The built site as the hosts serve it: under a project sub-path (/site/, as on GitHub Pages)
and with the response headers netlify.toml declares (its strict Content-Security-Policy).

The server is Python's http.server on 127.0.0.1, in this process, on a free port. The headers
come from parsing the real netlify.toml, so a change there is what this test exercises.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
import http.server
import threading
import tomllib
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import expect

from support import REPO

WASSERSTEIN = "Uncertainty quantification in a mechanical submodel driven by a Wasserstein-GAN"
NETLIFY = REPO / "netlify.toml"


def netlify_config() -> dict:
    with NETLIFY.open("rb") as handle:
        return tomllib.load(handle)


def header_rules(config: dict) -> list[tuple[str, dict[str, str]]]:
    return [(rule["for"], dict(rule.get("values", {}))) for rule in config.get("headers", [])]


def rule_matches(pattern: str, path: str) -> bool:
    """Netlify's path patterns as this config uses them: exact paths, or a prefix ending in /*."""
    if pattern.endswith("/*"):
        return path.startswith(pattern[:-1])
    return path == pattern


def csp_directives(policy: str) -> dict[str, list[str]]:
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


# --- the configuration itself -------------------------------------------------------------

def test_netlify_builds_with_make_site_and_publishes_site():
    build = netlify_config()["build"]
    assert build["command"] == "make site"
    assert build["publish"] == "site"


def test_netlify_csp_is_strict():
    rules = [values for pattern, values in header_rules(netlify_config()) if pattern == "/*"]
    assert len(rules) == 1
    values = rules[0]
    policy = values["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "unsafe-hashes" not in policy
    directives = csp_directives(policy)
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert values["X-Content-Type-Options"] == "nosniff"
    assert values["Referrer-Policy"] and values["Permissions-Policy"]


# --- a real server under a sub-path -------------------------------------------------------

class HostHandler(http.server.SimpleHTTPRequestHandler):
    """Static files plus the headers netlify.toml gives the matching paths."""

    rules: list[tuple[str, dict[str, str]]] = []
    served: list[tuple[str, int]] = []  # (path, status) of every request, as the server saw it

    def end_headers(self):
        path = urlsplit(self.path).path
        for pattern, values in self.rules:
            if rule_matches(pattern, path):
                for name, value in values.items():
                    self.send_header(name, value)
        super().end_headers()

    def log_request(self, code="-", size="-"):
        self.served.append((self.path, int(code)))

    def log_message(self, format, *args):  # keep test output quiet
        pass


class Host(str):
    """The site's base URL, carrying the server's log of what it served."""

    def __new__(cls, url: str, served: list[tuple[str, int]]):
        made = super().__new__(cls, url)
        made.served = served
        return made


@contextmanager
def netlify_host(site: Path) -> Iterator[Host]:
    """Serve the folder *above* the site with netlify.toml's headers, so the site lives at
    http://127.0.0.1:PORT/<its folder name>/ (a GitHub Pages project path)."""
    handler = type("NetlifyHeaders", (HostHandler,), {"rules": header_rules(netlify_config()), "served": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site.parent)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Host(f"http://127.0.0.1:{server.server_address[1]}/{site.name}/", handler.served)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def host(seeds_site: Path):
    """The seeds site under /site/, with the Netlify headers."""
    with netlify_host(seeds_site) as served:
        yield served


@pytest.fixture
def hosted(page, host):
    """The page fixture, also recording every request URL and every HTTP error response."""
    host.served.clear()
    page.urls = []
    page.on("request", lambda request: page.urls.append(request.url))
    page.on("response", lambda response: response.status >= 400
            and page.problems.append(f"HTTP {response.status}: {response.url}"))
    return page


def paper_path(site: Path, title: str) -> str:
    needle = f"<h1>{title}</h1>"
    found = [path for path in (site / "papers").glob("*.html") if needle in path.read_text(encoding="utf-8")]
    assert len(found) == 1, found
    return f"papers/{found[0].name}"


def assert_stayed_home(page, host: Host):
    """Every request went to this server, inside the site's sub-path, and was answered."""
    origin = urlsplit(host)
    assert page.urls
    for url in page.urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.hostname, parts.port) == ("http", "127.0.0.1", origin.port), url
        assert parts.path.startswith(origin.path), url
    assert host.served
    for path, status in list(host.served):  # includes what the browser asks for on its own
        assert path.startswith(origin.path) and status < 400, (path, status)


def test_served_headers_are_netlify_toml(host, hosted):
    response = hosted.goto(host + "index.html")
    assert response.ok
    rules = [values for pattern, values in header_rules(netlify_config()) if pattern == "/*"]
    for name, value in rules[0].items():
        assert response.headers[name.lower()] == value


@pytest.mark.parametrize("where", ["", "index.html", "digests/2025-03-14.html", "paper"])
def test_pages_work_under_the_sub_path_with_the_csp(seeds_site, host, hosted, where):
    path = paper_path(seeds_site, WASSERSTEIN) if where == "paper" else where
    response = hosted.goto(host + path)
    assert response.ok and "content-security-policy" in response.headers
    hosted.wait_for_load_state("load")
    # The stylesheet loaded (style-src 'self', text/css under nosniff) and its rules are in effect.
    assert hosted.evaluate("""[...document.styleSheets].some(
        sheet => sheet.href && sheet.href.endsWith('/site/assets/style.css') && sheet.cssRules.length > 0)""")

    # Every same-site link on the page leads to a page that exists under the sub-path.
    hrefs = hosted.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    local = {href.split("#")[0].split("?")[0] for href in hrefs if href.startswith(host)}
    assert local
    for href in sorted(local):
        assert (seeds_site / href[len(host):]).is_file(), href
    assert hosted.problems == []
    assert_stayed_home(hosted, host)


@pytest.mark.parametrize("where", ["index.html", "search.html", "paper"])
def test_pages_name_an_icon_inside_the_site(seeds_site, host, hosted, where):
    """Without one, browsers ask for /favicon.ico at the host's root: outside a project site."""
    path = paper_path(seeds_site, WASSERSTEIN) if where == "paper" else where
    hosted.goto(host + path)
    icons = hosted.eval_on_selector_all("link[rel~='icon']", "links => links.map(link => link.href)")
    assert icons, "no <link rel=icon>: the browser will request /favicon.ico outside the site"
    for icon in icons:
        assert icon.startswith("data:") or (icon.startswith(host) and (seeds_site / icon[len(host):]).is_file()), icon


def test_search_works_under_the_sub_path_with_the_csp(seeds_site, host, hosted):
    response = hosted.goto(host + "search.html?q=wasserstein")
    assert "content-security-policy" in response.headers
    hit = hosted.locator("#search-results").get_by_role("link", name=WASSERSTEIN, exact=True)
    expect(hit).to_have_count(1)
    assert any(url.endswith("/site/search/meta.js") for url in hosted.urls)
    assert any("/site/search/terms-" in url for url in hosted.urls)
    hit.click()
    expect(hosted).to_have_url(host + paper_path(seeds_site, WASSERSTEIN))
    expect(hosted.locator("h1")).to_have_text(WASSERSTEIN)

    # The header form (form-action 'self') leads back to search, still under the sub-path.
    hosted.locator("#header-q").fill("fisheries management")
    hosted.locator("#header-q").press("Enter")
    expect(hosted).to_have_url(host + "search.html?q=" + quote("fisheries management").replace("%20", "+"))
    expect(hosted.locator("#search-results > li")).not_to_have_count(0)
    assert hosted.problems == []
    assert_stayed_home(hosted, host)


def test_a_csp_violation_would_be_caught(host, hosted):
    """The control for the tests above: an inline script is refused, and that is a console error."""
    hosted.goto(host + "index.html")
    refused = lambda message: message.type == "error" and "Content Security Policy" in message.text
    with hosted.expect_console_message(refused):
        hosted.evaluate("""() => {
            const tag = document.createElement('script');
            tag.textContent = 'window.inlineRan = true';
            document.body.appendChild(tag);
        }""")
    assert hosted.evaluate("window.inlineRan === true") is False
    assert any("Content Security Policy" in problem for problem in hosted.problems), hosted.problems
