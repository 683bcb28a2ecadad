"""End to end: the seeds built together with a digest in every other input form (the API's
JSON, the current page's text, a saved page, hostile JSON). Each paper is one page with the
union of what its forms know; no page furniture becomes a paper; digests are dated right;
the metadata shows, escaped; the controls work in Chromium from file:// and under the CSP."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_hosting import netlify_host
from support import exported_papers
from test_security import page_problems, text_of

FURNITURE = re.compile(r"^(subscribe|trending papers|daily|weekly|monthly|·|-|\d+|\d+ authors?|[A-Z][a-z]{2} \d{1,2}(, \d{4})?)$",
                       re.IGNORECASE)


@pytest.fixture(scope="module")
def papers(forms_site: Path) -> dict[str, dict]:
    return {paper["title"]: paper for paper in exported_papers(forms_site)}


def by_id(papers: dict[str, dict], arxiv_id: str) -> dict:
    (found,) = [paper for paper in papers.values() if paper.get("arxiv_id") == arxiv_id]
    return found


def html(site: Path, paper: dict) -> str:
    return (site / paper["page"]).read_text(encoding="utf-8")


def test_each_paper_is_one_page_and_no_furniture_is_a_paper(forms_site, papers):
    marker = json.loads((forms_site / ".paperdigest").read_text(encoding="utf-8"))
    # 232 seed papers; WISE (a seed) comes back as JSON twice; "2 Bits" as JSON and as text: one page
    # each. New: 2 Bits, IDF, 3D Gaussian, the "Subscribe ..." titled paper, 2 hostile ones.
    assert marker["counts"]["papers"] == len(papers) == 232 + 6
    assert not [title for title in papers if FURNITURE.match(title)]
    assert len({paper["slug"] for paper in papers.values()}) == len(papers)
    assert "Subscribe to Sparse Experts: A Newsletter Nobody Asked For" in papers  # a title, not furniture


def test_digests_are_dated_from_each_form(forms_site):
    digests = {path.stem for path in (forms_site / "digests").glob("*.html")}
    assert {"2025-03-15", "2025-03-16", "2025-03-17", "2025-03-18"} <= digests


def test_a_paper_has_the_union_of_what_its_forms_know(forms_site, papers):
    wise = by_id(papers, "2405.14768")  # a seed text paper, then JSON (Mar 15), then a saved page (Mar 17)
    assert wise["slug"].startswith("wise-rethinking-the-knowledge-memory")  # the seed's URL, unchanged
    assert [a["date"] for a in wise["appearances"]] == ["2025-03-14", "2025-03-15", "2025-03-17"]
    assert (wise["upvotes"], wise["comments"], wise["counts_as_of"]) == (57, 5, "2025-03-17")
    assert wise["title"].endswith("(v2)") and wise["authors"][0] == "Peng Wang"
    bits = by_id(papers, "2503.09876")  # JSON (Mar 15) and the page's text (Mar 16): one paper
    assert [a["date"] for a in bits["appearances"]] == ["2025-03-15", "2025-03-16"]
    assert bits["organization"] == "Analytical Engines Ltd" and bits["upvotes"] == 128  # the newer card's
    assert bits["authors"][:2] == ["Ada Lovelace", "Alan Turing"] and bits["github_stars"] == 12
    assert [a.get("upvotes") for a in bits["appearances"]] == [7, 128]


def test_paper_pages_show_authors_links_upvotes_and_bibtex(forms_site, papers):
    wise = by_id(papers, "2405.14768")
    page = html(forms_site, wise)
    assert text_of(page, "p")[0] == "Authors: " + ", ".join(wise["authors"])
    for href in ("https://arxiv.org/abs/2405.14768", "https://arxiv.org/pdf/2405.14768",
                 "https://huggingface.co/papers/2405.14768", "https://github.com/zjunlp/EasyEdit"):
        assert f'href="{href}"' in page
    assert "57 · 5 comments" in " ".join(text_of(page, "dd"))
    (entry,) = text_of(page, "pre")
    assert entry.startswith("@misc{wang2024wise,") and "eprint = {2405.14768}" in entry
    assert "Written by a language model" in page
    twin = (forms_site / wise["markdown"]).read_text(encoding="utf-8")
    assert '\narxiv_id: "2405.14768"\n' in twin and "```bibtex\n@misc{wang2024wise," in twin
    assert wise["bibtex"] == (forms_site / wise["page"]).read_text(encoding="utf-8").split('<pre class="bibtex" id="bibtex" tabindex="0">')[1].split("</pre>")[0].replace("&#39;", "'")


def test_an_arxiv_id_leads_to_the_paper(forms_site, papers):
    for paper in papers.values():
        if "arxiv_id" in paper:
            redirect = (forms_site / "abs" / f"{paper['arxiv_id']}.html").read_text(encoding="utf-8")
            assert f'content="0; url=../{paper["page"]}"' in redirect and f'href="../{paper["page"]}"' in redirect


def test_digest_pages_show_upvotes_and_short_authors(forms_site):
    page = (forms_site / "digests" / "2025-03-15.html").read_text(encoding="utf-8")
    assert text_of(page, "p").count("A. Lovelace, A. Turing +3") == 1
    assert re.findall(r'data-upvotes="(\d+)"', page) == ["42", "7", "0"]
    assert 'id="sort-upvotes"' in page
    seeds = (forms_site / "digests" / "2025-03-14.html").read_text(encoding="utf-8")
    assert "sort-upvotes" not in seeds and "data-upvotes" not in seeds  # no counts, no control


def test_hostile_metadata_is_text_and_never_a_link(forms_site, papers):
    evil = by_id(papers, "2503.18001")
    page = html(forms_site, evil)
    assert not page_problems(forms_site, forms_site / evil["page"])
    assert "javascript:" not in page and "data:text" not in page
    assert text_of(page, "h1") == ['<img src=x onerror=alert(1)> & "Quotes" in a Title']
    assert "Authors: <script>alert('author')</script>, Robert'); DROP TABLE--, Ünïcødé Nâme" in text_of(page, "p")
    assert "<i>Evil</i> Corp" in text_of(page, "dd") and "github" not in evil and "project" not in evil
    for path in forms_site.rglob("*.html"):
        assert not page_problems(forms_site, path), path


@pytest.fixture(scope="module")
def forms_host(forms_site: Path):
    with netlify_host(forms_site) as served:
        yield served


def titles_in_order(page) -> list[str]:
    return page.locator("ol.papers > li.paper .paper-title").all_inner_texts()


@pytest.mark.parametrize("where", ["file", "http"])
def test_sort_by_upvotes_reorders_and_restores(forms_site, forms_host, page, where):
    base = forms_site.as_uri() + "/" if where == "file" else forms_host
    page.goto(base + "digests/2025-03-17.html")
    digest_order = titles_in_order(page)
    assert digest_order[0].startswith("WISE")  # 57 upvotes, first anyway
    page.goto(base + "digests/2025-03-15.html")
    digest_order = titles_in_order(page)
    page.check("#sort-upvotes")
    votes = [int(v) for v in page.locator("ol.papers > li.paper").evaluate_all(
        "items => items.map(item => item.getAttribute('data-upvotes'))")]
    assert votes == sorted(votes, reverse=True) == [42, 7, 0]
    page.uncheck("#sort-upvotes")
    assert titles_in_order(page) == digest_order
    assert page.problems == []


@pytest.mark.parametrize("where", ["file", "http"])
def test_copy_bibtex_puts_the_entry_on_the_clipboard(forms_site, forms_host, browser, papers, where):
    wise = by_id(papers, "2405.14768")
    base = forms_site.as_uri() + "/" if where == "file" else forms_host
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"] if where == "http" else [])
    tab = context.new_page()
    problems = []
    tab.on("console", lambda message: message.type == "error" and problems.append(message.text))
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.goto(base + wise["page"])
    tab.click("button.copy")
    tab.wait_for_function("document.querySelector('.copy-status').textContent !== ''")
    status = tab.inner_text(".copy-status")
    assert status == "Copied.", status
    if where == "http":  # the page's origin may read the clipboard back
        assert tab.evaluate("navigator.clipboard.readText()") == wise["bibtex"]
    else:  # execCommand copied the selection: the whole entry
        assert tab.evaluate("window.getSelection().toString()") == wise["bibtex"].rstrip("\n")
    assert problems == []
    context.close()


FORMS_PAGES = {"paper": "2405.14768", "hostile": "2503.18001", "digest": "digests/2025-03-15.html"}


def forms_path(papers: dict[str, dict], name: str) -> str:
    target = FORMS_PAGES[name]
    return target if "/" in target else by_id(papers, target)["page"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(FORMS_PAGES))
def test_axe_finds_no_violations_in_the_metadata(forms_host, browser, papers, name, scheme):
    from test_theme import axe_violations  # axe-core, as the theme tests run it (over HTTP, CSP bypassed)

    context = browser.new_context(bypass_csp=True, color_scheme=scheme)
    tab = context.new_page()
    tab.goto(forms_host + forms_path(papers, name))
    assert axe_violations(tab) == []
    context.close()


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("name", list(FORMS_PAGES))
def test_metadata_fits_from_phone_to_desktop_width(forms_site, browser, papers, name, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    tab = context.new_page()
    tab.goto((forms_site / forms_path(papers, name)).as_uri())
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    sizes = tab.evaluate("[...document.querySelectorAll('body, .snippet, .authors, .facts, .paper-page section p')]"
                         ".map(node => parseFloat(getComputedStyle(node).fontSize))")
    assert sizes and min(sizes) >= 14.4  # the lists' author lines are 0.9rem, like their other small print
    from test_theme import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"forms-{name}-{width}.png"))
    context.close()
