"""search.py: the index lunr.py builds loads back and finds papers by title and abstract.

(The browser tests run the same index through the real lunr.js.)"""

from __future__ import annotations

import json

from lunr.index import Index

from generator.search import INDEX_PATH, snippet

PREFIX, SUFFIX = "window.PAPERDIGEST_SEARCH=", ";\n"


def load(site):
    text = (site / INDEX_PATH).read_text(encoding="ascii")
    assert text.startswith(PREFIX) and text.endswith(SUFFIX)
    payload = json.loads(text[len(PREFIX):-len(SUFFIX)])
    return Index.load(payload["index"]), payload["docs"]


def test_index_finds_a_paper_by_a_title_word(seeds_site):
    index, docs = load(seeds_site)
    titles = [docs[int(hit["ref"])][0] for hit in index.search("wasserstein")]
    assert "Uncertainty quantification in a mechanical submodel driven by a Wasserstein-GAN" in titles


def test_title_matches_rank_above_abstract_only_matches(seeds_site):
    index, docs = load(seeds_site)
    hits = index.search("grokking")
    assert len(hits) > 1
    assert "grokking" in docs[int(hits[0]["ref"])][0].lower()


def test_words_only_in_abstracts_are_found(seeds_site):
    index, docs = load(seeds_site)
    titles = [docs[int(hit["ref"])][0] for hit in index.search("fenics")]  # in one abstract, no title
    assert titles == ["Uncertainty quantification in a mechanical submodel driven by a Wasserstein-GAN"]


def test_every_paper_is_a_document_with_its_page(seeds_site):
    _, docs = load(seeds_site)
    assert len(docs) == 232
    assert sorted(row[1] for row in docs) == sorted(p.stem for p in (seeds_site / "papers").glob("*.html"))


def test_snippets_cut_at_a_word():
    assert snippet("short") == "short"
    cut = snippet("word " * 100)
    assert cut.endswith("…") and len(cut) <= 241 and not cut.endswith(" …")
