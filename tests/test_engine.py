"""engine.py and keys.py: an output is made again exactly when what it is made of changed."""

from __future__ import annotations

import dataclasses
from datetime import date

import generator.engine as engine
from generator.catalog import Appearance, Paper, build_catalog
from generator.engine import Engine, Job, count
from generator.keys import Keys, Neighbour
from generator.metadata import PaperMeta
from generator.output import OutputFile
from generator.parse import parse_dump
from support import SEEDS


def seeds():
    return build_catalog([parse_dump(seed.name, seed.read_bytes(), 2025) for seed in SEEDS])


def made_by(log: list, path: str):
    def make(key, *inputs):
        log.append(path)
        return [OutputFile(path, repr(inputs).encode(), key)]
    return make


def test_a_job_is_made_when_its_inputs_changed_and_kept_when_not():
    catalog = seeds()
    keys = Keys(catalog, "salt")
    paper = catalog.papers[0]
    log: list[str] = []
    jobs = [Job(("a.html",), made_by(log, "a.html"), (paper, "text")), Job(("b.html",), made_by(log, "b.html"), ("x",))]
    first = {file.path: file.key for file in Engine(keys, {}).run(jobs)}
    assert log == ["a.html", "b.html"]
    log.clear()
    again = list(Engine(Keys(catalog, "salt"), first).run(jobs))
    assert log == [] and all(file.data is None for file in again) and {f.path: f.key for f in again} == first
    changed = [Job(("a.html",), made_by(log, "a.html"), (paper, "other text")), jobs[1]]
    list(Engine(Keys(catalog, "salt"), first).run(changed))
    assert log == ["a.html"]
    log.clear()
    list(Engine(Keys(catalog, "another salt"), first).run(jobs))  # generator, theme or settings changed
    assert log == ["a.html", "b.html"]


def test_jobs_without_inputs_are_made_every_time_and_lazy_inputs_are_asked_for_when_reached():
    catalog = seeds()
    asked: list[str] = []
    log: list[str] = []

    def inputs():
        asked.append("related")
        return ("late",)

    jobs = [Job(("index.html",), lambda key: [OutputFile("index.html", b"home")]), Job(("p.html",), made_by(log, "p"), inputs)]
    produced = Engine(Keys(catalog, ""), {"index.html": ""}).run(jobs)
    assert next(produced).data == b"home" and asked == []
    assert [file.path for file in produced] == ["p"] and asked == ["related"]
    assert count(jobs) == 2


def every_field_changed(value):
    """`value` with each of its fields changed in turn (strings, numbers, dates, tuples, None)."""
    for field in dataclasses.fields(value):
        old = getattr(value, field.name)
        if isinstance(old, str):
            new = old + "x"
        elif isinstance(old, bool) or old is None:
            continue
        elif isinstance(old, int):
            new = old + 1
        elif isinstance(old, date):
            new = date(old.year, old.month, old.day % 28 + 1)
        elif isinstance(old, tuple):
            new = old[:-1] if old else ("x",)
        else:
            continue
        yield field.name, dataclasses.replace(value, **{field.name: new})


def test_a_key_covers_every_field_of_every_input():
    catalog = seeds()
    keys = Keys(catalog, "")
    digest = catalog.digests[0]
    link = Neighbour("a-slug", "A title")
    appearance = Appearance(digest.slug, digest.date, "a.txt", 3, 0, 12)
    meta = PaperMeta(arxiv_id="2501.00001", authors=("Ada",), upvotes=3)
    for value in (link, appearance, meta):
        base = Keys(catalog, "").key(("p",), (value,))
        for name, changed in every_field_changed(value):
            assert Keys(catalog, "").key(("p",), (changed,)) != base, (type(value).__name__, name)
    # a digest is spelled once per build, from every field of it as the catalog holds it
    for name, changed in every_field_changed(digest):
        moved = dataclasses.replace(catalog, digests=(changed,) + catalog.digests[1:])
        assert Keys(moved, "").part(changed) != keys.part(digest), name
    # nesting and order are part of the key; strings cannot forge a boundary
    assert keys.key(("p",), ("ab", "c")) != keys.key(("p",), ("a", "bc"))
    assert keys.key(("p",), (("a",), "b")) != keys.key(("p",), ("a", ("b",)))
    assert keys.key(("p",), (1,)) != keys.key(("p",), ("1",))
    assert keys.key(("p",), ()) != keys.key(("q",), ())


