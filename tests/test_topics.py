"""topics.py: the keyword taxonomy, how papers are tagged, and the topic pages and filters."""

from __future__ import annotations

import dataclasses

from pathlib import Path

import pytest
from support import dump, exported_papers, make_content, run_cli

from generator.catalog import Paper
from generator.diagnostics import BuildError
from generator.topics import DEFAULT, Tagger, Taxonomy, Topic, load_taxonomy, normalise, plural, tag_papers

FILLER = "We report experiments on several benchmarks and release our implementation."


def default_tagger() -> Tagger:
    taxonomy, notes = load_taxonomy(Path("/nonexistent"))
    assert notes == []
    return Tagger(taxonomy)


# (title, abstract, the topic slugs expected, in order)
TABLE = [
    ("Mamba State-Space Models Are Lyapunov-Stable Learners", FILLER,
     ["state-space-models", "dynamical-systems"]),
    ("A Variational Perspective on Solving Inverse Problems with Diffusion Models", FILLER, ["diffusion-models"]),
    ("Fourier Neural Operators for Turbulent Flow", "A neural operator learns the PDE solution map of Navier-Stokes.",
     ["pdes-and-scientific-machine-learning"]),
    ("Hyperparameters in Reinforcement Learning and How To Tune Them", FILLER, ["reinforcement-learning"]),
    ("Are Emergent Abilities of Large Language Models a Mirage?", FILLER, ["large-language-models"]),
    ("Faster Rates of Convergence to Stationary Points in Differentially Private Optimization", FILLER,
     ["optimisation", "privacy-and-federated-learning"]),
    ("Causal Discovery from Heterogeneous Data", FILLER, ["causality"]),
    ("Solving Multi-Scale Problems with Gaussian Processes", FILLER, ["gaussian-processes-and-kernels"]),
    # hyphens and spaces are the same; plural of the last word matches
    ("Adversarial Robustness of State-Space Models", FILLER,
     ["robustness-and-adversarial-learning", "state-space-models"]),
    # whole words only: "organ" is not "gan", "world" is not "rl", "starting" is not "star"
    ("Organ Transplant Waiting Lists Around the World, Starting Today", FILLER, []),
    # one mention in the abstract (score 1) is below min_score 3; three are not
    ("A Study", "We use a transformer.", []),
    ("A Study", "A transformer, then a transformer, then a bigger transformer.", ["large-language-models"]),
    ("", "", []),
]


@pytest.mark.parametrize("title, abstract, expected", TABLE)
def test_topic_assignment_table(title, abstract, expected):
    assert [topic.slug for topic in default_tagger().tags(title, abstract)] == expected


def test_at_most_per_paper_topics_highest_score_first_ties_in_taxonomy_order():
    topics = tuple(Topic(f"t{n}", f"T{n}", "", (f"word{n}",)) for n in range(5))
    tagger = Tagger(Taxonomy(topics, per_paper=3, min_score=1, title_weight=3))
    # word4 twice in the title (6), word1 in the title (3), words 0, 2, 3 once in the abstract (1 each)
    tagged = tagger.tags("word4 word4 word1", "word0 word2 word3")
    assert [t.slug for t in tagged] == ["t4", "t1", "t0"]


def test_keywords_and_texts_are_compared_as_the_same_words():
    assert normalise("State-Space  Models, (S4)!") == "state space models s4"
    assert normalise("Schrödinger–Bridge") == "schrödinger bridge"
    assert [plural(w) for w in ("model", "process", "study", "day", "patch")] == [
        "models", "processes", "studies", "days", "patches"]


def test_the_default_taxonomy_covers_the_field_the_issue_names():
    taxonomy, _ = load_taxonomy(Path("/nonexistent"))
    names = " ".join(topic.name for topic in taxonomy.topics).lower()
    for wanted in ("diffusion", "state space", "pde", "reinforcement", "language model", "optimisation",
                   "privacy", "causality", "gaussian process"):
        assert wanted in names
    assert len({topic.slug for topic in taxonomy.topics}) == len(taxonomy.topics)
    assert all(topic.description for topic in taxonomy.topics)


def paper(title: str, abstract: str) -> Paper:
    return Paper(normalise(title).replace(" ", ""), normalise(title).replace(" ", "-"), title, abstract, ())


