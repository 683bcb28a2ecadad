"""cache.py and incremental builds: a build that reuses the last one's work gives exactly the
bytes a clean build gives, after every kind of change, and reuses what it should."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from support import CONTENT, SEEDS, dump, tree

from generator.build import BuildOptions, build
from generator.cache import Cache

ABSTRACT = "We study {} with a method that is long enough to read as an abstract, and report results. " + "More words follow here. " * 8


def seeded_content(root: Path) -> Path:
    content = root / "content"
    shutil.copytree(CONTENT, content, ignore=shutil.ignore_patterns("theme"))
    return content


def clean_build(content: Path, root: Path) -> dict[str, bytes]:
    """The reference: a build with no cache and no previous site."""
    out = root / "clean"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(root / ".clean.paperdigest", ignore_errors=True)
    build(BuildOptions(content, out))
    return tree(out)


def newer_digest(content: Path) -> None:
    returning = SEEDS[0].read_text(encoding="utf-8").split("\n\n")
    title = next(p for p in returning if 20 < len(p) < 200 and not p.startswith(("Get trending", "byAK")))
    (content / "digests" / "2025-03-20.txt").write_text(
        dump(("A Brand New Paper On Tidal Models", ABSTRACT.format("tides")), (title, ABSTRACT.format("a return")),
             date="Mar 20"), encoding="utf-8")


def edit_abstract(content: Path) -> None:
    path = content / "digests" / "2025-03-20.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("tides", "tidal flats"), encoding="utf-8")


def older_digest(content: Path) -> None:
    (content / "digests" / "2025-03-01.txt").write_text(
        dump(("An Early Paper On Moss", ABSTRACT.format("moss")), date="Mar 1"), encoding="utf-8")


def remove_digest(content: Path) -> None:
    (content / "digests" / "2025-03-01.txt").unlink()


def retitle_site(content: Path) -> None:
    toml = content / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("Daily Papers Digest", "My Papers"), encoding="utf-8")


def override_template(content: Path) -> None:
    templates = content / "theme" / "templates"
    templates.mkdir(parents=True)
    paper = (Path(__file__).resolve().parents[1] / "themes" / "default" / "templates" / "paper.html").read_text()
    (templates / "paper.html").write_text(paper.replace("Featured in", "Seen in"), encoding="utf-8")


def drop_hand_page(content: Path) -> None:
    shutil.rmtree(content / "pages")


def respell_a_title(content: Path) -> None:
    """A newer digest spells a listed paper's title differently: its pages, and the pages of the
    papers next to it in older digests (which link to it by title), show the new spelling."""
    title = next(p for p in SEEDS[0].read_text(encoding="utf-8").split("\n\n")[4:] if 20 < len(p) < 200)
    (content / "digests" / "2025-03-21.txt").write_text(
        dump((title.upper(), ABSTRACT.format("shouting")), date="Mar 21"), encoding="utf-8")


def edit_taxonomy(content: Path) -> None:
    """The site's own topics.toml replaces the default: topic pages, tags and filters follow."""
    (content / "topics.toml").write_text(
        '[[topic]]\nname = "Tides"\nkeywords = ["tidal", "tides"]\n\n'
        '[[topic]]\nname = "Diffusion models"\nkeywords = ["diffusion"]\n', encoding="utf-8")


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def api_digest(content: Path) -> None:
    """The API's JSON for a new day: a seed paper gains an arXiv ID, authors, upvotes, BibTeX."""
    shutil.copy(FIXTURES / "api" / "2025-03-15.json", content / "digests")


def refreshed_upvotes(content: Path) -> None:
    """The same day fetched again later: only counts changed."""
    path = content / "digests" / "2025-03-15.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"upvotes": 42', '"upvotes": 61'), encoding="utf-8")


def saved_page_and_cards(content: Path) -> None:
    """A saved page (a retitled paper, found by its ID) and the page's text (a paper by its title)."""
    shutil.copy(FIXTURES / "api" / "2025-03-17.html", content / "digests")
    shutil.copy(FIXTURES / "forms" / "2025-03-16.txt", content / "digests")


def an_id_joins_two_titles(content: Path) -> None:
    """Two titles read without an ID were two pages; an ID shows they are one paper: one page
    and a redirect from the other's."""
    (content / "digests" / "2025-03-22.txt").write_text(dump(("Moss Growth, Revisited", ABSTRACT.format("moss")),
                                                             date="Mar 22"), encoding="utf-8")
    (content / "digests" / "2025-03-23.json").write_text(
        '[{"paper": {"id": "2503.23001", "title": "An Early Paper On Moss", "summary": "Moss."}},\n'
        ' {"paper": {"id": "2503.23001", "title": "Moss Growth, Revisited", "summary": "Moss again."}}]\n',
        encoding="utf-8")


CHANGES = [newer_digest, edit_abstract, older_digest, remove_digest, respell_a_title, retitle_site,
           override_template, drop_hand_page, edit_taxonomy, api_digest, refreshed_upvotes, saved_page_and_cards,
           older_digest, an_id_joins_two_titles]


def test_each_incremental_build_equals_a_clean_build(tmp_path):
    content = seeded_content(tmp_path)
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    for change in CHANGES:
        change(content)
        build(BuildOptions(content, out))
        assert tree(out) == clean_build(content, tmp_path), change.__name__
    joined = tree(out)
    assert b'url=../papers/an-early-paper-on-moss.html"' in joined["papers/moss-growth-revisited.html"]
    wise = next(data for path, data in joined.items() if path.startswith("papers/wise") and path.endswith(".html"))
    assert b"57 \xc2\xb7 5 comments" in wise  # the saved page of Mar 17 is newer than the refreshed Mar 15


