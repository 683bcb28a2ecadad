"""The term dictionary that near spellings are looked up in (search-spelling.js): every index
term of letters with the number of papers that have it, by length in characters.

It is written in two parts, so that a day's digest does not make the whole of it again:
- `search/words-N.js`: the terms of the full segments, whose documents never change. These
  files are made again only when a segment fills up (every SEGMENT_DOCS papers), and a build
  that keeps them reads nothing of them: it needs only their lengths, which the store keeps
  under the full segments' keys.
- `search/words-tail-N.js`: the terms of the other segments (fewer than SEGMENT_DOCS papers).

The page adds up the two parts of a length (search-index.js), so the counts it sees are the
whole index's."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Callable, Iterator, Mapping

from generator.output import OutputFile
from generator.searchindex import script, utf16_order
from generator.store import Memory

DICTIONARY_MIN = 3  # characters: a shorter term is no near spelling of a word of five letters
LETTERS = re.compile(r"[^\W\d_]+\Z")  # dictionary terms: words of letters only (no "(4.3%", "gpt4")

Vocabulary = list  # [[term, documents], ...]: a segment's terms, as searchindex.vocabulary gives them
Key = Callable[[str, object], str]  # (path, what it is made of: JSON-able) -> the file's key


def dictionary_words(vocabulary: Vocabulary) -> dict[str, int]:
    """The terms of a vocabulary that the term dictionary lists (words of letters, from
    DICTIONARY_MIN characters), with their document counts."""
    return {term: count for term, count in vocabulary if len(term) >= DICTIONARY_MIN and LETTERS.match(term)}


def term_counts(parts: list[dict[str, int]]) -> dict[str, int]:
    """The parts' counts added up (the first, usually the largest, copied whole)."""
    counts: dict[str, int] = dict(parts[0]) if parts else {}
    for part in parts[1:]:
        for term, count in part.items():
            counts[term] = counts.get(term, 0) + count
    return counts


def term_dictionary(parts: list[dict[str, int]]) -> dict[int, list[list]]:
    """Every term of letters with the documents that have it (dictionary_words, added up over
    the parts), by its length in characters, in JavaScript's order: what a word's near
    spellings are looked up in (a query loads the lengths a near spelling can have)."""
    counts = term_counts(parts)
    by_length: dict[int, list[list]] = {}
    for term in sorted(counts, key=utf16_order):
        by_length.setdefault(len(term), []).append([term, counts[term]])
    return by_length


def settled_name(version: str, full_keys: list[str]) -> str:
    """The store's name for what the full segments' part is made of (this code and their keys)."""
    made_of = "/".join([version] + full_keys)
    return "words-" + hashlib.blake2b(made_of.encode(), digest_size=16).hexdigest()


class Dictionary:
    """The two parts of one build's term dictionary. Whether the full segments' part can be
    kept as the last build wrote it is known when it is made (`settled`): then none of their
    vocabularies is needed. `files()` makes what must be made."""

    def __init__(self, memory: Memory, name: str, previous: Mapping[str, str], key: Key) -> None:
        self.memory, self.name, self.previous, self.key = memory, name, previous, key
        self.lengths = self.remembered()

    @property
    def settled(self) -> bool:
        return self.lengths is not None

    def remembered(self) -> list[int] | None:
        """The lengths of the full segments' part, if the last build kept them and the site has
        each of its files as this build would make it."""
        found = self.memory.get(self.name)
        try:
            lengths = json.loads(found) if found is not None else None
        except ValueError:
            return None
        if not isinstance(lengths, list) or not all(type(length) is int for length in lengths):
            return None
        in_site = all(self.previous.get(path) == self.key(path, self.name) for path in map(settled_path, lengths))
        return lengths if in_site else None

    def files(self, full: Callable[[], list[Vocabulary]], tail: list[Vocabulary],
              tail_keys: list[str]) -> tuple[list[int], list[int], list[OutputFile]]:
        """(the lengths of the full segments' part, those of the tail's, the files of both).
        `full` gives the full segments' vocabularies: called only if their part is made again."""
        files = []
        if self.lengths is not None:
            lengths = self.lengths
            files += [OutputFile(path, None, self.key(path, self.name)) for path in map(settled_path, lengths)]
        else:
            settled = term_dictionary([dictionary_words(vocabulary) for vocabulary in full()])
            lengths = sorted(settled)
            self.memory.put(self.name, json.dumps(lengths).encode())
            files += [self.made(settled_path(length), self.name, length, settled[length]) for length in lengths]
        rest = term_dictionary([dictionary_words(vocabulary) for vocabulary in tail])
        files += [self.made(f"search/words-tail-{length}.js", tail_keys, length, rows) for length, rows in sorted(rest.items())]
        return lengths, sorted(rest), files

    def made(self, path: str, made_of: object, length: int, rows: list[list]) -> OutputFile:
        key = self.key(path, made_of)
        return OutputFile(path, None, key) if self.previous.get(path) == key else OutputFile(path, script("words", length, rows), key)


def settled_path(length: int) -> str:
    return f"search/words-{length}.js"
