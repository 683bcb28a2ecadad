"""Topic tags: each paper gets up to a few topics from a small keyword taxonomy.

The taxonomy is data, not code: generator/topics.toml is the default, and a site replaces it
with content/topics.toml (its format and the matching rules are documented in that file).
A paper's topics are a pure function of its title, its abstract and the taxonomy, so page
keys (keys.Keys) cover them by hashing the taxonomy once into their salt.

Matching is plain word matching, deliberately: it is explainable to a reader ("tagged
'Causality' because the title says 'causal'"), editable by anyone, and deterministic. It runs
on C string operations and set lookups, about 90 µs a paper of real length; a table of the
build's store (store.py) keeps each paper's topics under a hash of its text, so a build tags only new or
edited papers, and a first build of many papers tags them in forked workers.
"""

from __future__ import annotations

import hashlib
import re
import string
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from slugify import slugify

from generator.store import Store
from generator.catalog import Paper, text_hash
from generator.diagnostics import BuildError, Diagnostic, error, warning
from generator.workers import forked_map

DEFAULT = Path(__file__).resolve().parent / "topics.toml"
SETTINGS = {"per_paper", "min_score", "title_weight", "topic"}
TOPIC_KEYS = {"name", "slug", "description", "keywords"}
PARALLEL_MIN_PAPERS = 4000  # fewer are tagged here: starting workers would cost more than it saves
BATCH = 1000  # papers per task handed to a worker


@dataclass(frozen=True)
class Topic:
    slug: str  # topics/<slug>.html
    name: str
    description: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[Topic, ...] = ()
    per_paper: int = 3  # at most this many topics a paper
    min_score: float = 3  # a topic needs this score to be given
    title_weight: float = 3  # points for a keyword in the title (1 in the abstract)


@dataclass(frozen=True)
class Tagging:
    """The topics of every paper (by Paper.key), in the order the paper scored them."""

    taxonomy: Taxonomy
    by_paper: Mapping[str, tuple[Topic, ...]]

    def of(self, paper: Paper) -> tuple[Topic, ...]:
        return self.by_paper.get(paper.key, ())


def load_taxonomy(content: Path) -> tuple[Taxonomy, list[Diagnostic]]:
    """content/topics.toml if the site has one, else the bundled default. Problems are errors
    naming the file and, where the TOML parser or the [[topic]] headers tell, the line."""
    path = content / "topics.toml"
    path = path if path.exists() else DEFAULT
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise BuildError([error(shown, None, f"not valid UTF-8 at byte {exc.start}", "re-save the file as UTF-8")])
    except tomllib.TOMLDecodeError as exc:
        raise BuildError([error(shown, _line_of(str(exc)), f"invalid TOML: {exc}", "fix the syntax at that line")])
    problems: list[Diagnostic] = []
    notes = [warning(shown, None, f"unknown setting {key!r} is ignored", f"known settings: {', '.join(sorted(SETTINGS))}")
             for key in sorted(set(data) - SETTINGS)]
    lines = [number for number, line in enumerate(text.splitlines(), 1) if line.strip().startswith("[[topic]]")]
    raw = data.get("topic", [])
    if not isinstance(raw, list):
        raw, _ = [], problems.append(error(shown, None, "topic must be a list of [[topic]] tables"))
    topics = [_topic(entry, shown, lines[n] if n < len(lines) else None, problems, notes) for n, entry in enumerate(raw)]
    seen: dict[str, int] = {}
    for number, topic in enumerate(topics):
        if topic and topic.slug in seen:
            problems.append(error(shown, lines[number] if number < len(lines) else None,
                                  f"two topics have the slug {topic.slug!r}", "give one of them another name or slug"))
        elif topic:
            seen[topic.slug] = number
    taxonomy = Taxonomy(
        tuple(topic for topic in topics if topic),
        per_paper=_number(data, "per_paper", Taxonomy.per_paper, shown, problems, whole=True),
        min_score=_number(data, "min_score", Taxonomy.min_score, shown, problems),
        title_weight=_number(data, "title_weight", Taxonomy.title_weight, shown, problems),
    )
    if problems:
        raise BuildError(problems)
    return taxonomy, notes


def _topic(entry: Any, shown: str, line: int | None, problems: list[Diagnostic],
           notes: list[Diagnostic]) -> Topic | None:
    if not isinstance(entry, dict):
        problems.append(error(shown, line, "each [[topic]] must be a table"))
        return None
    notes.extend(warning(shown, line, f"unknown topic setting {key!r} is ignored",
                         f"known: {', '.join(sorted(TOPIC_KEYS))}") for key in sorted(set(entry) - TOPIC_KEYS))
    name, description = entry.get("name"), entry.get("description", "")
    keywords = entry.get("keywords")
    if not isinstance(name, str) or not name.strip():
        problems.append(error(shown, line, "a topic needs a name (a non-empty string)"))
        return None
    if not isinstance(description, str):
        problems.append(error(shown, line, f"topic {name!r}: description must be a string"))
        return None
    if (not isinstance(keywords, list) or not keywords
            or not all(isinstance(word, str) and normalise(word) for word in keywords)):
        problems.append(error(shown, line, f"topic {name!r}: keywords must be a non-empty list of words or phrases"))
        return None
    slug = entry.get("slug", slugify(name))
    if not isinstance(slug, str) or not slug or slug != slugify(slug):
        problems.append(error(shown, line, f"topic {name!r}: slug must be lower-case letters, digits and hyphens",
                              f"for example {slugify(name)!r}"))
        return None
    return Topic(slug, name.strip(), description.strip(), tuple(keywords))


def _number(data: dict[str, Any], key: str, default: float, shown: str, problems: list[Diagnostic],
            whole: bool = False) -> Any:
    value = data.get(key, default)
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        problems.append(error(shown, None, f"{key} must be a positive {'whole ' if whole else ''}number, got {value!r}"))
        return default
    return value


