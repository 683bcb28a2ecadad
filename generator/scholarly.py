"""What the academic web reads from a page: Highwire Press `citation_*` meta tags (Google
Scholar's inclusion guidelines; Zotero reads them too) and schema.org data as JSON-LD
(a ScholarlyArticle per paper page, an ItemList per digest page).

These functions return data, never markup: the templates write the tags, and JSON-LD goes
through Jinja's `tojson`, which escapes `<`, `>`, `&` and `'` so no text can close the script
element. Only what is known is stated; a URL is only ever absolute, so the ones on this site
need `base_url` and are left out without it.
"""

from __future__ import annotations

from datetime import date

from generator.catalog import Digest, Paper
from generator.theme import long_date


def first_date(paper: Paper) -> date | None:
    return next((appearance.date for appearance in paper.appearances if appearance.date), None)


def slashed(day: date) -> str:
    return day.strftime("%Y/%m/%d")  # the form Google Scholar asks for


def highwire(paper: Paper, base_url: str) -> list[tuple[str, str]]:
    """(name, content) of each meta tag, in the guidelines' order."""
    meta, identifier, seen = paper.meta, paper.meta.arxiv_id, first_date(paper)
    tags = [("citation_title", paper.title)]
    tags += [("citation_author", name) for name in meta.authors]
    published = meta.published or seen
    if published:
        tags.append(("citation_publication_date", slashed(published)))
    if seen:
        tags.append(("citation_online_date", slashed(seen)))
    if base_url:
        tags.append(("citation_abstract_html_url", f"{base_url}papers/{paper.slug}.html"))
    if identifier:
        tags += [("citation_pdf_url", f"https://arxiv.org/pdf/{identifier}"), ("citation_arxiv_id", identifier),
                 ("DC.identifier", f"10.48550/arXiv.{identifier}")]
    if meta.keywords:
        tags.append(("citation_keywords", "; ".join(meta.keywords)))
    return tags


def article(paper: Paper, digests: list[Digest], base_url: str) -> dict:
    """The paper as a schema.org ScholarlyArticle."""
    meta, identifier = paper.meta, paper.meta.arxiv_id
    data: dict[str, object] = {"@context": "https://schema.org", "@type": "ScholarlyArticle", "name": paper.title}
    if paper.abstract:
        data["abstract"] = paper.abstract
    if meta.authors:
        data["author"] = [{"@type": "Person", "name": name} for name in meta.authors]
    published = meta.published or first_date(paper)
    if published:
        data["datePublished"] = published.isoformat()
    if identifier:
        data["identifier"] = {"@type": "PropertyValue", "propertyID": "arXiv", "value": identifier}
        data["sameAs"] = [f"https://arxiv.org/abs/{identifier}", f"https://huggingface.co/papers/{identifier}"]
    if meta.keywords:
        data["keywords"] = list(meta.keywords)
    if base_url:
        data["url"] = f"{base_url}papers/{paper.slug}.html"
    data["isPartOf"] = [digest_work(digest, base_url) for digest in digests]
    return data


def digest_work(digest: Digest, base_url: str) -> dict:
    work: dict[str, object] = {"@type": "CreativeWork", "name": f"Daily Papers digest: {long_date(digest)}"}
    if digest.date:
        work["datePublished"] = digest.date.isoformat()
    if base_url:
        work["url"] = f"{base_url}digests/{digest.slug}.html"
    return work


def item_list(digest: Digest, papers: list[Paper], base_url: str) -> dict:
    """A digest page's papers as a schema.org ItemList, in digest order."""
    items = []
    for position, paper in enumerate(papers, start=1):
        item: dict[str, object] = {"@type": "ListItem", "position": position, "name": paper.title}
        if base_url:
            item["url"] = f"{base_url}papers/{paper.slug}.html"
        items.append(item)
    return {"@context": "https://schema.org", **digest_work(digest, base_url), "@type": "ItemList",
            "numberOfItems": len(items), "itemListElement": items}
