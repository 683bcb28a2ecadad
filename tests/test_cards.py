"""cards.py: the current Daily Papers page's text, from saved pages, reshuffled pages, hostile
input and random cards; every line read must be accounted for."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import SEEDS, dump

from generator import cards
from generator.diagnostics import Level
from generator.parse import parse_dump
from generator.reading import SENTENCE_END, Dump, Ledger, clean_line

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cards"
PAGES = sorted(FIXTURES.glob("*.txt"))
HEADER = ("Get trending papers in your email inbox once a day!\n\nSubscribe\n\nDaily Weekly Monthly\n\n"
          "Trending Papers\n\n")
ABSTRACT = "We propose a method. It works well on every benchmark we tried."


def read(text: str, default_year: int | None = 2025) -> Dump:
    """Parse as the build does, and check that every line became something or was warned about."""
    ledger = Ledger()
    parsed = parse_dump("x.txt", text.encode("utf-8"), default_year, ledger=ledger)
    assert ledger.unaccounted(text) == []
    warned = {line for line, role in ledger.roles.items() if role == "warned"}
    assert warned <= {d.line for d in parsed.diagnostics if d.level is Level.WARNING}
    assert all(d.path == "x.txt" for d in parsed.diagnostics)
    return parsed


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fields(parsed: Dump) -> list[tuple]:
    return [(e.title, e.meta.upvotes, e.meta.comments, e.meta.organization, e.meta.author_count, e.meta.published)
            for e in parsed.entries]


def card(title: str, foot: str = "OCC\n·\nMay 29", upvotes: str = "5", abstract: str = ABSTRACT) -> str:
    return f"{upvotes}\n\n{title}\n\n{abstract}\n\n{foot}\n\n"


# -- the saved pages ----------------------------------------------------------------------------

def test_a_saved_page_gives_every_card_with_its_fields():
    parsed = read(fixture("page.txt"))
    assert parsed.date == date(2025, 10, 2) and parsed.diagnostics == ()
    assert fields(parsed) == [
        ("2 Bits Are Enough: Extreme Quantization of Key-Value Caches for Long-Context Inference",
         101, 7, "Google DeepMind", None, date(2025, 5, 29)),
        ("3D Gaussian Splatting in the Wild: Robust Reconstruction from Unconstrained Photo Collections",
         None, None, "", 3, date(2025, 2, 27)),
        ("Reasoning Models Know When They Are Wrong: Calibrated Self-Verification at Test Time",
         58, 12, "OCC", None, date(2025, 9, 30)),
        ("Scaling Laws for Data Filtering Under Fixed Compute Budgets", 44, 3, "", 1, date(2025, 10, 1)),
        ("VideoJudge: Teaching Vision-Language Models to Grade Generated Videos",
         23, None, "Tsinghua University", None, date(2024, 12, 18)),
        ("Mixture of Depths for Diffusion Transformers", 9, 15, "Meta Inc.", None, date(2024, 11, 5)),
    ]
    lines = fixture("page.txt").split("\n")
    assert all(lines[entry.line - 1] == entry.title for entry in parsed.entries)


def test_abstracts_join_lines_with_a_space_and_paragraphs_with_a_blank_line():
    entries = read(fixture("page.txt")).entries
    assert entries[1].abstract.count("\n\n") == 1
    assert entries[1].abstract.startswith("Gaussian splatting renders") and entries[1].abstract.endswith("per second.")
    assert "\n" not in entries[2].abstract and "judged correct, with a probe" in entries[2].abstract
    assert all(entry.abstract.endswith(".") for entry in entries)


def test_the_issues_page_gives_exactly_its_three_papers():
    parsed = read(fixture("issue.txt"))
    assert parsed.date == date(2025, 10, 2) and parsed.diagnostics == ()
    assert [e.title for e in parsed.entries] == [
        "Thinking Sparsely: Learning When to Reason in Large Language Models",
        "Open-Vocabulary Robot Grasping with Point Cloud Foundation Models",
        "Retrieval Heads Are All You Need for Long-Document Question Answering"]
    for chrome in ("Subscribe", "Trending Papers", "Daily", "101", "3 authors", "OCC", "Feb 27, 2025", "·", "Oct 2"):
        assert all(chrome != e.title and chrome not in e.abstract for e in parsed.entries), chrome
    first = parsed.entries[0].meta
    assert (first.upvotes, first.author_count, first.published, first.comments) == (101, 3, date(2025, 2, 27), 4)


def test_cards_packed_into_one_paragraph():
    parsed = read(fixture("compact.txt"))
    assert parsed.date == date(2025, 10, 2) and parsed.diagnostics == ()
    assert fields(parsed) == [
        ("Self-Rewarding Agents for Web Navigation", 88, 5, "Salesforce AI Research", None, date(2025, 9, 30)),
        ("3 Tricks for Stable Mixture-of-Experts Training", None, None, "", 12, date(2025, 10, 1)),
        ("Diffusion Language Models Can Plan Ahead", 17, None, "", 1, date(2025, 10, 2)),
    ]
    assert parsed.entries[1].abstract.endswith("warm-up. Three simple changes fix them: a router z-loss, "
                                               "expert-wise gradient clipping and a delayed load-balancing term.")


VARIANTS = {
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "one-paragraph": lambda text: re.sub(r"\n\s*\n", "\n", text),
    "every-line-a-paragraph": lambda text: text.replace("\n", "\n\n"),
    "blank-runs-and-spaces": lambda text: text.replace("\n\n", " \n\n\t\n\u00a0\n").replace("\n·\n", "\n  ·  \n"),
    "glued-feet": lambda text: re.sub(r"\n+·\n+", " · ", text),
    "bom": lambda text: "\ufeff" + text,
}


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_layout_variants_read_the_same_cards(page, variant):
    text = page.read_text(encoding="utf-8")
    clean, changed = read(text), read(VARIANTS[variant](text))
    assert changed.diagnostics == () and fields(changed) == fields(clean)
    def words(parsed: Dump) -> list[str]:
        return [" ".join(e.abstract.split()) for e in parsed.entries]
    assert words(changed) == words(clean)


# -- telling the forms apart --------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS, ids=lambda path: path.name)
def test_the_seeds_are_not_cards(seed):
    assert not cards.looks_like_cards(seed.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", [
    dump(("First Paper Title", ABSTRACT * 5), ("Phase 2", "Short.")),
    dump(("Daily Papers", ABSTRACT), date=None),
    dump(("A · B: Dots in Titles", ABSTRACT), ("Weekly", ABSTRACT), ("Workshop Report · May 29", ABSTRACT)),
    "", "just some text\n",
], ids=["classic", "daily-papers-title", "dots-and-tabs-as-titles", "empty", "note"])
def test_classic_dumps_are_not_cards(text):
    assert not cards.looks_like_cards(text)


@pytest.mark.parametrize("text", [
    "Get trending papers in your email inbox once a day!\n", "Trending Papers\n", "Daily Weekly Monthly\n",
    "DailyWeeklyMonthly\n", "Daily\n\nWeekly\n\nMonthly\n", "5\nTitle\nAbstract.\nOCC\n·\nMay 29\n",
], ids=["once-a-day", "trending", "tabs", "tabs-glued", "tabs-apart", "dot-line"])
def test_the_current_page_is_cards(text):
    assert cards.looks_like_cards(text)


def test_parse_dump_dispatches_to_the_cards_reader():
    parsed = parse_dump("x.txt", fixture("issue.txt").encode(), 2025)
    assert isinstance(parsed, Dump) and parsed.source == "x.txt" and len(parsed.entries) == 3
    assert parsed.entries[1].meta.organization == "OCC"


# -- dates --------------------------------------------------------------------------------------

@pytest.mark.parametrize("heading, expected", [
    ("Oct 2", date(2025, 10, 2)), ("Oct 2, 2024", date(2024, 10, 2)), ("2025-10-02", date(2025, 10, 2)),
])
def test_the_digest_date_comes_from_the_heading(heading, expected):
    assert read(HEADER + f"{heading}\n\n" + card("A Paper")).date == expected


def test_a_yearless_publication_date_after_the_digest_is_last_years():
    parsed = read(HEADER + "Jan 5, 2025\n\n" + card("Old", foot="OCC\n·\nDec 30") + card("New", foot="OCC\n·\nJan 4"))
    assert [e.meta.published for e in parsed.entries] == [date(2024, 12, 30), date(2025, 1, 4)]


def test_without_a_digest_date_publication_dates_take_the_default_year():
    parsed = read(HEADER + card("A Paper", foot="OCC\n·\nDec 30"), default_year=2023)
    assert parsed.date is None and parsed.entries[0].meta.published == date(2023, 12, 30)


def test_with_no_year_at_all_the_heading_is_an_error_and_publication_dates_unknown():
    parsed = read(HEADER + "Oct 2\n\n" + card("A", foot="OCC\n·\nMay 29") + card("B", foot="OCC\n·\nMay 29, 2024"),
                  default_year=None)
    errors = [d for d in parsed.diagnostics if d.level is Level.ERROR]
    assert len(errors) == 1 and "default_year" in errors[0].hint and errors[0].line == 9
    assert [e.meta.published for e in parsed.entries] == [None, date(2024, 5, 29)]


def test_an_impossible_heading_is_an_error_naming_its_line():
    parsed = read(HEADER + "Feb 30\n\n" + card("A Paper"))
    assert [(d.level, d.line) for d in parsed.diagnostics] == [(Level.ERROR, 9)]
    assert "not a real date" in parsed.diagnostics[0].message and len(parsed.entries) == 1


def test_an_impossible_publication_date_is_a_warning():
    text = HEADER + "Oct 2\n\n" + card("A Paper", foot="OCC\n·\nFeb 30")
    parsed = read(text)
    assert parsed.entries[0].meta.published is None
    assert [(d.level, d.line) for d in parsed.diagnostics] == [(Level.WARNING, text.split("\n").index("Feb 30") + 1)]


# -- broken and hostile input -------------------------------------------------------------------

def test_markup_stays_text():
    title, org = "<script>alert(1)</script> Attention Is <b>Not</b> All You Need", "<img src=x onerror=alert(1)>"
    parsed = read(HEADER + "Oct 2\n\n" + card(title, foot=f"{org}\n·\nMay 29", abstract="A <i>claim</i> & more."))
    entry = parsed.entries[0]
    assert (entry.title, entry.meta.organization, entry.abstract) == (title, org, "A <i>claim</i> & more.")


def test_huge_lines_are_cut_with_warnings():
    text = HEADER + "Oct 2\n\n" + card("T" * 5000, abstract="word " * 40000) + card("9" * 100000) + "· " * 50000
    parsed = read(text)
    assert len(parsed.entries[0].title) == 1000 and len(parsed.entries[0].abstract) == 12000
    assert parsed.entries[1].title == "9" * 1000
    cut = [d.line for d in parsed.diagnostics if d.message.startswith("cut the")]
    assert cut == [parsed.entries[0].line, parsed.entries[0].line, parsed.entries[1].line]


def test_a_card_missing_its_date_after_the_dot():
    text = HEADER + "Oct 2\n\n" + card("First", foot="OCC\n·") + "3\n\n" + card("Second", upvotes="12")
    parsed = read(text)
    assert fields(parsed) == [("First", 5, 3, "OCC", None, None), ("Second", 12, None, "OCC", None, date(2025, 5, 29))]
    assert [d.line for d in parsed.diagnostics] == [text.split("\n").index("·") + 1]
    assert "no publication date" in parsed.diagnostics[0].message


@pytest.mark.parametrize("foot, published", [("OCC", None), ("OCC\nMay 29", date(2025, 5, 29))],
                         ids=["no-dot-no-date", "no-dot"])
def test_a_card_missing_its_dot_keeps_both_papers(foot, published):
    text = HEADER + "Oct 2\n\n" + card("First", foot=foot) + card("Second", upvotes="12")
    parsed = read(text)
    assert fields(parsed) == [("First", 5, None, "OCC", None, published),
                              ("Second", 12, None, "OCC", None, date(2025, 5, 29))]
    assert parsed.entries[0].abstract == ABSTRACT
    assert [d.line for d in parsed.diagnostics] == [parsed.entries[0].line]


def test_a_card_with_no_title_becomes_no_paper():
    text = HEADER + "Oct 2\n\n" + "7\n\nOCC\n\n·\n\nMay 29\n\n" + card("Real Paper")
    parsed = read(text)
    assert [e.title for e in parsed.entries] == ["Real Paper"]
    assert {d.line for d in parsed.diagnostics} == {11, 13, 15, 17}


def test_a_title_with_no_abstract_is_kept_with_a_warning():
    parsed = read(HEADER + "Oct 2\n\n" + "5\nLonely Title\nOCC\n·\nMay 29\n\n" + card("Next"))
    assert [(e.title, e.abstract) for e in parsed.entries] == [("Lonely Title", ""), ("Next", ABSTRACT)]
    assert [(d.line, "no abstract" in d.message) for d in parsed.diagnostics] == [(12, True)]


def test_stray_and_trailing_text_is_named_in_warnings():
    text = (HEADER + "Oct 2\n\nSee all papers\n\n" + card("A Paper") + "Submitted by akhaliq\n\n" + card("Another")
            + "About\nCareers\n")
    parsed = read(text)
    assert [e.title for e in parsed.entries] == ["A Paper", "Another"]
    lines = text.split("\n")
    skipped = ("See all papers", "Submitted by akhaliq", "About", "Careers")
    assert sorted(d.line for d in parsed.diagnostics) == [lines.index(line) + 1 for line in skipped]


def test_the_sites_menu_copied_with_the_page_is_skipped_and_the_date_still_read():
    menu = "Hugging Face\nModels\nDatasets\nSpaces\nDocs\nPricing\nLog In\nSign Up\n\n"
    text = menu + HEADER.replace("Trending Papers", "Search any paper with AI\n\nTrending Papers") + "Oct 2\n\n" \
        + card("A Paper") + card("Another")
    parsed = read(text)
    assert parsed.date == date(2025, 10, 2) and [e.title for e in parsed.entries] == ["A Paper", "Another"]
    assert [d.line for d in parsed.diagnostics] == [1, 2, 3, 4, 5, 6, 7, 8, 16]
    assert all("page chrome" in d.message for d in parsed.diagnostics)


@pytest.mark.parametrize("text", [
    HEADER + "Oct 2\n", HEADER, "Trending Papers\n\n1\n2\n3\n-\n1,234\n\n4\n",
    "Trending Papers\n·\n·\n·\n5\n·\nMay 29\n3\n",
    "Subscribe\n1\n·\n2\n3\n·\n4\n·\nOct 2\n", "Trending Papers\n" + "\n".join(str(n) for n in range(2000)),
], ids=["header-only", "header-undated", "numbers", "dots", "numbers-and-dots", "many-numbers"])
def test_files_with_no_cards_warn_without_raising(text):
    parsed = read(text)
    assert parsed.entries == ()
    assert parsed.diagnostics and all(d.level is Level.WARNING for d in parsed.diagnostics)


def test_read_cards_directly_returns_the_four_parts():
    ledger = Ledger()
    dated, line, entries, diagnostics = cards.read_cards(fixture("issue.txt"), "x.txt", 2025, ledger)
    assert (dated, line, len(entries), diagnostics) == (date(2025, 10, 2), 13, 3, [])


# -- random cards -------------------------------------------------------------------------------

TEXT = st.text(st.characters(whitelist_categories=("L", "N", "P", "S", "Zs"), blacklist_characters="·"),
               min_size=1, max_size=60).map(clean_line).filter(bool)
NOT_A_COUNT = TEXT.filter(lambda text: not re.fullmatch(r"[\d,]+|-", text) and not cards.CHROME.fullmatch(text))
ORG = st.one_of(st.sampled_from(["OCC", "Google DeepMind", "Meta Inc.", "<b>Lab</b>"]),
                NOT_A_COUNT.filter(lambda text: not SENTENCE_END.search(text) and not cards.AUTHORS.fullmatch(text)))
AUTHORS = st.integers(1, 3000).map(lambda n: f"{n} author{'s' if n != 1 else ''}")
DIGEST = date(2025, 10, 2)


@st.composite
def random_card(draw) -> tuple[tuple[str, str, list[list[str]], list[str]], tuple]:
    """One card as (upvotes, title, abstract paragraphs of lines, foot lines), and the fields it
    must read back as."""
    upvotes = draw(st.one_of(st.just(None), st.integers(0, 99999)))
    title = draw(NOT_A_COUNT)
    abstract = draw(st.lists(st.lists(NOT_A_COUNT, min_size=1, max_size=3), max_size=3))
    org = draw(st.one_of(ORG, AUTHORS))
    day = draw(st.dates(date(2023, 1, 1), DIGEST).filter(lambda day: (day.month, day.day) != (2, 29)))
    yearless = draw(st.booleans())
    comments = draw(st.one_of(st.just(None), st.integers(0, 999)))
    shown = f"{day:%b} {day.day}" + ("" if yearless else f", {day.year}")
    published = day
    if yearless:
        published = day.replace(year=DIGEST.year if day.replace(year=DIGEST.year) <= DIGEST else DIGEST.year - 1)
    foot = [f"{org} · {shown}"] if draw(st.booleans()) else [org, "·", shown]
    foot += [] if comments is None else [str(comments)]
    authors = cards.AUTHORS.fullmatch(org)
    expected = (title, "\n\n".join(" ".join(lines) for lines in abstract), upvotes, comments,
                "" if authors else org, int(authors["count"]) if authors else None, published)
    return ("-" if upvotes is None else str(upvotes), title, abstract, foot), expected


@st.composite
def pages(draw) -> tuple[str, list[tuple], list[int]]:
    """A page of random cards, their parts laid out as paragraphs or as lines at random (an
    abstract's paragraphs always apart); the expected fields and the titles' line numbers."""
    header = draw(st.sampled_from([HEADER, HEADER.replace("Daily Weekly Monthly", "Daily\nWeekly\nMonthly")]))
    lines = header.split("\n") + ["Oct 2"]
    drawn = draw(st.lists(random_card(), min_size=1, max_size=6))
    title_lines = []

    def put(part: list[str], apart: bool = False) -> None:
        lines.extend([""] * draw(st.integers(1 if apart else 0, 2)))
        lines.extend(part)

    for (upvotes, title, abstract, foot), _ in drawn:
        put([upvotes])
        put([title])
        title_lines.append(len(lines))
        for index, paragraph in enumerate(abstract):
            put(paragraph, apart=index > 0)
        for line in foot:
            put([line])
    return "\n".join(lines), [expected for _, expected in drawn], title_lines


@settings(max_examples=200, deadline=None)
@given(pages())
def test_random_cards_read_back_exactly(page):
    text, expected, title_lines = page
    parsed = read(text)
    assert parsed.date == DIGEST
    got = [(e.title, e.abstract, e.meta.upvotes, e.meta.comments, e.meta.organization, e.meta.author_count,
            e.meta.published) for e in parsed.entries]
    assert got == expected
    assert [e.line for e in parsed.entries] == title_lines
    assert all("no abstract" in d.message for d in parsed.diagnostics)
    assert len(parsed.diagnostics) == sum(not abstract for _, abstract, *_ in expected)


PIECES = st.one_of(st.sampled_from([
    "", "", "·", " · ", "5", "-", "1,234", "12345678", "May 29", "Feb 30", "Feb 27, 2025", "2025-13-01", "OCC",
    "3 authors", "1 author", "Meta Inc.", "OCC · May 29", "Subscribe", "Trending Papers", "Daily Weekly Monthly",
    "Oct 2", "Submitted by akhaliq", "A Title", "2 Bits Are Enough", "We show it works.", "<script>x</script>",
]), TEXT)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40), st.sampled_from([2025, None]))
def test_any_arrangement_of_card_parts_is_read_without_losing_a_line(pieces, default_year):
    text = "Trending Papers\n" + "\n".join(pieces)
    parsed = read(text, default_year)
    assert all(e.title and e.title.strip() == e.title for e in parsed.entries)
    assert not any(e.title in {"·", "5", "-", "1,234"} for e in parsed.entries)  # never a title, wherever they stand

