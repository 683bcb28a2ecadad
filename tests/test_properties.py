"""Property-based: random dumps always parse without a traceback, and every paper reaches the site once."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from support import HEADER

from generator.build import BuildOptions, build
from generator.catalog import paper_key
from generator.parse import HEADER_LINES, TITLE_MAX_CHARS, parse_dump
from generator.reading import (SENTENCE_END, Paragraph, clean_line, normalise_header,
                              parse_date_line)

# Text of the kinds dumps carry: letters from many scripts, digits, punctuation, markup characters,
# URLs and emoji, on one line.
ALPHABET = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85")
LINE = st.text(ALPHABET, min_size=1, max_size=120).map(clean_line).filter(bool)
URL = st.sampled_from(["https://github.com/a/b.", "(see www.x.org/y)", "javascript:alert(1)", "<script>x</script>"])


def plausible_title(text: str) -> bool:
    """Titles as they are: not a header line or a date, and never ending a sentence (a title
    that did would be indistinguishable from the tail of a split abstract, which the parser
    joins with a warning)."""
    return (normalise_header(text) not in HEADER_LINES and not SENTENCE_END.search(text) and parse_date_line(Paragraph(text, 1), "t", 2025) is None
            and len(text) <= TITLE_MAX_CHARS)


TITLE = st.one_of(LINE, st.tuples(LINE, URL).map(" ".join)).filter(plausible_title)
ABSTRACT = st.lists(st.one_of(LINE, URL), min_size=1, max_size=8).map(" ".join).map(clean_line)
NEWLINE = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def dumps(draw):
    """Several dumps over a set of distinct papers, with repeats, random spacing and line endings."""
    titles = draw(st.lists(TITLE, min_size=1, max_size=6, unique_by=paper_key))
    papers = [(title, draw(ABSTRACT)) for title in titles]
    files, expected = {}, {}
    for number in range(draw(st.integers(1, 3))):
        chosen = draw(st.lists(st.sampled_from(papers), min_size=1, max_size=6))
        expected |= {paper_key(title): title for title, _ in chosen}
        newline, gap = draw(NEWLINE), draw(st.integers(1, 3))
        blank = newline * (gap + 1)
        date = draw(st.sampled_from(["Mar 11", "Mar 12", "March 14, 2024", "2025-01-02", None]))
        head = HEADER.replace("\n", newline) + (f"{date}{blank}" if date else "")
        body = blank.join(f"{title}{blank}{abstract}" for title, abstract in chosen)
        bom = "\ufeff" if draw(st.booleans()) else ""
        files[f"{number:03}.txt"] = (bom + head + body + newline).encode("utf-8")
    return files, expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_parse_without_raising(data):
    parsed = parse_dump("x.txt", data, 2025)
    assert all(d.path == "x.txt" for d in parsed.diagnostics)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(dumps())
def test_every_generated_paper_reaches_the_site_exactly_once(tmp_path_factory, case):
    files, expected = case
    root = tmp_path_factory.mktemp("prop")
    (root / "content" / "digests").mkdir(parents=True)
    (root / "content" / "site.toml").write_text("default_year = 2025\n")
    for name, data in files.items():
        (root / "content" / "digests" / name).write_bytes(data)
    build(BuildOptions(root / "content", root / "site", strict=True))
    pages = [p.read_text(encoding="utf-8") for p in sorted((root / "site" / "papers").glob("*.html"))]
    assert len(pages) == len(expected)
    for title in expected.values():
        heading = f"<h1>{escape(title)}</h1>"
        assert sum(heading in page for page in pages) == 1, title
