"""write.py: all-or-nothing output, refusal of dangerous targets, clean-up after crashes, and
file-system refusals named as the user knows the paths."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from generator.diagnostics import BuildError, UsageError
from generator.output import OutputFile
from generator.write import (MARKER, TEMP_TAG, Staging, check_target, content_key, disk_error, naming, recover,
                             user_path, write_site)


def files(*names: str, body: bytes = b"x"):
    return [OutputFile(name, body) for name in names]


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_a_new_site_with_its_marker(tmp_path):
    out = tmp_path / "site"
    written, old = write_site(files("index.html", "papers/a.html"), out)
    assert written == {"index.html": content_key(b"x"), "papers/a.html": content_key(b"x")} and old is None
    assert snapshot(out) == {"index.html": b"x", "papers/a.html": b"x", MARKER: snapshot(out)[MARKER]}


def test_replaces_the_old_site_whole_and_hands_back_the_old_one(tmp_path):
    out = tmp_path / "site"
    write_site(files("index.html", "old.html", body=b"old"), out)
    _, old = write_site(files("index.html", body=b"new"), out)
    assert not (out / "old.html").exists() and (out / "index.html").read_bytes() == b"new"
    assert (old / "old.html").read_bytes() == b"old"  # the caller keeps it as a spare or deletes it
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["site", old.name])


def test_a_spare_folder_is_brought_up_to_date_without_touching_the_live_site(tmp_path):
    """Reused files are hard links to the live site's; replacing one in the spare must make a new
    file, or the live site (and every site linked to it) would change under its readers."""
    out = tmp_path / "site"
    keys_1, _ = write_site([OutputFile("a.html", b"a1"), OutputFile("b.html", b"b1"), OutputFile("gone.html", b"g")], out)
    keys_2, old = write_site([OutputFile("a.html", None, keys_1["a.html"]), OutputFile("b.html", b"b2")], out)
    spare = old.rename(tmp_path / "spare")  # where the cache keeps it
    assert snapshot(spare)["gone.html"] == b"g"
    # Build 3 in the spare (which holds build 1): a.html changes, b.html is kept from build 2.
    staging = Staging(spare, dict(keys_1))
    keys_3, old = write_site([OutputFile("a.html", b"a3"), OutputFile("b.html", None, keys_2["b.html"]),
                              OutputFile("c.html", b"c3")], out, staging=staging)
    assert old == spare
    site = snapshot(out)
    assert {k: v for k, v in site.items() if k != MARKER} == {"a.html": b"a3", "b.html": b"b2", "c.html": b"c3"}
    assert snapshot(old)["a.html"] == b"a1" and snapshot(old)["b.html"] == b"b2"  # build 2, untouched
    assert "gone.html" not in site and staging.holds == keys_3


def test_a_file_made_again_with_the_same_bytes_is_linked_not_written(tmp_path):
    """A key says what a file is made of: a change to that (a paper's abstract, for a citation
    file that does not show it) may leave the bytes as they were; the live site's file is then
    kept as it is (the same inode), and a file whose bytes did change is a new file."""
    out = tmp_path / "site"
    keys_1, _ = write_site([OutputFile("same.html", b"same", "k1"), OutputFile("other.html", b"one", "k2")], out)
    before = {name: (out / name).stat().st_ino for name in keys_1}
    keys_2, old = write_site([OutputFile("same.html", b"same", "k3"), OutputFile("other.html", b"two", "k4")], out,
                             live=keys_1)
    assert keys_2 == {"same.html": "k3", "other.html": "k4"}  # the new keys, though same.html's bytes are old
    assert (out / "same.html").stat().st_ino == before["same.html"]
    assert (out / "other.html").stat().st_ino != before["other.html"] and (out / "other.html").read_bytes() == b"two"
    assert (old / "other.html").read_bytes() == b"one"  # the old site, as it was


def test_after_a_failure_the_spare_says_what_it_holds(tmp_path):
    out = tmp_path / "site"
    keys_1, _ = write_site(files("a.html", "b.html", body=b"1"), out)
    _, old = write_site(files("a.html", "b.html", body=b"2"), out)
    spare = old.rename(tmp_path / "spare")
    staging = Staging(spare, dict(keys_1))

    def broken():
        yield OutputFile("a.html", b"3")
        raise RuntimeError("template exploded")

    with pytest.raises(RuntimeError):
        write_site(broken(), out, staging=staging)
    held = {path: content_key((spare / path).read_bytes()) for path in staging.holds}
    assert held == staging.holds and staging.holds["a.html"] == content_key(b"3")
    assert snapshot(out)["a.html"] == b"2"


@pytest.mark.parametrize("failure", ["midway", "verify", "duplicate", "escape"])
def test_any_failure_leaves_the_old_site_untouched(tmp_path, failure):
    out = tmp_path / "site"
    write_site(files("index.html", "papers/a.html", body=b"old"), out)
    before = snapshot(out)

    def broken():
        yield OutputFile("index.html", b"new")
        if failure == "midway":
            raise RuntimeError("template exploded")
        yield OutputFile("index.html" if failure == "duplicate" else "../evil.html", b"new")

    def verify(written):
        raise RuntimeError("a paper is missing")

    with pytest.raises((RuntimeError, BuildError)):
        if failure == "verify":
            write_site(files("index.html", body=b"new"), out, verify=verify)
        else:
            write_site(broken(), out)
    assert snapshot(out) == before
    assert not (tmp_path / "evil.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no staging folder left behind


def test_refuses_to_build_into_or_over_the_content_folder(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    for out in (content, tmp_path):
        with pytest.raises(UsageError, match="content"):
            check_target(out, content, replace=True)


def test_refuses_a_foreign_non_empty_folder_without_replace(tmp_path):
    out = tmp_path / "docs"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="--replace"):
        check_target(out, tmp_path / "content", replace=False)
    check_target(out, tmp_path / "content", replace=True)
    check_target(tmp_path / "empty-or-missing", tmp_path / "content", replace=False)


def test_a_previous_build_may_be_replaced(tmp_path):
    out = tmp_path / "site"
    write_site(files("index.html"), out)
    check_target(out, tmp_path / "content", replace=False)


def test_recover_restores_a_site_moved_aside_by_a_crashed_swap(tmp_path):
    out = tmp_path / "site"
    backup = tmp_path / f".site{TEMP_TAG}old"
    backup.mkdir()
    (backup / "index.html").write_bytes(b"old")
    stale = tmp_path / f".site{TEMP_TAG}new-123"
    stale.mkdir()
    recover(out)
    assert (out / "index.html").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_two_outputs_on_one_path_is_a_clear_error(tmp_path):
    with pytest.raises(BuildError, match="two outputs would be written to this same file"):
        write_site(files("papers/a.html", "papers/a.html"), tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_a_full_disk_is_named_as_the_site_file_it_was_writing(tmp_path, monkeypatch):
    """A write() that finds the disk full names no file: the writer names the staged file, and
    disk_error names it as the site file it was to become, in the user's own spelling."""
    out = tmp_path / "site"
    write_site(files("index.html", "papers/a.html", body=b"old"), out)
    before = snapshot(out)
    real = Path.write_bytes

    def full(self, data):
        if self.name == "a.html":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError) as caught:
        write_site(files("index.html", "papers/a.html", body=b"new"), out)
    assert snapshot(out) == before and [p.name for p in tmp_path.iterdir()] == ["site"]
    monkeypatch.chdir(tmp_path)
    assert str(disk_error(caught.value, Path("site"))) == "no space left on the device writing site/papers/a.html"


