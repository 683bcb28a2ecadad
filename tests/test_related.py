"""related.py: each paper's most similar papers (TF-IDF over title and abstract, idf per segment).

Checked on a hand-made corpus whose answer is known by construction; against a brute-force dense
implementation of the formulation written here (segments in order of first appearance, each
with its own idf and two work budgets: one for pairs within it, one for pairs across), on the
real seeds (one segment: plain TF-IDF cosine) and on generated corpora of many small segments;
against the code before segments (one-segment sites are unchanged); for incremental builds
(with any memory, the result of a build without one); for determinism (input order, hash
seeds, threads, chunking); and on edge cases."""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from datetime import date, timedelta
from importlib import util
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from support import REPO, SEEDS

from generator import related, similarity
from generator.catalog import Appearance, Paper, build_catalog
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


def test_equal_scores_in_other_segments_go_to_the_smaller_slug(monkeypatch):
    # four segments of two papers, all alike: every score the same, whichever segment it is from
    monkeypatch.setattr(related, "SEGMENT", 2)
    papers = [topical(f"{letter}-paper", "lattice", letter * 3) for letter in "hgfedcba"]
    result = related_papers(papers)
    assert result["apaper"] == ("bpaper", "cpaper", "dpaper", "epaper", "fpaper")
    assert result["hpaper"] == ("apaper", "bpaper", "cpaper", "dpaper", "epaper")


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


# --- exactness: a brute-force dense implementation of the formulation --------------------------------

def tokens(text: str) -> list[str]:
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFC", text).lower())
    return [word for word in words if len(word) >= 2 and not word.isdigit() and word not in STOP_WORDS]


def first_key(p: Paper) -> tuple:
    """The order of first appearance, as the formulation defines it."""
    if not p.appearances:
        return (2, date.min, "", 0, p.slug, p.key)
    first = p.appearances[0]
    return (0 if first.date else 1, first.date or date.min, first.digest, first.position, p.slug, p.key)


def links_within(df: list[int], budget: int) -> int:
    """The largest L >= 2 with sum(min(df, L)^2) <= budget over the words in two papers or more."""
    shared = [d for d in df if d >= 2]
    return max(n for n in range(2, max(shared + [2]) + 1) if n == 2 or sum(min(d, n) ** 2 for d in shared) <= budget)


