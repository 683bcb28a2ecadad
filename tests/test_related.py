"""related.py: each paper's most similar papers (TF-IDF over title and abstract, cosine).

Checked on a hand-made corpus whose answer is known by construction, against a brute-force dense
implementation written here on the real seeds, for determinism (input order, hash seeds, threads,
chunking), and on edge cases."""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
import unicodedata
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from support import REPO, SEEDS

from generator import related
from generator.catalog import Paper, build_catalog
from generator.parse import parse_dump
from generator.related import STOP_WORDS, related_papers

# Only stop words and plain numbers: text every paper below has, which must link none of them.
FILLER = "We present the results for {words} of 2024, and 100 of them in 3 of these."


def paper(slug: str, title: str, abstract: str) -> Paper:
    return Paper(slug.replace("-", ""), slug, title, abstract, ())


def topical(slug: str, *words: str) -> Paper:
    """A paper about `words`: the first two make its title, all of them are in its abstract."""
    return paper(slug, f"{words[0].title()} and {words[1]}", FILLER.format(words=", ".join(words)))


def seeds_papers() -> tuple[Paper, ...]:
    return build_catalog([parse_dump(seed.name, seed.read_bytes(), 2025) for seed in SEEDS]).papers


# --- a corpus whose answer is known ----------------------------------------------------------------

# Three topics with no word in common, each the same shape: p1 and p2 share three words (two of
# them in both titles), p2 and p3 two, p1 and p3 one; one bridge word joins stars-3 and bread-3
# only; the loner shares nothing (its words are in no other paper).
CLUSTERS = {
    "stars": ("galaxy redshift quasar telescope", "galaxy redshift quasar nebula", "nebula galaxy pulsar twilight"),
    "bread": ("sourdough yeast flour crust", "sourdough yeast flour oven", "oven sourdough proofing twilight"),
    "boats": ("keel rudder spinnaker mainsail", "keel rudder spinnaker jib", "jib keel tacking"),
}


def known_corpus() -> list[Paper]:
    papers = [topical(f"{topic}-{n}", *text.split()) for topic, texts in CLUSTERS.items()
              for n, text in enumerate(texts, 1)]
    return papers + [topical("loner", "xylophone", "marimba")]


def test_known_corpus_lists_cluster_mates_in_order_then_the_bridge():
    result = related_papers(known_corpus())
    for topic in CLUSTERS:
        one, two, three = (f"{topic}{n}" for n in (1, 2, 3))
        # more (and rarer) shared words first: 1 shares three words with 2 and one with 3
        assert result[one] == (two, three)
        assert result[two] == (one, three)
        assert result[three][:2] == (two, one)
    # the bridge word comes after the cluster mates, and only for the two papers that have it
    assert result["stars3"] == ("stars2", "stars1", "bread3")
    assert result["bread3"] == ("bread2", "bread1", "stars3")
    assert result["boats3"] == ("boats2", "boats1")
    assert result["loner"] == ()  # shares no word, only stop words and numbers
    assert all(key not in keys for key, keys in result.items())


def test_filler_is_only_stop_words_and_numbers():
    words = re.findall(r"[^\W_]+", FILLER.format(words="").lower())
    assert all(word in STOP_WORDS or word.isdigit() or len(word) < 2 for word in words)


def test_at_most_count_and_never_itself():
    papers = [topical(f"p-{n}", "graphene", f"unique{chr(97 + n)}word") for n in range(9)]
    result = related_papers(papers)
    assert all(len(keys) == 5 and f"p{n}" not in keys for n, keys in enumerate(result.values()))
    assert {len(keys) for keys in related_papers(papers, count=2).values()} == {2}
    assert {len(keys) for keys in related_papers(papers, count=20).values()} == {8}
    assert related_papers(papers, count=0) == {p.key: () for p in papers}


def test_equal_scores_go_to_the_smaller_slug():
    # b, c, d, e, f, g are alike to a (one shared word, same shapes): the five smallest slugs win
    papers = [topical(slug, "lattice", slug[0] * 3) for slug in ("g-paper", "c-paper", "a-paper", "f-paper",
                                                                 "e-paper", "d-paper", "b-paper")]
    assert related_papers(papers)["apaper"] == ("bpaper", "cpaper", "dpaper", "epaper", "fpaper")