def test_the_store_gives_what_tagging_gives(tmp_path, monkeypatch):
    from generator import topics
    from generator.cache import Cache
    from generator.store import Store

    taxonomy, _ = load_taxonomy(Path("/nonexistent"))
    papers = [paper(title, abstract) for title, abstract, _ in TABLE if title]
    store = Store(Cache(tmp_path / "site"))
    first = tag_papers(papers, taxonomy, store)
    store.save()
    tagged = []
    real = topics.tag_all
    monkeypatch.setattr(topics, "tag_all", lambda tagger, todo: tagged.extend(todo) or real(tagger, todo))
    store = Store(Cache(tmp_path / "site"))  # the next build
    again = tag_papers(papers, taxonomy, store)
    assert again.by_paper == first.by_paper == tag_papers(papers, taxonomy).by_paper
    assert tagged == papers  # (the last call, with no store, tagged them all)
    tagged.clear()
    store.save()
    # an edited paper is tagged again, alone; a different taxonomy reuses none of the tags
    edited = papers[:-1] + [dataclasses.replace(papers[-1], abstract="Tidal forces on a diffusion model.")]
    assert tag_papers(edited, taxonomy, Store(Cache(tmp_path / "site"))).by_paper == tag_papers(edited, taxonomy).by_paper
    assert tagged[0] == edited[-1] and tagged[1:] == edited
    tagged.clear()
    other = Taxonomy((Topic("tides", "Tides", "", ("tidal",)),), min_score=1)
    assert tag_papers(papers, other, Store(Cache(tmp_path / "site"))).by_paper == {}
    assert tagged == papers


# -- the taxonomy file -------------------------------------------------------------------

def write_taxonomy(tmp_path: Path, text: str) -> Path:
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    (content / "topics.toml").write_text(text, encoding="utf-8")
    return content


def test_a_site_taxonomy_replaces_the_default(tmp_path):
    content = write_taxonomy(tmp_path, 'min_score = 1\n[[topic]]\nname = "Tides and Seas"\nkeywords = ["tide"]\n')
    taxonomy, _ = load_taxonomy(content)
    assert taxonomy.topics == (Topic("tides-and-seas", "Tides and Seas", "", ("tide",)),)
    assert taxonomy.min_score == 1 and taxonomy.per_paper == 3


def test_an_empty_taxonomy_turns_topics_off(tmp_path):
    taxonomy, _ = load_taxonomy(write_taxonomy(tmp_path, "# no topics\n"))
    assert taxonomy.topics == ()


@pytest.mark.parametrize("text, line, words", [
    ('[[topic]]\nname = A\nkeywords = ["a"]\n', 2, "invalid TOML"),
    ('per_paper = 3\n\n[[topic]]\nname = "A"\nkeywords = ["a"]\n\n[[topic]]\nname = "B"\n', 7, "keywords"),
    ('[[topic]]\nname = "A"\nkeywords = []\n', 1, "keywords"),
    ('[[topic]]\nkeywords = ["a"]\n', 1, "needs a name"),
    ('[[topic]]\nname = "A"\nkeywords = ["a"]\n[[topic]]\nname = "a"\nkeywords = ["b"]\n', 4, "slug 'a'"),
    ('[[topic]]\nname = "A"\nslug = "Not A Slug"\nkeywords = ["a"]\n', 1, "slug must be"),
    ('per_paper = 0\n', None, "per_paper"),
])
def test_a_broken_taxonomy_is_an_error_naming_file_and_line(tmp_path, text, line, words):
    content = write_taxonomy(tmp_path, text)
    with pytest.raises(BuildError) as raised:
        load_taxonomy(content)
    diagnostic = raised.value.diagnostics[0]
    assert diagnostic.path == str(content / "topics.toml")
    assert diagnostic.line == line
    assert words in diagnostic.message


def test_unknown_settings_are_warnings(tmp_path):
    _, notes = load_taxonomy(write_taxonomy(tmp_path, 'colour = 1\n[[topic]]\nname = "A"\nkeywords = ["a"]\nicon = "x"\n'))
    assert [(note.line, "colour" in note.message or "icon" in note.message) for note in notes] == [(None, True), (2, True)]


