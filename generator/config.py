"""Site settings from content/site.toml, validated once so later stages can trust them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generator.diagnostics import BuildError, Diagnostic, error, warning

KNOWN_KEYS = {"title", "description", "base_url", "default_year", "language", "dates", "fetch"}  # [fetch]: fetch.py


@dataclass(frozen=True)
class SiteConfig:
    title: str = "Daily Papers digest"
    description: str = "An archive of Hugging Face Daily Papers digests."
    base_url: str = ""  # "" means unknown: no canonical links or absolute URLs.
    default_year: int | None = None
    language: str = "en"
    dates: dict[str, date] = field(default_factory=dict)  # dump file name -> its digest date


def load_config(path: Path) -> tuple[SiteConfig, list[Diagnostic]]:
    """Read site.toml; a missing file means all defaults, a broken one is an error with its line."""
    if not path.exists():
        return SiteConfig(), []
    shown = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise BuildError([error(shown, None, f"not valid UTF-8 at byte {exc.start}", "re-save the file as UTF-8")])
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise BuildError([error(shown, line, f"invalid TOML: {exc}", "fix the syntax at that line")])
    diagnostics = [
        warning(shown, None, f"unknown setting {key!r} is ignored", f"known settings: {', '.join(sorted(KNOWN_KEYS))}")
        for key in sorted(set(data) - KNOWN_KEYS)
    ]
    problems: list[Diagnostic] = []
    config = SiteConfig(
        title=_string(data, "title", SiteConfig.title, shown, problems),
        description=_string(data, "description", SiteConfig.description, shown, problems),
        base_url=_base_url(data, shown, problems),
        default_year=_year(data, shown, problems),
        language=_string(data, "language", SiteConfig.language, shown, problems),
        dates=_dates(data, shown, problems),
    )
    if problems:
        raise BuildError(problems)
    return config, diagnostics


def _toml_error_line(message: str) -> int | None:
    """tomllib reports '(at line N, column M)'; pull N out so the message points at the line."""
    marker = "at line "
    if marker not in message:
        return None
    digits = message.split(marker, 1)[1].split(",", 1)[0].split(")", 1)[0]
    return int(digits) if digits.isdigit() else None


def _string(data: dict[str, Any], key: str, default: str, shown: str, problems: list[Diagnostic]) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        problems.append(error(shown, None, f"{key} must be a string, got {value!r}"))
        return default
    return value


def _base_url(data: dict[str, Any], shown: str, problems: list[Diagnostic]) -> str:
    value = _string(data, "base_url", "", shown, problems)
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(error(shown, None, f"base_url must be an http(s) URL, got {value!r}",
                              "for example https://you.github.io/repo/"))
        return ""
    return value if value.endswith("/") else value + "/"


def _year(data: dict[str, Any], shown: str, problems: list[Diagnostic]) -> int | None:
    value = data.get("default_year")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 9999:
        problems.append(error(shown, None, f"default_year must be a four-digit year, got {value!r}"))
        return None
    return value


def _dates(data: dict[str, Any], shown: str, problems: list[Diagnostic]) -> dict[str, date]:
    table = data.get("dates", {})
    if not isinstance(table, dict):
        problems.append(error(shown, None, "[dates] must be a table of file name = date"))
        return {}
    dates: dict[str, date] = {}
    for name, value in table.items():
        if isinstance(value, date):
            dates[name] = value.date() if isinstance(value, datetime) else value
            continue
        try:
            dates[name] = date.fromisoformat(str(value))
        except ValueError:
            problems.append(error(shown, None, f"dates.{name!r} must be a date like 2025-03-14, got {value!r}"))
    return dates
