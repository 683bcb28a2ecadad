"""engine.py and keys.py: an output is made again exactly when what it is made of changed."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

import generator.engine as engine
from generator.catalog import Appearance, Paper, build_catalog
from generator.engine import Engine, Job, count
from generator.keys import Keys, Lineup, Neighbour
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
        elif dataclasses.is_dataclass(old):  # a nested one: each of its fields in turn
            for _, inner in every_field_changed(old):
                yield field.name, dataclasses.replace(value, **{field.name: inner})
            continue
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
    lineup = Lineup(digest.slug, (link, Neighbour("b-slug", "B title")))
    for value in (link, appearance, meta, lineup):
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


# -- end to end: what an edit makes again is what the edit explains ----------------------------

def built_seeds(tmp_path):
    """The real seeds built once, and what the cache says each file's key is."""
    from generator.build import BuildOptions, build
    from generator.cache import Cache
    from support import make_content

    content = make_content(tmp_path, {seed.name: seed.read_bytes() for seed in SEEDS})
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    return content, out, lambda: Cache(out).file_keys()[0]


def remade_after(content, out, keys, edit) -> tuple[set[str], dict[str, bytes], dict[str, bytes]]:
    """(the keyed files whose key changed, the site before, the site after) for one edit."""
    from generator.build import BuildOptions, build
    from support import tree

    before, old_keys = tree(out), keys()
    edit()
    build(BuildOptions(content, out))
    new_keys = keys()
    remade = {path for path, key in new_keys.items() if old_keys.get(path) != key}
    return remade, before, tree(out)


def related_of(content):
    from generator.related import related_papers

    catalog = build_catalog([parse_dump(path.name, path.read_bytes(), 2025) for path in sorted((content / "digests").iterdir())])
    return catalog, related_papers(catalog.papers)


def listing(site: dict[str, bytes], slug: str) -> set[str]:
    """The pages that link a paper (list it, or point to it)."""
    link = re.compile(rb'["/(]' + re.escape(slug.encode()) + rb'\.(html|md)["?#)]')  # from papers/ too: "slug.html"
    mentions = {path for path, data in site.items() if link.search(data)}
    return mentions - {f"papers/{slug}.html", f"papers/{slug}.md"}


def neighbours_of(catalog, slug: str):
    from generator.queries import neighbours

    return neighbours(catalog.digests)[slug]


def topic_slugs(catalog, paper) -> set[str]:
    from generator.topics import load_taxonomy, tag_papers

    taxonomy, _ = load_taxonomy(SEEDS[0].parent)  # (no topics.toml there: the default taxonomy)
    return {topic.slug for topic in tag_papers(catalog.papers, taxonomy).of(paper)}


UNKEYED = {"index.html", "feed.xml", "papers.xml", "papers.json", "llms.txt"}  # made of the whole catalog


@pytest.mark.parametrize("field", ["abstract", "title"])
def test_every_file_an_edit_makes_again_is_explained_by_it(tmp_path, field):
    """Edit one paper of the seeds; every file whose key changed must be one the edit reaches:
    the paper's own pages, the pages that list or link it, the pages whose related papers
    changed, and what is made of the whole archive. And every file whose bytes changed was made
    again (its key changed), or it is one of those whole-archive files.

    (A title is a paper's identity when it has no arXiv ID, as in the seeds: retitled, it is
    another paper, with another slug. So the title edit takes a paper of one digest.)"""
    content, out, keys = built_seeds(tmp_path)
    catalog, related_before = related_of(content)
    target = next(p for p in catalog.papers if (len(p.appearances) > 1) == (field == "abstract"))
    dump_path = content / "digests" / target.latest.source  # where its text comes from
    old_text = getattr(target, field)
    new_text = old_text + " (revised)" if field == "title" else old_text.replace(" ", " quantum tidal ", 3)

    def edit():
        text = dump_path.read_text(encoding="utf-8")
        assert text.count(old_text) == 1
        dump_path.write_text(text.replace(old_text, new_text), encoding="utf-8")

    remade, before, after = remade_after(content, out, keys, edit)
    new_catalog, related_after = related_of(content)
    edited = next(p for p in new_catalog.papers if getattr(p, field) == new_text)
    explained = set()
    for slug in {target.slug, edited.slug}:
        explained |= {f"papers/{slug}.html", f"papers/{slug}.md"}
        lists = {path for path in listing(before, slug) | listing(after, slug)  # made of the paper itself
                 if path.startswith(("topics/", "digests/")) or path == "featured.html"}
        explained |= lists if field == "abstract" else listing(before, slug) | listing(after, slug)
    explained |= {f"digests/{a.digest}.{suffix}" for a in target.appearances for suffix in ("html", "md", "bib", "ris")}
    if field == "title":  # the digest holds another paper now: what shows the digest is made again
        for appearance in target.appearances:
            digest = catalog.digest(appearance.digest)
            older, newer = (d for d in (neighbours_of(catalog, digest.slug)))
            for other in filter(None, (older, newer)):
                explained |= {f"digests/{other.slug}.{suffix}" for suffix in ("html", "md", "bib", "ris")}
            for key in digest.papers:  # a paper shows its digests (and its place there, of how many)
                slug = catalog.paper(key).slug
                explained |= {f"papers/{slug}.html", f"papers/{slug}.md"}
                explained |= {path for path in listing(before, slug) | listing(after, slug)
                              if path.startswith(("topics/", "digests/")) or path == "featured.html"}
            explained |= {"archive.html", "calendar.html"}
    topics_before, topics_after = (topic_slugs(c, paper) for c, paper in ((catalog, target), (new_catalog, edited)))
    if topics_before != topics_after:  # the topics page counts papers by topic; their pages list them
        explained |= {"topics.html"} | {path for path in after.keys() | before.keys() if any(
            path.startswith(f"topics/{topic}") for topic in topics_before ^ topics_after)}
    changed_lists = {key for key in related_after if related_after[key] != related_before.get(key)}
    explained |= {path for key in changed_lists for path in (f"papers/{new_catalog.paper(key).slug}.html",
                                                             f"papers/{new_catalog.paper(key).slug}.md")}
    explained |= {f"{path.rsplit('.', 1)[0]}.{suffix}" for path in set(explained) if path.startswith("digests/")
                  for suffix in ("html", "md", "bib", "ris")}  # one job makes a digest's four files
    keyed = {path for path in remade if not path.startswith(("search/", "assets/")) and path not in UNKEYED
             and not path.endswith((".json", ".xml", ".txt"))}
    assert keyed and keyed <= explained, sorted(keyed - explained)
    assert f"papers/{edited.slug}.html" in remade
    changed = {path for path in after if before.get(path) != after[path]}
    assert changed - remade <= UNKEYED | {".paperdigest"} | {p for p in changed if p.startswith("search/")}, \
        sorted(changed - remade)
    if field == "abstract":  # (a retitled paper is another paper in its digest: most of the seeds show that digest)
        assert len(keyed) < len(after) / 10  # the rest of the site was kept