def test_the_command_reports_a_broken_taxonomy_without_a_traceback(tmp_path):
    content = make_content(tmp_path, {"a.txt": dump(("A Paper", FILLER))})
    (content / "topics.toml").write_text('[[topic]]\nname = "A"\n', encoding="utf-8")
    result = run_cli("build", "--content", str(content), "--out", str(tmp_path / "site"))
    assert result.returncode == 1
    assert f"{content / 'topics.toml'}:1: error: topic 'A': keywords" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "site").exists()


def test_the_bundled_default_is_documented_and_valid():
    text = DEFAULT.read_text(encoding="utf-8")
    assert "content/topics.toml" in text  # how to edit it
    assert load_taxonomy(Path("/nonexistent"))[0].topics


# -- the built site: topic pages, tags and digest data -------------------------------------

def papers_json(site: Path) -> list[dict]:
    return exported_papers(site)


def test_every_topic_has_pages_listing_exactly_its_papers_newest_first(seeds_site):
    """A topic's page lists its most recently featured papers and links a page per month; the
    month pages together list every paper of the topic, each once, newest first."""
    import re

    taxonomy, _ = load_taxonomy(Path("/nonexistent"))
    records = papers_json(seeds_site)
    index = (seeds_site / "topics.html").read_text(encoding="utf-8")
    for topic in taxonomy.topics:
        html = (seeds_site / "topics" / f"{topic.slug}.html").read_text(encoding="utf-8")
        months = re.findall(rf'<a href="\.\./topics/{topic.slug}/([^"]+)\.html"', html)
        listed = [slug for month in months for slug in re.findall(
            r'<li><a href="\.\./\.\./papers/([^"]+)\.html">',
            (seeds_site / "topics" / topic.slug / f"{month}.html").read_text(encoding="utf-8"))]
        tagged = [r for r in records if topic.slug in r["topics"]]
        assert sorted(listed) == sorted(r["slug"] for r in tagged), topic.slug
        assert re.findall(r'<li><a href="\.\./papers/([^"]+)\.html">', html) == listed[:50]
        last_seen = {r["slug"]: max((a["date"] or "0000") for a in r["appearances"]) for r in tagged}
        dated = [last_seen[slug] for slug in listed if last_seen[slug] != "0000"]
        assert dated == sorted(dated, reverse=True), topic.slug
        dated_months = [month for month in months if month != "undated"]
        assert dated_months == sorted(dated_months, reverse=True)
        assert "undated" not in months or months[-1] == "undated"
        assert f'topics/{topic.slug}.html">{topic.name}</a> <span class="count">{len(tagged)} paper' in index
    assert sum(bool(r["topics"]) for r in records) > 0.8 * len(records)  # the taxonomy covers the seeds


def test_paper_pages_and_digest_lists_carry_each_papers_topics(seeds_site):
    taxonomy, _ = load_taxonomy(Path("/nonexistent"))
    names = {topic.slug: topic.name for topic in taxonomy.topics}
    records = papers_json(seeds_site)
    for record in records[:60]:
        html = (seeds_site / record["page"]).read_text(encoding="utf-8")
        for slug in record["topics"]:
            assert f'<a class="tag" href="../topics/{slug}.html">{names[slug]}</a>' in html
        assert html.count('class="tag"') == len(record["topics"])
    digest = (seeds_site / "digests" / "2025-03-14.html").read_text(encoding="utf-8")
    for record in records:
        if any(a["digest"] == "2025-03-14" for a in record["appearances"]) and record["topics"]:
            assert f'id="p-{record["slug"]}"' in digest
            assert f'data-topics="{" ".join(record["topics"])}"' in digest


def test_many_papers_are_tagged_in_workers_exactly_as_one_by_one():
    """Past PARALLEL_MIN_PAPERS, forked workers tag the papers: same tags, same order."""
    from generator.topics import PARALLEL_MIN_PAPERS, _slugs

    taxonomy, _ = load_taxonomy(Path("/nonexistent"))
    tagger = Tagger(taxonomy)
    rows = [(title, abstract) for title, abstract, _ in TABLE]
    papers = [paper(f"{title} number {n}", abstract)
              for n in range(PARALLEL_MIN_PAPERS // len(rows) + 1) for title, abstract in rows]
    assert len(papers) >= PARALLEL_MIN_PAPERS
    tagged = tag_papers(papers, taxonomy)
    assert {key: tuple(t.slug for t in topics) for key, topics in tagged.by_paper.items()} == {
        p.key: _slugs(tagger, p) for p in papers if _slugs(tagger, p)}
