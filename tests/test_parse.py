"""parse.py: header variants, date forms, whitespace tolerance, pairing, and error reporting."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from support import HEADER, SEEDS, dump

from generator.diagnostics import Level
from generator.parse import parse_dump

ABSTRACT = "We study things. " * 30  # longer than any title
PAIRS = (("First Paper Title", ABSTRACT), ("Second: A Paper", "Short abstract."))


def parse(text: str | bytes, default_year: int | None = 2025, explicit: date | None = None):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_dump("dump.txt", data, default_year, explicit)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda path: path.name)
def test_seeds_parse_cleanly_into_title_abstract_pairs(seed):
    parsed = parse_dump(seed.name, seed.read_bytes(), 2025)
    assert parsed.diagnostics == ()
    assert len(parsed.entries) >= 50
    assert all(len(entry.title) < 200 < len(entry.abstract) for entry in parsed.entries)


def test_seed_counts_and_dates():
    parsed = {seed.name[:3]: parse_dump(seed.name, seed.read_bytes(), 2025) for seed in SEEDS}
    assert {key: len(value.entries) for key, value in parsed.items()} == {
        "000": 59, "001": 73, "002": 76, "003": 51, "004": 57}
    assert parsed["000"].date == date(2025, 3, 14)
    assert parsed["002"].date == date(2025, 3, 12)
    assert parsed["004"].date == date(2025, 3, 11)
    assert parsed["003"].date is None  # the "Daily Papers" header carries no date


def test_entries_keep_their_order_and_title_lines():
    parsed = parse(dump(*PAIRS))
    assert [entry.title for entry in parsed.entries] == ["First Paper Title", "Second: A Paper"]
    assert parsed.entries[1].abstract == "Short abstract."
    lines = dump(*PAIRS).split("\n")
    assert lines[parsed.entries[1].line - 1] == "Second: A Paper"


@pytest.mark.parametrize("line, expected", [
    ("Mar 14", date(2025, 3, 14)),
    ("March 14", date(2025, 3, 14)),
    ("Mar 14, 2024", date(2024, 3, 14)),
    ("March 4 2023", date(2023, 3, 4)),
    ("2024-12-01", date(2024, 12, 1)),
    ("Sept 9", date(2025, 9, 9)),
    ("Feb 29, 2024", date(2024, 2, 29)),
])
def test_date_line_forms(line, expected):
    parsed = parse(dump(*PAIRS, date=line))
    assert parsed.date == expected
    assert len(parsed.entries) == 2 and parsed.diagnostics == ()


def test_undated_daily_papers_header():
    text = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nby AK and the research community\n\n"
    parsed = parse(text + "".join(f"{t}\n\n{a}\n\n" for t, a in PAIRS))
    assert parsed.date is None
    assert [entry.title for entry in parsed.entries] == ["First Paper Title", "Second: A Paper"]


def test_a_title_that_looks_like_a_month_word_is_not_a_date():
    parsed = parse(dump(("Phase 2", ABSTRACT), date=None))
    assert parsed.date is None and parsed.entries[0].title == "Phase 2"


def test_explicit_date_dates_an_undated_dump():
    parsed = parse(dump(*PAIRS, date=None), explicit=date(2025, 3, 13))
    assert parsed.date == date(2025, 3, 13) and parsed.diagnostics == ()


def test_explicit_date_wins_over_the_file_and_says_so():
    parsed = parse(dump(*PAIRS, date="Mar 14"), explicit=date(2025, 3, 13))
    assert parsed.date == date(2025, 3, 13)
    assert [d.level for d in parsed.diagnostics] == [Level.WARNING]


@pytest.mark.parametrize("line", ["Feb 30", "Feb 29, 2025", "Apr 31", "2025-13-01"])
def test_impossible_dates_are_errors_with_the_line(line):
    parsed = parse(dump(*PAIRS, date=line))
    errors = [d for d in parsed.diagnostics if d.level is Level.ERROR]
    assert len(errors) == 1
    assert errors[0].line == HEADER.count("\n") + 1
    assert "not a real date" in errors[0].message


def test_missing_year_without_default_is_an_error():
    parsed = parse(dump(*PAIRS, date="Mar 14"), default_year=None)
    assert [d.level for d in parsed.diagnostics] == [Level.ERROR]
    assert "default_year" in parsed.diagnostics[0].hint


def test_a_full_date_needs_no_default_year():
    parsed = parse(dump(*PAIRS, date="Mar 14, 2024"), default_year=None)
    assert parsed.date == date(2024, 3, 14) and parsed.diagnostics == ()


@pytest.mark.parametrize("transform", [
    lambda text: "\ufeff" + text,  # byte-order mark
    lambda text: text.replace("\n", "\r\n"),
    lambda text: text.replace("\n", "\r"),
    lambda text: text.replace("\n", "   \n"),  # trailing spaces
    lambda text: text.replace("\n\n", "\n\n\n\n\t\n"),  # runs of blank lines, a tab-only line
    lambda text: text.replace("First Paper Title", "First\u00a0Paper\tTitle"),  # nbsp, tab
], ids=["bom", "crlf", "cr", "trailing-spaces", "blank-runs", "nbsp-tab"])
def test_messy_whitespace_parses_exactly_as_the_clean_form(transform):
    clean = parse(dump(*PAIRS))
    messy = parse(transform(dump(*PAIRS)))
    assert messy.entries and [(e.title, e.abstract) for e in messy.entries] == [(e.title, e.abstract) for e in clean.entries]
    assert messy.date == clean.date and messy.diagnostics == ()


def test_a_split_abstract_does_not_shift_the_following_pairs():
    second_half = "Moreover, we show results. " * 20
    text = dump(*PAIRS).replace(ABSTRACT, ABSTRACT.strip() + "\n\n" + second_half.strip())
    parsed = parse(text)
    assert [entry.title for entry in parsed.entries] == ["First Paper Title", "Second: A Paper"]
    assert second_half.strip() in parsed.entries[0].abstract
    assert parsed.diagnostics == ()


def test_a_split_abstract_with_a_short_tail_joins_with_a_warning():
    text = dump(*PAIRS).replace(ABSTRACT, ABSTRACT.strip() + "\n\nCode is released.")
    parsed = parse(text)
    assert [entry.title for entry in parsed.entries] == ["First Paper Title", "Second: A Paper"]
    assert parsed.entries[0].abstract.endswith("\n\nCode is released.")
    assert [d.level for d in parsed.diagnostics] == [Level.WARNING] and "joined" in parsed.diagnostics[0].message


def test_a_short_abstract_is_still_an_abstract():
    parsed = parse(dump(("Tiny", "One sentence."), ("Next Paper", "Another short one."), ("Last", ABSTRACT)))
    assert [(e.title, e.abstract) for e in parsed.entries][:2] == [("Tiny", "One sentence."),
                                                                    ("Next Paper", "Another short one.")]
    assert parsed.diagnostics == ()


def test_a_missing_abstract_mid_file_loses_no_paper():
    text = dump(("First Paper Title", ABSTRACT), ("Lost Its Abstract", ABSTRACT), ("Third Paper", ABSTRACT))
    text = text.replace(f"Lost Its Abstract\n\n{ABSTRACT}", "Lost Its Abstract")
    parsed = parse(text)
    assert [(e.title, bool(e.abstract)) for e in parsed.entries] == [
        ("First Paper Title", True), ("Lost Its Abstract", False), ("Third Paper", True)]
    assert [d.level for d in parsed.diagnostics] == [Level.WARNING] and "no abstract" in parsed.diagnostics[0].message


@pytest.mark.parametrize("text", [
    "name,value\nalpha,1\nbeta,2\n",
    "Just a note to self\n\nbuy milk\n\ncall Bob\n",
    "x" * 5000,
], ids=["csv", "notes", "one-blob"])
def test_text_with_no_recognisable_structure_is_an_error(text):
    parsed = parse(text)
    assert [d.level for d in parsed.diagnostics] == [Level.ERROR]
    assert "no recognisable structure" in parsed.diagnostics[0].message and parsed.diagnostics[0].line == 1


def test_a_headerless_dump_with_abstracts_is_fine():
    parsed = parse("".join(f"{t}\n\n{a}\n\n" for t, a in PAIRS))
    assert len(parsed.entries) == 2 and parsed.diagnostics == ()


def test_a_truncated_last_title_is_kept_with_a_warning():
    parsed = parse(dump(*PAIRS) + "A Paper Cut Off\n")
    assert parsed.entries[-1].title == "A Paper Cut Off" and parsed.entries[-1].abstract == ""
    assert [d.level for d in parsed.diagnostics] == [Level.WARNING]
    assert parsed.diagnostics[0].line == parsed.entries[-1].line


@pytest.mark.parametrize("text", ["", "\n\n", HEADER, HEADER + "Mar 14\n\n"], ids=["empty", "blank", "header", "dated-header"])
def test_files_without_papers_warn(text):
    parsed = parse(text)
    assert parsed.entries == ()
    assert [d.level for d in parsed.diagnostics] == [Level.WARNING]


def test_invalid_utf8_is_an_error_naming_the_line():
    data = dump(*PAIRS).encode("utf-8").replace(b"Second", b"Sec\xffond")
    parsed = parse(data)
    assert [d.level for d in parsed.diagnostics] == [Level.ERROR]
    assert "UTF-8" in parsed.diagnostics[0].message and "re-save" in parsed.diagnostics[0].hint
    assert parsed.diagnostics[0].line == dump(*PAIRS).split("\n").index("Second: A Paper") + 1


def test_binary_data_is_an_error():
    parsed = parse(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert [d.level for d in parsed.diagnostics] == [Level.ERROR]
    assert "not a text dump" in parsed.diagnostics[0].message


def test_diagnostics_render_as_file_line_level_message():
    parsed = parse_dump("x.txt", dump(*PAIRS, date="Feb 30").encode(), 2025, None, "content/digests/x.txt")
    assert str(parsed.diagnostics[0]).startswith(f"content/digests/x.txt:{HEADER.count(chr(10)) + 1}: error: ")


# --- every line accounted for (reading.Ledger) ---------------------------------------------

def account(name: str, data: bytes):
    from generator.reading import Ledger
    ledger = Ledger()
    parsed = parse_dump(name, data, 2025, None, None, ledger)
    text = data.decode("utf-8-sig")
    warned = {d.line for d in parsed.diagnostics}
    # A line is accounted for when it has a role, and a skipped ("warned") paragraph is named in a warning.
    unnamed = [line for line, role in ledger.roles.items()
               if role == "warned" and line not in warned and ledger.roles.get(line - 1) != "warned"]
    return ledger.unaccounted(text), unnamed, parsed


TEXT_FIXTURES = sorted((Path(__file__).resolve().parent / "fixtures").rglob("*.txt"))


@pytest.mark.parametrize("path", SEEDS + TEXT_FIXTURES, ids=lambda path: path.name)
def test_every_line_of_every_text_dump_is_accounted_for(path):
    unaccounted, unnamed, parsed = account(path.name, path.read_bytes())
    assert unaccounted == [] and unnamed == []
    assert parsed.entries


def test_every_line_of_broken_dumps_is_accounted_for():
    text = dump(*PAIRS) + "A Paper Cut Off\n"
    text = text.replace(ABSTRACT, ABSTRACT.strip() + "\n\nCode is released.")
    prose = "This paragraph is prose where a title should be. " * 10
    for variant in (text, prose + "\n\n" + dump(*PAIRS), dump(*PAIRS).replace("First Paper Title", "First\nPaper\nTitle")):
        unaccounted, unnamed, _ = account("dump.txt", variant.encode("utf-8"))
        assert unaccounted == [] and unnamed == [], variant[:200]


def test_a_very_long_title_after_an_abstract_is_still_a_paper():
    """It used to be joined silently to the abstract above, and its own abstract with it."""
    long_title = "A " + " ".join(f"Really Long Title Word{n}" for n in range(40)) + " Without Any Sentence End"
    assert len(long_title) > 300
    parsed = parse(dump(PAIRS[0], (long_title, ABSTRACT), PAIRS[1]))
    assert [entry.title for entry in parsed.entries] == ["First Paper Title", long_title, "Second: A Paper"]
    assert parsed.entries[1].abstract == ABSTRACT.strip()
    assert [d.level for d in parsed.diagnostics] == [Level.WARNING] and "unusually long title" in parsed.diagnostics[0].message


def test_a_long_tail_of_a_split_abstract_still_joins_it():
    tail = "and so the method continues to apply across the remaining settings considered in this work " * 5
    parsed = parse(dump(PAIRS[0], PAIRS[1]).replace(ABSTRACT, ABSTRACT.strip() + "\n\n" + tail.strip()))
    assert [entry.title for entry in parsed.entries] == ["First Paper Title", "Second: A Paper"]
    assert parsed.entries[0].abstract.endswith(tail.strip()) and parsed.diagnostics == ()
