"""search-engine.js without a browser: `node --test tests/js/` runs the engine in Node against
the index the build wrote for the seeds, and compares its answers with lunr.py's Builder over
the same papers (written here, to a file the Node tests read). The UI (search.js) is tested in
Chromium (test_search.py, test_browser.py)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from support import REPO
from test_search import BROWSER_QUERIES, as_the_page_asks, reference_scores

NODE_TESTS = REPO / "tests" / "js"
MORE_QUERIES = ["wasserstein distance", "graph neural networks", "author:smith", "diffusion -image", "token*",
                "+language +model reasoning", "title:transformer^2 attention"]


def expected_answers(reference) -> dict:
    queries = []
    for query in BROWSER_QUERIES + MORE_QUERIES:
        hits = as_the_page_asks(reference, query)
        queries.append({"query": query, "total": len(hits), "refs": [hit["ref"] for hit in hits[:50]],
                        "scores": [hit["score"] for hit in hits[:50]]})
    scores = reference_scores(reference)
    chosen = sorted({term for term, _, _ in scores})[::40]  # a spread of terms, all their postings
    postings: dict[str, dict[str, list]] = {term: {} for term in chosen}
    for (term, field, doc), score in sorted(scores.items()):
        if term in postings:
            postings[term].setdefault(field, []).append([doc, score])
    return {"queries": queries, "postings": postings}


def test_the_engine_in_node_answers_as_lunr_py(seeds_site, reference, tmp_path):
    node = shutil.which("node")
    assert node, "Node.js is needed (make test installs it with system-deps)"
    answers = tmp_path / "expected.json"
    answers.write_text(json.dumps(expected_answers(reference)), encoding="utf-8")
    result = subprocess.run([node, "--test", str(NODE_TESTS)], capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "PAPERDIGEST_SITE": str(seeds_site),
                                 "PAPERDIGEST_EXPECTED": str(answers)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout and "# pass 6" in result.stdout, result.stdout


@pytest.fixture(scope="module")
def reference():
    from test_search import lunr_py_index, seed_texts
    return lunr_py_index(seed_texts())
