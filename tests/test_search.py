"""search.py: the sharded index is exactly the index lunr.py's Builder makes, and queries over
shards score exactly as over the whole index. (The browser tests run the same shards through
the real lunr.js.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lunr import lunr
from lunr.index import Index
from lunr.pipeline import Pipeline
from lunr.stemmer import stemmer
from lunr.token_set import TokenSet
from lunr.vector import Vector
from support import SEEDS

from generator.catalog import build_catalog
from generator.parse import parse_dump
from generator.search import BOOSTS, FIELDS, cut_shards, index_terms, shard_key, snippet, utf16_order

CALL = re.compile(r"^paperdigestSearch\.(\w+)\((.*)\);\n$", re.DOTALL)


def seed_texts() -> list[tuple[str, str]]:
    catalog = build_catalog([parse_dump(seed.name, seed.read_bytes(), 2025) for seed in SEEDS])
    return [(paper.title, paper.abstract) for paper in catalog.papers]


def lunr_py_index(texts):
    """The reference: lunr.py's own Builder over the same documents and fields."""
    documents = [{"id": str(n), "title": t, "abstract": a} for n, (t, a) in enumerate(texts)]
    fields = [{"field_name": field, "boost": BOOSTS[field]} for field in FIELDS]
    return lunr(ref="id", fields=fields, documents=documents)


def read_call(path: Path):
    match = CALL.match(path.read_text(encoding="ascii"))
    assert match, path
    return match.group(1), json.loads(f"[{match.group(2)}]")


def load_site_index(site: Path):
    """Assemble a lunr.py Index from the shard files, the way search.js assembles a lunr.js one."""
    kind, (meta,) = read_call(site / "search" / "meta.js")
    assert kind == "meta"
    inverted, vectors, terms = {}, {}, []
    for number in range(len(meta["shards"])):
        kind, (shard_number, rows) = read_call(site / "search" / f"shard-{number}.js")
        assert (kind, shard_number) == ("shard", number)
        for row in rows:
            posting = {"_index": len(terms)}
            for slot, field in enumerate(meta["fields"]):
                doc, refs = 0, {}
                for gap, score in zip(row[1 + 2 * slot], row[2 + 2 * slot]):
                    doc += gap
                    refs[str(doc)] = {}
                    vectors.setdefault(f"{field}/{doc}", []).extend([len(terms), score / 1000])
                posting[field] = refs
            inverted[row[0]] = posting
            terms.append(row[0])
    pipeline = Pipeline()
    pipeline.add(stemmer)
    field_vectors = {ref: Vector(elements) for ref, elements in vectors.items()}
    return meta, Index(inverted, field_vectors, TokenSet.from_list(sorted(terms)), meta["fields"], pipeline)


def result_rows(site: Path, meta) -> list[list[str]]:
    rows = []
    for number in range((meta["documents"] + meta["chunk"] - 1) // meta["chunk"]):
        kind, (chunk, data) = read_call(site / "search" / f"docs-{number}.js")
        assert (kind, chunk) == ("docs", number)
        rows += data
    return rows


def test_terms_postings_and_scores_equal_lunr_py_builder():
    texts = seed_texts()
    reference = lunr_py_index(texts)
    index = index_terms(texts)
    assert set(index.terms) == set(reference.inverted_index) and len(index.terms) == len(set(index.terms))
    term_of = {posting["_index"]: term for term, posting in reference.inverted_index.items()}
    expected = {}
    for field_ref, vector in reference.field_vectors.items():
        field, doc = str(field_ref).split("/")
        for position in range(0, len(vector.elements), 2):
            expected[(term_of[vector.elements[position]], field, int(doc))] = vector.elements[position + 1]
    actual = {}
    for number, term in enumerate(index.terms):
        for slot, field in enumerate(FIELDS):
            span = index.span(number, slot)
            docs = index.docs[span].tolist()
            assert sorted(map(int, reference.inverted_index[term][field])) == docs
            assert index.gaps[span].tolist() == [b - a for a, b in zip([0] + docs, docs)]
            for doc, score in zip(docs, index.scores[span].tolist()):
                actual[(term, field, doc)] = score / 1000
    assert actual == expected


QUERIES = ["wasserstein", "fenics", "diffusion models", "title:grokking", "diffus*", "gaussian process*",
           "+neural -network", "optimal transport", "abstract:benchmark", "llms", "reinforcement~1"]


@pytest.mark.parametrize("query", QUERIES)
def test_queries_over_the_shards_rank_exactly_as_lunr_py(seeds_site, query):
    texts = seed_texts()
    reference = lunr_py_index(texts)
    _, index = load_site_index(seeds_site)
    expected = [(hit["ref"], hit["score"]) for hit in reference.search(query)]
    assert expected, "every query in the list matches something in the seeds"
    assert [(hit["ref"], hit["score"]) for hit in index.search(query)] == expected


def test_words_only_in_abstracts_are_found_and_titles_rank_first(seeds_site):
    meta, index = load_site_index(seeds_site)
    rows = result_rows(seeds_site, meta)
    titles = [rows[int(hit["ref"])][0] for hit in index.search("fenics")]
    assert titles == ["Uncertainty quantification in a mechanical submodel driven by a Wasserstein-GAN"]
    hits = index.search("grokking")
    assert len(hits) > 1 and "grokking" in rows[int(hits[0]["ref"])][0].lower()


def test_result_rows_cover_every_paper_page(seeds_site):
    meta, _ = load_site_index(seeds_site)
    rows = result_rows(seeds_site, meta)
    assert len(rows) == meta["documents"] == 232
    assert sorted(row[1] for row in rows) == sorted(p.stem for p in (seeds_site / "papers").glob("*.html"))


def test_shards_split_only_between_keys_in_javascript_order(monkeypatch):
    monkeypatch.setattr("generator.search.SHARD_POSTINGS", 300)
    index = index_terms(seed_texts())
    shards = cut_shards(index)
    assert len(shards) > 5
    assert [term for shard in shards for term in shard] == list(range(len(index.terms)))
    starts = [shard_key(index.terms[shard.start]) for shard in shards]
    assert starts == sorted(starts, key=utf16_order) and len(set(starts)) == len(starts)
    for number, shard in enumerate(shards):  # every term routes to the shard that holds it
        for term in shard:
            key = shard_key(index.terms[term])
            assert max(n for n, start in enumerate(starts) if utf16_order(start) <= utf16_order(key)) == number


def test_snippets_cut_at_a_word():
    assert snippet("short") == "short"
    cut = snippet("word " * 100)
    assert cut.endswith("…") and len(cut) <= 241 and not cut.endswith(" …")
