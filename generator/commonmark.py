"""Untrusted text into CommonMark that reads back as exactly that text, with as few backslashes
as it takes: the Markdown twins are read by people and by language-model tools, and
`tasks\\. However` or `bin\\-based` helps neither.

A character is escaped only where CommonMark could read it as syntax (spec 0.31):
- anywhere: `*` and `` ` `` (emphasis, code spans), `[` and `]` (links, images), a backslash
  before punctuation or at the end (an escape or a hard line break), `<` before what could be a
  tag, a comment or an autolink, `&` where it would spell an entity (these two as `&lt;` and
  `&amp;`), `_` at the edge of a word
  (inside a word it cannot open or close emphasis), and a run of `#` at the very end (an ATX
  heading's closing sequence);
- at the start of a line (`at_start`), what would begin a block: `#` before a space (a heading),
  `>` (a quote), `-` or `+` before a space (a list item), a line of `-` or `=` (a thematic break
  or a setext underline), and the `.` or `)` of `12. ` (an ordered list).
Texts here are single lines: the readers fold whitespace, so indentation can start no code
block and no line ends in two spaces.
"""

from __future__ import annotations

import re

REFERENCES = {"<": "&lt;", "&": "&amp;"}
PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# Each alternative is one rule of the module's docstring; `[^\W_]` is a letter or digit.
SYNTAX = re.compile(
    r"[*`\[\]]"  # emphasis, code spans, links and images
    r"|\\(?=[" + re.escape("".join(sorted(PUNCTUATION))) + r"]|\Z)"  # an escape, or a hard break at the end
    r"|<(?=[A-Za-z/!?])"  # a tag, a comment, a declaration, an autolink
    r"|&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};)"  # an entity
    r"|_(?:(?<![^\W_]_)|(?![^\W_]))")  # an underscore at the edge of a word (not letter_letter)
CANDIDATES = re.compile(r"[*`\[\]\\<&_]")  # a text with none of these needs SYNTAX's work for nothing
CLOSING_HASHES = re.compile(r"(^|(?<= ))(#+)$")
BLOCK_START = re.compile(r"#{1,6}(?: |$)|>|[-+](?: |$)|(?:- *){3,}$|=+ *$|(?P<digits>\d{1,9})[.)](?: |$)")


def escape(text: str, at_start: bool = False) -> str:
    """`text` as CommonMark inline content that renders to exactly `text`.

    `<` and `&` are written as character references (`&lt;`, `&amp;`) rather than backslashed:
    CommonMark reads both forms, but other Markdown renderers (Python-Markdown, which MkDocs
    uses) do not take `\\<` as an escape and would pass a tag through. One regular expression
    finds every character to escape (the twins of 30,000 papers are ~50 MB of text)."""
    escaped = SYNTAX.sub(_escaped, text) if CANDIDATES.search(text) else text
    escaped = CLOSING_HASHES.sub(lambda match: match.group(1) + "\\#" * len(match.group(2)), escaped)
    return escape_line_start(escaped) if at_start else escaped


def _escaped(match: re.Match) -> str:
    char = match.group()
    return REFERENCES.get(char) or "\\" + char


def escape_line_start(escaped: str) -> str:
    """Escape what would begin a block: its first character, or the `.`/`)` of `12. `."""
    match = BLOCK_START.match(escaped)
    if not match:
        return escaped
    if match.group("digits"):
        at = len(match.group("digits"))
        return f"{escaped[:at]}\\{escaped[at:]}"
    return f"\\{escaped}"
