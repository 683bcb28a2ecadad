"""End to end on the real seeds: counts, twins, determinism, accounting, and a fresh committed site/."""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import time

import pytest
from support import CONTENT, ENGINE_SCRIPTS, REPO, dump, make_content, run_cli, tree

from generator.build import check_accounting
from generator.catalog import Catalog
from generator.diagnostics import BuildError
from generator.parse import Dump, Entry

ABSTRACT = "An abstract long enough to count as one, repeated. " * 12
SEED_DIGESTS = {"2025-03-11": 57, "2025-03-12": 76, "2025-03-14": 117, "003-85f035b410764665": 51}



def test_every_seed_paper_and_digest_has_a_page_and_a_twin(seeds_site):
    papers = sorted((seeds_site / "papers").glob("*.html"))
    assert len(papers) == 232
    assert sorted(p.stem for p in (seeds_site / "papers").glob("*.md")) == [p.stem for p in papers]
    assert sorted(p.stem for p in (seeds_site / "digests").glob("*.html")) == sorted(SEED_DIGESTS)
    assert sorted(p.stem for p in (seeds_site / "digests").glob("*.md")) == sorted(SEED_DIGESTS)
    for name in ["index.html", "search.html", "404.html", ".nojekyll", "search/meta.js", "search/terms-0-128-0.js", "search/docs-0.js", "about.html", "about.md",
                 "assets/style.css", "assets/search.js", *ENGINE_SCRIPTS, "assets/vendor/lunr-2.3.9/lunr.min.js",
                 "assets/vendor/lunr-2.3.9/LICENSE"]:
        assert (seeds_site / name).is_file(), name


def test_digest_pages_list_their_papers_in_order(seeds_site):
    for slug, count in SEED_DIGESTS.items():
        html = (seeds_site / "digests" / f"{slug}.html").read_text()
        assert len(re.findall(r'<li class="paper"', html)) == count


def test_twins_carry_front_matter_and_link_to_twins(seeds_site):
    text = (seeds_site / "digests" / "2025-03-12.md").read_text()
    front, body = text.split("\n---\n", 1)
    assert front.startswith("---\ntitle: \"Digest: Mar 12, 2025\"\ndate: 2025-03-12\n")
    assert "previous: \"2025-03-11.md\"" in front and "next: \"2025-03-14.md\"" in front
    assert body.count("](../papers/") == 76
    paper = next((seeds_site / "papers").glob("wise-*.md")).read_text()
    assert paper.startswith("---\ntitle: \"WISE: Rethinking the Knowledge Memory")
    assert "](../digests/2025-03-14.md)" in paper


def test_summary_counts_match_the_seeds(tmp_path):
    result = run_cli("build", "--content", str(CONTENT), "--out", str(tmp_path / "site"), "--strict")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("paperdigest: 316 entries, 232 papers, 4 digests; wrote ")


def test_two_builds_are_byte_identical_whatever_the_hash_seed(tmp_path):
    for seed in ("1", "2"):
        result = run_cli("build", "--quiet", "--content", str(CONTENT), "--out", str(tmp_path / seed),
                         env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
    first, second = tree(tmp_path / "1"), tree(tmp_path / "2")
    assert first.keys() == second.keys() and first == second


def test_listing_order_and_the_clock_do_not_change_the_output(tmp_path):
    """Files created in another order (so listed in another order on many file systems) and a
    different SOURCE_DATE_EPOCH give the same bytes: nothing depends on the machine or the day."""
    seeds = sorted((CONTENT / "digests").glob("*.txt"))
    for name, order, epoch in (("forward", seeds, "0"), ("backward", seeds[::-1], "1900000000")):
        content = tmp_path / name / "content"
        (content / "digests").mkdir(parents=True)
        for path in order:
            (content / "digests" / path.name).write_bytes(path.read_bytes())
        (content / "site.toml").write_bytes((CONTENT / "site.toml").read_bytes())
        result = run_cli("build", "--quiet", "--content", str(content), "--out", str(tmp_path / name / "site"),
                         env={"SOURCE_DATE_EPOCH": epoch, "TZ": "Pacific/Kiritimati" if epoch == "0" else "UTC"})
        assert result.returncode == 0, result.stderr
    assert tree(tmp_path / "forward" / "site") == tree(tmp_path / "backward" / "site")


def test_the_committed_site_is_what_the_build_produces(seeds_site):
    """site/ is committed for GitHub Pages; it must be rebuilt (make site) with every change."""
    committed = REPO / "site"
    assert committed.is_dir(), "site/ is missing: run `make site` and commit it"
    comparison = filecmp.dircmp(committed, seeds_site)
    stale = differences(comparison)
    assert stale == [], f"site/ is stale, run `make site` and commit: {stale[:10]}"


def differences(comparison: filecmp.dircmp, prefix: str = "") -> list[str]:
    found = [prefix + name for name in comparison.left_only + comparison.right_only]
    _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files, shallow=False)
    found += [prefix + name for name in mismatch + errors]
    for name, sub in comparison.subdirs.items():
        found += differences(sub, f"{prefix}{name}/")
    return found


