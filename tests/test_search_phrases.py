"""Quoted phrases and near spellings (search-query.js, search-spelling.js), in Chromium from
file:// over the seeds' site. Expected answers come from lunr.py and the papers' own texts
(page_query.py), and each claim is also checked against the raw text with a pattern that knows
nothing of the index: every result of a phrase has the phrase, quotes narrow the count, a
typo finds the papers with the word meant, and papers with the word as typed rank first."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from support import ENGINE
from test_search import lunr_py_index, seed_catalog, seed_texts
from test_search_filters import count_in_status, open_search, shown

import page_query
from generator.search import document_order, document_texts, segments
from generator.searchwords import dictionary_words, term_dictionary
from generator.searchindex import index_segment, vocabulary

# A phrase query, and a pattern any text with the phrase matches (stems: "languages", "modeling").
PHRASES = {
    '"language model"': r"\blanguag\w*\W+model",
    '"large language models"': r"\blarge\W+languag\w*\W+model",
    '"state of the art"': r"\bstate\W+\w+\W+\w+\W+art\b",
    'title:"language model"': r"\blanguag\w*\W+model",
    '"neural network" graph': r"\bneural\W+network",
}
# A typo, the word meant (as its pattern), and the near spelling the page names.
TYPOS = {"difusion": (r"\bdiffus", "diffus"), "wasserstien": (r"\bwasserstein", "wasserstein"),
         "transformr": (r"\btransform", "transform")}


@pytest.fixture(scope="module")
def reference():
    return lunr_py_index(seed_texts())


def answer(page, query: str) -> dict:
    return page.evaluate("q => " + ENGINE + ".find(q).then(r => ({total: r.total, refs: r.hits.map(h => h.ref), "
                         "scores: r.hits.map(h => h.score), fixes: r.fixes.map(f => f.terms)}))", query)


def matches(reference, found: dict, query: str) -> None:
    expected = page_query.as_the_page_asks(reference, query, reference.texts)
    assert found["total"] == len(expected.hits), query
    assert found["refs"] == [hit["ref"] for hit in expected.hits[:50]], query
    assert [round(s, 3) for s in found["scores"]] == [round(hit["score"], 3) for hit in expected.hits[:50]], query
    assert found["fixes"] == expected.fixes, query


def having(reference, pattern: str, fields=(0, 1)) -> set[str]:
    """The documents whose title or abstract (or the fields given) match a pattern."""
    return {str(n) for n, texts in enumerate(reference.texts) if any(re.search(pattern, texts[f], re.I) for f in fields)}


def test_every_result_of_a_phrase_has_the_phrase_and_quotes_narrow_the_count(seeds_site, reference, page):
    page.goto((seeds_site / "search.html").as_uri())
    for query, pattern in PHRASES.items():
        found = answer(page, query)
        matches(reference, found, query)
        fields = (0,) if query.startswith("title:") else (0, 1)
        assert found["total"] > 0 and set(found["refs"]) <= having(reference, pattern, fields), query
        loose = answer(page, query.replace('"', ""))
        assert loose["total"] > found["total"], query
    assert page.problems == []


def test_a_prohibited_phrase_keeps_only_papers_without_it(seeds_site, reference, page):
    page.goto((seeds_site / "search.html").as_uri())
    model, without = answer(page, "model"), answer(page, 'model -"language model"')
    matches(reference, without, 'model -"language model"')
    assert not set(without["refs"]) & having(reference, PHRASES['"language model"'])
    assert 0 < without["total"] < model["total"]


def test_a_typo_finds_the_papers_with_the_word_meant(seeds_site, reference, page):
    page.goto((seeds_site / "search.html").as_uri())
    for typo, (pattern, term) in TYPOS.items():
        assert not having(reference, rf"\b{typo}")
        found = answer(page, typo)
        matches(reference, found, typo)
        meant = having(reference, pattern)
        assert meant and found["fixes"] and term in found["fixes"][0], typo
        assert meant <= set(found["refs"]) or found["total"] > 50 and len(set(found["refs"]) & meant) == 50, typo


def test_the_page_says_which_spelling_it_included(seeds_site, page):
    open_search(page, seeds_site, q="difusion")
    shown(page)
    expect(page.locator("#search-status .search-fixes")).to_have_text(re.compile(r"Including results for diffusion\.", re.I))
    assert count_in_status(page) > 0
    open_search(page, seeds_site, q="diffusion")
    shown(page)
    expect(page.locator("#search-status .search-fixes")).to_have_count(0)


def rare_word_with_common_neighbour(reference) -> tuple[str, set[str]]:
    """A whole word of 5 to 8 letters in one or two papers, which the page corrects towards a
    more common one: (word, the papers that have it)."""
    seen: dict[str, set[str]] = {}
    for number, (title, abstract, _) in enumerate(reference.texts):
        for word in set(re.findall(r"\b[a-z]{5,8}\b", f"{title} {abstract}".lower())):
            seen.setdefault(word, set()).add(str(number))
    for word, papers in sorted(seen.items()):
        found = page_query.as_the_page_asks(reference, word, reference.texts)
        if len(papers) <= 2 and found.fixes and len(found.hits) > len(papers) + 3 \
                and not any(w != word and w.startswith(word) for w in seen):
            return word, papers
    raise AssertionError("no rare word with a common near spelling in the seeds")


def test_papers_with_the_word_as_typed_rank_above_near_spellings(seeds_site, reference, page):
    word, papers = rare_word_with_common_neighbour(reference)
    page.goto((seeds_site / "search.html").as_uri())
    found = answer(page, word)
    matches(reference, found, word)
    assert set(found["refs"][:len(papers)]) == papers and not papers & set(found["refs"][len(papers):])
    assert found["total"] > len(papers)


def test_plain_words_with_matches_enough_bring_in_no_near_spellings(seeds_site, page):
    page.goto((seeds_site / "search.html").as_uri())
    for query in ("diffusion", "+difusion", "difusion~1", "difus*", "-difusion model"):
        assert answer(page, query)["fixes"] == [], query
    assert answer(page, "title:difusion -model")["fixes"] == [["diffus"]]  # a plain word, in one field


def test_the_term_dictionary_counts_each_terms_papers():
    """words-N.js: every index term of letters, 3+ characters, with the papers that have it,
    summed over segments, against a count over the whole index at once."""
    texts = document_texts(document_order(seed_catalog()))
    cuts = segments(len(texts))
    assert len(cuts) > 1
    dictionary = term_dictionary([dictionary_words(json.loads(vocabulary(index_segment(texts[cut.start:cut.stop]))))
                                  for cut in cuts])
    brute: dict[str, set[int]] = {}
    reference = lunr_py_index(texts)
    for term, posting in reference.inverted_index.items():
        for field, refs in posting.items():
            if field != "_index":
                brute.setdefault(term, set()).update(map(int, refs))
    expected = {term: len(docs) for term, docs in brute.items() if len(term) >= 3 and re.fullmatch(r"[^\W\d_]+", term)}
    assert {term: count for rows in dictionary.values() for term, count in rows} == expected
    assert all(len(term) == length for length, rows in dictionary.items() for term, _ in rows)