def test_words_are_lowercase_letters_and_digits_of_two_or_more_characters():
    pairs = {
        "case": ("Transformer", "TRANSFORMER"),
        "digits inside": ("3D", "3d"),
        "non-ascii": ("Schrödinger", "schrödinger"),
        "composed or not": ("Schr\u00f6dinger", "Schro\u0308dinger"),
        "underscore splits": ("foo_bar", "bar"),
        "hyphen splits": ("self-attention", "attention"),
        "greek": ("αβγ", "ΑΒΓ"),
    }
    for name, (left, right) in pairs.items():
        result = related_papers([paper("l", left, "x"), paper("r", right, "y")])
        assert result == {"l": ("r",), "r": ("l",)}, name
    unlinked = {
        "plain numbers": ("2024 100", "2024 100"),
        "one character": ("x y z", "x y z"),
        "one non-ascii character": ("é ß", "é ß"),
        "stop words": ("the of and we", "the of and we"),
        "non-ascii digits": ("٣٤", "٣٤"),
    }
    for name, (left, right) in unlinked.items():
        assert related_papers([paper("l", left, ""), paper("r", right, "")]) == {"l": (), "r": ()}, name


# --- exactness: a brute-force dense implementation -------------------------------------------------

def tokens(text: str) -> list[str]:
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFC", text).lower())
    return [word for word in words if len(word) >= 2 and not word.isdigit() and word not in STOP_WORDS]


def brute_force(papers: list[Paper], count: int = 5, links: int | None = None
                ) -> tuple[dict[str, list[str]], np.ndarray, list[Paper]]:
    """Straight from the definition: dense TF-IDF rows (1 + ln tf, ln((N + 1) / df), title
    twice), L2-normalised, every pair's cosine, ranked by score then slug. With `links`, a word
    in more papers links only the `links` where its weight is largest (ties: smaller slug)."""
    ordered = sorted(papers, key=lambda p: p.slug)
    counts = [Counter(tokens(f"{p.title}\n{p.title}\n{p.abstract}")) for p in ordered]
    vocabulary = sorted(set().union(*counts))
    column = {word: i for i, word in enumerate(vocabulary)}
    tf = np.zeros((len(ordered), len(vocabulary)))
    for row, found in enumerate(counts):
        for word, number in found.items():
            tf[row, column[word]] = number
    df = (tf > 0).sum(axis=0)
    weights = np.where(tf > 0, 1 + np.log(np.maximum(tf, 1)), 0) * np.log((len(ordered) + 1) / df)
    norms = np.linalg.norm(weights, axis=1)
    weights /= np.where(norms > 0, norms, 1)[:, None]
    linking = weights.copy()
    for term in np.flatnonzero(df > (links or len(ordered))):
        rows = sorted(np.flatnonzero(weights[:, term]), key=lambda row: (-weights[row, term], row))
        linking[rows[links:], term] = 0
    scores = linking @ linking.T
    result = {}
    for i, one in enumerate(ordered):
        others = [j for j in range(len(ordered)) if j != i and scores[i, j] > 1e-12]
        others.sort(key=lambda j: (-round(scores[i, j], 9), ordered[j].slug))
        result[one.key] = [ordered[j].key for j in others[:count]]
    return result, scores, ordered


def assert_same_up_to_ties(got: dict[str, tuple[str, ...]], papers: list[Paper], links: int | None = None) -> None:
    expected, scores, ordered = brute_force(papers, links=links)
    row = {p.key: i for i, p in enumerate(ordered)}
    assert got.keys() == expected.keys()
    same = 0
    for key, keys in got.items():
        i, want = row[key], expected[key]
        assert len(keys) == len(want) and len(set(keys)) == len(keys) and key not in keys
        # equal up to ties: the scores at each rank agree (a swap of equal scores is allowed)
        for mine, theirs in zip(keys, want):
            assert math.isclose(scores[i, row[mine]], scores[i, row[theirs]], abs_tol=1e-9), (key, keys, want)
        same += list(keys) == want
    assert same >= 0.99 * len(papers)


