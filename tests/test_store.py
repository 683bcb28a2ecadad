"""store.py: what stages remember from one build for the next, over the real cache folder."""

from __future__ import annotations

import os

from generator.cache import Cache
from generator.store import Store


def next_build(out, read: bool = True) -> Store:
    return Store(Cache(out, read=read))


def test_a_table_gives_back_what_was_put_and_drops_what_a_build_did_not_use(tmp_path):
    out = tmp_path / "site"
    store = next_build(out)
    table = store.table("things", "v1")
    assert table.get("a") is None
    table.put("a", "alpha")
    table.put("b", ("b", 2))
    store.save()

    store = next_build(out)
    table = store.table("things", "v1")
    assert table.get("a") == "alpha" and table.memo("c", lambda: "gamma") == "gamma"
    store.save()  # b was not used: gone

    table = next_build(out).table("things", "v1")
    assert (table.get("a"), table.get("b"), table.get("c")) == ("alpha", None, "gamma")


def test_a_table_of_another_version_or_a_store_that_does_not_read_finds_nothing(tmp_path):
    out = tmp_path / "site"
    store = next_build(out)
    store.table("things", "v1").put("a", "alpha")
    store.save()
    assert next_build(out).table("things", "v2").get("a") is None
    blind = next_build(out, read=False)
    table = blind.table("things", "v1")
    assert table.get("a") is None
    table.put("z", "zeta")  # but what it makes is kept for the next build
    blind.save()
    table = next_build(out).table("things", "v1")
    assert table.get("z") == "zeta" and table.get("a") is None


def test_an_unused_table_is_not_written_so_another_process_may_use_it(tmp_path):
    out = tmp_path / "site"
    store = next_build(out)
    store.table("records").put("a", "alpha")
    store.save()
    path = Cache(out).root / "tables" / "records"
    before = path.stat().st_mtime_ns, path.read_bytes()
    store = next_build(out)
    store.table("records")  # opened (as Exports does, in the parent) but used in a forked child
    store.save()
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before
    # and a table saved twice with nothing new is not written again
    store = next_build(out)
    table = store.table("records")
    table.get("a")
    store.save()
    table.get("a")
    store.save()
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


def test_a_damaged_table_is_a_miss_that_the_cache_notes(tmp_path):
    out = tmp_path / "site"
    store = next_build(out)
    store.table("things").put("a", "alpha")
    store.save()
    (Cache(out).root / "tables" / "things").write_bytes(b"\x00garbage")
    cache = Cache(out)
    assert Store(cache).table("things").get("a") is None
    assert cache.damaged == ["tables/things"]


def test_a_memory_keeps_bytes_one_file_each_and_drops_the_unused(tmp_path):
    out = tmp_path / "site"
    store = next_build(out)
    memory = store.memory("related")
    memory.put("segment-0", b"\x00" * 10)
    memory.put("segment-1", b"one")
    store.save()
    folder = Cache(out).root / "related"
    assert sorted(os.listdir(folder)) == ["segment-0", "segment-1"]

    store = next_build(out)
    memory = store.memory("related")
    assert memory.get("segment-1") == b"one" and memory.get("segment-9") is None
    store.save()
    assert os.listdir(folder) == ["segment-1"]
    (folder / "segment-1").write_bytes(b"garbled")
    assert next_build(out).memory("related").get("segment-1") is None
    assert next_build(out, read=False).memory("related").get("segment-1") is None



def test_a_memory_item_kept_unread_stays_and_one_neither_read_nor_kept_goes(tmp_path):
    out = tmp_path / "site"
    store = next_build(out)
    memory = store.memory("related")
    for name in ("block-a", "block-b", "block-c"):
        memory.put(name, name.encode())
    store.save()
    store = next_build(out)
    memory = store.memory("related")
    memory.keep("block-a")  # not needed by this build, wanted by a later one
    assert memory.get("block-b") == b"block-b"
    store.save()
    folder = Cache(out).root / "related"
    assert sorted(os.listdir(folder)) == ["block-a", "block-b"]
    assert next_build(out).memory("related").get("block-a") == b"block-a"

def test_memory_names_must_be_plain_file_names(tmp_path):
    memory = next_build(tmp_path / "site").memory("related")
    for name in ("../escape", "a/b", "", ".hidden", "naïve"):
        try:
            memory.put(name, b"x")
        except ValueError:
            continue
        raise AssertionError(f"{name!r} was accepted")