def test_accounting_fails_loudly_when_a_paper_is_missing():
    dump = Dump("a.txt", None, (Entry("Lost Paper", "text", 9),))
    with pytest.raises(BuildError, match="did not reach the site"):
        check_accounting([dump], Catalog((), (), 1), written=set())




def test_paper_urls_survive_adding_older_and_newer_dumps(tmp_path):
    """Build from the Mar 12 dump alone, then add the older Mar 11 and the newer Mar 14 dumps."""
    seeds = {path.name: path for path in sorted((CONTENT / "digests").glob("*.txt"))}
    content = tmp_path / "content"
    (content / "digests").mkdir(parents=True)
    (content / "site.toml").write_text("default_year = 2025\n")

    def urls() -> set[str]:
        result = run_cli("build", "--quiet", "--content", str(content), "--out", str(tmp_path / "site"))
        assert result.returncode == 0, result.stderr
        return {p.name for p in (tmp_path / "site" / "papers").glob("*.html")}

    def add(name: str) -> None:
        (content / "digests" / name).write_bytes(seeds[name].read_bytes())

    add("002_6631015e680066d9.txt")
    first = urls()
    add("004_2a352862e5a5d8f8.txt")
    add("000_655177a3bb48841b.txt")
    later = urls()
    assert first < later  # every earlier URL still exists, and new papers were added
    for name in seeds:
        add(name)
    assert later < urls()


def test_ctrl_c_after_the_swap_still_counts_as_built(tmp_path, monkeypatch):
    """Once the new site is in place, an interrupt while the old one is cleared away must not
    fail the build (which would then claim the site was left unchanged)."""
    import generator.cache as cache
    from generator.build import BuildOptions, build

    content = make_content(tmp_path, {"a.txt": dump(("Old title here", ABSTRACT))})
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    shutil.rmtree(tmp_path / ".site.paperdigest")  # what the site holds is unknown: it will be deleted

    def interrupted(path, ignore_errors=False):
        raise KeyboardInterrupt

    (content / "digests" / "a.txt").write_text(dump(("New title here", ABSTRACT)), encoding="utf-8")
    monkeypatch.setattr(cache.shutil, "rmtree", interrupted)
    summary = build(BuildOptions(content, out))
    assert summary.papers == 1 and list((out / "papers").glob("new-title-here.*"))


def test_a_forked_stage_spills_its_files_as_it_makes_them(tmp_path):
    """The child writes each batch to the file it shares with the build as soon as the batch is
    full, so it never holds more than a batch: here the first batches are in the file while
    the child still waits to make the rest (for a file only the test creates)."""
    from generator.workers import Forked
    from generator.output import OutputFile

    go_on = tmp_path / "go on"

    def make():
        for n in range(3 * Forked.BATCH):
            yield OutputFile(f"search/{n}.js", n.to_bytes(4, "big") * 250)  # (1,000 bytes of its own)
        while not go_on.exists():
            time.sleep(0.01)
        yield OutputFile("search/last.js", b"")

    with Forked(make, spill=tmp_path) as stage:
        assert stage.pid
        deadline = time.monotonic() + 60
        while os.fstat(stage.spilled.fileno()).st_size < 3 * Forked.BATCH * 1000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert os.fstat(stage.spilled.fileno()).st_size >= 3 * Forked.BATCH * 1000  # (three batches, spilled)
        go_on.touch()
        assert [file.path for file in stage.files()] == [f"search/{n}.js" for n in range(3 * Forked.BATCH)] + \
            ["search/last.js"]
    assert list(tmp_path.iterdir()) == [go_on]  # (the spill file has no name: nothing is left behind)


def test_a_forked_stage_hands_back_its_files_in_order_and_its_errors():
    from generator.workers import Forked
    from generator.diagnostics import error
    from generator.output import OutputFile

    made = [OutputFile(f"search/{n}.js", bytes([n % 256]) * n, f"k{n}") for n in range(700)]
    with Forked(lambda: iter(made)) as stage:
        assert stage.pid and stage.pid != os.getpid()  # really another process
        assert list(stage.files()) == made
        pid = stage.pid

    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind

    def broken():
        yield made[0]
        raise BuildError([error("search", None, "the index could not be made")])

    with Forked(broken) as stage, pytest.raises(BuildError, match="could not be made"):
        list(stage.files())
