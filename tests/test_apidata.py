"""apidata.py: the API's JSON and saved pages, from realistic fixtures and hostile ones."""

from __future__ import annotations

import html
import json
from datetime import date
from pathlib import Path

import pytest

from generator.diagnostics import Level
from generator.parse import parse_dump

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "api"
API = FIXTURES / "2025-03-15.json"
PAGE = FIXTURES / "2025-03-17.html"


def parse(name: str, data: bytes | str, explicit: date | None = None):
    return parse_dump(name, data.encode("utf-8") if isinstance(data, str) else data, 2025, explicit)


def item(title="A Title", summary="An abstract. It says things.", **paper) -> dict:
    return {"paper": {"id": "2503.00001", "title": title, "summary": summary, **paper}}


def levels(dump) -> list[Level]:
    return [d.level for d in dump.diagnostics]


def test_the_api_fixture_reads_every_documented_field():
    dump = parse(API.name, API.read_bytes())
    assert dump.date == date(2025, 3, 15) and dump.diagnostics == ()
    wise, bits, idf = dump.entries
    assert wise.title == "WISE: Rethinking the Knowledge Memory for Lifelong Model Editing of Large Language Models"
    assert wise.abstract.startswith("Large language models (LLMs) need knowledge updates to meet the ever-growing world")
    assert "\n" not in wise.abstract  # the API's line wraps are not paragraphs
    meta = wise.meta
    assert meta.arxiv_id == "2405.14768" and meta.authors[:3] == ("Peng Wang", "Zexi Li", "Ningyu Zhang")
    assert (meta.upvotes, meta.comments, meta.stars) == (42, 3, 2411)
    assert meta.published == date(2024, 5, 23) and meta.organization == "ZJUNLP"
    assert meta.github == "https://github.com/zjunlp/EasyEdit" and meta.keywords[0] == "model editing"
    assert meta.ai_summary.startswith("WISE routes edits")
    assert "Hidden Person" not in bits.meta.authors and "Édouard Lucas" in bits.meta.authors
    assert bits.abstract.count("\n\n") == 1  # a blank line in the summary is a paragraph break
    assert bits.meta.project == "https://lovelace.example.org/two-bits"
    assert idf.meta.upvotes == 0 and idf.meta.comments == 1


def test_each_item_is_named_by_its_line():
    text = API.read_text(encoding="utf-8")
    dump = parse(API.name, text)
    lines = text.split("\n")
    assert [lines[entry.line - 1].strip() for entry in dump.entries] == ["{"] * 3
    assert dump.entries[0].line == 2


def test_the_saved_page_reads_its_embedded_items():
    dump = parse(PAGE.name, PAGE.read_bytes())
    assert dump.date == date(2025, 3, 17) and dump.diagnostics == ()
    assert [entry.meta.arxiv_id for entry in dump.entries] == ["2405.14768", "2503.12000"]
    assert dump.entries[1].title == "3D Gaussian Splatting for Rigid Body Dynamics"
    assert PAGE.read_text(encoding="utf-8").split("\n")[dump.entries[0].line - 1].startswith('<div class="SVELTE_HYDRATER')


@pytest.mark.parametrize("name, explicit, days, expected, warned", [
    ("2025-03-20.json", None, [], date(2025, 3, 20), False),
    ("daily 2025-03-20 copy.json", None, [], date(2025, 3, 20), False),
    ("2025-03-20.json", date(2025, 3, 21), [], date(2025, 3, 20), True),  # the file name wins, and says so
    ("today.json", date(2025, 3, 21), ["2025-03-19T01:00:00Z"], date(2025, 3, 21), False),
    ("today.json", None, ["2025-03-19T01:00:00Z", "2025-03-18T23:00:00.000Z", "2025-03-19T05:00:00Z"],
     date(2025, 3, 19), False),
    ("today.json", None, [], None, True),
])
def test_the_digest_date_comes_from_the_name_then_site_toml_then_the_items(name, explicit, days, expected, warned):
    items = [item(f"Paper {n}", submittedOnDailyAt=day) for n, day in enumerate(days or [None])]
    dump = parse(name, json.dumps(items), explicit)
    assert dump.date == expected
    assert (Level.WARNING in levels(dump)) is warned


def test_malformed_json_names_line_and_column():
    text = '[\n  {"paper": {"title": "A", "summary": "B"}},\n  {"paper": {"title": "C" "summary": "D"}}\n]\n'
    dump = parse("2025-03-20.json", text)
    assert levels(dump) == [Level.ERROR] and dump.diagnostics[0].line == 3
    assert "line 3, column 27" in dump.diagnostics[0].message


