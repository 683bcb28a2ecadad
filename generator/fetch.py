"""`paperdigest fetch`: each day's digest from the Hugging Face daily papers API, as
`content/digests/YYYY-MM-DD.json`, the API's items as returned (all pages of the day).

HTTP is urllib3's: a pool with timeouts and its `Retry` (backoff on connection errors, 429 and
5xx, the server's Retry-After honoured up to a cap), a User-Agent naming this program and its
version, and a pause between requests so that a year of dates does not hammer the API.

A file is only ever written whole: the day's pages are all fetched first, then written under a
temporary name in the same folder and renamed over the target (os.replace, atomic on every
platform), so an interrupted fetch leaves the complete file or none. A temporary file left by a
killed fetch (named `.<name>.fetching`, which builds ignore) is removed by the next fetch.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.util.retry import Retry

from generator import __version__
from generator.apidata import ISO_IN_NAME
from generator.config import load_config
from generator.diagnostics import BuildError, UsageError
from generator.parse import SUFFIXES, parse_dump

DEFAULT_API = "https://huggingface.co/api/daily_papers"
USER_AGENT = f"paperdigest/{__version__} (static archive of Hugging Face Daily Papers; +https://pypi.org/project/paperdigest/)"
PAGE_SIZE = 100  # the API's largest `limit`
REFRESH_DAYS = 14  # upvotes keep changing for about two weeks: what --refresh re-fetches by default
TEMPORARY = ".{name}.fetching"


@dataclass(frozen=True)
class Settings:
    """How to talk to the API: site.toml's [fetch] table, then the command line."""

    api: str = DEFAULT_API
    pause: float = 1.0  # seconds between requests
    timeout: float = 30.0  # seconds to connect, and between bytes of a response
    retries: int = 4  # per request, on connection errors, 429 and 5xx
    backoff: float = 1.0  # urllib3's backoff factor: waits of 1, 2, 4, 8 s between tries
    retry_after_max: int = 120  # the longest Retry-After honoured, in seconds


@dataclass
class Outcome:
    """What fetching one day came to."""

    day: date
    papers: int = 0
    pages: int = 0
    written: bool = False  # a file was written (new, or changed by --refresh)
    problem: str = ""  # why the day failed, if it did


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[date] = field(default_factory=list)  # already there

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.problem]

    def summary(self) -> str:
        done = [outcome for outcome in self.outcomes if not outcome.problem]
        empty = sum(1 for outcome in done if outcome.papers == 0)
        parts = [f"{len(self.outcomes)} date{'s' if len(self.outcomes) != 1 else ''} fetched",
                 f"{sum(outcome.papers for outcome in done)} papers",
                 f"{sum(outcome.written for outcome in done)} files written",
                 f"{empty} with no papers"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} already there")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return "paperdigest fetch: " + ", ".join(parts)


class FetchFailed(Exception):
    """One day could not be fetched; the message says why (status or reason)."""


def load_settings(content: Path, api: str | None) -> Settings:
    """site.toml's [fetch] table (api, pause, timeout, retries, backoff, retry_after_max), then
    --api. Errors name the file."""
    path = content / "site.toml"
    load_config(path)  # the same checks as a build: a broken site.toml is an error with its line
    table = tomllib.loads(path.read_text(encoding="utf-8-sig")).get("fetch", {}) if path.exists() else {}
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [fetch] must be a table (api, pause, timeout, retries, backoff, retry_after_max)")
    settings = Settings()
    unknown = sorted(set(table) - {"api", "pause", "timeout", "retries", "backoff", "retry_after_max"})
    if unknown:
        raise UsageError(f"{path}: unknown [fetch] setting(s) {', '.join(unknown)}")
    values: dict[str, object] = {}
    number = (int, float)
    for key, kind in (("api", str), ("pause", number), ("timeout", number), ("retries", int), ("backoff", number),
                      ("retry_after_max", int)):
        if key in table:
            if not isinstance(table[key], kind) or isinstance(table[key], bool):
                raise UsageError(f"{path}: fetch.{key} has the wrong type: {table[key]!r}")
            values[key] = table[key]
    if api is not None:
        values["api"] = api
    settings = Settings(**{**settings.__dict__, **values})
    parts = urlsplit(settings.api)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"the API address must be an http(s) URL, got {settings.api!r}")
    if min(settings.pause, settings.retries, settings.backoff, settings.retry_after_max) < 0 or settings.timeout <= 0:
        raise UsageError(f"{path}: [fetch] settings must be 0 or more (timeout: more than 0)")
    return settings


def existing_dates(folder: Path, content: Path) -> set[date]:
    """The dates of the digests already in the folder, whatever their form (a text or HTML
    dump of a day counts as that day being there)."""
    if not folder.is_dir():
        return set()
    try:
        config, _ = load_config(content / "site.toml")
    except BuildError:
        config = None
    found = set()
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        named = ISO_IN_NAME.search(path.name) if path.suffix.lower() == ".json" else None
        if named:
            try:
                found.add(date.fromisoformat(named.group(1)))
                continue
            except ValueError:
                pass
        dump = parse_dump(path.name, path.read_bytes(), config.default_year if config else None,
                          config.dates.get(path.name) if config else None, str(path))
        if dump.date:
            found.add(dump.date)
    return found