def related_section(page: bytes) -> bytes:
    """The "Related papers" list of a paper page."""
    found = re.search(rb'id="related-heading".*?</ul>', page, re.S)
    return found.group() if found else b""


def inodes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_ino for p in root.rglob("*") if p.is_file()}


def test_adding_a_digest_renders_and_writes_only_what_it_touches(tmp_path):
    content = seeded_content(tmp_path)
    out = tmp_path / "site"
    spare = Cache(out).spare
    build(BuildOptions(content, out))
    build(BuildOptions(content, out, no_cache=True))  # the first site is kept as the spare
    before, existing = tree(out), set(inodes(out).values()) | set(inodes(spare).values())
    newer_digest(content)
    build(BuildOptions(content, out))
    after = tree(out)
    changed = {path for path in after if before.get(path) != after[path]}
    assert {"digests/2025-03-20.html", "papers/a-brand-new-paper-on-tidal-models.html", "index.html"} <= changed
    assert "digests/2025-03-14.html" in changed  # its "newer" neighbour is the new digest
    # Beyond the site-wide pages and the search index, only the pages of the new digest and its
    # neighbour change, the pages of the papers in the new digest, the pages of papers whose
    # related papers changed (a new paper, or weights moved), and the topics of the new digest.
    assert {path for path in changed if not path.startswith(("papers/", "digests/", "search/", "topics/"))} <= {
        ".paperdigest", "index.html", "archive.html", "calendar.html", "featured.html", "topics.html",
        "feed.xml", "papers.xml", "papers.json", "llms.txt",
        "data/papers-2025-03.json"}  # (the new digest's papers were all first seen in March: not the undated part)
    touched = {path for path in changed if path.startswith("digests/")}
    assert {"digests/2025-03-20.html", "digests/2025-03-20.md", "digests/2025-03-14.html", "digests/2025-03-14.md"} \
        <= touched <= {f"digests/{day}.{kind}" for day in ("2025-03-20", "2025-03-14") for kind in ("html", "md", "bib", "ris")}
    new_digest = after["digests/2025-03-20.html"].decode()
    in_new_digest = set(re.findall(r'id="p-([^"]+)"', new_digest))
    for path in (path for path in changed if path.startswith("papers/")):
        html = path.rsplit(".", 1)[0] + ".html"
        assert (path.split("/")[1].rsplit(".", 1)[0] in in_new_digest
                or related_section(before[html]) != related_section(after[html])), path
    topics = {topic for found in re.findall(r'data-topics="([^"]+)"', new_digest) for topic in found.split()}
    assert {path.split("/")[1].split(".")[0] for path in changed if path.startswith("topics/")} <= topics
    # Files that did not change were not written: each is a file one of the two sites already had.
    now = inodes(out)
    assert [path for path in after if path not in changed and now[path] not in existing] == []


def test_a_damaged_cache_costs_time_not_correctness(tmp_path):
    content = seeded_content(tmp_path)
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    build(BuildOptions(content, out, no_cache=True))
    newer_digest(content)
    for path in Cache(out).root.rglob("*"):
        if path.is_file() and "spare" not in path.parts:
            path.write_bytes(b"\x00garbage")
    build(BuildOptions(content, out))
    assert tree(out) == clean_build(content, tmp_path)


def test_a_spare_changed_behind_the_cache_is_not_trusted(tmp_path):
    """The cache vouches for the spare only between builds; a failed build leaves it recorded
    exactly as it is, and the next build still comes out right."""
    content = seeded_content(tmp_path)
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    build(BuildOptions(content, out, no_cache=True))
    newer_digest(content)
    (content / "theme" / "templates").mkdir(parents=True)
    (content / "theme" / "templates" / "paper.html").write_text("{{ paper.no_such_field.oops }}")
    with pytest.raises(Exception):
        build(BuildOptions(content, out))
    shutil.rmtree(content / "theme")
    build(BuildOptions(content, out))
    assert tree(out) == clean_build(content, tmp_path)


def test_parsed_dumps_are_kept_by_content_and_pruned(tmp_path):
    content = seeded_content(tmp_path)
    out = tmp_path / "site"
    build(BuildOptions(content, out))
    dumps = Cache(out).root / "dumps"
    assert len(list(dumps.iterdir())) == len(SEEDS)
    older_digest(content)
    build(BuildOptions(content, out))
    assert len(list(dumps.iterdir())) == len(SEEDS) + 1
    remove_digest(content)
    build(BuildOptions(content, out))
    assert len(list(dumps.iterdir())) == len(SEEDS)


def test_unchanged_inputs_are_not_read_again(tmp_path, monkeypatch):
    from generator.manifest import fingerprint

    content = seeded_content(tmp_path)
    old = 1_600_000_000
    for path in content.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    first = fingerprint(content, (), False)
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or original(self))
    second = fingerprint(content, (), False, first.stats)
    assert second.inputs == first.inputs and second.files == first.files
    assert not [name for name in read if name.endswith(".txt")]  # the generator's own files may be newer


def test_an_edit_in_the_same_clock_tick_as_the_last_build_is_still_seen(tmp_path):
    """A file changed right after a build, keeping its size, inode and even its mtime (a coarse
    clock): it was modified too close to the last look to be trusted, so it is read again."""
    content = seeded_content(tmp_path)
    out = tmp_path / "site"
    newer_digest(content)
    path = content / "digests" / "2025-03-20.txt"
    build(BuildOptions(content, out))
    stat = path.stat()
    text = path.read_text(encoding="utf-8").replace("tides", "tidez")
    with open(path, "r+", encoding="utf-8") as handle:  # in place: the same inode
        handle.write(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_ino == stat.st_ino
    build(BuildOptions(content, out))
    assert b"tidez" in (out / "digests" / "2025-03-20.html").read_bytes()
