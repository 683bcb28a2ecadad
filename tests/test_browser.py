"""The built seeds site in a real Chromium, opened from disk (file://) as a user would open it.

What the pages show is checked against the seed dumps read by the real parser, and page
against page (the index against the digest pages it links to), never against copied output.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from support import ENGINE_SCRIPTS, SEEDS, dump, make_content

from generator.build import BuildOptions, build
from generator.catalog import paper_key
from generator.parse import parse_dump

WASSERSTEIN = "Uncertainty quantification in a mechanical submodel driven by a Wasserstein-GAN"
SEARCH_ASSET = re.compile(r"/(?:lunr\.min\.js|search/(?:meta|(?:seg|terms)(?:-\d+)+|docs-\d+)\.js)$")
HOSTILE = "<img src=x onerror=alert(1)>"


def record_requests(page) -> list[str]:
    """Every URL the page requests from now on (register before navigating)."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def search_requests(urls: list[str]) -> list[str]:
    return [url for url in urls if SEARCH_ASSET.search(url.split("?")[0])]


def record_dialogs(page) -> list[str]:
    """Messages of alert/confirm/prompt dialogs; each is dismissed so the page goes on."""
    messages: list[str] = []

    def dismiss(dialog):
        messages.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return messages


def link_texts(locator) -> list[str]:
    return [text.strip() for text in locator.all_inner_texts()]


def seed_keys_dated(iso: str) -> set[str]:
    """Identities of the papers the seed dumps of one date hold, read with the real parser."""
    keys = set()
    for path in SEEDS:
        parsed = parse_dump(path.name, path.read_bytes(), default_year=2025)
        if parsed.date is not None and parsed.date.isoformat() == iso:
            keys |= {paper_key(entry.title) for entry in parsed.entries}
    return keys


def paper_page(site: Path, title: str) -> Path:
    """The paper page whose heading is `title` (found in the built files, not assumed)."""
    needle = f"<h1>{title}</h1>"
    found = [path for path in (site / "papers").glob("*.html") if needle in path.read_text(encoding="utf-8")]
    assert len(found) == 1, found
    return found[0]


# --- index and archive --------------------------------------------------------------------

def test_index_lists_the_latest_digest_and_the_archive(seeds_site, page):
    page.goto((seeds_site / "index.html").as_uri())
    latest = page.locator("section[aria-labelledby='latest-heading']")
    expect(latest.locator("h2 a")).to_have_attribute("href", "digests/2025-03-14.html")
    latest_titles = link_texts(latest.locator("li.paper h3 a"))
    assert {paper_key(title) for title in latest_titles} == seed_keys_dated("2025-03-14")
    assert len(latest_titles) == len(set(latest_titles))

    recent = page.locator("#recent ul.archive > li")
    expect(recent).to_have_count(4)
    hrefs = [recent.nth(i).locator("a").get_attribute("href") for i in range(4)]
    assert hrefs[:3] == ["digests/2025-03-14.html", "digests/2025-03-12.html", "digests/2025-03-11.html"]
    assert hrefs[3].startswith("digests/") and hrefs[3] not in hrefs[:3]
    assert recent.nth(3).locator("a").inner_text().startswith("Undated")
    counts = [recent.nth(i).locator(".count").inner_text() for i in range(4)]
    assert page.problems == []

    # Each count is what the digest page really lists; the latest one is what the index lists.
    for href, count in zip(hrefs, counts):
        page.goto((seeds_site / href).as_uri())
        listed = link_texts(page.locator("ol.papers > li.paper h3 a"))
        assert count == f"{len(listed)} papers"
        if href == hrefs[0]:
            assert listed == latest_titles
    assert page.problems == []


def test_archive_lists_every_digest_by_month_with_counts(seeds_site, page):
    page.goto((seeds_site / "index.html").as_uri())
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Archive", exact=True).click()
    expect(page.locator("h1")).to_have_text("Archive")
    months = page.locator("section.month")
    expect(months).to_have_count(2)  # March 2025, and the undated dump
    expect(months.nth(0).locator("h2")).to_contain_text("March 2025")
    expect(months.nth(0).locator("h2 .count")).to_have_text("3 digests, 250 papers")
    march = link_texts(months.nth(0).locator("li a"))
    assert march == ["Mar 14, 2025", "Mar 12, 2025", "Mar 11, 2025"]
    expect(months.nth(1).locator("h2")).to_contain_text("Undated")
    expect(months.nth(1).locator("li .count")).to_have_text("51 papers")
    assert page.problems == []