def test_brute_force_itself_on_the_known_corpus():
    expected, _, _ = brute_force(known_corpus())
    assert expected["stars1"] == ["stars2", "stars3"] and expected["loner"] == []


def test_same_as_brute_force_on_the_seeds():
    papers = list(seeds_papers())
    assert len(papers) == 232
    got = related_papers(papers)
    assert_same_up_to_ties(got, papers)
    assert sum(map(len, got.values())) == 5 * len(papers)  # every seed shares some word with five others


def test_first_related_shares_words_of_the_title_on_the_seeds():
    """A sanity check of the definition on real text: a paper's first related paper shares
    words of its title more often than not."""
    papers = seeds_papers()
    got = related_papers(papers)
    by_key = {p.key: p for p in papers}
    sharing = sum(bool(set(tokens(p.title)) & set(tokens(by_key[keys[0]].title + " " + by_key[keys[0]].abstract)))
                  for p in papers for keys in [got[p.key]] if keys)
    assert sharing >= 0.8 * len(papers)


def test_scores_equal_on_the_grid_tie_even_when_the_floats_differ():
    # row 0 scores row 1 at 0.5 - 1e-12 and row 2 at 0.5: one grid step (~1e-9) apart at most,
    # so a tie, which the smaller row wins, though a first bound (the 2nd best: 0.5) is above it
    vectors = sp.csr_matrix(np.array([[1.0], [0.5 - 1e-12], [0.5]]))
    assert related.nearest(vectors, 1)[0] == [1]
    assert related.nearest(vectors, 2)[0] == [1, 2]


# --- the work budget: the commonest words link only the papers where they weigh most ----------------

def test_a_common_word_over_the_budget_links_only_where_it_weighs_most(monkeypatch):
    # "zeta" is in four papers, said 4, 3, 2 and 1 times; every other word is in one paper only,
    # and each paper has the same number of them, so zeta weighs most where it is said most.
    papers = [paper(f"z-{n}", f"{n}a{n} {n}b{n}", " ".join(["zeta"] * times + [f"{n}c{n}"]))
              for n, times in enumerate((1, 4, 2, 3))]
    assert related_papers(papers)["z1"][:1] == ("z3",)  # within the budget: all four linked
    assert all(len(keys) == 3 for keys in related_papers(papers).values())
    monkeypatch.setattr(related, "WORK_BUDGET", 4)  # one term may link 2 papers (2^2 = 4)
    assert related_papers(papers) == {"z0": (), "z1": ("z3",), "z2": (), "z3": ("z1",)}


@pytest.mark.parametrize("budget", [3_000, 30_000, 300_000])
def test_same_as_brute_force_on_the_seeds_over_a_budget(monkeypatch, budget):
    papers = list(seeds_papers())
    df = Counter(word for p in papers for word in set(tokens(f"{p.title} {p.abstract}")))
    links = max(n for n in range(2, max(df.values()) + 1)
                if n == 2 or sum(min(d, n) ** 2 for d in df.values() if d >= 2) <= budget)
    assert links < max(df.values())  # some words are over the budget
    monkeypatch.setattr(related, "WORK_BUDGET", budget)
    monkeypatch.setattr(related, "GROUP_POSTINGS", 500)  # ranked in several groups
    assert_same_up_to_ties(related_papers(papers), papers, links)


def test_links_is_the_largest_within_the_budget(monkeypatch):
    df = np.array([1, 2, 3, 10, 50])
    monkeypatch.setattr(related, "WORK_BUDGET", 4 + 9 + 100 + 2500)
    assert related._links(df) == 50  # everything fits: exact
    monkeypatch.setattr(related, "WORK_BUDGET", 4 + 9 + 100 + 2499)
    assert related._links(df) == 49
    monkeypatch.setattr(related, "WORK_BUDGET", 4 + 9 + 9 + 9)
    assert related._links(df) == 3
    monkeypatch.setattr(related, "WORK_BUDGET", 0)
    assert related._links(df) == 2  # a term always links at least a pair


def test_seeds_are_within_the_budget():
    """So the comparison with brute force above covers the whole computation, exactly."""
    df = Counter(word for p in seeds_papers() for word in set(tokens(f"{p.title} {p.abstract}")))
    assert sum(d * d for d in df.values() if d >= 2) <= related.WORK_BUDGET


