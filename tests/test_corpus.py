"""The benchmark corpus generator (benchmarks/corpus.py): deterministic, the seeds' format, the sizes asked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from support import REPO, tree

from generator.catalog import build_catalog
from generator.parse import parse_dump

sys.path.insert(0, str(REPO / "benchmarks"))

import corpus  # noqa: E402

PAPERS, DIGESTS = 300, 10



def read(content: Path):
    year = tomllib.loads((content / "site.toml").read_text())["default_year"]
    return [parse_dump(p.name, p.read_bytes(), year) for p in sorted((content / "digests").glob("*.txt"))]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "content"
    corpus.generate(out, PAPERS, DIGESTS, seed=7)
    return out


def test_same_arguments_give_byte_identical_files_across_processes(generated, tmp_path):
    again = tmp_path / "again"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "corpus.py"), "--papers", str(PAPERS), "--digests",
                    str(DIGESTS), "--seed", "7", "--out", str(again)], check=True, capture_output=True,
                   env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert tree(again) == tree(generated)
    other = tmp_path / "other"
    corpus.generate(other, PAPERS, DIGESTS, seed=8)
    assert tree(other) != tree(generated)


def test_dumps_parse_cleanly_with_the_requested_papers_and_repeats(generated):
    dumps = read(generated)
    assert len(dumps) == DIGESTS
    assert [d.diagnostics for d in dumps] == [()] * DIGESTS
    assert all(d.date is not None for d in dumps)
    catalog = build_catalog(dumps)
    assert len(catalog.papers) == PAPERS
    assert len(catalog.digests) == DIGESTS
    repeats = 1 - len(catalog.papers) / catalog.entries_read
    assert 0.24 <= repeats <= 0.30
    assert all(24 <= len(p.title) <= 172 for p in catalog.papers)
    assert all(1_300 <= len(p.abstract) <= 2_001 for p in catalog.papers)
    with_urls = sum("https://" in p.abstract or "github.com/" in p.abstract for p in catalog.papers)
    assert 0.05 * PAPERS <= with_urls <= 0.35 * PAPERS


def test_dumps_have_the_seed_header_and_dates_over_several_years(generated):
    texts = [p.read_text() for p in sorted((generated / "digests").glob("*.txt"))]
    assert all(t.startswith(corpus.HEADER) for t in texts)
    days = corpus.weekdays_back(corpus.LAST_DAY, 1_000)
    assert len({day.year for day in days}) >= 4
    rng = corpus.corpus_rng(1, 1, 1)
    paper = corpus.Paper("A title long enough to be a title", "An abstract. " * 30)
    for day in days[::7]:
        dump = parse_dump("x.txt", corpus.dump_text(day, corpus.LAST_DAY.year, [paper], rng).encode(), corpus.LAST_DAY.year)
        assert (dump.date, dump.diagnostics, len(dump.entries)) == (day, (), 1)


def test_incremental_changes_parse_and_add_new_papers(generated, tmp_path):
    content = tmp_path / "content"
    corpus.generate(content, 120, 4)
    name, data = corpus.added_digest(content)
    before = build_catalog(read(content))
    (content / "digests" / name).write_bytes(data)
    dumps = read(content)
    assert all(not d.diagnostics for d in dumps)
    after = build_catalog(dumps)
    assert len(after.papers) == len(before.papers) + corpus.PER_DIGEST
    assert len(after.digests) == len(before.digests) + 1
    path, original = corpus.edit_one_abstract(content)
    assert path.read_bytes() != original
    edited = build_catalog(read(content))
    assert {p.key for p in edited.papers} == {p.key for p in after.papers}
    assert sum(a.abstract != b.abstract for a, b in zip(edited.papers, after.papers)) == 1


# --- the mixed variant: every 4th digest as the API's JSON -------------------------------------------

def read_all(content: Path):
    """Every digest through the generator's own readers (the JSON one included)."""
    year = tomllib.loads((content / "site.toml").read_text())["default_year"]
    return [parse_dump(p.name, p.read_bytes(), year) for p in sorted((content / "digests").iterdir())
            if p.suffix in (".txt", ".json")]


def needs_json_reader():
    from generator import apidata
    if not hasattr(apidata, "parse_json"):
        pytest.skip("generator/apidata.py has no parse_json yet")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mixed") / "content"
    counts = corpus.generate(out, PAPERS, DIGESTS, seed=7, variant="mixed")
    assert counts["json_digests"] == DIGESTS // 4
    return out


def api_items(content: Path) -> dict[str, list[dict]]:
    return {p.name: json.loads(p.read_bytes()) for p in sorted((content / "digests").glob("*.json"))}


def test_mixed_variant_is_deterministic_across_processes(mixed, tmp_path):
    again = tmp_path / "again"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "corpus.py"), "--papers", str(PAPERS), "--digests",
                    str(DIGESTS), "--seed", "7", "--variant", "mixed", "--out", str(again)], check=True,
                   capture_output=True, env={**os.environ, "PYTHONHASHSEED": "54321"})
    assert tree(again) == tree(mixed)


def test_mixed_variant_writes_every_fourth_digest_as_json_and_the_rest_as_the_text_corpus(generated, mixed):
    text, both = tree(generated), tree(mixed)
    days = corpus.weekdays_back(corpus.LAST_DAY, DIGESTS)
    names = sorted(n for n in text if n.startswith("digests/"))
    expected = {f"digests/{days[i].isoformat()}.json" for i in range(DIGESTS) if i % 4 == 3}
    assert {n for n in both if n.endswith(".json")} == expected
    # the text dumps are the all-text corpus's, byte for byte; the others became JSON
    kept = [n for i, n in enumerate(names) if i % 4 != 3]
    assert {n: both[n] for n in both if n.endswith(".txt")} == {n: text[n] for n in kept}
    assert both["site.toml"] == text["site.toml"]