def test_a_paper_is_spelled_by_its_fingerprint_and_its_digests():
    catalog = seeds()
    paper = next(p for p in catalog.papers if len(p.appearances) > 1)
    base = Keys(catalog, "").part(paper)
    assert Keys(catalog, "").part(dataclasses.replace(paper, fingerprint=paper.fingerprint + "x")) != base
    without = dataclasses.replace(paper, fingerprint="")  # (a paper made in a test: flattened instead)
    assert Keys(catalog, "").part(without) != base
    # one of its digests changed (here: one more source file): the paper as a list shows it is spelled anew
    first = catalog.digest(paper.appearances[0].digest)
    grown = dataclasses.replace(first, sources=first.sources + ("more.txt",))
    moved = dataclasses.replace(catalog, digests=tuple(grown if d is first else d for d in catalog.digests))
    assert Keys(moved, "").part(paper) != base


def test_fingerprints_differ_between_papers_and_follow_their_entries():
    catalog = seeds()
    prints = [paper.fingerprint for paper in catalog.papers]
    assert len(set(prints)) == len(prints) and all(len(p) == 32 for p in prints)
    again = seeds()
    assert [paper.fingerprint for paper in again.papers] == prints
    dumps = [parse_dump(seed.name, seed.read_bytes(), 2025) for seed in SEEDS]
    edited = dumps[0].entries[0]
    dumps[0] = dataclasses.replace(dumps[0], entries=(dataclasses.replace(edited, abstract=edited.abstract + "!"),)
                                   + dumps[0].entries[1:])
    changed = {paper.key for paper in build_catalog(dumps).papers} & {p.key for p in catalog.papers}
    after = {paper.key: paper.fingerprint for paper in build_catalog(dumps).papers}
    before = {paper.key: paper.fingerprint for paper in catalog.papers}
    differing = {key for key in changed if after[key] != before[key]}
    # every paper of the edited dump is named by that dump's (new) hash: its papers changed, no others
    assert differing and all(any(a.source == dumps[0].source for a in catalog.paper(key).appearances) for key in differing)


def test_heavy_jobs_give_the_same_files_in_workers_as_in_turn(monkeypatch):
    catalog = seeds()
    jobs = [Job((f"p{n}.html",), made_by([], f"p{n}.html"), (n,), heavy=True) for n in range(250)]
    jobs.insert(100, Job(("light.html",), made_by([], "light.html"), ("light",)))
    monkeypatch.setattr(engine, "PARALLEL_MIN", 10)
    monkeypatch.setattr(engine, "BATCH", 7)
    forked = [(file.path, file.data, file.key) for file in Engine(Keys(catalog, ""), {}).run(jobs)]
    monkeypatch.setattr(engine, "PARALLEL_MIN", 10**9)
    serial = [(file.path, file.data, file.key) for file in Engine(Keys(catalog, ""), {}).run(jobs)]
    assert forked == serial and len(forked) == 251
    assert [path for path, _, _ in forked][:2] == ["light.html", "p0.html"]  # heavy ones are made last, in order


def test_paper_made_in_a_test_has_no_fingerprint_and_is_still_keyed():
    catalog = seeds()
    bare = Paper("k", "k", "Title", "Abstract", ())
    assert Keys(catalog, "").key(("x",), (bare,)) == Keys(catalog, "").key(("x",), (bare,))
    assert Keys(catalog, "").key(("x",), (bare,)) != Keys(catalog, "").key(("x",), (dataclasses.replace(bare, title="T"),))
