"""Sort, filters and excerpts on the search page, in Chromium from file:// (the UI of search.js with the
engine of search-engine.js): the controls follow the address and the address follows them,
sort=date is newest first, a topic narrows the count to that topic's papers, dates keep the
papers featured then, and filters alone list their papers. Expected answers come from
papers.json and lunr.py (test_search_engine.py), not from the index."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect
from support import exported_papers
from test_search import as_the_page_asks, lunr_py_index, seed_catalog, seed_texts

from generator.search import document_order

TOPIC = "pdes-and-scientific-machine-learning"


@pytest.fixture(scope="module")
def reference():
    return lunr_py_index(seed_texts())


@pytest.fixture(scope="module")
def records(seeds_site) -> dict[str, dict]:
    return {paper["slug"]: paper for paper in exported_papers(seeds_site)}


def open_search(page, site, **params):
    page.goto((site / "search.html").as_uri() + ("?" + urlencode(params) if params else ""))


def shown(page, count: int | None = None) -> list[str]:
    """The slugs of the results on screen, once the status says how many match."""
    expect(page.locator("#search-status")).to_contain_text(re.compile(r"\d+ papers?|No papers"))
    if count:
        expect(page.locator("#search-results > li")).to_have_count(min(count, 50))
    return [href.rsplit("/", 1)[-1].removesuffix(".html")
            for href in page.locator("#search-results a.result-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")]


def newest(record: dict) -> str:
    return max((a["date"] for a in record["appearances"] if a["date"]), default="")


def count_in_status(page) -> int:
    text = page.locator("#search-status").text_content()
    return 0 if text.startswith("No papers") else int(text.split()[0])


def test_a_topic_narrows_the_count_to_that_topics_papers(seeds_site, page, reference, records):
    slugs = [paper.slug for paper in document_order(seed_catalog())]
    everything = len(as_the_page_asks(reference, "learning"))
    expected = [hit for hit in as_the_page_asks(reference, "learning") if TOPIC in records[slugs[int(hit["ref"])]]["topics"]]
    open_search(page, seeds_site, q="learning")
    shown(page, everything)
    assert count_in_status(page) == everything
    page.locator("#search-topic").select_option(TOPIC)
    found = shown(page, len(expected))
    assert count_in_status(page) == len(expected) < everything
    assert found == [slugs[int(hit["ref"])] for hit in expected[:50]]
    assert all(TOPIC in records[slug]["topics"] for slug in found)
    assert "in PDEs and scientific machine learning" in page.locator("#search-status").text_content()
    assert parse_qs(urlsplit(page.url).query) == {"q": ["learning"], "topic": [TOPIC]}  # shareable
    assert page.problems == []


def test_sort_by_date_is_newest_first_and_keeps_the_count(seeds_site, page, reference, records):
    total = len(as_the_page_asks(reference, "model"))
    open_search(page, seeds_site, q="model", sort="date")
    assert page.locator("#search-sort").input_value() == "date"  # the control follows the address
    found = shown(page, total)
    assert count_in_status(page) == total > 50
    days = [newest(records[slug]) for slug in found]
    assert days == sorted(days, reverse=True) and len(set(days)) >= 1
    best = sorted((newest(r) for r in records.values()), reverse=True)[0]
    assert days[0] == best
    assert page.problems == []


def test_dates_keep_the_papers_featured_then_and_filters_alone_list_them(seeds_site, page, records):
    every_day = sorted({a["date"] for r in records.values() for a in r["appearances"] if a["date"]})
    day = every_day[1]
    expected = sorted(slug for slug, r in records.items() if any(a["date"] == day for a in r["appearances"]))
    open_search(page, seeds_site, since=day, until=day)
    found = shown(page, len(expected))
    assert count_in_status(page) == len(expected)
    assert set(found) <= set(expected) and len(found) == min(50, len(expected))
    assert [newest(records[slug]) for slug in found] == sorted((newest(records[slug]) for slug in found), reverse=True)
    assert f"featured from {day} to {day}" in page.locator("#search-status").text_content()
    # an unknown topic in the address is no filter the page can show: the box stays on all topics
    open_search(page, seeds_site, q="model", topic="no-such-topic")
    expect(page.locator("#search-status")).to_contain_text("model")
    assert page.locator("#search-topic").input_value() == ""
    assert page.problems == []


def test_the_date_controls_update_the_address_and_back_restores_them(seeds_site, page, records):
    open_search(page, seeds_site, q="diffusion")
    shown(page)
    before = count_in_status(page)
    page.locator("#search-since").fill("2025-03-13")
    page.locator("#search-since").dispatch_event("change")
    expect(page).to_have_url(re.compile(r"since=2025-03-13"))
    expect(page.locator("#search-status")).to_contain_text("featured from 2025-03-13")
    after = count_in_status(page)
    expected = {slug for slug, r in records.items() if any(a["date"] and a["date"] >= "2025-03-13" for a in r["appearances"])}
    assert after <= before and set(shown(page)) <= expected
    assert page.problems == []


def test_a_word_deep_in_one_abstract_shows_in_that_results_excerpt(seeds_site, page):
    """The row carries the abstract's first 240 characters; once the result is on screen, the
    stretch around its matches (from a small file of whole abstracts) replaces them."""
    from test_search_engine import deep_word

    word, slug = deep_word(seeds_site)
    open_search(page, seeds_site, q=word)
    result = page.locator("#search-results > li").filter(has=page.locator(f"a[href='papers/{slug}.html']"))
    expect(result.locator(".snippet mark")).to_have_text(re.compile(word, re.IGNORECASE))
    snippet = result.locator(".snippet").text_content()
    assert snippet.startswith("\u2026") and word in snippet.lower() and len(snippet.split()) <= 32
    assert page.problems == []