def test_json_digests_have_the_api_shape(mixed):
    ids: dict[str, str] = {}
    for name, items in api_items(mixed).items():
        day = name.removesuffix(".json")
        raw = (mixed / "digests" / name).read_text(encoding="utf-8")
        assert raw == json.dumps(items, indent=2, ensure_ascii=False)
        assert items
        for item in items:
            paper = item["paper"]
            assert list(paper)[:7] == ["id", "title", "summary", "authors", "publishedAt", "submittedOnDailyAt",
                                       "upvotes"]
            assert re.fullmatch(r"\d{4}\.\d{5}", paper["id"])
            assert ids.setdefault(paper["id"], paper["title"]) == paper["title"]  # one ID, one paper
            assert 1 <= len(paper["authors"]) <= 12
            assert all(set(a) == {"name", "hidden"} and a["hidden"] is False and " " in a["name"]
                       for a in paper["authors"])
            assert paper["submittedOnDailyAt"].startswith(f"{day}T") and paper["submittedOnDailyAt"].endswith("Z")
            assert paper["publishedAt"][:10] <= day
            assert 0 <= paper["upvotes"] <= 300
            assert ("githubRepo" in paper) == ("githubStars" in paper)
            assert paper.get("githubRepo", "https://github.com/").startswith("https://github.com/")
            assert 3 <= len(paper.get("ai_keywords", "abc")) <= 8
            assert (item["title"], item["summary"], item["publishedAt"]) == (paper["title"], paper["summary"],
                                                                             paper["publishedAt"])
            assert item["submittedBy"] == {"fullname": "AK", "name": "akhaliq"}
            assert item["thumbnail"].endswith(f"/{paper['id']}.png")
            assert item.get("organization") == paper.get("organization")
            assert isinstance(item["numComments"], int)
    every = [item["paper"] for items in api_items(mixed).values() for item in items]
    assert any("githubRepo" in p for p in every) and any("projectPage" in p for p in every)
    assert any("organization" in p for p in every) and any("ai_summary" in p for p in every)
    titles = {p["title"]: p["id"] for p in every}
    assert len(set(titles.values())) == len(titles)


def test_mixed_variant_has_the_same_papers_and_repeats(generated, mixed):
    text = [(d, [p for p, _ in papers]) for d, _, papers in corpus.read_content(generated)]
    both = [(d, [p for p, _ in papers]) for d, _, papers in corpus.read_content(mixed)]
    assert sorted(text) == sorted(both)


def test_mixed_variant_builds_the_same_catalog(generated, mixed):
    needs_json_reader()
    dumps = read_all(mixed)
    assert [d.diagnostics for d in dumps] == [()] * DIGESTS
    catalog, plain = build_catalog(dumps), build_catalog(read(generated))
    assert (len(catalog.papers), len(catalog.digests), catalog.entries_read) == (PAPERS, DIGESTS, plain.entries_read)
    assert [p.title for p in catalog.papers] == [p.title for p in plain.papers]
    with_ids = [p for p in catalog.papers if p.meta.arxiv_id]
    assert len(with_ids) == len({p["paper"]["id"] for items in api_items(mixed).values() for p in items})
    assert all(1 <= len(p.meta.authors) <= 12 for p in with_ids)


def test_mixed_added_digest_is_json_with_the_same_papers(tmp_path):
    text, mixed = tmp_path / "text", tmp_path / "mixed"
    corpus.generate(text, 120, 8)
    corpus.generate(mixed, 120, 8, variant="mixed")
    name, data = corpus.added_digest(mixed, form="json")
    assert name == f"{corpus.next_weekday(corpus.LAST_DAY).isoformat()}.json"
    _, plain = corpus.added_digest(text)
    items = json.loads(data)
    plain_dump = parse_dump("x.txt", plain, corpus.LAST_DAY.year)
    assert [(i["title"], i["summary"]) for i in items] == [(e.title, e.abstract) for e in plain_dump.entries]
    known = {p["title"]: p["id"] for items in api_items(mixed).values() for i in items for p in [i["paper"]]}
    repeats = [i["paper"] for i in items if i["title"] in known]
    assert all(p["id"] == known[p["title"]] for p in repeats)  # a repeat keeps its ID
    fresh = [i["paper"]["id"] for i in items if i["title"] not in known]
    assert len(fresh) >= corpus.PER_DIGEST and not set(fresh) & set(known.values()) and len(set(fresh)) == len(fresh)
    (mixed / "digests" / name).write_bytes(data)
    second, _ = corpus.added_digest(mixed, seed=2, form="json")
    assert second == f"{corpus.next_weekday(corpus.next_weekday(corpus.LAST_DAY)).isoformat()}.json"
    needs_json_reader()
    before = build_catalog(read(text))
    after = build_catalog(read_all(mixed))
    assert len(after.papers) == len(before.papers) + corpus.PER_DIGEST
    assert len(after.digests) == len(before.digests) + 1


def test_size_names_and_mixed_seeds(tmp_path):
    assert corpus.size_variant("Lmix") == ("L", "mixed") and corpus.size_variant("XS") == ("XS", "text")
    with pytest.raises(ValueError):
        corpus.size_variant("Lmixed")
    counts, plain = corpus.make("Smix", tmp_path / "s"), corpus.copy_seeds(tmp_path / "plain")
    assert counts["json_digests"] == 1
    assert {k: counts[k] for k in ("papers", "digests", "entries")} == {k: plain[k] for k in ("papers", "digests", "entries")}
    assert len(list((tmp_path / "s" / "digests").glob("*.json"))) == 1
