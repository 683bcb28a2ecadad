"""The default theme as a reader meets it, in a real Chromium, from file:// and over HTTP under
a sub-path (with netlify.toml's headers, CSP included): light and dark, the keyboard, search
as you type with the query in the address, accessibility (axe-core), and screenshots."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import watched_page
from support import REPO
from test_browser import WASSERSTEIN, paper_page
from test_hosting import host, hosted  # noqa: F401  (fixtures: the site served under /site/)

AXE = REPO / ".test-tools" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = REPO / "test-artifacts" / "screenshots"
PAGES = {  # name -> path inside the site (the paper is found by its title)
    "home": "index.html",
    "digest": "digests/2025-03-12.html",
    "paper": None,
    "archive": "archive.html",
    "featured": "featured.html",
    "calendar": "calendar.html",
    "topics": "topics.html",
    "topic": "topics/diffusion-models.html",
    "search": "search.html?q=diffusion",
}


@pytest.fixture(params=["file", "http"])
def site(request, seeds_site):
    """The base URL of the seeds site, from disk or from a server under /site/."""
    if request.param == "file":
        return seeds_site.as_uri() + "/"
    return request.getfixturevalue("host")


@pytest.fixture
def tab(request, page, site):
    """The page fixture; over HTTP it also records failed responses."""
    if site.startswith("http"):
        request.getfixturevalue("hosted")
    return page


def page_path(seeds_site: Path, name: str) -> str:
    return PAGES[name] or paper_page(seeds_site, WASSERSTEIN).relative_to(seeds_site).as_posix()


def arrived(page, heading: str) -> None:
    """The page with this heading is shown and its scripts are listening (keys pressed before
    DOMContentLoaded would be lost)."""
    expect(page.locator("h1")).to_have_text(heading)
    page.wait_for_load_state("domcontentloaded")


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


# --- light and dark ------------------------------------------------------------------------

def test_the_theme_follows_the_system_until_the_reader_picks_one(site, tab):
    tab.emulate_media(color_scheme="light")
    tab.goto(site + "index.html")
    toggle = tab.locator("#theme-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    light = background(tab)
    tab.emulate_media(color_scheme="dark")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    dark = background(tab)
    assert light != dark

    tab.emulate_media(color_scheme="light")
    toggle.click()  # the reader picks dark on a light system
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert background(tab) == dark
    tab.goto(site + "digests/2025-03-14.html")  # kept across pages, applied before paint
    assert tab.evaluate("document.documentElement.dataset.theme") == "dark"
    assert background(tab) == dark
    tab.locator("#theme-toggle").click()
    tab.reload()
    assert background(tab) == light
    assert tab.problems == []


def test_the_toggle_still_works_where_storage_is_refused(seeds_site, page):
    page.add_init_script("Object.defineProperty(window, 'localStorage', "
                         "{get() { throw new DOMException('denied', 'SecurityError'); }});")
    page.emulate_media(color_scheme="light")
    page.goto((seeds_site / "index.html").as_uri())
    light = background(page)
    page.locator("#theme-toggle").click()
    assert background(page) != light
    assert page.problems == []


# --- keyboard ------------------------------------------------------------------------------

def test_digest_keys_move_through_papers_and_digests(site, tab):
    tab.goto(site + "digests/2025-03-12.html")
    papers = tab.locator("ol.papers > li.paper")
    tab.keyboard.press("j")
    expect(papers.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    tab.keyboard.press("j")
    tab.keyboard.press("j")
    tab.keyboard.press("k")
    expect(papers.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    expect(tab.locator("li.paper.current")).to_have_count(1)
    focused = tab.evaluate("document.activeElement.textContent")
    assert focused == papers.nth(1).locator(".paper-title a").inner_text()
    tab.keyboard.press("Enter")  # the focused title is a link
    arrived(tab, focused)
    tab.go_back()
    tab.keyboard.press("]")
    arrived(tab, "Digest: Mar 14, 2025")
    tab.keyboard.press("[")
    arrived(tab, "Digest: Mar 12, 2025")
    tab.keyboard.press("[")
    arrived(tab, "Digest: Mar 11, 2025")
    assert tab.problems == []


def test_a_paper_page_leads_on_through_the_digest_the_reader_came_from(site, tab, seeds_site):
    tab.goto(site + "digests/2025-03-11.html")
    titles = [t.strip() for t in tab.locator("ol.papers .paper-title a").all_inner_texts()]
    at = titles.index(WASSERSTEIN)
    tab.get_by_role("link", name=WASSERSTEIN, exact=True).click()
    nav = tab.locator(".paper-nav:visible")
    expect(nav).to_have_count(1)
    expect(nav).to_have_attribute("data-digest", "2025-03-11")
    tab.keyboard.press("j")
    arrived(tab, titles[at + 1])
    expect(tab.locator(".paper-nav:visible")).to_have_attribute("data-digest", "2025-03-11")
    tab.keyboard.press("k")
    arrived(tab, WASSERSTEIN)
    # Opened directly, the page offers the papers next to it in its latest digest.
    tab.goto(site + page_path(seeds_site, "paper"))
    expect(tab.locator(".paper-nav:visible")).to_have_attribute("data-digest", "2025-03-14")
    assert tab.problems == []


def test_slash_focuses_the_search_box_and_enter_searches(site, tab, seeds_site):
    tab.goto(site + page_path(seeds_site, "paper"))
    tab.keyboard.press("/")
    assert tab.evaluate("document.activeElement.id") == "header-q"
    tab.keyboard.type("wasserstein")
    tab.keyboard.press("Enter")
    expect(tab.locator("#search-results").get_by_role("link", name=WASSERSTEIN, exact=True)).to_have_count(1)
    assert tab.problems == []


# --- search as you type ----------------------------------------------------------------------

def test_search_keeps_the_query_in_the_address_and_works_by_keyboard(site, tab):
    tab.goto(site + "search.html")
    box = tab.locator("#search-input")
    box.focus()
    tab.keyboard.type("wasserstein")
    hit = tab.locator("#search-results").get_by_role("link", name=WASSERSTEIN, exact=True)
    expect(hit).to_have_count(1)
    expect(tab).to_have_url(re.compile(r"search\.html\?q=wasserstein$"))
    tab.keyboard.press("ArrowDown")
    assert tab.evaluate("document.activeElement.textContent") == WASSERSTEIN
    tab.keyboard.press("ArrowUp")
    assert tab.evaluate("document.activeElement.id") == "search-input"
    tab.keyboard.press("ArrowDown")
    tab.keyboard.press("Enter")
    arrived(tab, WASSERSTEIN)
    tab.go_back()  # the results come back with the query
    expect(box).to_have_value("wasserstein")
    expect(hit).to_have_count(1)

    box.focus()
    tab.keyboard.press("Escape")
    expect(box).to_have_value("")
    expect(tab.locator("#search-results > li")).to_have_count(0)
    expect(tab).to_have_url(re.compile(r"search\.html$"))
    assert tab.problems == []


def test_submitted_queries_step_back_and_forward(site, tab):
    tab.goto(site + "search.html")
    box = tab.locator("#search-input")
    for query in ("wasserstein", "grokking"):
        box.fill(query)
        box.press("Enter")
        expect(tab).to_have_url(re.compile(rf"\?q={query}$"))
    expect(tab.locator("#search-results > li")).not_to_have_count(0)
    tab.go_back()
    expect(box).to_have_value("wasserstein")
    expect(tab.locator("#search-results").get_by_role("link", name=WASSERSTEIN, exact=True)).to_have_count(1)
    tab.go_forward()
    expect(box).to_have_value("grokking")
    assert tab.problems == []


def marks(page) -> list[str]:
    return [text.lower() for text in page.locator("#search-results mark").all_inner_texts()]


def test_matched_words_are_highlighted_as_lunr_matched_them(seeds_site, page):
    page.goto((seeds_site / "search.html").as_uri() + "?q=diffus")  # a prefix as typed
    expect(page.locator("#search-results > li")).not_to_have_count(0)
    found = marks(page)
    assert found and all(word.startswith("diffus") for word in found), found
    for query in ("title:grokking", "models"):
        page.locator("#search-input").fill(query)
        expect(page.locator("#search-status")).to_contain_text(f"match \u201c{query}\u201d")
        expect(page.locator("#search-results mark")).not_to_have_count(0)
        if query.startswith("title:"):
            assert set(marks(page)) == {"grokking"}
            assert page.locator("#search-results .snippet mark").count() == 0  # only the title field matched
    # stemmed: "model", "models", "modeling" all make the term the query matched
    assert set(marks(page)) <= {"model", "models", "modeling", "modelling", "modeled"}
    assert page.evaluate("[...document.querySelectorAll('#search-results mark')].every(m => m.children.length === 0)")
    assert page.problems == []


def test_results_arrive_without_shifting_the_page(seeds_site, page):
    page.add_init_script("""window.shifts = 0;
        new PerformanceObserver(list => list.getEntries().forEach(e => { if (!e.hadRecentInput) window.shifts += e.value; }))
          .observe({type: 'layout-shift', buffered: true});""")
    page.goto((seeds_site / "search.html").as_uri() + "?q=diffusion")
    settled(page)
    page.wait_for_timeout(200)
    assert page.evaluate("window.shifts") == 0


# --- every page: head, width, accessibility ----------------------------------------------------

@pytest.mark.parametrize("name", list(PAGES))
def test_pages_have_a_title_description_language_and_open_graph(seeds_site, page, name):
    page.goto((seeds_site / page_path(seeds_site, name)).as_uri() if "?" not in page_path(seeds_site, name)
              else (seeds_site / "search.html").as_uri() + "?q=diffusion")
    assert page.title().strip()
    assert page.locator("html").get_attribute("lang") == "en"
    description = page.locator("meta[name=description]").get_attribute("content")
    assert description and description.strip()
    assert page.locator("meta[property='og:title']").get_attribute("content") == page.title()
    assert page.locator("meta[property='og:description']").get_attribute("content") == description


def open_page(page, base: str, seeds_site: Path, name: str) -> None:
    page.goto(base + page_path(seeds_site, name))
    if name == "search":
        settled(page)


def settled(page) -> None:
    """Wait until the search page shows all the results it will show."""
    expect(page.locator("#search-results > li")).not_to_have_count(0)
    expect(page.locator("#search-status")).not_to_have_text("Searching…")
    page.wait_for_function("""() => {
        const shown = document.querySelectorAll('#search-results > li').length;
        const total = parseInt(document.getElementById('search-status').textContent, 10);
        return shown === Math.min(50, total);
    }""")


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("name", list(PAGES))
def test_pages_fit_from_phone_to_desktop_width(seeds_site, browser, name, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    open_page(page, seeds_site.as_uri() + "/", seeds_site, name)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    sizes = page.evaluate("[...document.querySelectorAll('body, .snippet, .paper-page section p')]"
                          ".map(node => parseFloat(getComputedStyle(node).fontSize))")
    assert sizes and min(sizes) >= 16  # body text readable on a phone without zooming
    context.close()


def axe_violations(page) -> list[dict]:
    assert AXE.is_file(), f"{AXE} is missing: `make test` installs axe-core from the npm registry"
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in found]


@pytest.fixture
def axe_page(browser):
    """axe-core reads stylesheets itself, which a file:// page forbids, so it runs over HTTP; it
    is injected as a script the site's CSP would refuse, so this context bypasses the CSP."""
    context = browser.new_context(bypass_csp=True)
    yield watched_page(context)
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_accessibility_violations(seeds_site, host, axe_page, name, scheme):
    page = axe_page
    page.emulate_media(color_scheme=scheme)
    open_page(page, host, seeds_site, name)
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)
    assert page.problems == []