def dates_to_fetch(known: set[date], today: date, on: date | None, since: date | None, until: date | None,
                   refresh: bool) -> list[date]:
    """Which days: --date, or --since..--until (until defaults to today); with neither, the day
    after the newest digest up to today (just today for an empty archive; with --refresh, the
    last REFRESH_DAYS days too)."""
    if on is not None:
        if on > today:
            raise UsageError(f"--date {on.isoformat()} is in the future (today is {today.isoformat()} UTC)")
        return [on]
    until = until or today
    if since is None:
        since = max(known) + timedelta(days=1) if known else today
        if refresh:
            since = min(since, today - timedelta(days=REFRESH_DAYS - 1))
        if since > until:
            return []  # the archive is up to date
    if since > until:
        raise UsageError(f"--since {since.isoformat()} is after --until {until.isoformat()}")
    return [since + timedelta(days=offset) for offset in range((until - since).days + 1)]


class Client:
    """GET the API's pages for one day, politely."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None]):
        self.settings = settings
        self.sleep = sleep
        self.requests = 0
        retry = Retry(total=settings.retries, connect=settings.retries, read=settings.retries,
                      status=settings.retries, backoff_factor=settings.backoff, backoff_max=60, allowed_methods={"GET"},
                      status_forcelist=(429, 500, 502, 503, 504), respect_retry_after_header=True,
                      retry_after_max=settings.retry_after_max, raise_on_status=False)
        self.pool = urllib3.PoolManager(retries=retry, headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                                        timeout=urllib3.Timeout(connect=settings.timeout, read=settings.timeout))

    def items(self, day: date) -> tuple[list, int]:
        """Every item of the day, page after page until one comes back short; and the page count."""
        items: list = []
        for page in range(1000):
            found = self.page(day, page)
            items.extend(found)
            if len(found) < PAGE_SIZE:
                return items, page + 1
        raise FetchFailed("more than 1,000 pages: the API does not seem to honour `p`")

    def page(self, day: date, page: int) -> list:
        if self.requests and self.settings.pause:
            self.sleep(self.settings.pause)
        self.requests += 1
        url = f"{self.settings.api}?{urlencode({'date': day.isoformat(), 'limit': PAGE_SIZE, 'p': page})}"
        try:
            response = self.pool.request("GET", url, preload_content=True)
        except urllib3.exceptions.MaxRetryError as exc:
            raise FetchFailed(network_reason(exc.reason)) from None
        except urllib3.exceptions.HTTPError as exc:
            raise FetchFailed(network_reason(exc)) from None
        tries = len(response.retries.history) + 1 if response.retries else 1
        if response.status != 200:
            again = f" after {tries} tries" if tries > 1 else ""
            body = response.data[:200].decode("utf-8", "replace").strip()
            raise FetchFailed(f"HTTP {response.status}{again}" + (f": {body}" if body else ""))
        return decode_page(response.data)


def network_reason(reason: BaseException | None) -> str:
    """Why no answer came, in a user's words. (urllib3's NewConnectionError is a kind of
    ConnectTimeoutError, and NameResolutionError a kind of NewConnectionError: most specific first.)"""
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return "no network: the API's host name does not resolve"
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return f"no network: cannot connect to the API ({str(reason).split(': ', 1)[-1]})"
    if isinstance(reason, (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ConnectTimeoutError)):
        return "timed out (no answer within the timeout, after the retries)"
    if isinstance(reason, urllib3.exceptions.ProtocolError):
        return f"the connection broke off ({reason})"
    return f"no network or no answer ({reason})"


def decode_page(data: bytes) -> list:
    try:
        found = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FetchFailed(f"the response is not JSON ({exc})") from None
    if not isinstance(found, list):
        raise FetchFailed(f"the response is {type(found).__name__ if not isinstance(found, dict) else 'an object'}, "
                          "not a list of papers")
    return found


def encode(items: list) -> bytes:
    """The items as returned, as JSON a person (and any tool) can read: UTF-8, indented."""
    return (json.dumps(items, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_whole(path: Path, data: bytes) -> bool:
    """Write under a temporary name beside the target, then rename: the file is whole or absent.
    Returns False (and writes nothing) when the file already holds exactly these bytes."""
    if path.is_file() and path.read_bytes() == data:
        return False
    temporary = path.with_name(TEMPORARY.format(name=path.name))
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return True


def clear_leftovers(folder: Path) -> None:
    """Temporary files of a fetch that was killed before it could remove them."""
    for path in folder.glob(".*.fetching"):
        path.unlink(missing_ok=True)


def fetch(content: Path, days: Iterable[date], settings: Settings, refresh: bool = False,
          known: set[date] | None = None, progress: Callable[[list[date]], Iterable[date]] = lambda days: days,
          sleep: Callable[[float], None] | None = None) -> Report:
    """Fetch each day not already there (every one with `refresh`) into content/digests/."""
    import time

    folder = content / "digests"
    folder.mkdir(parents=True, exist_ok=True)
    clear_leftovers(folder)
    known = existing_dates(folder, content) if known is None else known
    report = Report()
    wanted = []
    for day in days:
        (wanted if refresh or day not in known else report.skipped).append(day)
    client = Client(settings, sleep or time.sleep)
    for day in progress(wanted):
        outcome = Outcome(day)
        try:
            items, outcome.pages = client.items(day)
            outcome.papers = len(items)
            if items:
                outcome.written = write_whole(folder / f"{day.isoformat()}.json", encode(items))
        except FetchFailed as exc:
            outcome.problem = str(exc)
        report.outcomes.append(outcome)
    return report
