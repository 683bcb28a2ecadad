"""What every stage hands the writer: one file of the site, or a promise that it is unchanged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputFile:
    """One file of the site. A stage that can tell its file is unchanged since the last build
    (its `key` equals the key the previous build recorded for that path) yields it with
    `data=None`, and the writer reuses the previous build's file without the bytes being made.

    `key` is a fingerprint of everything the bytes are made from, so equal keys promise equal
    bytes; it is opaque to the writer. An empty key means "the bytes are the key"."""

    path: str  # POSIX path relative to the output root
    data: bytes | None
    key: str = ""
