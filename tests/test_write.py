"""write.py: all-or-nothing output, refusal of dangerous targets, and clean-up after crashes."""

from __future__ import annotations

import pytest

from generator.diagnostics import BuildError, UsageError
from generator.render import OutputFile
from generator.write import MARKER, TEMP_TAG, check_target, recover, write_site


def files(*names: str, body: bytes = b"x"):
    return [OutputFile(name, body) for name in names]


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_a_new_site_with_its_marker(tmp_path):
    out = tmp_path / "site"
    assert write_site(files("index.html", "papers/a.html"), out) == 2
    assert snapshot(out) == {"index.html": b"x", "papers/a.html": b"x", MARKER: snapshot(out)[MARKER]}


def test_replaces_the_old_site_whole(tmp_path):
    out = tmp_path / "site"
    write_site(files("index.html", "old.html", body=b"old"), out)
    write_site(files("index.html", body=b"new"), out)
    assert not (out / "old.html").exists() and (out / "index.html").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no staging folder left behind


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
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_refuses_to_build_into_or_over_the_content_folder(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    for out in (content, tmp_path):
        with pytest.raises(UsageError, match="content"):
            check_target(out, content, force=True)


def test_refuses_a_foreign_non_empty_folder_without_force(tmp_path):
    out = tmp_path / "docs"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="--force"):
        check_target(out, tmp_path / "content", force=False)
    check_target(out, tmp_path / "content", force=True)
    check_target(tmp_path / "empty-or-missing", tmp_path / "content", force=False)


def test_a_previous_build_may_be_replaced(tmp_path):
    out = tmp_path / "site"
    write_site(files("index.html"), out)
    check_target(out, tmp_path / "content", force=False)


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


def test_ctrl_c_after_the_swap_still_counts_as_built(tmp_path, monkeypatch):
    """Once the new site is in place, an interrupt during clean-up must not fail the build
    (which would then claim the site was left unchanged); the next build clears the rest."""
    import generator.write as write

    out = tmp_path / "site"
    write_site(files("index.html", body=b"old"), out)
    real_rmtree = write.shutil.rmtree

    def interrupted(path, ignore_errors=False):
        raise KeyboardInterrupt

    monkeypatch.setattr(write.shutil, "rmtree", interrupted)
    assert write_site(files("index.html", body=b"new"), out) == 1
    monkeypatch.setattr(write.shutil, "rmtree", real_rmtree)
    assert (out / "index.html").read_bytes() == b"new"
    recover(out)
    assert [p.name for p in tmp_path.iterdir()] == ["site"]