def brute_force(papers: list[Paper], count: int = 5, segment: int | None = None, inner: int | None = None,
                outer: int | None = None) -> tuple[dict[str, list[str]], np.ndarray, list[Paper]]:
    """Straight from the definition. Papers in order of first appearance are cut into runs of
    `segment` (the last, shorter run joined to the one before; all of them one run if there
    are fewer than 2 * segment). Each run's base is its first `segment` papers (all of them
    without `segment`). Each run's papers get dense TF-IDF rows with the base's idf (1 + ln tf,
    ln((N + 1) / df), N and df of the base, df = 1 for a word the base lacks; title twice),
    L2-normalised. Within a budget, a word in more papers of the base than links_within()
    allows (over the base's df) links only the papers where its weight, on a 2**-24 grid, is
    at least its base's L-th strongest (ties: the paper that came first): two papers of one run
    are scored by the dot product of their rows within the `inner` budget, two papers of two
    runs within the `outer` one (None: no budget). Each paper takes the best `count`, by score
    then order of first appearance."""
    order = sorted(papers, key=first_key)
    n = len(order)
    runs = [order]
    if segment and n >= 2 * segment:
        runs = [order[at:at + segment] for at in range(0, (n // segment - 1) * segment, segment)]
        runs.append(order[(n // segment - 1) * segment:])
    counts = {p.key: Counter(tokens(f"{p.title}\n{p.title}\n{p.abstract}")) for p in papers}
    vocabulary = sorted(set().union(*counts.values()))
    column = {word: i for i, word in enumerate(vocabulary)}
    within, across = np.zeros((n, len(vocabulary))), np.zeros((n, len(vocabulary)))
    run_of, start = np.zeros(n, np.int64), 0
    for number, run in enumerate(runs):
        base = min(len(run), segment or len(run))
        tf = np.zeros((len(run), len(vocabulary)))
        for i, p in enumerate(run):
            for word, times in counts[p.key].items():
                tf[i, column[word]] = times
        df = (tf[:base] > 0).sum(axis=0)
        idf = np.log((base + 1) / np.maximum(df, 1))
        weights = np.where(tf > 0, 1 + np.log(np.maximum(tf, 1)), 0) * idf
        norms = np.linalg.norm(weights, axis=1)
        weights /= np.where(norms > 0, norms, 1)[:, None]
        at = range(start, start + len(run))
        run_of[at] = number
        for linking, budget in ((within, inner), (across, outer)):
            kept = weights.copy()
            if budget is not None:
                most = links_within(df.tolist(), budget)
                grid = np.minimum(np.floor(kept * 2**24), 2**24)
                for term in np.flatnonzero(df > most):
                    ranked = sorted(np.flatnonzero(kept[:base, term]), key=lambda i: (-grid[i, term], i))
                    bar = (-grid[ranked[most - 1], term], ranked[most - 1])
                    for i in np.flatnonzero(kept[:, term]):
                        if (-grid[i, term], i) > bar:
                            kept[i, term] = 0
            linking[at] = kept
        start += len(run)
    scores = np.where(run_of[:, None] == run_of[None, :], within @ within.T, across @ across.T)
    result = {}
    for i, one in enumerate(order):
        others = [j for j in range(n) if j != i and scores[i, j] > 1e-12]
        others.sort(key=lambda j: (-round(scores[i, j], 9), j))
        result[one.key] = [order[j].key for j in others[:count]]
    return result, scores, order


def assert_same_up_to_ties(got: dict[str, tuple[str, ...]], papers: list[Paper], share: float = 0.99,
                           **formulation) -> None:
    expected, scores, ordered = brute_force(papers, **formulation)
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
    assert same >= share * len(papers)


def test_brute_force_itself_on_the_known_corpus():
    expected, _, _ = brute_force(known_corpus())
    assert expected["stars1"] == ["stars2", "stars3"] and expected["loner"] == []


def test_same_as_brute_force_on_the_seeds():
    papers = list(seeds_papers())
    assert len(papers) == 232 < 2 * related.SEGMENT  # one segment: plain TF-IDF cosine
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
    scores = (vectors @ vectors.T).tocsr()
    assert similarity.top(scores, 1, 0)[0][0].tolist() == [1]
    assert similarity.top(scores, 2, 0)[0][0].tolist() == [1, 2]
    assert similarity.top(scores, 3, 0)[0][0].tolist() == [1, 2, -1]  # never itself
    assert similarity.top(scores, 1)[0][0].tolist() == [0]  # (a block of two segments: no self)


# --- generated corpora: many small segments ----------------------------------------------------------

TOPICS = ("graph", "kernel", "sparse", "diffusion", "operator", "bandit", "privacy", "causal", "robot", "tidal",
          "lattice", "quantum", "protein", "vision", "speech", "token", "agent", "reward", "memory", "cache")
START = date(2024, 1, 1)


def generated(number: int, day: int, position: int, version: str = "") -> Paper:
    """Paper `number` (first in the digest of day `day`): topic words, Zipf-ish common words,
    and a word of its own. `version` gives another text for the same paper."""
    rng = random.Random(f"{number}:{version}")
    title = " ".join(rng.sample(TOPICS, 3)).title()
    words = [rng.choice(TOPICS) for _ in range(rng.randint(2, 12))]
    words += [f"w{int(rng.paretovariate(0.8))}" for _ in range(rng.randint(3, 30))] + [f"own{number}x"]
    when = START + timedelta(days=day)
    return Paper(f"p{number:04}", f"p-{number:04}", title, " ".join(words),
                 (Appearance(when.isoformat(), when, f"{when}.txt", 1, position),))


def corpus(size: int, per_day: int = 5) -> list[Paper]:
    """`size` papers, `per_day` a digest, one digest every 10 days (room for digests between)."""
    return [generated(n, 10 * (n // per_day), n % per_day) for n in range(size)]


@pytest.mark.parametrize("size, segment", [(60, 8), (150, 16), (97, 4)])
def test_same_as_brute_force_with_many_segments(monkeypatch, size, segment):
    monkeypatch.setattr(related, "SEGMENT", segment)
    papers = corpus(size)
    random.Random(size).shuffle(papers)
    assert_same_up_to_ties(related_papers(papers), papers, share=0.95, segment=segment,
                           inner=related.WORK_INNER, outer=related.WORK_OUTER)


@pytest.mark.parametrize("inner, outer", [(20, 20), (2_000, 20), (60, 60), (500, 60), (10**9, 60)])
def test_same_as_brute_force_with_many_segments_over_a_budget(monkeypatch, inner, outer):
    monkeypatch.setattr(related, "SEGMENT", 12)
    monkeypatch.setattr(related, "WORK_INNER", inner)
    monkeypatch.setattr(related, "WORK_OUTER", outer)
    monkeypatch.setattr(similarity, "GROUP_POSTINGS", 7)  # ranked in several groups
    papers = corpus(130)  # ten segments, the last with 10 papers beyond its base
    got = related_papers(papers)
    assert_same_up_to_ties(got, papers, share=0.95, segment=12, inner=inner, outer=outer)
    monkeypatch.setattr(related, "WORK_INNER", 10**9)
    monkeypatch.setattr(related, "WORK_OUTER", 10**9)
    assert got != related_papers(papers)  # the budgets did leave postings out


def test_the_inner_budget_is_for_pairs_within_a_segment_the_outer_one_for_pairs_across(monkeypatch):
    monkeypatch.setattr(related, "SEGMENT", 12)
    papers = corpus(120)
    unbound = related_papers(papers)
    for inner, outer in [(10**9, 60), (2_000, 60)]:
        monkeypatch.setattr(related, "WORK_INNER", inner)
        monkeypatch.setattr(related, "WORK_OUTER", outer)
        got = related_papers(papers)
        assert got != unbound
        expected, _, _ = brute_force(papers, segment=12, inner=inner, outer=outer)
        wrong, _, _ = brute_force(papers, segment=12, inner=outer, outer=inner)  # the budgets the other way round
        agree = sum(list(got[key]) == expected[key] for key in got)
        assert agree >= 0.95 * len(papers) and agree > sum(list(got[key]) == wrong[key] for key in got)


def test_outer_postings_narrowed_from_inner_ones_are_those_of_the_smaller_budget(monkeypatch):
    ordered = sorted(list(seeds_papers()) + corpus(300), key=lambda p: (p.slug, p.key))
    bits = related.doc_bits()
    for group in (7, 1 << 20):
        monkeypatch.setattr(similarity, "GROUP_POSTINGS", group)
        terms = similarity.term_counts([similarity.chunk_terms(ordered, 0, bits)], bits)
        for (inner, outer), base in itertools.product(
                [(10**9, 30_000), (300_000, 3_000), (30_000, 300), (3_000, 3_000), (5_000, 4)], (len(ordered), 200)):
            wide = similarity.segment_postings(len(ordered), base, *terms, inner)
            narrow = similarity.narrowed(wide, base, outer)
            direct = similarity.segment_postings(len(ordered), base, *terms, outer)
            assert all(np.array_equal(mine, theirs) and mine.dtype == theirs.dtype
                       for mine, theirs in zip(narrow, direct)), (group, inner, outer, base)
            assert len(narrow.docs) < len(wide.docs) or inner == outer or outer == 4


def test_segments_are_runs_in_order_of_first_appearance(monkeypatch):
    monkeypatch.setattr(related, "SEGMENT", 4)
    assert related.segments(2) == [(0, 2)] and related.segments(7) == [(0, 7)]
    assert related.segments(8) == [(0, 4), (4, 8)]
    assert related.segments(11) == [(0, 4), (4, 11)]
    assert related.segments(12) == [(0, 4), (4, 8), (8, 12)]
    day = date(2025, 3, 14)
    papers = [Paper("z", "z", "", "", ()), Paper("y", "y", "", "", ()),
              Paper("u", "u", "", "", (Appearance("notes", None, "notes.txt", 1, 0),)),
              Paper("b", "b", "", "", (Appearance("2025-03-14", day, "a.txt", 1, 1),)),
              Paper("c", "c", "", "", (Appearance("2025-03-14", day, "a.txt", 1, 0),)),
              Paper("d", "d", "", "", (Appearance("2025-01-02", date(2025, 1, 2), "b.txt", 1, 7),
                                       Appearance("2025-03-14", day, "a.txt", 1, 2)))]
    ordered = sorted(papers, key=lambda p: p.slug)
    assert [ordered[number].key for number in related.first_order(ordered)] == ["d", "c", "b", "u", "y", "z"]
    assert [p.key for p in sorted(papers, key=first_key)] == ["d", "c", "b", "u", "y", "z"]


def test_a_new_paper_enters_old_papers_lists(monkeypatch):
    monkeypatch.setattr(related, "SEGMENT", 8)
    papers, memory = corpus(80), Shelf()
    before = memory.build(papers)
    twin = papers[3]  # in the first segment; a new digest brings a paper with its text
    late = Paper("late", "late", twin.title, twin.abstract, (Appearance("z", START + timedelta(days=999), "z.txt", 1, 0),))
    after = memory.build(papers + [late])
    assert after[twin.key][0] == "late" and after["late"][0] == twin.key
    assert before[twin.key] != after[twin.key] and after == related_papers(papers + [late])


# --- incremental: with any memory, the result of a build without one ------------------------------------

class Shelf:
    """A build-to-build store of bytes as the build cache keeps one: after each build, only the
    names that build got (and found) or put are left."""

    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}
        self.used: set[str] = set()
        self.puts: list[str] = []
        self.kept: list[str] = []
        self.got: list[str] = []

    def get(self, name: str) -> bytes | None:
        found = self.items.get(name)
        if found is not None:
            self.used.add(name)
            self.got.append(name)
        return found

    def put(self, name: str, data: bytes) -> None:
        assert isinstance(data, bytes) and re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", name), name
        self.items[name] = data
        self.used.add(name)
        self.puts.append(name)

    def keep(self, name: str) -> None:
        self.used.add(name)
        self.kept.append(name)

    def build(self, papers: list[Paper], count: int = 5) -> dict[str, tuple[str, ...]]:
        self.used, self.puts, self.kept, self.got = set(), [], [], []
        result = related_papers(papers, count, memory=self)
        self.items = {name: data for name, data in self.items.items() if name in self.used}
        return result


def edited(papers: list[Paper], kind: str, choice: int, step: int) -> list[Paper]:
    papers = list(papers)
    number = 1000 + 10 * step
    last = max(p.appearances[0].date for p in papers)
    if kind == "append":  # a new digest after every other
        day = (last - START).days + 1
        return papers + [generated(number + i, day, i) for i in range(1 + choice % 9)]
    if kind == "insert":  # a digest between two others: its papers come in the middle
        day = 10 * (choice % 12) + 1 + step % 9
        return papers + [generated(number + i, day, i) for i in range(1 + choice % 3)]
    at = choice % len(papers)
    old = papers[at]
    if kind == "remove" and len(papers) > 2:
        del papers[at]
    elif kind == "abstract":
        papers[at] = Paper(old.key, old.slug, old.title, old.abstract + f" graph kernel new{step}x", old.appearances)
    elif kind == "title":
        papers[at] = Paper(old.key, old.slug, f"Renamed {old.title} {step}", old.abstract, old.appearances)
    elif kind == "slug":
        papers[at] = Paper(old.key, f"a-{step}-{old.slug}", old.title, old.abstract, old.appearances)
    elif kind == "repeat":  # seen again in a later digest: its first appearance is unchanged
        papers[at] = Paper(old.key, old.slug, old.title, old.abstract,
                           old.appearances + (Appearance("later", last, "later.txt", 1, 99),))
    return papers


EDITS = st.lists(st.tuples(st.sampled_from(["append", "insert", "remove", "abstract", "title", "slug", "repeat"]),
                           st.integers(0, 10_000)), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(edits=EDITS, segment=st.sampled_from([5, 8, 16, 40, 64]), count=st.sampled_from([1, 5]),
       budgets=st.sampled_from([(related.WORK_INNER, related.WORK_OUTER), (200, 30)]))
def test_incremental_builds_give_the_clean_result(edits, segment, count, budgets):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(related, "SEGMENT", segment)
        patch.setattr(related, "WORK_INNER", budgets[0])
        patch.setattr(related, "WORK_OUTER", budgets[1])
        papers, memory = corpus(60), Shelf()
        assert memory.build(papers, count) == related_papers(papers, count)
        for step, (kind, choice) in enumerate(edits):
            papers = edited(papers, kind, choice, step)
            assert memory.build(papers, count) == related_papers(papers, count), (step, kind)


def test_a_new_digest_redoes_only_the_last_segment(monkeypatch):
    monkeypatch.setattr(related, "SEGMENT", 8)
    tokenised = []
    chunk_terms = similarity.chunk_terms
    monkeypatch.setattr(similarity, "chunk_terms", lambda papers, *rest: tokenised.extend(papers) or chunk_terms(papers, *rest))
    papers, memory = corpus(100), Shelf()  # 12 segments, the last of 12 papers
    memory.build(papers)
    assert len(tokenised) == 100 and len(memory.puts) == 12 + 12 * 13 // 2 + 12  # segments, pairs, lists
    stored = len(memory.items)
    tokenised.clear()
    again = memory.build(papers)  # nothing new: nothing done, everything kept, only the lists read
    assert tokenised == [] and memory.puts == [] and len(memory.items) == stored
    assert {name.split("-")[2] for name in memory.got} == {"lists"}
    assert sorted(name.split("-")[2] for name in memory.kept) == ["pair"] * (12 * 13 // 2) + ["seg"] * 12
    assert again == related_papers(papers)
    papers = edited(papers, "append", 2, 0)  # 3 papers: the last segment has 15
    tokenised.clear()
    multiplied = []  # the rows of each product
    row_blocks = related._row_blocks
    monkeypatch.setattr(related, "_row_blocks", lambda rows, columns: multiplied.append(rows.shape[0]) or row_blocks(rows, columns))
    incremental = memory.build(papers)
    # each of the 12 blocks of the last segment is extended by the 3 new papers' rows only
    assert multiplied == [3] * 12
    assert len(tokenised) == 15 and incremental == related_papers(papers)
    assert sorted(name.split("-")[2] for name in memory.puts) == ["lists"] * 12 + ["pair"] * 12 + ["seg"]
    # the blocks read are those extended; the 66 others are kept unread (the lists hold what they found)
    assert sorted(name.split("-")[2] for name in memory.got if "-pair-" in name) == ["pair"] * 12
    assert sorted(name.split("-")[2] for name in memory.kept) == ["pair"] * (12 * 13 // 2 - 12)
    assert len(memory.items) == stored


def test_remembered_blocks_of_papers_numbered_past_int16(monkeypatch):
    """A remembered block holds each paper's candidates as int16 numbers within their segment;
    a segment that starts past 32,767 (a site of over ~37,000 papers) adds its start to them.
    An edit in the last segment makes every segment's lists again from remembered blocks: the
    same lists as a build from nothing (this raised OverflowError at 300,000 papers)."""
    monkeypatch.setattr(related, "SEGMENT", 2048)
    papers, memory = corpus(2048 * 18 + 10), Shelf()  # 18 segments: the 17th starts at 32,768
    memory.build(papers)
    at = max(range(len(papers)), key=lambda number: first_key(papers[number]))
    old = papers[at]
    papers[at] = Paper(old.key, old.slug, old.title, old.abstract + " graph kernel", old.appearances)
    assert memory.build(papers) == related_papers(papers)
    assert any("-pair-" in name for name in memory.got)


def test_a_grown_segment_keeps_what_its_blocks_found(monkeypatch):
    """A paper appended to a segment changes no score worked out before: each paper's best
    among the papers before the new ones is the same, so only the new ones can enter a list."""
    monkeypatch.setattr(related, "SEGMENT", 8)
    papers = corpus(100)
    before = related_papers(papers)
    grown = edited(papers, "append", 2, 0)  # 3 new papers, all in the last segment (of 12, then 15)
    assert len(related.segments(len(grown))) == len(related.segments(len(papers)))
    after = related_papers(grown)
    new = {p.key for p in grown} - {p.key for p in papers}
    for key, keys in before.items():
        kept = [other for other in after[key] if other not in new]
        assert kept == list(keys[:len(kept)]), key
    assert sum(before[key] != after[key] for key in before) < len(papers) // 4


def garbled(data: bytes, how: int) -> object:
    middle = len(data) // 2
    return [data[:middle], data[:-1], data + b"\0", b"", bytes(len(data)),
            data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:], data.decode("latin-1"), None][how]


@pytest.mark.parametrize("how", range(8))
def test_garbled_memory_is_a_miss(monkeypatch, how):
    monkeypatch.setattr(related, "SEGMENT", 8)
    papers, memory = corpus(60), Shelf()
    memory.build(papers)
    memory.items = {name: garbled(data, how) for name, data in memory.items.items()}
    assert memory.build(papers) == related_papers(papers)
    assert len(memory.puts) == len(memory.items)  # every item made again


def test_memory_under_another_name_is_a_miss(monkeypatch):
    monkeypatch.setattr(related, "SEGMENT", 8)
    papers, memory = corpus(60), Shelf()
    memory.build(papers)
    names = sorted(memory.items)  # each item's bytes under the next item's name
    memory.items = dict(zip(names, [memory.items[name] for name in names[1:] + names[:1]]))
    assert memory.build(papers) == related_papers(papers)
    assert len(memory.puts) == len(names)


def test_memory_of_other_papers_segments_versions_and_counts(monkeypatch):
    monkeypatch.setattr(related, "SEGMENT", 16)
    memory = Shelf()
    memory.build(corpus(90))
    memory.build(corpus(90), count=3)
    monkeypatch.setattr(related, "SEGMENT", 8)
    papers = corpus(90)[5:]
    for segment, version, count in [(8, related.VERSION, 5), (16, related.VERSION, 5), (16, "0", 3), (8, "0", 5)]:
        monkeypatch.setattr(related, "SEGMENT", segment)
        monkeypatch.setattr(related, "VERSION", version)
        assert memory.build(papers, count) == related_papers(papers, count)
        memory.build(corpus(90), count)
    for budget, value in [("WORK_OUTER", 50), ("WORK_INNER", 500)]:  # another budget: other postings, other names
        monkeypatch.setattr(related, budget, value)
        memory.build(corpus(90))
        assert memory.puts and memory.build(corpus(90)) == related_papers(corpus(90)) and not memory.puts


# --- the work budget: the commonest words link only the papers where they weigh most ----------------

def test_a_common_word_over_the_budget_links_only_where_it_weighs_most(monkeypatch):
    # "zeta" is in four papers, said 4, 3, 2 and 1 times; every other word is in one paper only,
    # and each paper has the same number of them, so zeta weighs most where it is said most.
    papers = [paper(f"z-{n}", f"{n}a{n} {n}b{n}", " ".join(["zeta"] * times + [f"{n}c{n}"]))
              for n, times in enumerate((1, 4, 2, 3))]
    assert related_papers(papers)["z1"][:1] == ("z3",)  # within the budget: all four linked
    assert all(len(keys) == 3 for keys in related_papers(papers).values())
    monkeypatch.setattr(related, "WORK_INNER", 4)  # one term may link 2 papers (2^2 = 4)
    monkeypatch.setattr(related, "WORK_OUTER", 4)
    assert related_papers(papers) == {"z0": (), "z1": ("z3",), "z2": (), "z3": ("z1",)}


@pytest.mark.parametrize("budget", [3_000, 30_000, 300_000])
def test_same_as_brute_force_on_the_seeds_over_a_budget(monkeypatch, budget):
    papers = list(seeds_papers())
    df = Counter(word for p in papers for word in set(tokens(f"{p.title} {p.abstract}")))
    assert links_within(list(df.values()), budget) < max(df.values())  # some words are over the budget
    monkeypatch.setattr(related, "WORK_INNER", budget)
    monkeypatch.setattr(related, "WORK_OUTER", 4)  # one segment: only the inner budget counts
    monkeypatch.setattr(similarity, "GROUP_POSTINGS", 500)  # ranked in several groups
    assert_same_up_to_ties(related_papers(papers), papers, inner=budget)


def old_module(folder: Path) -> object:
    """generator/related.py as it was before segments (one idf and one budget for the whole
    archive), from git; the test skips where git or that commit is not there (a shallow clone)."""
    found = subprocess.run(["git", "show", f"{BEFORE_SEGMENTS}:generator/related.py"], cwd=REPO, capture_output=True,
                           check=False)
    if found.returncode != 0:
        pytest.skip(f"git show {BEFORE_SEGMENTS[:7]} failed (a shallow clone?)")
    path = folder / "related_before_segments.py"
    path.write_bytes(found.stdout)
    spec = util.spec_from_file_location("related_before_segments", path)
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BEFORE_SEGMENTS = "50bcfddb4194d31492a1d14078476a2190839001"


@pytest.mark.parametrize("budget", [None, 5_000, 3_000])
def test_a_one_segment_site_gets_the_lists_of_the_code_before_segments(monkeypatch, tmp_path, budget):
    """Byte for byte (the same keys, in the same order) as the code it replaced, with its one
    budget the inner one: on the seeds, and on 300 generated papers over the budget."""
    old = old_module(tmp_path)
    assert old.WORK_BUDGET == related.WORK_INNER
    if budget is not None:
        monkeypatch.setattr(related, "WORK_INNER", budget)
        monkeypatch.setattr(related, "WORK_OUTER", budget // 10)
        monkeypatch.setattr(old, "WORK_BUDGET", budget)
    for papers in (list(seeds_papers()), corpus(300)):
        assert len(related.segments(len(papers))) == 1
        df = Counter(word for p in papers for word in set(tokens(f"{p.title}\n{p.abstract}")))
        assert (links_within(list(df.values()), related.WORK_INNER) < max(df.values())) == (budget is not None)
        for count in (5, 2):
            assert related_papers(papers, count) == old.related_papers(papers, count)


def test_links_is_the_largest_within_the_budget():
    df = np.array([1, 2, 3, 10, 50])
    assert similarity.links(df, 4 + 9 + 100 + 2500) == 50  # everything fits: exact
    assert similarity.links(df, 4 + 9 + 100 + 2499) == 49
    assert similarity.links(df, 4 + 9 + 9 + 9) == 3
    assert similarity.links(df, 0) == 2  # a term always links at least a pair
    assert links_within(df.tolist(), 4 + 9 + 9 + 9) == 3


def test_seeds_are_within_the_budget():
    """So the comparison with brute force above covers the whole computation, exactly."""
    df = Counter(word for p in seeds_papers() for word in set(tokens(f"{p.title} {p.abstract}")))
    assert sum(d * d for d in df.values() if d >= 2) <= related.WORK_OUTER <= related.WORK_INNER


# --- determinism -----------------------------------------------------------------------------------

@pytest.mark.parametrize("segment", [related.SEGMENT, 16])
def test_input_order_and_repeated_runs_do_not_matter(monkeypatch, segment):
    monkeypatch.setattr(related, "SEGMENT", segment)
    papers = list(seeds_papers())
    first = related_papers(papers)
    for seed in range(3):
        shuffled = papers[:]
        random.Random(seed).shuffle(shuffled)
        assert related_papers(shuffled) == first
    assert related_papers(tuple(papers)) == first


@pytest.mark.parametrize("inner, outer, segment", [(related.WORK_INNER, related.WORK_OUTER, related.SEGMENT),
                                                   (3_000, 3_000, related.SEGMENT), (3_000, 300, 16),
                                                   (related.WORK_INNER, related.WORK_OUTER, 16), (300, 100, 16)])
def test_threads_chunks_and_blocks_do_not_matter(monkeypatch, inner, outer, segment):
    monkeypatch.setattr(related, "WORK_INNER", inner)
    monkeypatch.setattr(related, "WORK_OUTER", outer)
    monkeypatch.setattr(related, "SEGMENT", segment)
    papers = list(seeds_papers())
    first = related_papers(papers)
    random.Random(0).shuffle(papers)
    monkeypatch.setattr(similarity, "GROUP_POSTINGS", 100)  # common words ranked in many groups
    monkeypatch.setattr(related, "_threads", lambda tasks: 1)
    monkeypatch.setattr(similarity, "CHUNK_BYTES", 5_000)  # many chunks of text
    monkeypatch.setattr(related, "BLOCK_WORK", 1_000)  # many row blocks (for a block of two segments too)
    monkeypatch.setattr(similarity, "SAMPLE", 12)  # a looser first bound
    assert related_papers(papers) == first
    monkeypatch.setattr(related, "_threads", lambda tasks: 3)
    assert related_papers(papers) == first


def test_same_result_whatever_the_hash_seed():
    script = ("import json, sys; sys.path.insert(0, 'tests'); from test_related import seeds_papers; "
              "from generator import related; papers = seeds_papers(); one = related.related_papers(papers); "
              "related.SEGMENT = 16; print(json.dumps([one, related.related_papers(papers)]))")
    outputs = {subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1
    assert json.loads(outputs.pop())[0] == {k: list(v) for k, v in related_papers(seeds_papers()).items()}


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