def test_axe_finds_none_with_the_theme_picked_against_the_system(seeds_site, host, axe_page):
    page = axe_page
    page.emulate_media(color_scheme="light")
    open_page(page, host, seeds_site, "digest")
    page.locator("#theme-toggle").click()  # dark, on a light system
    assert axe_violations(page) == []


def test_screenshots_of_the_main_pages(seeds_site, browser):
    """PNGs of each main page at phone and desktop width, light and dark, to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    taken = []
    for width, height in ((360, 780), (1280, 900)):
        for scheme in ("light", "dark"):
            context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
            page = context.new_page()
            for name in PAGES:
                open_page(page, seeds_site.as_uri() + "/", seeds_site, name)
                path = SHOTS / f"{name}-{width}-{scheme}.png"
                page.screenshot(path=str(path), full_page=False)
                taken.append(path)
            context.close()
    print(f"\nscreenshots: {SHOTS}")
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in taken)
    assert len(taken) == 2 * 2 * len(PAGES)


def test_a_newcomer_finds_a_paper_and_its_other_digests_with_the_keyboard_alone(site, tab):
    """The issue's definition of done: offline, keyboard only, from the home page: a word from an
    abstract finds the paper, Enter opens it, and its timeline leads to another digest."""
    tab.goto(site + "index.html")
    tab.keyboard.press("/")
    tab.keyboard.type("undergo")  # a word of the Wasserstein-GAN paper's abstract alone
    tab.keyboard.press("Enter")
    expect(tab.locator("#search-results .result-link").first).to_have_text(WASSERSTEIN)
    tab.keyboard.press("ArrowDown")
    tab.keyboard.press("Enter")
    arrived(tab, WASSERSTEIN)
    for _ in range(60):  # Tab through the page to its timeline of digests
        tab.keyboard.press("Tab")
        if tab.evaluate("document.activeElement.closest('ol.timeline') !== null"):
            break
    target = tab.evaluate("document.activeElement.textContent")
    tab.keyboard.press("Enter")
    arrived(tab, f"Digest: {target}")
    expect(tab.get_by_role("link", name=WASSERSTEIN, exact=True)).to_have_count(1)
    assert tab.problems == []


def test_the_digest_filters_show_papers_with_code_new_or_returning(site, tab):
    tab.goto(site + "digests/2025-03-14.html")
    papers = tab.locator("ol.papers > li.paper")
    total = papers.count()
    with_code = tab.locator("ol.papers > li.paper[data-code]").count()
    assert 0 < with_code < total
    tab.get_by_label("only with code").check()
    expect(tab.locator("ol.papers > li.paper:visible")).to_have_count(with_code)
    for badge in tab.locator("ol.papers > li.paper:visible").all():
        expect(badge.locator("a.badge-code")).to_have_count(1)
    tab.get_by_label("only with code").uncheck()
    expect(tab.locator("ol.papers > li.paper:visible")).to_have_count(total)
    # New and returning: the counts the page states, each paper marked as it is shown.
    meta = tab.locator("p.meta").first.inner_text()
    new, returning = (int(n) for n in re.search(r"(\d+) new and (\d+) featured", meta).groups())
    tab.get_by_label("new in this digest").check()
    expect(tab.locator("ol.papers > li.paper:visible")).to_have_count(new)
    expect(tab.locator("ol.papers > li.paper:visible .badge-new")).to_have_count(new)
    tab.get_by_label("returning").check()
    expect(tab.locator("ol.papers > li.paper:visible")).to_have_count(returning)
    assert new + returning == total
    assert tab.problems == []


def test_the_topic_filter_shows_one_topic_and_the_counts_it_offers(site, tab):
    tab.goto(site + "digests/2025-03-14.html")
    options = tab.locator("#topic-filter option")
    assert options.count() > 3
    label = options.nth(1).inner_text()  # the most common topic of this digest
    name, count = re.fullmatch(r"(.+) \((\d+)\)", label).groups()
    tab.get_by_label("topic").select_option(label=label)
    visible = tab.locator("ol.papers > li.paper:visible")
    expect(visible).to_have_count(int(count))
    for paper in visible.all():  # each shown paper carries that topic's tag
        expect(paper.locator("a.tag").filter(has_text=re.compile(f"^{re.escape(name)}$"))).to_have_count(1)
    tab.get_by_label("only with code").check()  # filters combine
    assert tab.locator("ol.papers > li.paper:visible").count() <= int(count)
    tab.get_by_label("only with code").uncheck()
    tab.get_by_label("topic").select_option(value="")
    expect(tab.locator("ol.papers > li.paper:visible")).to_have_count(tab.locator("ol.papers > li.paper").count())
    assert tab.problems == []
