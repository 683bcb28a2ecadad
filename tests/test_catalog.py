"""catalog.py: one paper per normalised title, one digest per date, stable collision-free slugs."""

from __future__ import annotations

import re
from datetime import date

import pytest
from support import SEEDS

from generator.catalog import SLUG_MAX, build_catalog, paper_key, paper_slug
from generator.parse import Dump, Entry, parse_dump

ABSTRACT = "An abstract. " * 30


def make_dump(source: str, day: date | None, *titles: str, abstract: str = ABSTRACT) -> Dump:
    return Dump(source, day, tuple(Entry(title, abstract, 10 + 4 * n) for n, title in enumerate(titles)))


def seeds_catalog():
    return build_catalog([parse_dump(seed.name, seed.read_bytes(), 2025) for seed in SEEDS])


def test_seeds_make_232_papers_in_4_digests():
    catalog = seeds_catalog()
    assert catalog.entries_read == 316
    assert len(catalog.papers) == 232
    assert [d.slug for d in catalog.digests] == ["2025-03-11", "2025-03-12", "2025-03-14", "003-85f035b410764665"]
    merged = catalog.digest("2025-03-14")
    assert merged.sources == ("000_655177a3bb48841b.txt", "001_f425eb0449c469b5.txt")
    assert sum(len(p.appearances) for p in catalog.papers) == sum(len(d.papers) for d in catalog.digests)


@pytest.mark.parametrize("variant", [
    "deep learning: a survey",
    "Deep  Learning — A Survey",
    "DEEP LEARNING, A SURVEY.",
    "Deep Léarning: A Survey",
    "Deep\u00a0Learning: A\tSurvey",
])
def test_titles_differing_in_case_space_punctuation_accents_are_one_paper(variant):
    assert paper_key(variant) == paper_key("Deep Learning: A Survey")


def test_different_titles_are_different_papers():
    keys = {paper_key(t) for t in ["Deep Learning", "Deep Learning 2", "深度学习", "深度强化学习", "🚀", "🚀🚀", "!!!"]}
    assert len(keys) == 7


def test_same_paper_in_several_dumps_is_one_paper_with_every_appearance():
    catalog = build_catalog([
        make_dump("a.txt", date(2025, 3, 11), "Alpha", "Beta"),
        make_dump("b.txt", date(2025, 3, 12), "beta", "Gamma"),
        make_dump("c.txt", None, "BETA!", "Alpha"),
    ])
    beta = next(p for p in catalog.papers if p.key == paper_key("Beta"))
    assert [a.digest for a in beta.appearances] == ["2025-03-11", "2025-03-12", "c"]
    assert beta.latest.digest == "2025-03-12"  # an undated dump is never "more recent" than a dated one
    assert len(catalog.papers) == 3


def test_dumps_of_one_date_merge_in_file_name_order_each_paper_once():
    catalog = build_catalog([
        make_dump("b.txt", date(2025, 3, 14), "Three", "One"),
        make_dump("a.txt", date(2025, 3, 14), "One", "Two"),
    ])
    (digest,) = catalog.digests
    assert digest.sources == ("a.txt", "b.txt")
    assert [catalog.paper(key).title for key in digest.papers] == ["One", "Two", "Three"]
    assert len(catalog.paper(paper_key("One")).appearances) == 1


def test_digests_are_dated_oldest_first_then_undated_by_file_name():
    catalog = build_catalog([
        make_dump("z.txt", None, "P1"), make_dump("m.txt", date(2025, 3, 14), "P2"),
        make_dump("a.txt", None, "P3"), make_dump("q.txt", date(2024, 12, 1), "P4"),
    ])
    assert [d.slug for d in catalog.digests] == ["2024-12-01", "2025-03-14", "a", "z"]


def test_the_most_recent_digest_abstract_wins_whatever_the_file_order():
    catalog = build_catalog([
        make_dump("1.txt", date(2025, 3, 14), "Paper", abstract="newest abstract"),
        make_dump("2.txt", date(2025, 3, 11), "PAPER", abstract="oldest abstract"),
        make_dump("3.txt", None, "paper", abstract="undated abstract"),
    ])
    (paper,) = catalog.papers
    assert paper.abstract == "newest abstract" and paper.title == "Paper"


def test_an_empty_abstract_never_replaces_a_real_one():
    catalog = build_catalog([
        make_dump("1.txt", date(2025, 3, 11), "Paper", abstract="the abstract"),
        make_dump("2.txt", date(2025, 3, 14), "Paper", abstract=""),
    ])
    assert catalog.papers[0].abstract == "the abstract"