@pytest.mark.parametrize("text, words", [
    ('{"dailyPapers": []}', "an object, not a list"),
    ('"papers"', "a string, not a list"),
    ('[{"paper": {"id": "2503.00001"}, "numComments": 2}]', "neither a title nor a summary"),
    ('[{"paper": {"summary": "Only a summary."}}]', "no title"),
    ('[1, {"paper": {"title": "Fine", "summary": "Fine."}}]', "a number, not an object"),
])
def test_json_that_is_not_a_list_of_papers_is_an_error(text, words):
    dump = parse("2025-03-20.json", text)
    errors = [d for d in dump.diagnostics if d.level is Level.ERROR]
    assert len(errors) == 1 and words in errors[0].message and errors[0].line == 1


def test_a_saved_page_without_the_data_says_what_it_is():
    dump = parse("2025-03-20.html", "<!doctype html><title>Sign in</title><main><p>Log in to continue</p></main>")
    assert levels(dump) == [Level.ERROR]
    assert "no Daily Papers data: was it saved while signed out, or is it another page?" in dump.diagnostics[0].message


def test_a_saved_page_with_broken_data_is_an_error_at_its_line():
    page = '<!doctype html>\n<body>\n<div data-target="DailyPapers" data-props="{&quot;dailyPapers&quot;: [">\n'
    dump = parse("2025-03-20.html", page)
    assert levels(dump) == [Level.ERROR] and dump.diagnostics[0].line == 3 and "malformed" in dump.diagnostics[0].message


def test_unknown_keys_and_wrong_types_are_ignored():
    dump = parse("2025-03-20.json", json.dumps([{
        "paper": {"id": 2503, "title": "A Title", "summary": "Text.", "authors": "Ada", "upvotes": True,
                  "githubStars": -4, "ai_keywords": "one", "publishedAt": 17, "newField": {"x": 1}},
        "numComments": "3", "brandNew": [1, 2]}]))
    meta = dump.entries[0].meta
    assert dump.entries[0].title == "A Title" and not meta
    assert [d.message for d in dump.diagnostics] == ["paper 1: id '2503' is not an arXiv ID; ignored"]


def test_a_title_without_a_summary_is_kept_with_a_warning():
    dump = parse("2025-03-20.json", json.dumps([{"title": "Item-level title only"}]))
    assert [(e.title, e.abstract) for e in dump.entries] == [("Item-level title only", "")]
    assert levels(dump) == [Level.WARNING]


HOSTILE = [{
    "paper": {
        "id": "<script>alert(1)</script>",
        "title": "<img src=x onerror=alert(1)> Title",
        "summary": "Summary with <b>markup</b> & entities &amp; " + "long " * 5000,
        "authors": [{"name": "<script>alert('a')</script>", "hidden": False}, {"name": "x" * 5000, "hidden": False}],
        "githubRepo": "javascript:alert(1)",
        "projectPage": " https://example.org/space",
        "ai_keywords": ["<b>bold</b>", "k" * 1000],
        "ai_summary": "</p><script>alert(2)</script>",
    },
}]


def test_hostile_items_stay_text_and_never_links():
    dump = parse("2025-03-20.json", json.dumps(HOSTILE))
    (entry,) = dump.entries
    meta = entry.meta
    assert meta.arxiv_id == "" and meta.github == "" and meta.project == ""
    assert meta.authors[0] == "<script>alert('a')</script>" and len(meta.authors[1]) == 200
    assert meta.keywords == ("<b>bold</b>", "k" * 100)
    assert len(entry.abstract) == 12000 and entry.title.startswith("<img")
    messages = " | ".join(d.message for d in dump.diagnostics)
    for words in ("not an arXiv ID", "githubRepo", "projectPage", "abstract is", "author is", "keyword is"):
        assert words in messages
    assert all(d.level is Level.WARNING and d.line == 1 for d in dump.diagnostics)


def test_the_same_items_read_alike_from_json_and_from_a_saved_page():
    items = json.loads(API.read_text(encoding="utf-8"))
    page = f'<html><body><div data-target="DailyPapers" data-props="{html.escape(json.dumps({"dailyPapers": items}))}"></div>'
    from_json, from_page = parse("2025-03-15.json", json.dumps(items)), parse("2025-03-15.html", page)
    assert [(e.title, e.abstract, e.meta) for e in from_json.entries] == [(e.title, e.abstract, e.meta) for e in from_page.entries]
