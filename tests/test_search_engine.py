"""search-engine.js without a browser: `node --test tests/js/` runs the engine in Node against
the index the build wrote for the seeds, and compares its answers with lunr.py's Builder over
the same papers (written here, to a file the Node tests read). The UI (search.js) is tested in
Chromium (test_search.py, test_browser.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from datetime import date

from support import CONTENT, ENGINE_SCRIPTS, REPO, exported_papers
from test_search import BROWSER_QUERIES, as_the_page_asks, reference_scores, seed_catalog

import page_query

import generator.search as search
import generator.searchindex as searchindex
from generator.build import BuildOptions, build
from generator.search import document_order

NODE_TESTS = REPO / "tests" / "js"
MORE_QUERIES = ["wasserstein distance", "graph neural networks", "author:smith", "diffusion -image", "token*",
                "+language +model reasoning", "title:transformer^2 attention"]
PHRASE_AND_TYPO_QUERIES = ['"language model"', '"state of the art" -"language model"', 'title:"neural network" graph',
                           "difusion", "wasserstien distance", "transformr", '"difusion model"', "alone"]


def facets_of(site) -> tuple[list[set[str]], list[list[int]]]:
    """Each document's topics and featured days, from papers.json (the export, not the index)."""
    records = {paper["slug"]: paper for paper in exported_papers(site)}
    chosen = [records[paper.slug] for paper in document_order(seed_catalog())]
    epoch = date(1970, 1, 1).toordinal()
    days = [sorted({date.fromisoformat(a["date"]).toordinal() - epoch for a in r["appearances"] if a["date"]})
            for r in chosen]
    return [set(r["topics"]) for r in chosen], days


def deep_word(site) -> tuple[str, str]:
    """A word of one paper only, deep in its abstract (not in its first 600 characters, nor its
    title, nor any other paper): (word, slug)."""
    papers = exported_papers(site)
    seen: dict[str, set[str]] = {}
    for paper in papers:
        for word in re.findall(r"[a-z]{8,}", (paper["title"] + " " + paper["abstract"]).lower()):
            seen.setdefault(word, set()).add(paper["slug"])
    for paper in papers:
        text = paper["abstract"].lower()
        for word in sorted(set(re.findall(r"[a-z]{8,}", text[600:]))):
            others = {w for w in seen if w != word and (w.startswith(word[:6]) or word.startswith(w[:6]))}
            if seen[word] == {paper["slug"]} and word not in text[:600] and word not in paper["title"].lower() \
                    and not others:
                return word, paper["slug"]
    raise AssertionError("no deep word in the seeds")


def filtered_answers(reference, site) -> list[dict]:
    """Queries with filters and sort=date, answered from lunr.py's hits and papers.json."""
    topics, days = facets_of(site)
    common = max({t for own in topics for t in own}, key=lambda t: sum(t in own for own in topics))
    every_day = sorted({day for own in days for day in own})
    one = date.fromordinal(every_day[1] + date(1970, 1, 1).toordinal()).isoformat()
    cases = [("diffusion", {"topic": common}), ("learning", {"topic": common}), ("model", {"sort": "date"}),
             ("learning", {"since": one, "until": one}), ("neural network", {"since": one}),
             ("", {"topic": common}), ("", {"until": one}), ("model", {"topic": "no-such-topic"}),
             ("transformer", {"sort": "date", "topic": common})]
    answers = []
    for query, options in cases:
        since = date.fromisoformat(options["since"]).toordinal() - 719163 if "since" in options else -10**9
        until = date.fromisoformat(options["until"]).toordinal() - 719163 if "until" in options else 10**9

        def keeps(doc: int) -> bool:
            if "topic" in options and options["topic"] not in topics[doc]:
                return False
            return ("since" not in options and "until" not in options) or any(since <= d <= until for d in days[doc])

        if query:
            hits = [(int(hit["ref"]), hit["score"]) for hit in as_the_page_asks(reference, query) if keeps(int(hit["ref"]))]
        else:
            hits = [(doc, 0.0) for doc in range(len(days)) if keeps(doc)]
        answer = {"query": query, "options": options, "total": len(hits)}
        if query and "sort" not in options:
            answer["refs"] = [str(doc) for doc, _ in hits[:50]]
        else:  # newest first: the days in order, and which papers each day has (but the last day shown, cut)
            newest = lambda doc: days[doc][-1] if days[doc] else -1
            ordered = sorted(hits, key=lambda hit: (-newest(hit[0]), -hit[1], -hit[0]))[:50]
            answer["days"] = [newest(doc) for doc, _ in ordered]
            answer["groups"] = {str(day): sorted(str(doc) for doc, _ in hits if newest(doc) == day)
                                for day in set(answer["days"]) if day != answer["days"][-1]}
        answers.append(answer)
    assert {a["total"] > 0 for a in answers} == {True, False} and any(a["total"] > 50 for a in answers)
    return answers


