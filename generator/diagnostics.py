"""The build's error model: every problem with the input is a Diagnostic that names a place.

Two levels: an error stops the build, a warning is printed and the build goes on (or stops,
under --strict). Stages return diagnostics instead of raising, so a user sees every problem
in every file at once rather than fixing them one build at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One problem, at one place, with what to do about it."""

    level: Level
    path: str
    line: int | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.level.value}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


def error(path: str, line: int | None, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(Level.ERROR, path, line, message, hint)


def warning(path: str, line: int | None, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(Level.WARNING, path, line, message, hint)


class BuildError(Exception):
    """The input (or the output target) is unusable; carries every diagnostic found so far."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def __reduce__(self):
        """Pickle as the diagnostics (a forked stage sends its errors back to the build)."""
        return type(self), (self.diagnostics,)


class UsageError(Exception):
    """The command was asked to do something unsafe or impossible (exit code 2)."""


def failing(diagnostics: Iterable[Diagnostic], strict: bool) -> list[Diagnostic]:
    """The diagnostics that stop the build: errors, and warnings too under --strict."""
    return [d for d in diagnostics if d.level is Level.ERROR or strict]