def _line_of(message: str) -> int | None:
    found = re.search(r"at line (\d+)", message)
    return int(found.group(1)) if found else None


# Punctuation (ASCII, and the dashes and quotes common in abstracts) reads as a space. A table
# for str.translate, not a regex: 4 µs an abstract where a Unicode-aware regex takes 40.
SPACES = str.maketrans({char: " " for char in string.punctuation + "\u2010\u2011\u2012\u2013\u2014\u2015"
                        "\u2018\u2019\u201c\u201d\u00b7\u2022\u2026\u00a0"})


def words(text: str) -> list[str]:
    """Lower-case words: what keywords and texts are compared as."""
    return text.casefold().translate(SPACES).split()


def normalise(text: str) -> str:
    return " ".join(words(text))


def plural(word: str) -> str:
    """The regular English plural, enough for keywords ("process" -> "processes")."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


class Tagger:
    """A taxonomy compiled for matching. One-word keywords are looked up in the text's word
    counts; a phrase is counted in the text (padded with spaces, so only whole words match)
    only when all its words occur."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self.single: dict[str, list[int]] = {}  # word -> topics it scores for
        # first word -> (" padded phrase ", its other words, topic)
        self.phrases: dict[str, list[tuple[str, tuple[str, ...], int]]] = {}
        for number, topic in enumerate(taxonomy.topics):
            for keyword in sorted({normalise(keyword) for keyword in topic.keywords}):
                *head, last = keyword.split(" ")
                for form in sorted({keyword, " ".join(head + [plural(last)])}):
                    if head:
                        rest = tuple(form.split(" ")[1:])
                        self.phrases.setdefault(head[0], []).append((f" {form} ", rest, number))
                    else:
                        self.single.setdefault(form, []).append(number)
        self.single_words = frozenset(self.single)
        self.first_words = frozenset(self.phrases)

    def scores(self, text: str, weight: float, into: dict[int, float]) -> None:
        found = words(text)
        counts = Counter(found)
        for word in self.single_words.intersection(counts):
            for topic in self.single[word]:
                into[topic] = into.get(topic, 0) + weight * counts[word]
        starts = self.first_words.intersection(counts)
        if starts:
            padded = f" {' '.join(found)} "
            for word in starts:
                for phrase, rest, topic in self.phrases[word]:
                    times = padded.count(phrase) if all(other in counts for other in rest) else 0
                    if times:
                        into[topic] = into.get(topic, 0) + weight * times

    def tags(self, title: str, abstract: str) -> tuple[Topic, ...]:
        scored: dict[int, float] = {}
        self.scores(title, self.taxonomy.title_weight, scored)
        self.scores(abstract, 1, scored)
        ranked = sorted((topic for topic, score in scored.items() if score >= self.taxonomy.min_score),
                        key=lambda topic: (-scored[topic], topic))
        return tuple(self.taxonomy.topics[topic] for topic in ranked[:self.taxonomy.per_paper])


def tag_papers(papers: Iterable[Paper], taxonomy: Taxonomy, store: Store | None = None) -> Tagging:
    """The topics of every paper (papers with none are left out of the mapping).

    Topics depend on a paper's text and the taxonomy alone, so the store keeps them by the
    hash of its text the catalog made (Paper.text_hash), in a table of the taxonomy's
    version: adding a digest tags its new papers only (and a repeat whose text changed). Tagging
    30,000 papers (a first build) takes ~2.7 s of CPU, so many papers are tagged by forked
    workers, one per core."""
    tagger = Tagger(taxonomy)
    by_slug = {topic.slug: topic for topic in taxonomy.topics}
    version = hashlib.blake2b(repr(taxonomy).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
    known = (store or Store()).table("topics", version)
    papers = list(papers)
    texts = [text_hash(paper) for paper in papers]
    found_before = [known.get(text) for text in texts]
    todo = [paper for paper, slugs in zip(papers, found_before) if slugs is None]
    tagged = iter(tag_all(tagger, todo))
    found = {}
    for paper, text, slugs in zip(papers, texts, found_before):
        if slugs is None:
            slugs = next(tagged)
            known.put(text, slugs)
        if slugs:
            found[paper.key] = tuple(by_slug[slug] for slug in slugs)
    return Tagging(taxonomy, found)


def tag_all(tagger: Tagger, papers: list[Paper]) -> list[tuple[str, ...]]:
    """Each paper's topic slugs, in order: in forked workers when there are enough papers to
    pay for starting them (they inherit the papers; only the slugs come back)."""
    ranges = [(start, min(start + BATCH, len(papers))) for start in range(0, len(papers), BATCH)]
    found = forked_map(_tag_range, ranges, (tagger, papers), enough=len(papers) >= PARALLEL_MIN_PAPERS)
    return [slugs for batch in found for slugs in batch]


def _slugs(tagger: Tagger, paper: Paper) -> tuple[str, ...]:
    return tuple(topic.slug for topic in tagger.tags(paper.title, paper.abstract))


def _tag_range(work: tuple[Tagger, list[Paper]], bounds: tuple[int, int]) -> list[tuple[str, ...]]:
    tagger, papers = work
    return [_slugs(tagger, paper) for paper in papers[bounds[0]:bounds[1]]]


def papers_by_topic(papers: Iterable[Paper], tagging: Tagging) -> dict[str, list[Paper]]:
    """Topic slug -> its papers, in the order given; every topic of the taxonomy is present."""
    listed: dict[str, list[Paper]] = {topic.slug: [] for topic in tagging.taxonomy.topics}
    for paper in papers:
        for topic in tagging.of(paper):
            listed[topic.slug].append(paper)
    return listed
