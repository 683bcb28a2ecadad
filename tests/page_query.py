"""The reference for what the search page answers: lunr.py's results for the query the page
builds from a text, computed here from lunr.py's own index and the documents' texts, not from
anything the build wrote.

- lunr syntax (title:, +, -, ~, *, ^) as lunr's parser reads it; plain words each through
  the pipeline, the last (of 3+ letters, ending the text) also as a prefix at half weight;
- each quoted phrase: its words required, and only the documents whose field has those words
  together and in order (after a -, only those without), found by tokenizing the texts;
- a plain word of 5+ letters that fewer than FEW documents have (with its prefix, while typed)
  brings in the MAX_FIXES commonest index terms of letters within lunr's edit distance (1 up to
  8 letters, 2 above), each an optional clause at a quarter of its weight; the documents that
  have a corrected word as typed rank first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lunr.query import Query, QueryPresence
from lunr.query_parser import QueryParser
from lunr.stemmer import stemmer
from lunr.stop_word_filter import stop_word_filter
from lunr.token import Token
from lunr.token_set import TokenSet
from lunr.tokenizer import Tokenizer
from lunr.trimmer import full_re as TRIM

LUNR_SYNTAX = re.compile(r"[:~*^]|(^|\s)[+\-]")
PHRASE = re.compile(r'(^|\s)([+\-]?)(?:([^\s:"]+):)?"([^"]*)(?:"|$)')
LETTERS = re.compile(r"[^\W\d_]+\Z")
FEW, MAX_FIXES, FUZZY_BOOST = 3, 3, 0.25


@dataclass(frozen=True)
class Phrase:
    words: tuple[tuple[str, int], ...]  # (term, the word's number in the phrase)
    fields: tuple[str, ...]
    prohibited: bool


@dataclass(frozen=True)
class Answer:
    hits: list[dict]
    fixes: list[list[str]]  # each corrected word's near spellings, in the query's order


def term_of(token: str) -> str:
    """The index term a word of a text makes (trimmer, stop words, stemmer), or ""."""
    word = TRIM.sub(r"\1", token.lower())
    if not word or stop_word_filter(word) is None:
        return ""
    return str(stemmer(Token(word)))


def terms_at(text: str) -> dict[int, str]:
    """A text's terms by their token's number, as the index's word positions count them."""
    return {token.metadata["index"]: term for token in Tokenizer(text) if (term := term_of(str(token)))}


def phrases_in(text: str, fields: list[str]) -> tuple[str, bool, list[Phrase]]:
    """The text without its quoted phrases, whether that rest ends the text, and the phrases."""
    rest, at, found = "", 0, []
    for match in PHRASE.finditer(text):
        rest += text[at:match.start()] + match.group(1) + " "
        at = match.end()
        words = tuple((term, number) for number, term in terms_at(match.group(4)).items())
        if words:
            found.append(Phrase(words, (match.group(3),) if match.group(3) else tuple(fields), match.group(2) == "-"))
    rest_last = at < len(text) or not at
    return (rest + text[at:]).strip(), rest_last, found


def has_phrase(fields: dict[str, str], phrase: Phrase) -> bool:
    for field in phrase.fields:
        terms = terms_at(fields[field])
        first, number = phrase.words[0]
        for start, term in terms.items():
            if term == first and all(terms.get(start - number + at) == word for word, at in phrase.words):
                return True
    return False


def query_of(index, rest: str, rest_last: bool, phrases: list[Phrase]) -> Query:
    query = index.create_query()
    if LUNR_SYNTAX.search(rest):
        QueryParser(rest, query).parse()
    else:
        words = [word for word in (TRIM.sub(r"\1", token) for token in re.split(r"[\s\-]+", rest.lower())) if word]
        for position, word in enumerate(words):
            query.term(word, use_pipeline=True)
            if rest_last and position == len(words) - 1 and len(word) >= 3:
                query.term(word, use_pipeline=False, wildcard=Query.WILDCARD_TRAILING, boost=0.5)
    for phrase in phrases:
        if not phrase.prohibited:
            for term, _ in phrase.words:
                query.term(term, use_pipeline=False, fields=list(phrase.fields), presence=QueryPresence.REQUIRED)
    return query


def docs_with(index, term: str, fields) -> set[str]:
    posting = index.inverted_index.get(term, {})
    return {ref for field in fields for ref in posting.get(field, {})}


def near_spellings(index, query: Query) -> dict[int, tuple[str, list[str]]]:
    """Clause number -> (its term, its near spellings) for the words the page corrects."""
    counts = {term: len(docs_with(index, term, index.fields)) for term in index.inverted_index
              if len(term) >= 3 and LETTERS.match(term)}
    dictionary = TokenSet.from_list(sorted(counts))
    fixes = {}
    for number, clause in enumerate(query.clauses):
        letters = len(clause.term)
        distance = 0 if letters < 5 else 1 if letters <= 8 else 2
        if (not clause.use_pipeline or not distance or clause.edit_distance or clause.wildcard != Query.WILDCARD_NONE
                or clause.presence != QueryPresence.OPTIONAL):
            continue
        term = index.pipeline.run_string(clause.term, {"fields": clause.fields})[0]
        matched = docs_with(index, term, clause.fields)
        after = query.clauses[number + 1] if number + 1 < len(query.clauses) else None
        if after is not None and after.wildcard == Query.WILDCARD_TRAILING and after.term == clause.term + "*":
            for other in index.inverted_index:
                if other.startswith(clause.term):
                    matched |= docs_with(index, other, after.fields)
        if len(matched) >= FEW:
            continue
        near = [t for t in dictionary.intersect(TokenSet.from_fuzzy_string(term, distance)).to_list() if t != term]
        near.sort(key=lambda t: (-counts[t], t))
        if near:
            fixes[number] = (term, near[:MAX_FIXES])
    return fixes


def as_the_page_asks(index, text: str, texts: list[tuple[str, ...]] | None = None) -> Answer:
    """The page's answer, lunr.py's hits with their scores (texts: the documents' fields, in
    index.fields order, needed for phrases)."""
    rest, rest_last, phrases = phrases_in(text, index.fields)
    query = query_of(index, rest, rest_last, phrases)
    fixes = near_spellings(index, query)
    for number, (_, near) in fixes.items():
        clause = query.clauses[number]
        for term in near:
            query.term(term, use_pipeline=False, boost=clause.boost * FUZZY_BOOST, fields=list(clause.fields))
    hits = index.query(query) if query.clauses else []
    for phrase in (phrase for phrase in phrases if len(phrase.words) > 1):
        assert texts is not None, "a phrase needs the documents' texts"
        hits = [hit for hit in hits if has_phrase(dict(zip(index.fields, texts[int(hit["ref"])])), phrase)
                != phrase.prohibited]
    if fixes:
        typed = set().union(*(docs_with(index, fixes[number][0], query.clauses[number].fields) for number in fixes))
        hits = [hit for hit in hits if hit["ref"] in typed] + [hit for hit in hits if hit["ref"] not in typed]
    return Answer(hits, [near for _, (_, near) in sorted(fixes.items())])