# --- determinism -----------------------------------------------------------------------------------

def test_input_order_and_repeated_runs_do_not_matter():
    papers = list(seeds_papers())
    first = related_papers(papers)
    for seed in range(3):
        shuffled = papers[:]
        random.Random(seed).shuffle(shuffled)
        assert related_papers(shuffled) == first
    assert related_papers(tuple(papers)) == first


@pytest.mark.parametrize("budget", [related.WORK_BUDGET, 3_000])
def test_threads_chunks_and_blocks_do_not_matter(monkeypatch, budget):
    monkeypatch.setattr(related, "WORK_BUDGET", budget)
    papers = list(seeds_papers())
    first = related_papers(papers)
    random.Random(0).shuffle(papers)
    monkeypatch.setattr(related, "GROUP_POSTINGS", 100)  # common words ranked in many groups
    monkeypatch.setattr(related, "_threads", lambda tasks: 1)
    monkeypatch.setattr(related, "CHUNK_BYTES", 5_000)  # many chunks of text
    monkeypatch.setattr(related, "BLOCK_WORK", 1_000)  # many row blocks
    monkeypatch.setattr(related, "SAMPLE", 12)  # a looser first bound
    assert related_papers(papers) == first
    monkeypatch.setattr(related, "_threads", lambda tasks: 3)
    assert related_papers(papers) == first


def test_same_result_whatever_the_hash_seed():
    script = ("import json, sys; sys.path.insert(0, 'tests'); from test_related import seeds_papers; "
              "from generator.related import related_papers; print(json.dumps(related_papers(seeds_papers())))")
    outputs = {subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1
    assert json.loads(outputs.pop()) == {k: list(v) for k, v in related_papers(seeds_papers()).items()}


# --- edge cases -------------------------------------------------------------------------------------

def test_no_papers_and_one_paper():
    assert related_papers([]) == {}
    assert related_papers([topical("only", "galaxy", "redshift")]) == {"only": ()}


def test_empty_abstracts_compare_titles():
    papers = [paper("a", "Sparse attention kernels", ""), paper("b", "Kernels for sparse matrices", ""),
              paper("c", "Protein folding", ""), paper("d", "", "")]
    assert related_papers(papers) == {"a": ("b",), "b": ("a",), "c": (), "d": ()}


def test_papers_with_no_counted_word_at_all():
    papers = [paper("a", "2024", ""), paper("b", "The", "of and 100"), paper("c", "", "")]
    assert related_papers(papers) == {"a": (), "b": (), "c": ()}


def test_identical_abstracts_are_each_others_first():
    text = "Diffusion models for protein structure generation with equivariant transformers."
    papers = [paper("twin-one", "Equivariant diffusion for proteins", text),
              paper("twin-two", "Protein generation with equivariant diffusion", text)]
    papers += [paper(f"other-{n}", f"Protein {topic}", f"A study of protein {topic} with transformers.")
               for n, topic in enumerate(("docking", "folding", "design", "structure"))]
    result = related_papers(papers)
    assert result["twinone"][0] == "twintwo" and result["twintwo"][0] == "twinone"
    # whole duplicates (same title and abstract, different keys) are each other's first too
    clones = [paper("clone-a", "Graph rewiring", text), paper("clone-b", "Graph rewiring", text)] + papers[2:]
    result = related_papers(clones)
    assert result["clonea"][0] == "cloneb" and result["cloneb"][0] == "clonea"


def test_long_words_and_odd_text():
    long_word = "pneumonoultramicroscopicsilicovolcanoconiosis"  # longer than three 8-byte hash steps
    papers = [paper("a", long_word, "x" * 5000), paper("b", long_word.upper(), "tab\tand\r\nnewlines"),
              paper("c", long_word[:-1], "emoji 🚀 only"), paper("d", "🚀", "emoji 🚀 only")]
    result = related_papers(papers)
    assert result["a"] == ("b",) and result["b"] == ("a",)  # a one-letter difference is another word
    assert result["c"] == ("d",) and result["d"] == ("c",)  # by "emoji" ("only" is a stop word; 🚀 no word)