def test_paths_are_named_as_the_user_knows_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    label, out = Path("www/site"), tmp_path / "www" / "site"
    cases = {
        out / "papers/a.html": ("www/site/papers/a.html", True),
        out.parent / f".site{TEMP_TAG}new-12-ab/papers/a.html": ("www/site/papers/a.html", True),
        out.parent / f".site{TEMP_TAG}new-12-ab": ("www/site", True),
        out.parent / f".site{TEMP_TAG}old": ("www/site", True),
        out.parent / ".site.paperdigest/spare/search/x.js": ("www/site/search/x.js", True),
        out.parent / ".site.paperdigest/lock": ("www/.site.paperdigest/lock", True),
        out.parent / "content/digests/a.txt": (str(out.parent / "content/digests/a.txt"), False),
        tmp_path / "elsewhere": (str(tmp_path / "elsewhere"), False),
    }
    for path, expected in cases.items():
        assert user_path(str(path), label) == expected, path
    assert user_path(None, label) == ("www/site", True)


def test_only_the_file_systems_refusals_become_disk_errors():
    for number in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
        assert disk_error(OSError(number, "x", "/nowhere/site/a.html"), Path("/nowhere/site")) is not None
    assert disk_error(OSError(errno.ENOENT, "x", "/nowhere/site/a.html"), Path("/nowhere/site")) is None
    assert disk_error(OSError(errno.EROFS, "x", "/nowhere/.site.paperdigest/lock"), Path("/nowhere/site")).args == (
        "the file system is read-only writing /nowhere/.site.paperdigest/lock",)


def test_naming_adds_the_path_an_error_lacks_and_keeps_its_kind(tmp_path):
    with pytest.raises(PermissionError) as caught:
        with naming(tmp_path / "x"):
            raise OSError(errno.EACCES, "Permission denied")
    assert caught.value.filename == str(tmp_path / "x")
    with pytest.raises(OSError) as kept:
        with naming(tmp_path / "x"):
            raise OSError(errno.ENOSPC, "full", "/elsewhere")
    assert kept.value.filename == "/elsewhere"
