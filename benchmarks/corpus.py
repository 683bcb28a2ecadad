"""Deterministic benchmark corpora: synthetic Daily Papers dumps in exactly the seeds' format.

    python benchmarks/corpus.py --size M --out DIR     # DIR/site.toml + DIR/digests/*.txt
    python benchmarks/corpus.py --size M --variant mixed --out DIR   # a quarter as API JSON
    python benchmarks/corpus.py --size Mmix --out DIR                # the same

Sizes: S is the real seeds (content/ copied as is); XS, M, L and XL are generated (XL,
300,000 papers over 10,000 weekday digests back to November 1986, takes about 1.5 min and
writes 0.7 GB; abstracts, the hot path, are written in one loop of precomputed word facts).
The same
arguments always give byte-identical files (seeded random.Random with a string seed, no set or
hash-order iteration), whatever PYTHONHASHSEED is.

Variants: "text" (the default) writes every digest as a classic text dump. "mixed" (size names
with "mix" appended: Smix, XSmix, Mmix, Lmix, XLmix) writes every 4th dated digest (the 4th, 8th, ...)
as the Hugging Face daily papers API's JSON array instead, `digests/YYYY-MM-DD.json`, with IDs,
authors, upvotes, links and AI keywords for its papers (ApiPapers); everything else is the
all-text corpus's: the same papers, the same repeats, and the text dumps byte for byte the same
files (the JSON's details come from a random stream of their own).

How the text is made, from the seeds in content/digests:
- titles and abstracts come from two word-bigram chains trained on the seeds' distinct papers,
  so word frequencies, punctuation and sentence shapes follow the seeds;
- lengths are drawn from the seeds' own title and abstract lengths (titles 24-172 chars,
  abstracts ~1,300-2,000 chars; abstracts end at a sentence end);
- vocabulary grows with the corpus as real text does (Heaps' law): some content words are
  replaced by coined words (blends of seed words, acronyms such as model names), new ones at a
  falling rate, so a 30,000-paper corpus has ~10^5 distinct words, not the seeds' 6,500
  (that matters for the size of the search index);
- URLs appear where the seeds had them (~15% of abstracts), as new github.com / github.io /
  huggingface.co addresses;
- about 27% of the entries repeat a paper from an earlier digest (the seeds: 84 of 316), the
  same title and abstract, as on Hugging Face;
- one digest per weekday, oldest first; dates in default_year are written "Mar 14", earlier
  years "Mar 14, 2024" (some "March 14, 2024" and "2024-03-14").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import time
import tomllib
from dataclasses import dataclass
from itertools import pairwise
from datetime import date, timedelta
from pathlib import Path
import random

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from generator.catalog import paper_key  # noqa: E402
from generator.parse import parse_dump  # noqa: E402

SEEDS = REPO / "content"
HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\n"
REPEAT_RATIO = 0.27  # share of entries that repeat a paper from an earlier digest (seeds: 84/316)
PER_DIGEST = 30  # distinct new papers per digest in the generated sizes
LAST_DAY = date(2025, 3, 14)  # the newest digest of a generated corpus (the seeds' newest date)

# name -> (distinct papers, digests); S is the seeds themselves.
SIZES = {
    "S": None,
    "XS": (1_000, 34),
    "M": (5_000, 167),
    "L": (30_000, 1_000),
    "XL": (300_000, 10_000),  # for run.py --growth: ~1.5 min to write, 0.7 GB of dumps, Nov 1986-2025
}

# Variants: in "mixed", every JSON_EVERY-th dated digest is written as the API's JSON.
VARIANTS = ("text", "mixed")
MIXED = "mix"  # size name suffix: "Lmix" is L in the mixed variant
JSON_EVERY = 4
SIZE_NAMES = tuple(SIZES) + tuple(f"{size}{MIXED}" for size in SIZES)

TITLE_MIN, TITLE_MAX = 24, 172
ABSTRACT_MIN, ABSTRACT_MAX = 1_300, 2_000
NOT_SENTENCE_ENDS = frozenset({"e.g.", "i.e.", "al.", "vs.", "cf.", "Fig.", "Eq.", "resp."})
WEAK_ENDINGS = frozenset({"a", "an", "the", "of", "for", "and", "with", "in", "to", "via", "on", "by",
                          "from", "at", "as", "or", "is", "are", "its", "their", "into", "towards", "under"})
START, END, URL, URL_DOT = "\x02", "\x03", "\x00URL", "\x00URL."
URL_PARTS = ("", URL, "")  # abstract_words' mark for a URL placeholder

# Vocabulary growth. A content word is replaced by a coined word with probability SUBSTITUTE
# (COLON_NAME for a "Name:" title prefix). The m-th coined draw is a new word with probability
# COIN_C * COIN_D * m^(COIN_D - 1), so there are ~COIN_C * m^COIN_D coined words after m draws;
# otherwise an earlier coined word is reused in proportion to its use so far. Tuned so that
# distinct lowercased words follow the seeds' Heaps' law extrapolated (V ~ 10.1 n^0.594:
# 6,469 words in their 53k tokens; ~15.6k at 1,000 papers, ~40k at 5,000, ~117k at 30,000;
# this gives 17k, 41k and 129k).
SUBSTITUTE = 0.10
COLON_NAME = 0.9
COIN_C = 15.0
COIN_D = 0.69


@dataclass(frozen=True)
class Paper:
    title: str
    abstract: str


@dataclass(frozen=True)
class Digest:
    day: date
    papers: tuple[int, ...]  # indexes into the corpus' paper list, in page order


def train(texts: list[str]) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """Word-bigram successors (with multiplicity) and sentence starts, insertion-ordered."""
    chain: dict[str, list[str]] = {}
    starts: list[str] = []
    for text in texts:
        words = [URL_DOT if is_url(w) and w.endswith(".") else URL if is_url(w) else w for w in text.split()]
        previous = START
        for word in words:
            chain.setdefault(previous, []).append(word)
            if sentence_end(previous):
                starts.append(word)
            previous = word
        chain.setdefault(previous, []).append(END)
    return {word: tuple(following) for word, following in chain.items()}, tuple(starts)


def is_url(word: str) -> bool:
    return "://" in word or "github.com" in word or "www." in word or "huggingface.co" in word


def sentence_end(word: str) -> bool:
    return word.endswith((".", ".)")) and word not in NOT_SENTENCE_ENDS and not word.startswith(URL)


def core(word: str) -> tuple[str, str, str] | None:
    """(leading punctuation, word, trailing punctuation) for a plain alphabetic word of 4+ letters."""
    start, stop = 0, len(word)
    while start < stop and not word[start].isalnum():
        start += 1
    while stop > start and not word[stop - 1].isalnum():
        stop -= 1
    middle = word[start:stop]
    if len(middle) < 4 or not middle.replace("-", "").isalpha() or middle.lower() in WEAK_ENDINGS:
        return None
    return word[:start], middle, word[stop:]


class Coiner:
    """New words for a growing vocabulary, at a rate that falls as a power of the draws so far."""

    def __init__(self, rng: random.Random, stems: list[str]) -> None:
        self.rng = rng
        self.stems = stems
        self.words: list[str] = []
        self.draws: list[int] = []  # every draw, so a uniform pick reuses words by frequency

    def draw(self) -> str:
        rng, n, k = self.rng, len(self.draws), len(self.words)
        if n == 0 or rng.random() < COIN_C * COIN_D * n ** (COIN_D - 1):
            self.words.append(self.coin())
            choice = k
        else:
            choice = self.draws[int(rng.random() * n)]
        self.draws.append(choice)
        return self.words[choice]

    def coin(self) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.25:  # an acronym / model name: "GIOROM", "MSVMamba", "LLaVA-3"
            letters = "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUVW") for _ in range(rng.randint(2, 5)))
            if rng.random() < 0.4:
                letters += rng.choice(self.stems).capitalize()[:rng.randint(3, 6)]
            if rng.random() < 0.2:
                letters += f"-{rng.randint(1, 9)}"
            return letters
        a, b = rng.choice(self.stems), rng.choice(self.stems)
        word = a[: max(2, len(a) // 2 + rng.randint(-1, 1))] + b[len(b) // 2:]
        return word.capitalize() if kind > 0.85 else word


class TextModel:
    """Bigram chains and length distributions learnt from the seed dumps."""

    def __init__(self, seeds: Path = SEEDS / "digests") -> None:
        papers: dict[str, Paper] = {}
        for path in sorted(seeds.glob("*.txt")):
            for entry in parse_dump(path.name, path.read_bytes(), 2025).entries:
                papers.setdefault(paper_key(entry.title), Paper(entry.title, entry.abstract))
        self.seed_papers = list(papers.values())
        self.titles, self.title_starts = train([p.title for p in self.seed_papers])
        self.abstracts, self.sentence_starts = train([p.abstract for p in self.seed_papers])
        self.title_lengths = sorted(len(p.title) for p in self.seed_papers)
        self.abstract_lengths = sorted(len(p.abstract) for p in self.seed_papers)
        self.cores = {w: core(w) for chain in (self.titles, self.abstracts) for w in chain if w not in (START, END)}
        stems = {c[1].lower(): None for c in self.cores.values() if c and len(c[1]) >= 6}
        self.stems = list(stems)
        # abstract()'s word loop, precomputed per chain word: (core parts or None, length, ends a sentence)
        self.abstract_words = {w: (URL_PARTS if w.startswith(URL) else self.cores[w], len(w), sentence_end(w))
                               for w in self.abstracts if w != START}

    def words(self, rng: random.Random, coiner: Coiner, chain: dict[str, tuple[str, ...]],
              restart: tuple[str, ...], title: bool):
        """An endless stream of words from the chain, with coined substitutions. title() reads it;
        abstract() makes the same draws in a loop of its own (keep the two in step)."""
        cores, word = self.cores, START
        rand = rng.random
        while True:
            following = chain.get(word)
            word = following[int(rand() * len(following))] if following else END
            if word == END:
                word = START if title else restart[int(rand() * len(restart))]
                if title:
                    continue
            if word.startswith(URL):
                yield self.url(rng) + ("." if word == URL_DOT else "")
                continue
            parts = cores.get(word)
            if parts is not None and rand() < (COLON_NAME if title and parts[2] == ":" else SUBSTITUTE):
                coined = coiner.draw()
                if parts[1][0].isupper():
                    coined = coined[0].upper() + coined[1:]
                yield parts[0] + coined + parts[2]
            else:
                yield word

    def url(self, rng: random.Random) -> str:
        owner = rng.choice(self.stems)[: rng.randint(4, 9)] + (str(rng.randint(1, 99)) if rng.random() < 0.3 else "")
        repo = "".join(rng.choice(self.stems).capitalize()[: rng.randint(3, 7)] for _ in range(rng.randint(1, 3)))
        form = rng.random()
        if form < 0.6:
            return f"https://github.com/{owner}/{repo}"
        if form < 0.7:
            return f"github.com/{owner}/{repo}"
        if form < 0.85:
            return f"https://{owner}.github.io/{repo}/"
        return f"https://huggingface.co/{owner}/{repo}"

    def title(self, rng: random.Random, coiner: Coiner) -> str:
        target = max(TITLE_MIN + 6, self.title_lengths[int(rng.random() * len(self.title_lengths))] + rng.randint(-8, 8))
        out: list[str] = []
        size = -1
        for word in self.words(rng, coiner, self.titles, self.title_starts, title=True):
            if size + 1 + len(word) > TITLE_MAX:
                break
            out.append(word)
            size += 1 + len(word)
            if size >= target and word.lower().strip(",:;") not in WEAK_ENDINGS:
                break
        while len(out) > 1 and (out[-1].lower().strip(",:;") in WEAK_ENDINGS or out[-1].endswith((",", ":", ";"))):
            out.pop()
        return " ".join(out)

    def abstract(self, rng: random.Random, coiner: Coiner) -> str:
        """An abstract: words(title=False) written out in one loop, with each chain word's length
        and sentence end looked up, not computed (the generator's hot path; a third faster than
        reading words(): L in ~9 s instead of 12; the same random draws in the same order, so the
        same text)."""
        lengths = self.abstract_lengths
        target = min(ABSTRACT_MAX - 150, max(ABSTRACT_MIN, lengths[int(rng.random() * len(lengths))] - 60))
        chain, restart, known, rand = self.abstracts, self.sentence_starts, self.abstract_words, rng.random
        out: list[str] = []
        size, kept, kept_size = -1, 0, 0  # kept: words up to the last sentence end, kept_size: their length
        word = START
        while True:
            following = chain.get(word)
            word = following[int(rand() * len(following))] if following else END
            if word == END:
                word = restart[int(rand() * len(restart))]
            parts, length, ends = known[word]
            if parts is URL_PARTS:
                text = self.url(rng) + ("." if word == URL_DOT else "")
                length, ends = len(text), sentence_end(text)
            elif parts is not None and rand() < SUBSTITUTE:
                coined = coiner.draw()
                if parts[1][0].isupper():
                    coined = coined[0].upper() + coined[1:]
                text = parts[0] + coined + parts[2]
                length, ends = len(text), sentence_end(text)
            else:
                text = word
            if size + 1 + length > ABSTRACT_MAX:
                if kept and kept_size >= ABSTRACT_MIN:
                    del out[kept:]
                else:
                    out[-1] = out[-1].rstrip(",;:") + "."
                break
            out.append(text)
            size += 1 + length
            if ends:
                kept, kept_size = len(out), size
                if size >= target:
                    break
        return " ".join(out)


# --- the API's JSON (the mixed variant) ----------------------------------------------------------

GIVEN_NAMES = (
    "Wei", "Yifan", "Jiaqi", "Xinyu", "Hao", "Zhiyuan", "Mingxuan", "Yuxin", "Haoran", "Jun", "Minjoon",
    "Seungwoo", "Jiwon", "Hiroshi", "Yuki", "Takumi", "Aditya", "Priya", "Rohan", "Ananya", "Arjun", "Sanjana",
    "Mohammed", "Fatima", "Omar", "Leila", "Ahmet", "Elif", "Daniel", "Sarah", "Michael", "Emily", "David",
    "Laura", "Thomas", "Anna", "Lukas", "Sophie", "Matteo", "Giulia", "Pierre", "Camille", "José", "María",
    "João", "Zoë", "Łukasz", "Agnieszka", "Dmitry", "Olga", "Nikolai", "Ingrid", "Søren", "Björn", "Chiara",
    "Tomás", "Andrés", "Noah", "Ethan", "Grace", "Kwame", "Amara", "Chinedu", "Thi", "Minh", "Anh",
)
FAMILY_NAMES = (
    "Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu",
    "Hu", "Guo", "He", "Lin", "Luo", "Gao", "Kim", "Lee", "Park", "Choi", "Jung", "Tanaka", "Suzuki", "Sato",
    "Watanabe", "Sharma", "Gupta", "Patel", "Singh", "Kumar", "Reddy", "Iyer", "Hassan", "Ali", "Khan",
    "Yılmaz", "Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Taylor", "Anderson", "Müller",
    "Schmidt", "Schneider", "Fischer", "Weber", "Rossi", "Bianchi", "Dubois", "Lefèvre", "García",
    "Rodríguez", "López", "Martínez", "Silva", "Santos", "Kowalski", "Nowak", "Ivanov", "Petrov", "Larsen",
    "Nielsen", "Andersson", "O'Brien", "Nguyen", "Tran", "Okafor", "Mensah",
)
ORGANIZATIONS = (
    ("google", "Google"), ("facebook", "AI at Meta"), ("microsoft", "Microsoft"), ("nvidia", "NVIDIA"),
    ("allenai", "Ai2"), ("Qwen", "Qwen"), ("deepseek-ai", "DeepSeek"), ("THUDM", "Knowledge Engineering Group (KEG) & Data Mining at Tsinghua University"),
    ("stanford-crfm", "Stanford CRFM"), ("mit-han-lab", "MIT HAN Lab"), ("apple", "Apple"), ("ByteDance", "ByteDance"),
    ("tencent", "Tencent"), ("alibaba-damo", "DAMO Academy"), ("huggingface", "Hugging Face"), ("ServiceNow", "ServiceNow"),
)
SUBMITTER = {"fullname": "AK", "name": "akhaliq"}


def timestamp(day: date, rng: random.Random, millis: bool = False) -> str:
    """An API timestamp on `day`: 2025-03-14T07:41:09.000Z (milliseconds random with `millis`)."""
    seconds = int(rng.random() * 86_400)
    fraction = int(rng.random() * 1000) if millis else 0
    return f"{day.isoformat()}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{fraction:03d}Z"


def slug_word(text: str) -> str:
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9-]{2,}", text) if w.lower() not in WEAK_ENDINGS]
    return (words[0] if words else "paper")[:24]


class ApiPapers:
    """What the API says of each paper beyond the dump's title and abstract: an arXiv-style ID
    (unique, numbered per month of first appearance), 1-12 authors, links, AI summary and
    keywords. A paper's facts are made once, on its first JSON appearance, and the same on every
    later one; all of it from a random stream of its own, so writing JSON changes nothing else."""

    def __init__(self, stream: str, taken_ids: list[str] = ()) -> None:
        self.rng = random.Random(f"paperdigest-bench-api:{stream}")
        self.papers: dict[str, dict] = {}  # paper key -> the paper's fixed fields, in API order
        self.next_number: dict[str, int] = {}  # "2503" -> the next free number that month
        for taken in taken_ids:
            month, _, number = taken.partition(".")
            self.next_number[month] = max(self.next_number.get(month, 0), int(number) + 1)

    def new_id(self, day: date) -> str:
        month = f"{day:%y%m}"
        number = self.next_number.get(month)
        if number is None:
            number = 100 + int(self.rng.random() * 900)
        self.next_number[month] = number + 1 + int(self.rng.expovariate(1 / 12))
        return f"{month}.{number:05d}"

    def paper(self, paper: Paper, first_day: date) -> dict:
        """The paper's fixed fields; `first_day` is the day of its first digest (of any form)."""
        key = paper_key(paper.title)
        known = self.papers.get(key)
        if known is not None:
            return known
        rng = self.rng
        authors = min(12, max(1, round(rng.lognormvariate(1.55, 0.6))))
        names = [f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}" for _ in range(authors)]
        published = first_day - timedelta(days=int(rng.random() * 4))
        fields: dict = {"id": self.new_id(first_day), "title": paper.title, "summary": paper.abstract,
                        "authors": [{"name": name, "hidden": False} for name in names],
                        "publishedAt": timestamp(published, rng)}
        owner = names[0].split()[-1].lower().replace("'", "") + str(int(rng.random() * 100))
        repo = slug_word(paper.title)
        if rng.random() < 0.35:
            fields["githubRepo"] = f"https://github.com/{owner}/{repo}"
        if rng.random() < 0.25:
            fields["projectPage"] = f"https://{owner}.github.io/{repo}/"
        if rng.random() < 0.85:
            first = paper.abstract.split(". ")[0].rstrip(".")
            fields["ai_summary"] = (first[:280].rsplit(" ", 1)[0] if len(first) > 280 else first) + "."
            fields["ai_keywords"] = self.keywords(paper, rng)
        if rng.random() < 0.25:
            name, fullname = ORGANIZATIONS[int(rng.random() * len(ORGANIZATIONS))]
            fields["organization"] = {"name": name, "fullname": fullname}
        self.papers[key] = fields
        return fields

    @staticmethod
    def keywords(paper: Paper, rng: random.Random) -> list[str]:
        """3-8 words and two-word phrases of the abstract, as the API's ai_keywords."""
        words = [parts[1].lower() if parts and not parts[1].isupper() else (parts[1] if parts else "")
                 for parts in map(core, paper.abstract.split())]
        phrases = [f"{a} {b}" for a, b in pairwise(words) if len(a) >= 5 and len(b) >= 5]
        candidates = list(dict.fromkeys([w for w in words if len(w) >= 6] + phrases))
        return rng.sample(candidates, min(len(candidates), 3 + int(rng.random() * 6)))

    def items(self, day: date, papers: list[tuple[Paper, date]]) -> list[dict]:
        """The API's array for one day: (paper, its first day) in page order."""
        rng = self.rng
        out = []
        for paper, first_day in papers:
            fixed = self.paper(paper, first_day)
            inner = {**{k: fixed[k] for k in ("id", "title", "summary", "authors", "publishedAt")},
                     "submittedOnDailyAt": timestamp(day, rng, millis=True),
                     "upvotes": min(300, int(rng.expovariate(1 / 22)))}
            if "githubRepo" in fixed:
                inner["githubRepo"] = fixed["githubRepo"]
                inner["githubStars"] = min(40_000, int(5 * rng.paretovariate(0.8)) - 5)
            for name in ("projectPage", "ai_summary", "ai_keywords", "organization"):
                if name in fixed:
                    inner[name] = fixed[name]
            item = {"paper": inner, "title": fixed["title"], "summary": fixed["summary"],
                    "publishedAt": fixed["publishedAt"], "numComments": min(60, int(rng.expovariate(1 / 2.5))),
                    "submittedBy": dict(SUBMITTER),
                    "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{fixed['id']}.png"}
            if "organization" in fixed:
                item["organization"] = fixed["organization"]
            out.append(item)
        return out

    def dump(self, day: date, papers: list[tuple[Paper, date]]) -> tuple[str, bytes]:
        """(file name, bytes) of one day's JSON, pretty-printed as the API's output."""
        text = json.dumps(self.items(day, papers), indent=2, ensure_ascii=False)
        return f"{day.isoformat()}.json", text.encode("utf-8")