# --- digest -> paper -> other digest ------------------------------------------------------

def test_digest_to_paper_to_another_digest(seeds_site, page):
    page.goto((seeds_site / "digests" / "2025-03-14.html").as_uri())
    page.get_by_role("link", name=WASSERSTEIN, exact=True).first.click()
    paper_url = paper_page(seeds_site, WASSERSTEIN).as_uri()
    expect(page).to_have_url(paper_url + "?from=2025-03-14")
    expect(page.locator("h1")).to_have_text(WASSERSTEIN)

    featured = page.locator("ol.timeline a")
    hrefs = [featured.nth(i).get_attribute("href") for i in range(featured.count())]
    assert len(hrefs) >= 3 and "../digests/2025-03-14.html" in hrefs  # a paper of several digests
    featured.get_by_text("Mar 11, 2025", exact=True).click()
    expect(page).to_have_url((seeds_site / "digests" / "2025-03-11.html").as_uri())
    expect(page.locator("h1")).to_have_text("Digest: Mar 11, 2025")

    # The other digest lists the paper too, and leads back to the same paper page.
    page.get_by_role("link", name=WASSERSTEIN, exact=True).first.click()
    expect(page).to_have_url(paper_url + "?from=2025-03-11")
    assert page.problems == []


# --- search -------------------------------------------------------------------------------

def test_search_from_the_address_bar_and_by_typing(seeds_site, page):
    page.goto((seeds_site / "search.html").as_uri() + "?q=wasserstein")
    results = page.locator("#search-results")
    hit = results.get_by_role("link", name=WASSERSTEIN, exact=True)
    expect(hit).to_have_count(1)
    expect(page.locator("#search-input")).to_have_value("wasserstein")
    expect(page.locator("#search-status")).to_contain_text("wasserstein")

    # A new query replaces the results; a prefix of a word finds the paper too.
    page.locator("#search-input").fill("fisheries")
    expect(results.get_by_role("link", name="fisheries")).not_to_have_count(0)
    expect(hit).to_have_count(0)
    page.locator("#search-input").fill("wasserst")
    expect(hit).to_have_count(1)
    page.locator("#search-input").fill("fisheries")
    expect(hit).to_have_count(0)
    page.locator("#search-input").fill("(Wasserstein),")  # punctuation around a word, as typed in prose
    expect(hit).to_have_count(1)

    hit.click()
    expect(page).to_have_url(paper_page(seeds_site, WASSERSTEIN).as_uri())
    expect(page.locator("h1")).to_have_text(WASSERSTEIN)
    assert page.problems == []


def test_search_says_when_nothing_matches(seeds_site, page):
    query = "qzxv nonexistentterm"
    page.goto((seeds_site / "search.html").as_uri() + "?q=" + quote(query))
    status = page.locator("#search-status")
    expect(status).to_contain_text("No papers match")
    expect(status).to_contain_text(query)
    expect(page.locator("#search-results > li")).to_have_count(0)

    # Typing a query that matches, then one that does not, clears the old results.
    page.locator("#search-input").fill("wasserstein")
    expect(page.locator("#search-results > li")).not_to_have_count(0)
    page.locator("#search-input").fill("zzzzqqqq")
    expect(status).to_contain_text("No papers match")
    expect(status).to_contain_text("zzzzqqqq")
    expect(page.locator("#search-results > li")).to_have_count(0)
    assert page.problems == []


