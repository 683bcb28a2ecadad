"""The academic web's conventions, read back as their readers read them: Highwire meta tags
and schema.org JSON-LD (extruct, as crawlers do), a digest's .bib and .ris (bibtexparser,
rispy) against the catalog, and the OpenSearch description."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import bibtexparser
import extruct
import pytest
import rispy
from bibtexparser.middlewares import SeparateCoAuthors
from pylatexenc.latex2text import LatexNodes2Text
from support import exported_papers

from conftest import PUBLIC_BASE as BASE


OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def papers_of(site: Path) -> dict[str, dict]:
    return {paper["slug"]: paper for paper in exported_papers(site)}


class MetaTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "meta" and found.get("name", "").startswith(("citation_", "DC.")):
            self.tags.append((found["name"], found.get("content", "")))


def meta_tags(html: str) -> list[tuple[str, str]]:
    parser = MetaTags()
    parser.feed(html)
    return parser.tags


def values(tags: list[tuple[str, str]], name: str) -> list[str]:
    return [content for key, content in tags if key == name]


def extracted(site: Path, page: str) -> dict:
    html = (site / page).read_text(encoding="utf-8")
    return extruct.extract(html, base_url=BASE + page, syntaxes=["json-ld", "dublincore"], uniform=False)


def by_id(site: Path, arxiv_id: str) -> dict:
    (paper,) = [p for p in papers_of(site).values() if p.get("arxiv_id") == arxiv_id]
    return paper


@pytest.mark.parametrize("arxiv_id", ["2405.14768", "2503.09876", "2503.18001"])
def test_a_paper_with_metadata_yields_its_facts_to_an_extractor(public_site, arxiv_id):
    paper = by_id(public_site, arxiv_id)
    data = extracted(public_site, paper["page"])
    (article,) = data["json-ld"]
    assert article["@type"] == "ScholarlyArticle" and article["name"] == paper["title"]
    assert [person["name"] for person in article["author"]] == paper["authors"]
    assert article["identifier"] == {"@type": "PropertyValue", "propertyID": "arXiv", "value": arxiv_id}
    assert article["sameAs"] == [paper["arxiv"], paper["huggingface"]]
    assert article["url"] == BASE + paper["page"] and article["abstract"] == paper["abstract"]
    assert article["datePublished"] == paper.get("published", paper["appearances"][0]["date"])
    assert [work["url"] for work in article["isPartOf"]] == [BASE + f"digests/{a['digest']}.html" for a in paper["appearances"]]
    tags = meta_tags((public_site / paper["page"]).read_text(encoding="utf-8"))
    assert values(tags, "citation_title") == [paper["title"]]
    assert values(tags, "citation_author") == paper["authors"]
    assert values(tags, "citation_publication_date") == [article["datePublished"].replace("-", "/")]
    assert values(tags, "citation_online_date") == [paper["appearances"][0]["date"].replace("-", "/")]
    assert values(tags, "citation_abstract_html_url") == [BASE + paper["page"]]
    assert values(tags, "citation_pdf_url") == [paper["pdf"]] and values(tags, "citation_arxiv_id") == [arxiv_id]
    assert values(tags, "DC.identifier") == [f"10.48550/arXiv.{arxiv_id}"]
    dublin = {element["URI"]: element["content"] for element in data["dublincore"][0]["elements"]}
    assert dublin["http://purl.org/dc/elements/1.1/identifier"] == f"10.48550/arXiv.{arxiv_id}"


def test_a_paper_without_metadata_states_only_what_is_known(seeds_site):
    paper = next(iter(papers_of(seeds_site).values()))
    (article,) = extracted(seeds_site, paper["page"])["json-ld"]
    assert set(article) == {"@context", "@type", "name", "abstract", "datePublished", "isPartOf"}  # no url: no base_url
    tags = meta_tags((seeds_site / paper["page"]).read_text(encoding="utf-8"))
    assert {name for name, _ in tags} == {"citation_title", "citation_publication_date", "citation_online_date"}


def test_a_digest_page_lists_its_papers_as_an_item_list(public_site):
    papers = papers_of(public_site)
    for page in ("digests/2025-03-14.html", "digests/2025-03-16.html"):
        (listing,) = extracted(public_site, page)["json-ld"]
        slug = page.split("/")[1][:-5]
        expected = sorted((a["position"], p["title"]) for p in papers.values() for a in p["appearances"] if a["digest"] == slug)
        assert listing["@type"] == "ItemList" and listing["numberOfItems"] == len(expected)
        assert [(item["position"], item["name"]) for item in listing["itemListElement"]] == expected


def read_bib(path: Path) -> list[dict]:
    """Entries as a LaTeX-aware reader sees them: text fields decoded, `url` verbatim (as
    biblatex and the url package read it)."""
    library = bibtexparser.parse_string(path.read_text(encoding="utf-8"), append_middleware=[SeparateCoAuthors()])
    assert not library.failed_blocks
    decode = LatexNodes2Text().latex_to_text
    entries = []
    for entry in library.entries:
        found = {"key": entry.key}
        for field in entry.fields:
            value = field.value
            found[field.key] = [decode(a) for a in value] if isinstance(value, list) else value if field.key == "url" \
                else decode(value)
        entries.append(found)
    return entries


def digest_papers(site: Path, slug: str) -> list[dict]:
    listed = [(a["position"], p) for p in papers_of(site).values() for a in p["appearances"] if a["digest"] == slug]
    return [paper for _, paper in sorted(listed, key=lambda item: item[0])]


@pytest.mark.parametrize("slug", ["2025-03-14", "2025-03-15", "2025-03-16", "2025-03-17", "2025-03-18"])
def test_a_digests_bib_reads_back_into_every_paper(public_site, slug):
    entries = read_bib(public_site / "digests" / f"{slug}.bib")
    papers = digest_papers(public_site, slug)
    assert len(entries) == len(papers) and len({entry["key"] for entry in entries}) == len(entries)
    for entry, paper in zip(entries, papers):
        assert entry["title"].replace("ˆ", "^") == paper["title"]
        assert entry.get("author", []) == paper.get("authors", [])
        if "arxiv_id" in paper:
            assert (entry["eprint"], entry["archivePrefix"], entry["url"]) == (paper["arxiv_id"], "arXiv", paper["arxiv"])
        else:
            assert entry["url"] == BASE + paper["page"] and "eprint" not in entry


@pytest.mark.parametrize("slug", ["2025-03-14", "2025-03-15", "2025-03-16", "2025-03-17", "2025-03-18"])
def test_a_digests_ris_reads_back_into_every_paper(public_site, slug):
    records = rispy.loads((public_site / "digests" / f"{slug}.ris").read_text(encoding="utf-8"))
    papers = digest_papers(public_site, slug)
    assert len(records) == len(papers)
    for record, paper in zip(records, papers):
        assert record["title"] == paper["title"] and record.get("authors", []) == paper.get("authors", [])
        assert record["abstract"] == " ".join(paper["abstract"].split())
        if "arxiv_id" in paper:
            assert record["type_of_reference"] == "JOUR" and record["doi"] == f"10.48550/arXiv.{paper['arxiv_id']}"
            assert record["urls"][:1] == [paper["arxiv"]] and record["file_attachments1"] == paper["pdf"]
        else:
            assert record["type_of_reference"] == "GEN" and record["urls"] == [BASE + paper["page"]]
        assert record.get("keywords", []) == paper.get("keywords", [])


def test_digest_pages_link_their_bib_and_ris(public_site):
    page = (public_site / "digests" / "2025-03-15.html").read_text(encoding="utf-8")
    assert 'href="2025-03-15.bib" download' in page and 'href="2025-03-15.ris" download' in page


def test_opensearch_describes_the_search_page(public_site, seeds_site):
    root = ET.parse(public_site / "opensearch.xml").getroot()
    assert root.tag == f"{OPENSEARCH}OpenSearchDescription"
    short = root.find(f"{OPENSEARCH}ShortName").text
    assert 0 < len(short) <= 16 and root.find(f"{OPENSEARCH}Description").text
    (html,) = [url for url in root.findall(f"{OPENSEARCH}Url") if url.get("type") == "text/html"]
    assert html.get("template") == BASE + "search.html?q={searchTerms}"
    assert root.find(f"{OPENSEARCH}InputEncoding").text == "UTF-8"
    for page in ("index.html", "digests/2025-03-15.html", "search.html"):
        assert f'<link rel="search" type="application/opensearchdescription+xml" href="{BASE}opensearch.xml"' in \
            (public_site / page).read_text(encoding="utf-8")
    assert not (seeds_site / "opensearch.xml").exists()  # no base_url: no description, no link
    assert 'rel="search"' not in (seeds_site / "index.html").read_text(encoding="utf-8")


def test_json_ld_keeps_the_csp_in_chromium(public_site, browser):
    """Served with the site's Content-Security-Policy, the data blocks are data: nothing is
    refused, nothing runs, and the page's own script still works."""
    from test_hosting import netlify_host

    with netlify_host(public_site) as base:
        context = browser.new_context()
        tab = context.new_page()
        problems = []
        tab.on("console", lambda message: message.type == "error" and problems.append(message.text))
        paper = by_id(public_site, "2503.18001")
        tab.goto(base + paper["page"])
        tab.wait_for_selector("#theme-toggle:not([hidden])")  # site.js ran
        (text,) = tab.evaluate("[...document.scripts].filter(s => s.type === 'application/ld+json').map(s => s.textContent)")
        assert json.loads(text)["name"] == paper["title"] and problems == []
        context.close()