TRICKY_TITLES = [
    "Café au lait: a study", "Cafe au lait a study?",  # same paper
    "Über Grenzen", "深度学习的理论", "深度学习的实践", "Обучение с подкреплением", "🚀", "🚀🚀", "🤖 🧠",
    "A very long title about large language models that keeps going with the same first words: part one",
    "A very long title about large language models that keeps going with the same first words: part two",
    "α-Divergence Variational Inference", "a-Divergence Variational Inference",
]


def test_slugs_never_collide_and_are_bounded():
    papers = build_catalog([make_dump("a.txt", date(2025, 3, 14), *TRICKY_TITLES)]).papers
    slugs = [p.slug for p in papers]
    assert len(papers) == len(TRICKY_TITLES) - 1
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z0-9]+(?:--?[a-z0-9]+)*", slug) for slug in slugs), slugs
    assert all(len(slug) <= SLUG_MAX + 12 for slug in slugs)


def test_a_slug_depends_only_on_its_own_title():
    alone = build_catalog([make_dump("a.txt", date(2025, 3, 14), TRICKY_TITLES[3])]).papers[0].slug
    crowded = build_catalog([make_dump("a.txt", date(2025, 3, 14), *TRICKY_TITLES)])
    assert crowded.paper(paper_key(TRICKY_TITLES[3])).slug == alone


def test_plain_titles_get_plain_slugs_and_the_rest_a_hash():
    assert paper_slug(paper_key("Attention Is All You Need"), "Attention Is All You Need") == "attention-is-all-you-need"
    assert re.fullmatch(r"paper--[0-9a-f]{10}", paper_slug(paper_key("🚀"), "🚀"))
    long_title = TRICKY_TITLES[9]
    assert "--" in paper_slug(paper_key(long_title), long_title)


def test_undated_dumps_never_merge_with_a_date_or_with_each_other():
    catalog = build_catalog([
        make_dump("2025-03-14.txt", None, "Undated One"),
        make_dump("dated.txt", date(2025, 3, 14), "Dated One"),
        make_dump("a b.txt", None, "Undated Two"),
        make_dump("a-b.txt", None, "Undated Three"),
    ])
    slugs = [d.slug for d in catalog.digests]
    assert slugs[0] == "2025-03-14" and catalog.digests[0].sources == ("dated.txt",)
    assert "undated-2025-03-14" in slugs and "a-b" in slugs
    assert len(set(slugs)) == 4 and all(len(d.papers) == 1 for d in catalog.digests)


def test_urls_stay_put_when_older_and_colliding_dumps_arrive_later():
    first = build_catalog([make_dump("b.txt", date(2025, 3, 14), "a-Divergence Variational Inference", "Plain Paper")])
    later = build_catalog([
        make_dump("a.txt", date(2024, 1, 1), "α-Divergence Variational Inference", "Older Paper"),  # same slugify text
        make_dump("b.txt", date(2025, 3, 14), "a-Divergence Variational Inference", "Plain Paper"),
    ])
    before = {p.key: p.slug for p in first.papers}
    after = {p.key: p.slug for p in later.papers}
    assert all(after[key] == slug for key, slug in before.items())
    assert len(set(after.values())) == len(after) == 4


def test_a_slug_clash_between_different_papers_fails_the_build():
    from generator.catalog import Appearance, Paper, check_unique_slugs
    from generator.diagnostics import BuildError

    seen = (Appearance("2025-03-14", date(2025, 3, 14), "a.txt", 9, 0),)
    with pytest.raises(BuildError, match="would share the page papers/same.html"):
        check_unique_slugs([Paper("one", "same", "One", "", seen), Paper("two", "same", "Two", "", seen)])


def test_a_newer_spelling_of_a_title_does_not_move_its_url():
    before = build_catalog([make_dump("a.txt", date(2025, 3, 11), "A Wasserstein-GAN Study")])
    after = build_catalog([make_dump("a.txt", date(2025, 3, 11), "A Wasserstein-GAN Study"),
                           make_dump("b.txt", date(2025, 3, 14), "A WassersteinGAN study")])
    assert len(after.papers) == 1
    assert after.papers[0].slug == before.papers[0].slug == "a-wasserstein-gan-study"
    assert after.papers[0].title == "A WassersteinGAN study"  # the newest spelling is shown