def test_search_echoes_markup_in_the_query_as_text(seeds_site, page):
    dialogs = record_dialogs(page)
    page.goto((seeds_site / "search.html").as_uri() + "?q=" + quote(HOSTILE))
    status = page.locator("#search-status")
    expect(status).to_contain_text(HOSTILE)
    expect(page.locator("#search-input")).to_have_value(HOSTILE)

    # The same query typed in, and one with lunr syntax that cannot be parsed.
    page.locator("#search-input").fill("wasserstein")
    expect(page.locator("#search-results > li")).not_to_have_count(0)
    page.locator("#search-input").fill(HOSTILE + " more")
    expect(status).to_contain_text(HOSTILE + " more")
    page.locator("#search-input").fill("title:" + HOSTILE)
    expect(status).to_contain_text("title:" + HOSTILE)

    assert page.locator("img").count() == 0
    assert page.evaluate("document.querySelectorAll('img, script:not([src])').length") == 0
    assert dialogs == []
    assert page.problems == []


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site whose dump holds markup in a title and an abstract: data that must stay text."""
    root = tmp_path_factory.mktemp("hostile")
    content = make_content(root, {
        "hostile.txt": dump(
            (f"{HOSTILE} Zebrafinch song learning", "An abstract with <script>alert(2)</script> and "
             "<b onmouseover=alert(3)>bold</b> markup about zebrafinch birdsong."),
            ("A harmless neighbour paper", "Plain text about birdsong, nothing else."),
        ),
    })
    out = root / "site"
    build(BuildOptions(content, out))
    return out


def test_search_results_show_hostile_data_as_text(hostile_site, page):
    dialogs = record_dialogs(page)
    page.goto((hostile_site / "search.html").as_uri() + "?q=zebrafinch")
    link = page.locator("#search-results li.paper h2 a")
    expect(link).to_have_count(1)
    expect(link).to_have_text(f"{HOSTILE} Zebrafinch song learning")
    # the excerpt around the match: the abstract's hostile markup, as text
    expect(page.locator("#search-results .snippet")).to_contain_text("onmouseover=alert(3)>bold</b> markup about zebrafinch")
    page.locator("#search-results .snippet").hover()  # would fire an onmouseover, had markup been parsed
    # li, h2, a, p, p, and a <mark> in the title and the snippet for the matched word; nothing else
    tags = page.evaluate("[...document.querySelectorAll('#search-results *')].map(node => node.tagName)")
    assert sorted(tags) == sorted(["LI", "H2", "A", "P", "P", "MARK", "MARK"])
    expect(page.locator("#search-results mark")).to_have_text(["Zebrafinch", "zebrafinch"], ignore_case=True)
    assert page.evaluate("document.querySelectorAll('img, b, #search-results script').length") == 0

    link.click()
    expect(page.locator("h1")).to_have_text(f"{HOSTILE} Zebrafinch song learning")
    assert page.locator("img, b").count() == 0
    assert dialogs == []
    assert page.problems == []


# --- search assets load on demand ---------------------------------------------------------

def test_search_assets_load_only_when_there_is_a_query(seeds_site, page):
    urls = record_requests(page)
    page.goto((seeds_site / "search.html").as_uri())
    page.wait_for_load_state("load")
    expect(page.locator("#search-status")).to_have_text("")
    assert any(url.endswith("/assets/search.js") for url in urls)
    assert search_requests(urls) == []

    # Typing is what brings them in (so the check above can see them when they load).
    page.locator("#search-input").fill("wasserstein")
    expect(page.locator("#search-results > li")).not_to_have_count(0)
    loaded = {re.sub(r"-\d+", "-N", url.rsplit("/", 1)[-1]) for url in search_requests(urls)}
    assert loaded == {"lunr.min.js", "meta.js", "terms-N-N-N.js", "docs-N.js"}
    assert page.problems == []


@pytest.mark.parametrize("where", ["index.html", "paper"])
def test_other_pages_never_load_search_assets(seeds_site, page, where):
    target = seeds_site / "index.html" if where == "index.html" else paper_page(seeds_site, WASSERSTEIN)
    urls = record_requests(page)
    page.goto(target.as_uri())
    page.wait_for_load_state("load")
    assert any(url.endswith("/assets/style.css") for url in urls)  # requests are being recorded
    assert search_requests(urls) == []
    assert not any(url.endswith(("/assets/search.js", *(f"/{script}" for script in ENGINE_SCRIPTS))) for url in urls)
    assert page.problems == []


# --- header search form -------------------------------------------------------------------

def test_header_search_form_on_a_paper_page(seeds_site, page):
    page.goto(paper_page(seeds_site, WASSERSTEIN).as_uri())
    page.locator("#header-q").fill("wasserstein")
    page.locator("#header-q").press("Enter")
    expect(page).to_have_url((seeds_site / "search.html").as_uri() + "?q=wasserstein")
    expect(page.locator("#search-input")).to_have_value("wasserstein")
    expect(page.locator("#search-results").get_by_role("link", name=WASSERSTEIN, exact=True)).to_have_count(1)
    assert page.problems == []
