"""Full-text search: the data of a lunr index, cut so that adding papers rewrites only a little.

What the browser runs is lunr.js, unmodified: it parses the query, expands wildcards, applies
field boosts and scores matches. What this module writes is what lunr's scores are made of,
not the scores: for every term, field and document the term's frequency, and every document's
field lengths, counted with lunr.py's own analysis pipeline (its tokenizer's separators,
trimmer, stop-word filter and Porter stemmer). lunr.py's Builder is not used: it splits text
one character at a time in Python and keeps per-token metadata (~2.5 ms per abstract). Here
each distinct token goes through the pipeline once, and tests check the scores the browser
computes against lunr.py's Builder, term by term.

lunr's BM25 score of a posting depends on the whole collection (the document count, the average
field lengths, the number of documents with the term), so precomputed scores would change
everywhere whenever a paper is added. Term frequencies and lengths do not, so:

- Documents are numbered by first appearance (`document_order`): a new newest digest only
  appends documents.
- Documents are cut into segments whose bounds depend only on the document count (`segments`):
  full segments of SEGMENT_DOCS, then the rest as a binary counter of power-of-two blocks, so
  appending documents leaves every earlier segment, and its files, as it was.
- Inside a segment, terms are sorted (in JavaScript's string order) and cut into buckets of
  about BUCKET_BYTES, never inside a key (a term's first KEY_CHARS characters): a query term
  loads one bucket per segment (the segments' heads, which say where each bucket starts, are
  in meta.js).
- search.js adds up N and the field-length sums over the segments, computes lunr.js's Builder
  score for each posting of the terms a query needs (every posting of such a term is loaded,
  so its document frequency is exact), and assembles a lunr.Index with lunr's public
  constructor. lunr scores a match as dot(query, field vector) / |query|, which touches only
  the query's terms, so a lunr.Index over just those terms ranks exactly as the whole one.
  (search.js also counts the matches itself and gives lunr only the documents that can rank
  among the first 50, so that a word in every abstract does not cost lunr 30,000 matches.)

Each segment's files have a key (a hash of its documents' text, its range, the format and
this module), made without analysis: a later build that finds the same key for every file of
a segment, and the segment's head and vocabulary in the store, reuses them (OutputFile with
data=None), so adding a digest analyses only the last segments. Result-row chunks are keyed by
their segment's key and their papers' slugs, dates and author lines.

The fields are the title, the abstract and the authors (`author`: the names joined by spaces,
so lunr's tokenizer makes a term of each given name and surname; a hyphen splits too). A paper
with no authors (every classic text dump) has an empty author field, as lunr's Builder has it:
length 0, and still counted in the field's average length (lunr.py and lunr.js both divide the
sum of a field's lengths by the number of documents, all of which have every field).

Files (every one a script that calls `paperdigestSearch.<kind>(...)`, since fetch() of JSON
is blocked on file:// pages; doc numbers inside a segment count from its start):
  search/meta.js              format, fields, boosts, k1, b, document count, row chunk size,
                              key length, the segments as [start, end] pairs, the taxonomy's
                              topics as [slug, name] pairs, and each segment's head: {documents,
                              lengths: per field, each doc's term count as text
                              (searchindex.packed_lengths), trailing zeros left out (a segment
                              with no authors has ""); sums: per field; buckets: [[first key,
                              bytes, positions' bytes], ...]}. (Every query needs every head:
                              in meta, they cost no file of their own, nor a wait after meta.)
  search/terms-S-E-B.js       terms(S, B, [[term, title postings, abstract postings, author
                              postings], ...]), trailing empty postings left out (most terms
                              are in no author's name: their rows are as without the field);
                              postings flat: (doc gap << 1 | tf > 1), then tf when above 1
  search/pos-S-E-B.js         positions(S, B, [[title, abstract, author positions], ...]): a row
                              per row of terms-S-E-B, without the term; per posting its tf
                              word positions (its first, then gaps), flat: what a quoted phrase
                              needs to check that its words are in order and together
  search/facets-S-E.js        facets(S, {days: each doc's dated appearances as days since
                              1970-01-01, ascending; topics: each doc's topics as numbers into
                              meta's topics}): what sorting by date and the topic and date
                              filters read; loaded only by a query that uses them
  search/text-N.js            text(N, [abstract, ...]) for docs N*TEXT_CHUNK...: the whole
                              abstracts, for excerpts around the matches of results on screen
  search/docs-N.js            docs(N, [[title, slug, last featured, snippet(, authors)], ...])
                              for docs N*CHUNK... in document order; authors, the short author
                              line ("A. Lovelace, A. Turing +3"), only where there is one
  search/words-N.js           words(N, [[term, documents], ...]): the terms of N letters of the
  search/words-tail-N.js      full segments, and of the others (searchwords.py); meta's
                              `words` and `tailWords` list the lengths that have each
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import lunr

from generator import searchindex, searchwords
from generator.catalog import Appearance, Catalog, Paper, text_hash
from generator.topics import Tagging, Taxonomy
from generator.metadata import short_authors
from generator.output import OutputFile
from generator.searchindex import BOOSTS, FIELDS, FORMAT, K1, KEY_CHARS, B, encode_segment, script
from generator.searchwords import Dictionary, settled_name
from generator.store import Memory, Store
from generator.theme import long_date
from generator.workers import forked_map

# Full segments; the rest is cut into power-of-two blocks down to BLOCK_MIN. A query loads a
# bucket per segment for each word, and a file costs the page more than its bytes, so fewer,
# larger segments answer sooner (benchmarks/README.md has 8,192 against 4,096 measured).
SEGMENT_DOCS = 8192
BLOCK_MIN = 64  # and a last block of fewer
DOCS_PER_CHUNK = 32
TEXT_CHUNK = 8  # abstracts per text file: loaded for the results on screen, for their excerpts
SNIPPET_CHARS = 240
PARALLEL_MIN_DOCS = 2 * SEGMENT_DOCS  # analyse in forked workers from this many stale documents


# --- document numbers and segments ------------------------------------------------------------

def document_order(catalog: Catalog) -> list[Paper]:
    """Papers by first appearance: those only ever in undated digests first (by digest, then
    position), then by the date and position of their first dated appearance; ties by key.

    Digests are ordered dated oldest first, then undated, and so are a paper's appearances, so
    a paper with any dated appearance has its first dated one first. A new newest digest
    therefore only appends documents."""
    rank = {digest.slug: number for number, digest in enumerate(catalog.digests)}  # dated ones by date

    def first_appearance(paper: Paper) -> tuple[bool, int, int, str]:
        first = paper.appearances[0]
        return (first.date is not None, rank[first.digest], first.position, paper.key)

    return sorted(catalog.papers, key=first_appearance)


def segments(count: int) -> list[range]:
    """Document ranges that depend on the count alone: full segments of SEGMENT_DOCS, then the
    remainder's binary digits from SEGMENT_DOCS/2 down to BLOCK_MIN, then what is left.

    Appending documents only ever replaces the last few ranges (like a counter's low bits),
    every earlier range stays as it was."""
    sizes = [SEGMENT_DOCS] * (count // SEGMENT_DOCS)
    rest = count % SEGMENT_DOCS
    block = SEGMENT_DOCS // 2
    while block >= BLOCK_MIN:
        if rest & block:
            sizes.append(block)
        block //= 2
    if rest % BLOCK_MIN:
        sizes.append(rest % BLOCK_MIN)
    found, start = [], 0
    for size in sizes:
        found.append(range(start, start + size))
        start += size
    return found


def segment_paths(segment: range, buckets: int) -> list[str]:
    name = f"{segment.start}-{segment.stop}"
    return [f"search/terms-{name}-{bucket}.js" for bucket in range(buckets)] + \
        [f"search/pos-{name}-{bucket}.js" for bucket in range(buckets)]


# Of every module that shapes the index's files (the keys of kept files are made of it).
CODE_VERSION = hashlib.blake2b(b"".join(Path(path).read_bytes() for path in (__file__, searchindex.__file__, searchwords.__file__))
                               + lunr.__VERSION__.encode(), digest_size=8).hexdigest()


def author_text(paper: Paper) -> str:
    """The author field: the names as one text, split by lunr's tokenizer into their words."""
    return " ".join(paper.meta.authors)


def document_texts(papers: Sequence[Paper]) -> list[tuple[str, ...]]:
    """Each document's fields, in FIELDS order."""
    return [(paper.title, paper.abstract, author_text(paper)) for paper in papers]


def segment_key(segment: range, papers: Sequence[Paper]) -> str:
    """What a segment's files are made from, hashed: this module and lunr.py's version, the
    format, the range, and each document's fields (by the hash of the paper's title, abstract
    and authors that the catalog made: catalog.text_hash)."""
    digest = hashlib.sha256(f"{CODE_VERSION}/{FORMAT}/{segment.start}-{segment.stop}/".encode())
    digest.update("".join([text_hash(paper) for paper in papers]).encode())
    return digest.hexdigest()[:32]


# --- files ------------------------------------------------------------------------------------------

def latest(paper: Paper) -> Appearance:
    """paper.latest without a list per paper: appearances are dated ones first, then undated."""
    last = paper.appearances[-1]
    return last if last.date is not None or paper.appearances[0].date is None else paper.latest


def snippet(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def reusable(previous: Mapping[str, str], segment: range, key: str, buckets: int) -> list[OutputFile] | None:
    """The segment's files as the last build recorded them, if all of them carry this key (with
    the bucket count its head in the store gives: every file of a segment carries
    `<key>.<bucket count>`)."""
    recorded = f"{key}.{buckets}"
    paths = segment_paths(segment, buckets)
    if any(previous.get(path) != recorded for path in paths):
        return None
    return [OutputFile(path, None, recorded) for path in paths]


def search_files(catalog: Catalog, previous: Mapping[str, str] | None = None,
                 tagging: Tagging | None = None, store: Store | None = None) -> Iterator[OutputFile]:
    """The whole search index: meta, each segment's head, buckets and facets, result-row
    chunks, abstracts and the term dictionary.

    `previous` maps each path of the last build to the key it recorded: a segment whose files
    all carry the key it would have now, and whose vocabulary the store kept, is yielded with
    data=None and not analysed again."""
    previous = previous or {}
    tagging = tagging or Tagging(Taxonomy(), {})
    memory = (store or Store()).memory("search-segments")
    papers = document_order(catalog)
    cuts = segments(len(papers))
    keys = [segment_key(segment, papers[segment.start:segment.stop]) for segment in cuts]
    key_of = dict(zip(cuts, keys))
    kept: dict[range, list[OutputFile]] = {}
    heads: dict[range, dict] = {}
    words: dict[range, str] = {}  # each kept segment's vocabulary, as its JSON text: read only when needed
    for segment, key in zip(cuts, keys):
        known = remembered(memory, key)
        reused = reusable(previous, segment, key, len(known[0]["buckets"])) if known is not None else None
        if reused is not None:
            kept[segment], (heads[segment], words[segment]) = reused, known
    # The term dictionary's part of the full segments (whose documents never change) is kept as
    # the site has it, when it can be: then only the other segments' vocabularies are read.
    full = [segment for segment in cuts if len(segment) == SEGMENT_DOCS]
    dictionary = Dictionary(memory, settled_name(CODE_VERSION, [key_of[segment] for segment in full]), previous, file_key)
    counted = {segment: vocabulary_of(words[segment]) for segment in kept
               if not dictionary.settled or segment not in full}
    for segment in [segment for segment, rows in counted.items() if rows is None]:
        del kept[segment], counted[segment]  # its vocabulary is damaged: analysed again
    stale = [(segment, key) for segment, key in zip(cuts, keys) if segment not in kept]
    made: dict[range, list[OutputFile]] = {}
    for (segment, key), (head, files, vocabulary) in zip(stale, encoded(papers, [segment for segment, _ in stale])):
        recorded = f"{key}.{len(head['buckets'])}"
        made[segment] = [OutputFile(path, data, recorded)
                         for path, data in zip(segment_paths(segment, len(head["buckets"])), files)]
        heads[segment], counted[segment] = head, json.loads(vocabulary)
        memory.put(key, b'{"head":' + json.dumps(head, separators=(",", ":")).encode() + b',"vocabulary":'
                   + json.dumps(vocabulary.decode()).encode() + b"}")
    tail = [segment for segment in cuts if segment not in full]
    settled, unsettled, dictionary_files = dictionary.files(lambda: [counted[segment] for segment in full],
                                                            [counted[segment] for segment in tail],
                                                            [key_of[segment] for segment in tail])
    meta = {
        "format": FORMAT,
        "fields": list(FIELDS),
        "boosts": [BOOSTS[field] for field in FIELDS],
        "k1": K1,
        "b": B,
        "documents": len(papers),
        "chunk": DOCS_PER_CHUNK,
        "keyChars": KEY_CHARS,
        "textChunk": TEXT_CHUNK,
        "segments": [[segment.start, segment.stop] for segment in cuts],
        "topics": [[topic.slug, topic.name] for topic in tagging.taxonomy.topics],
        "words": settled,
        "tailWords": unsettled,
        "heads": [heads[segment] for segment in cuts],
    }
    yield OutputFile("search/meta.js", script("meta", meta))
    yield from facet_files(papers, cuts, tagging, previous)
    for segment in cuts:
        yield from kept.get(segment) or made[segment]
    yield from row_chunks(catalog, papers, key_of, previous)
    yield from text_chunks(papers, key_of, previous)
    yield from dictionary_files


def remembered(memory: Memory, key: str) -> tuple[dict, str] | None:
    """A segment's head and vocabulary (as its JSON text, read when needed: vocabulary_of) as the
    last build kept them, or None when they are missing or not of their shape (a damaged entry
    is a miss: the segment is simply analysed again)."""
    known = memory.get(key)
    try:
        entry = json.loads(known) if known is not None else None
    except ValueError:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("head"), dict) or not isinstance(entry.get("vocabulary"), str):
        return None
    head = entry["head"]
    shaped = type(head.get("documents")) is int and all(isinstance(head.get(name), list) for name in ("lengths", "sums", "buckets")) \
        and all(isinstance(bucket, list) and len(bucket) == 3 for bucket in head["buckets"])
    return (head, entry["vocabulary"]) if shaped else None


def vocabulary_of(text: str) -> list | None:
    """A kept vocabulary, read: [[term, documents], ...], or None if it is not of that shape."""
    try:
        rows = json.loads(text)
    except ValueError:
        return None
    whole = isinstance(rows, list) and all([isinstance(row, list) and len(row) == 2 and isinstance(row[0], str)
                                            and type(row[1]) is int for row in rows])
    return rows if whole else None


def row_chunks(catalog: Catalog, papers: list[Paper], keys: dict[range, str],
               previous: Mapping[str, str]) -> Iterator[OutputFile]:
    """Result rows in chunks of DOCS_PER_CHUNK. A chunk's key is its segment's key (which covers
    each paper's fields) with its papers' slugs, last-featured dates and author lines (which
    also depend on an author count, and on where one name ends), so a chunk is made again only
    when one of those changed (a repeat moves a paper's date)."""
    dates = {digest.slug: long_date(digest) for digest in catalog.digests}
    featured = [dates[latest(paper).digest] for paper in papers]
    bylines = [short_authors(paper.meta) for paper in papers]
    for start in range(0, len(papers), DOCS_PER_CHUNK):
        number, stop = start // DOCS_PER_CHUNK, min(start + DOCS_PER_CHUNK, len(papers))
        path = f"search/docs-{number}.js"
        inputs = [keys[cut] for cut in keys if cut.start < stop and start < cut.stop]
        inputs += [[paper.slug for paper in papers[start:stop]], featured[start:stop], bylines[start:stop]]
        key = hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:32]
        if previous.get(path) == key:
            yield OutputFile(path, None, key)
            continue
        rows = [[paper.title, paper.slug, date, snippet(paper.abstract)] + ([byline] if byline else [])
                for paper, date, byline in zip(papers[start:stop], featured[start:stop], bylines[start:stop])]
        yield OutputFile(path, script("docs", number, rows), key)