def size_variant(size: str) -> tuple[str, str]:
    """"Lmix" -> ("L", "mixed"); "L" -> ("L", "text")."""
    if size.endswith(MIXED) and size[: -len(MIXED)] in SIZES:
        return size[: -len(MIXED)], "mixed"
    if size in SIZES:
        return size, "text"
    raise ValueError(f"unknown size {size!r}; choose from {', '.join(SIZE_NAMES)}")


def as_json(variant: str, dated_number: int) -> bool:
    """Whether the dated_number-th dated digest (0-based) is written as JSON in this variant."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    return variant == "mixed" and dated_number % JSON_EVERY == JSON_EVERY - 1


def corpus_rng(seed: int, papers: int, digests: int) -> random.Random:
    return random.Random(f"paperdigest-bench:{seed}:{papers}:{digests}")


def weekdays_back(last: date, count: int) -> list[date]:
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def date_line(day: date, default_year: int, rng: random.Random) -> str:
    if day.year == default_year:
        return f"{day:%b} {day.day}"
    form = rng.random()
    if form < 0.1:
        return day.isoformat()
    if form < 0.2:
        return f"{day:%B} {day.day}, {day.year}"
    return f"{day:%b} {day.day}, {day.year}"


def dump_text(day: date, default_year: int, entries: list[Paper], rng: random.Random) -> str:
    """One dump as the seeds are: header, date line, title/abstract paragraphs, no final newline."""
    body = "\n\n".join(f"{paper.title}\n\n{paper.abstract}" for paper in entries)
    return f"{HEADER}{date_line(day, default_year, rng)}\n\n{body}"


def split_counts(total: int, parts: int, rng: random.Random, spread: float = 0.3) -> list[int]:
    """`total` split into `parts` positive, uneven counts (weights 1 +- spread)."""
    if total < parts:
        raise ValueError(f"cannot split {total} into {parts} positive counts")
    weights = [1 + spread * (2 * rng.random() - 1) for _ in range(parts)]
    scale = total / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    index, current = 0, sum(counts)
    while current != total:  # one at a time round the parts, from the first
        step = 1 if current < total else -1
        if counts[index % parts] + step >= 1:
            counts[index % parts] += step
            current += step
        index += 1
    return counts


class Generator:
    """Papers and digests for one corpus; papers are made once and repeated by index."""

    def __init__(self, seed: int, papers: int, digests: int, model: TextModel | None = None,
                 taken: set[str] | None = None) -> None:
        self.rng = corpus_rng(seed, papers, digests)
        self.model = model or TextModel()
        self.coiner = Coiner(self.rng, self.model.stems)
        self.taken = taken if taken is not None else set()  # paper keys in use
        self.papers: list[Paper] = []

    def new_paper(self) -> int:
        while True:
            title = self.model.title(self.rng, self.coiner)
            key = paper_key(title)
            if key and key not in self.taken and len(title) >= TITLE_MIN:
                break
        self.taken.add(key)
        self.papers.append(Paper(title, self.model.abstract(self.rng, self.coiner)))
        return len(self.papers) - 1

    def digest_plan(self, new_counts: list[int], repeat_counts: list[int], days: list[date],
                    history: list[list[int]]) -> list[Digest]:
        """Digests with fresh papers and repeats of papers from recent earlier digests, shuffled."""
        rng = self.rng
        out = []
        for new, repeats, day in zip(new_counts, repeat_counts, days):
            chosen = [self.new_paper() for _ in range(new)]
            fresh = set(chosen)
            picked: list[int] = []
            for _ in range(repeats):
                for _attempt in range(50):
                    back = min(len(history), 1 + int(rng.expovariate(1 / 6)))
                    if back == 0:
                        break
                    candidates = history[-back]
                    paper = candidates[int(rng.random() * len(candidates))]
                    if paper not in fresh:
                        fresh.add(paper)
                        picked.append(paper)
                        break
            order = chosen + picked
            rng.shuffle(order)
            history.append(chosen)
            out.append(Digest(day, tuple(order)))
        return out


def generate(out: Path, papers: int, digests: int, seed: int = 1, repeat_ratio: float = REPEAT_RATIO,
             default_year: int | None = None, variant: str = "text") -> dict[str, int]:
    """Write out/site.toml and out/digests/*.txt (and *.json in the mixed variant); return counts."""
    if not 1 <= digests <= papers:
        raise ValueError(f"need at least one paper per digest ({papers} papers, {digests} digests)")
    as_json(variant, 0)  # checks the name
    generator = Generator(seed, papers, digests)
    rng = generator.rng
    days = weekdays_back(LAST_DAY, digests)
    default_year = default_year or days[-1].year
    new_counts = split_counts(papers, digests, rng)
    repeats_total = round(papers * repeat_ratio / (1 - repeat_ratio))
    repeat_counts = [0] + (split_counts(repeats_total, digests - 1, rng, 0.5) if digests > 1 and repeats_total else [0] * (digests - 1))
    plan = generator.digest_plan(new_counts, repeat_counts, days, [])
    folder = out / "digests"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    write_site_toml(out, default_year)
    width = max(3, len(str(digests - 1)))
    api = ApiPapers(f"{seed}:{papers}:{digests}")
    first_day: dict[int, date] = {}
    entries = total_bytes = json_digests = 0
    for number, digest in enumerate(plan):
        for index in digest.papers:
            first_day.setdefault(index, digest.day)
        # always made, so that the text dumps draw the same random numbers in every variant
        text = dump_text(digest.day, default_year, [generator.papers[i] for i in digest.papers], rng)
        if as_json(variant, number):
            name, data = api.dump(digest.day, [(generator.papers[i], first_day[i]) for i in digest.papers])
            json_digests += 1
        else:
            data = text.encode("utf-8")
            name = f"{number:0{width}d}_{hashlib.sha256(data).hexdigest()[:16]}.txt"
        (folder / name).write_bytes(data)
        entries += len(digest.papers)
        total_bytes += len(data)
    return {"papers": len(generator.papers), "digests": len(plan), "entries": entries, "bytes": total_bytes,
            "json_digests": json_digests}


def write_site_toml(out: Path, default_year: int) -> None:
    (out / "site.toml").write_text(
        "# A generated benchmark corpus (benchmarks/corpus.py).\n"
        'title = "Daily Papers Digest"\n'
        'description = "An offline, searchable archive of the Hugging Face Daily Papers digests."\n'
        'base_url = ""\n'
        f"default_year = {default_year}\n"
        'language = "en"\n\n[dates]\n', encoding="utf-8")


def copy_seeds(out: Path, variant: str = "text") -> dict[str, int]:
    """Size S: the real content folder, copied; in the mixed variant every 4th dump with a date
    line (in file-name order) becomes that day's JSON."""
    as_json(variant, 0)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(SEEDS, out)
    api = ApiPapers("seeds")
    first_day: dict[str, date] = {}
    entries = total_bytes = json_digests = dated = 0
    keys = set()
    dumps = [(path, parse_dump(path.name, path.read_bytes(), 2025)) for path in sorted((out / "digests").glob("*.txt"))]
    for _, dump in sorted(((p, d) for p, d in dumps if d.date), key=lambda pd: pd[1].date):
        for entry in dump.entries:
            first_day.setdefault(paper_key(entry.title), dump.date)
    for path, dump in dumps:
        if dump.date and as_json(variant, dated) and not (path.parent / f"{dump.date.isoformat()}.json").exists():
            name, data = api.dump(dump.date, [(Paper(e.title, e.abstract), first_day[paper_key(e.title)])
                                              for e in dump.entries])
            path.unlink()
            (path.parent / name).write_bytes(data)
            json_digests += 1
        else:
            data = path.read_bytes()
        dated += dump.date is not None
        total_bytes += len(data)
        for entry in dump.entries:
            entries += 1
            keys.add(paper_key(entry.title))
    return {"papers": len(keys), "digests": len(dumps), "entries": entries, "bytes": total_bytes,
            "json_digests": json_digests}


def make(size: str, out: Path, seed: int = 1, variant: str | None = None) -> dict[str, int]:
    """Write the corpus of a size name ("L", or "Lmix" for the mixed variant; or give `variant`)."""
    base, named = size_variant(size)
    variant = variant or named
    if base == "S":
        return copy_seeds(out, variant)
    papers, digests = SIZES[base]
    return generate(out, papers, digests, seed, variant=variant)


def read_content(content: Path) -> list[tuple[date | None, str, list[tuple[Paper, dict | None]]]]:
    """The digests of a content folder, as (date, file name, [(paper, the API's paper fields or
    None)]) in file-name order: text dumps through parse_dump, JSON read here (this module's own
    format; dated by the file name), so the corpus tools need no JSON reader in the generator."""
    return [(day, name, [(paper, fields) for paper, fields, _ in papers]) for day, name, papers in read_keyed(content)]


# read_keyed's memory: the last content folder read, and its files by (name, size, mtime, inode).
_READ: dict = {"folder": None, "files": {}}


def read_keyed(content: Path) -> list[tuple[date | None, str, list[tuple[Paper, dict | None, str]]]]:
    """read_content with each paper's key, for the corpus tools. A file read before, unchanged
    since (the same size, mtime and inode), is not parsed again: run.py asks for the content
    folder before every added digest, which at XL (10,000 dumps) would take ~40 s each time.
    Only the last folder is remembered."""
    settings = tomllib.loads((content / "site.toml").read_text(encoding="utf-8"))
    default_year = settings.get("default_year", LAST_DAY.year)
    folder = (content.resolve(), default_year)
    if _READ["folder"] != folder:
        _READ.update(folder=folder, files={})
    known, seen = _READ["files"], {}
    out = []
    for path in sorted((content / "digests").iterdir()):
        if path.suffix not in (".txt", ".json"):
            continue
        stat = path.stat()
        stamp = (path.name, stat.st_size, stat.st_mtime_ns, stat.st_ino)
        found = known.get(stamp)
        if found is None:
            if path.suffix == ".txt":
                dump = parse_dump(path.name, path.read_bytes(), default_year)
                found = (dump.date, path.name, [(Paper(e.title, e.abstract), None, paper_key(e.title)) for e in dump.entries])
            else:
                items = json.loads(path.read_bytes())
                found = (date.fromisoformat(path.stem), path.name,
                         [(Paper(i["paper"]["title"], i["paper"]["summary"]), i["paper"], paper_key(i["paper"]["title"]))
                          for i in items])
        seen[stamp] = found
        out.append(found)
    _READ["files"] = seen  # files gone or changed are forgotten
    return out


# --- changes for incremental-build benchmarks --------------------------------------------------

def added_digest(content: Path, seed: int = 1, new: int = PER_DIGEST, form: str = "text") -> tuple[str, bytes]:
    """A new digest for the day after the content's newest: `new` fresh papers plus ~27% repeats
    from the last few digests, as a text dump ("zz_bench_added.txt") or, with form="json", as
    that day's API JSON ("YYYY-MM-DD.json"; a repeat of a paper already in JSON keeps its ID and
    authors). The papers are the same in both forms. Returns (file name, bytes)."""
    if form not in ("text", "json"):
        raise ValueError(f"form is 'text' or 'json', not {form!r}")
    settings = tomllib.loads((content / "site.toml").read_text(encoding="utf-8"))
    default_year = settings.get("default_year", LAST_DAY.year)
    digests = read_keyed(content)
    dated = sorted((d for d in digests if d[0]), key=lambda d: d[0])
    last = dated[-1][0] if dated else LAST_DAY
    recent = [[key for _, _, key in papers] for _, _, papers in dated[-5:]]
    everything = [entry for _, _, papers in digests for entry in papers]
    existing = {key: paper for paper, _, key in everything}
    generator = Generator(seed, -1, len(digests), taken=set(existing))
    rng = generator.rng
    order = [generator.papers[generator.new_paper()] for _ in range(new)]
    pool = list(dict.fromkeys(key for keys in recent for key in keys))
    repeats = rng.sample(pool, min(len(pool), round(new * REPEAT_RATIO / (1 - REPEAT_RATIO))))
    order += [existing[key] for key in repeats]
    rng.shuffle(order)
    day = next_weekday(last)
    text = dump_text(day, default_year, order, rng)
    if form == "text":
        return "zz_bench_added.txt", text.encode("utf-8")
    api = ApiPapers(f"added:{seed}:{len(digests)}", [f["id"] for _, f, _ in everything if f])
    first_day: dict[str, date] = {}
    for when, _, papers in dated:
        for _, fields, key in papers:
            first_day.setdefault(key, when)
            if fields:
                api.papers.setdefault(key, fields)
    return api.dump(day, [(paper, first_day.get(paper_key(paper.title), day)) for paper in order])


def edit_one_abstract(content: Path) -> tuple[Path, bytes]:
    """Change one abstract in the middle text dump (append a sentence). Returns (file, original
    bytes). The middle of all digests, counting JSON ones too: a mixed corpus edits the same file
    as the all-text one (the generated dumps are numbered; the next text dump if that one is JSON)."""
    folder = content / "digests"
    files = sorted(folder.glob("*.txt"))
    middle = (len(files) + len(list(folder.glob("*.json")))) // 2
    numbered = [(int(p.name.split("_", 1)[0]), p) for p in files if p.name.split("_", 1)[0].isdigit()]
    if len(numbered) == len(files) and numbered:
        path = next((p for number, p in numbered if number >= middle), numbered[-1][1])
    else:
        path = files[len(files) // 2]
    original = path.read_bytes()
    paragraphs = original.decode("utf-8").split("\n\n")
    index = next(i for i, p in enumerate(paragraphs) if len(p) > 300)
    paragraphs[index] += " This abstract was revised for the benchmark."
    path.write_bytes("\n\n".join(paragraphs).encode("utf-8"))
    return path, original


def remove_one_digest(content: Path, avoid: Path | None = None) -> tuple[Path, bytes]:
    """Delete one dump from the middle of the archive: the numbered text dump just before the
    middle of all digests (JSON ones counted too, so a mixed corpus removes the same file as the
    all-text one; never `avoid`, the file edit_one_abstract changed). Returns (file, its bytes):
    write them back to restore it."""
    folder = content / "digests"
    archive = [p for p in sorted(folder.glob("*.txt")) if not p.name.startswith("zz_bench")]  # not the added ones
    middle = (len(archive) + len(list(folder.glob("*.json")))) // 2 - 1
    files = [p for p in archive if p != avoid]
    numbered = [(int(p.name.split("_", 1)[0]), p) for p in files if p.name.split("_", 1)[0].isdigit()]
    if numbered and len(numbered) == len(files):
        before = [p for number, p in numbered if number <= middle]
        path = before[-1] if before else numbered[0][1]
    elif files:
        path = files[max(0, len(files) // 2 - 1)]
    else:
        raise ValueError(f"no text dump to remove in {folder}")
    data = path.read_bytes()
    path.unlink()
    return path, data


TEMPLATE_MARK = "<!-- a template override (benchmarks/corpus.py) -->"


def override_template(content: Path, templates: Path, name: str = "paper.html") -> tuple[Path, list[Path]]:
    """A user's edit of one theme template: `templates`/`name` (the default theme's) copied into
    the content folder's theme overrides (content/theme/templates/, which the build searches
    first) with slightly different markup: an HTML comment after <body> (base.html) or at the
    start of the main block (a page template), and for paper.html a class on the page's
    <article>. Returns (the override,
    the files and folders it created, deepest first): unlink and rmdir those to undo it."""
    text = (templates / name).read_text(encoding="utf-8")
    changed = text.replace('<article class="paper-page">', '<article class="paper-page bench-override">', 1)
    for place in ("<body>", "{% block main %}"):
        if place in changed:
            changed = changed.replace(place, f"{place}\n{TEMPLATE_MARK}", 1)
            break
    if changed == text:
        raise ValueError(f"found no place to change in {name}")
    target = content / "theme" / "templates" / name
    if target.exists():
        raise FileExistsError(f"{target} exists: the content already overrides {name}")
    created = [target]
    for parent in target.parents:
        if parent == content or parent.exists():
            break
        created.append(parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(changed, encoding="utf-8")
    return target, created


def undo_override(created: list[Path]) -> None:
    """Remove what override_template created (the file, then the folders it made)."""
    for path in created:
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=list(SIZE_NAMES),
                        help="S (the seeds), XS, M, L or XL; with 'mix' appended (Lmix), the mixed variant")
    parser.add_argument("--papers", type=int, help="distinct papers (instead of --size)")
    parser.add_argument("--digests", type=int, help="digests (with --papers; default papers/30)")
    parser.add_argument("--variant", choices=VARIANTS, help="text (default) or mixed: every 4th digest as API JSON")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="content folder to write")
    args = parser.parse_args(argv)
    if bool(args.size) == bool(args.papers):
        parser.error("give --size or --papers")
    started = time.perf_counter()
    if args.size:
        counts = make(args.size, args.out, args.seed, args.variant)
    else:
        counts = generate(args.out, args.papers, args.digests or max(1, round(args.papers / PER_DIGEST)), args.seed,
                          variant=args.variant or "text")
    print(f"corpus: {counts['papers']} papers, {counts['digests']} digests ({counts['json_digests']} as JSON), "
          f"{counts['entries']} entries, {counts['bytes'] / 1e6:.1f} MB in {args.out} "
          f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
