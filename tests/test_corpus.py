"""The benchmark corpus generator (benchmarks/corpus.py): deterministic, the seeds' format, the sizes asked."""

from __future__ import annotations

import os
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