def text_chunks(papers: list[Paper], keys: dict[range, str], previous: Mapping[str, str]) -> Iterator[OutputFile]:
    """Whole abstracts, TEXT_CHUNK to a file, for the excerpt around a result's matches: the
    page loads one only for a result shown on screen (rows carry just the abstract's start).
    A chunk is keyed by the keys of the segments it falls in, which cover its abstracts (not
    by the abstracts themselves: 70 MB of them at 30,000 papers, to hash on every build)."""
    for start in range(0, len(papers), TEXT_CHUNK):
        number, stop = start // TEXT_CHUNK, min(start + TEXT_CHUNK, len(papers))
        covering = [key for cut, key in keys.items() if cut.start < stop and start < cut.stop]
        yield kept_or_made(f"search/text-{number}.js", covering, previous,
                           lambda: script("text", number, [paper.abstract for paper in papers[start:stop]]))


def kept_or_made(path: str, made_of: object, previous: Mapping[str, str], make) -> OutputFile:
    """A small file keyed by what it is made of (JSON-able): kept (data None) when the last
    build wrote it from the same, so an unchanged one neither crosses the pipe nor is written."""
    key = file_key(path, made_of)
    return OutputFile(path, None, key) if previous.get(path) == key else OutputFile(path, make(), key)