def expected_answers(reference) -> dict:
    queries = []
    for query in BROWSER_QUERIES + MORE_QUERIES + PHRASE_AND_TYPO_QUERIES:
        found = page_query.as_the_page_asks(reference, query, reference.texts)
        queries.append({"query": query, "total": len(found.hits), "refs": [hit["ref"] for hit in found.hits[:50]],
                        "scores": [hit["score"] for hit in found.hits[:50]], "fixes": found.fixes})
    assert any(query["fixes"] for query in queries) and any('"' in query["query"] for query in queries)
    scores = reference_scores(reference)
    chosen = sorted({term for term, _, _ in scores})[::40]  # a spread of terms, all their postings
    postings: dict[str, dict[str, list]] = {term: {} for term in chosen}
    for (term, field, doc), score in sorted(scores.items()):
        if term in postings:
            postings[term].setdefault(field, []).append([doc, score])
    return {"queries": queries, "postings": postings}


@pytest.fixture(scope="module")
def small_segments_site(tmp_path_factory):
    """The seeds' site built with its index cut into full segments of 64 papers and smaller
    ones, so that the term dictionary has both its parts (words-N.js, words-tail-N.js)."""
    site = tmp_path_factory.mktemp("small-segments") / "site"
    saved = search.SEGMENT_DOCS, search.BLOCK_MIN, searchindex.BUCKET_BYTES
    search.SEGMENT_DOCS, search.BLOCK_MIN, searchindex.BUCKET_BYTES = 64, 8, 3000
    try:  # (the search stage's forked process inherits them)
        build(BuildOptions(CONTENT, site))
    finally:
        search.SEGMENT_DOCS, search.BLOCK_MIN, searchindex.BUCKET_BYTES = saved
    meta = (site / "search" / "meta.js").read_text()
    assert re.search(r'"words":\[\d', meta) and re.search(r'"tailWords":\[\d', meta)
    return site


@pytest.mark.parametrize("index", ["seeds site", "small segments"])
def test_the_engine_in_node_answers_as_lunr_py(seeds_site, small_segments_site, reference, tmp_path, index):
    node = shutil.which("node")
    assert node, "Node.js is needed (make test installs it with system-deps)"
    answers = tmp_path / "expected.json"
    word, slug = deep_word(seeds_site)
    answers.write_text(json.dumps(expected_answers(reference) | {"filtered": filtered_answers(reference, seeds_site),
                                                                 "deep": {"word": word, "slug": slug}}), encoding="utf-8")
    result = subprocess.run([node, "--test", str(NODE_TESTS)], capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin",
                                 "PAPERDIGEST_SITE": str(seeds_site if index == "seeds site" else small_segments_site),
                                 "PAPERDIGEST_EXPECTED": str(answers),
                                 "PAPERDIGEST_SCRIPTS": json.dumps(ENGINE_SCRIPTS)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout and "# pass 10" in result.stdout, result.stdout


@pytest.fixture(scope="module")
def reference():
    from test_search import lunr_py_index, seed_texts
    return lunr_py_index(seed_texts())
