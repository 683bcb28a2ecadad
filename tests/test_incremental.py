"""Property: after any sequence of edits, an incremental build gives exactly the bytes of a
clean build. Edits: add, remove or rename a dump (text or API JSON), edit a title or an
abstract, change site.toml, the taxonomy or a template."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SEEDS, dump, tree

from generator.build import BuildOptions, build

WORDS = ("diffusion", "operator", "sparse", "graph", "kernel", "tidal", "bandit", "privacy", "causal", "robot")


def small_seeds() -> dict[str, str]:
    """The seed dumps cut to their first few papers: the real text, quick to build."""
    found = {}
    for number, seed in enumerate(SEEDS[:3]):
        paragraphs = seed.read_text(encoding="utf-8").split("\n\n")
        head = next(index for index, text in enumerate(paragraphs) if len(text) > 300) - 1
        found[f"{number:03}.txt"] = "\n\n".join(paragraphs[:head + 10]) + "\n"
    return found


def title_for(number: int) -> str:
    return f"A Study of {WORDS[number % len(WORDS)].title()} Models, Part {number}"


def abstract_for(number: int, word: str = "") -> str:
    return (f"We study {WORDS[number % len(WORDS)]} {word} models in depth. " * 12).strip()


def api_items(numbers: list[int], day: str) -> str:
    return json.dumps([{"paper": {"id": f"2503.{n:05d}", "title": title_for(n), "summary": abstract_for(n),
                                  "authors": [{"name": f"Ada Author{n}", "hidden": False}], "upvotes": n},
                        "numComments": n % 3} for n in numbers], indent=2) + "\n"


def apply(content: Path, edit: tuple, step: int) -> None:
    digests = content / "digests"
    kind, choice = edit
    existing = sorted(digests.iterdir())
    if kind == "add-text":
        numbers = [choice, choice + 1, step]
        (digests / f"2025-04-{1 + step:02}.txt").write_text(
            dump(*[(title_for(n), abstract_for(n)) for n in numbers], date=f"Apr {1 + step}"), encoding="utf-8")
    elif kind == "add-json":
        (digests / f"2025-05-{1 + step:02}.json").write_text(api_items([choice, choice + 2], f"2025-05-{1 + step:02}"),
                                                             encoding="utf-8")
    elif kind == "remove" and len(existing) > 1:
        existing[choice % len(existing)].unlink()
    elif kind == "rename" and existing:
        path = existing[choice % len(existing)]
        path.rename(path.with_name(f"renamed-{step}-{path.name}"))
    elif kind in ("title", "abstract") and existing:
        path = existing[choice % len(existing)]
        text = path.read_text(encoding="utf-8")
        word = WORDS[choice % len(WORDS)]
        if kind == "title":
            text = text.replace("A Study of", f"A Study ({step}) of", 1)
        else:
            text = text.replace(" in depth.", f" in {word} depth.", 1)
        path.write_text(text, encoding="utf-8")
    elif kind == "site":
        (content / "site.toml").write_text(f'default_year = 2025\ntitle = "Archive {choice}"\n', encoding="utf-8")
    elif kind == "taxonomy":
        word = WORDS[choice % len(WORDS)]
        (content / "topics.toml").write_text(f'[[topic]]\nname = "{word.title()}"\nkeywords = ["{word}"]\n', encoding="utf-8")
    elif kind == "template":
        templates = content / "theme" / "templates"
        templates.mkdir(parents=True, exist_ok=True)
        base = Path(__file__).resolve().parents[1] / "themes" / "default" / "templates" / "digest.html"
        (templates / "digest.html").write_text(base.read_text(encoding="utf-8").replace("Digest:", f"Digest {choice}:"),
                                              encoding="utf-8")


EDITS = st.tuples(st.sampled_from(["add-text", "add-json", "remove", "rename", "title", "abstract", "site",
                                   "taxonomy", "template"]), st.integers(0, 30))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(EDITS, min_size=3, max_size=5))
def test_incremental_builds_equal_clean_builds_after_any_edits(tmp_path_factory, edits):
    root = tmp_path_factory.mktemp("incremental")
    content = root / "content"
    (content / "digests").mkdir(parents=True)
    (content / "site.toml").write_text("default_year = 2025\n", encoding="utf-8")
    for name, text in small_seeds().items():
        (content / "digests" / name).write_text(text, encoding="utf-8")
    build(BuildOptions(content, root / "site"))
    for step, edit in enumerate(edits):
        apply(content, edit, step)
        build(BuildOptions(content, root / "site"))
        clean = root / f"clean-{step}"
        build(BuildOptions(content, clean, no_cache=True))
        assert tree(root / "site") == tree(clean), (step, edit)
        shutil.rmtree(clean)
        shutil.rmtree(root / f".clean-{step}.paperdigest", ignore_errors=True)