def file_key(path: str, made_of: object) -> str:
    return hashlib.blake2b(json.dumps([CODE_VERSION, path, made_of]).encode(), digest_size=16).hexdigest()


EPOCH = date(1970, 1, 1).toordinal()


def facet_files(papers: list[Paper], cuts: list[range], tagging: Tagging,
                previous: Mapping[str, str]) -> Iterator[OutputFile]:
    """Each segment's facets: when each paper was featured and its topics. A repeat of an old
    paper changes its segment's facets, so they are a file of their own, not part of the head
    (whose key covers the text alone): a few bytes per paper."""
    numbers = {topic.slug: number for number, topic in enumerate(tagging.taxonomy.topics)}
    taxonomy = repr(tagging.taxonomy)  # (a paper's topics are its text's, under this taxonomy)
    for segment in cuts:
        chosen = papers[segment.start:segment.stop]

        def facets() -> dict:
            return {"days": [sorted({a.date.toordinal() - EPOCH for a in paper.appearances if a.date}) for paper in chosen],
                    "topics": [[numbers[topic.slug] for topic in tagging.of(paper)] for paper in chosen]}

        path = f"search/facets-{segment.start}-{segment.stop}.js"
        if all(paper.fingerprint for paper in chosen):  # they cover the appearances and the text: what facets are made of
            yield kept_or_made(path, [taxonomy, [paper.fingerprint for paper in chosen]], previous,
                               lambda: script("facets", segment.start, facets()))
        else:
            made = facets()
            yield kept_or_made(path, made, previous, lambda: script("facets", segment.start, made))


def _encode(papers: list[Paper], segment: range) -> tuple[dict, list[bytes], bytes]:
    return encode_segment(segment, document_texts(papers[segment.start:segment.stop]))


def encoded(papers: list[Paper], stale: list[range]) -> Iterator[tuple[dict, list[bytes], bytes]]:
    """Each stale segment's files, in order: in forked workers when there is enough to do."""
    return forked_map(_encode, stale, papers, enough=sum(map(len, stale)) >= PARALLEL_MIN_DOCS)
