"""Helpers shared by the tests: paths, small content folders, running the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content"
SEEDS = sorted((CONTENT / "digests").glob("*.txt"))
CHROMIUM = "/usr/bin/chromium"
# Root in a closed network: no sandbox, and none of Chromium's background connections.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\n"


def dump(*papers: tuple[str, str], date: str | None = "Mar 14") -> str:
    """A dump in the seeds' format: header, optional date line, then title/abstract pairs."""
    head = HEADER + (f"{date}\n\n" if date else "")
    return head + "".join(f"{title}\n\n{abstract}\n\n" for title, abstract in papers)


def make_content(root: Path, dumps: dict[str, str | bytes], site_toml: str = "default_year = 2025\n") -> Path:
    """Write a content folder with the given dumps (file name -> text or bytes) and settings."""
    content = root / "content"
    (content / "digests").mkdir(parents=True, exist_ok=True)
    (content / "site.toml").write_text(site_toml, encoding="utf-8")
    for name, text in dumps.items():
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (content / "digests" / name).write_bytes(data)
    return content


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `python -m generator` as a user would, capturing its output."""
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd or REPO, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (relative POSIX path -> bytes): a whole site, to compare."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def exported_papers(site: Path) -> list[dict]:
    """Every paper's record, read as a program would: papers.json (the index), then each part it
    names; in slug order, like the site's own lists."""
    index = json.loads((site / "papers.json").read_text(encoding="utf-8"))
    records = [record for part in index["parts"]
               for record in json.loads((site / part["path"]).read_text(encoding="utf-8"))["papers"]]
    return sorted(records, key=lambda record: record["slug"])


# The search engine's scripts, in the order search.html loads them (search.js, the UI, after them).
ENGINE_SCRIPTS = ("assets/search-index.js", "assets/search-query.js", "assets/search-spelling.js",
                  "assets/search-filters.js",
                  "assets/search-engine.js")

# An engine of the test's own in an open search page (search-engine.js's public API: the page's
# scripts carry no test hooks), over the index that page names; it takes over the global the
# index files call. `ENGINE + ".find(q)"` in page.evaluate gives the engine's answer.
ENGINE = """(() => {
  if (!window.testEngine) {
    const page = document.querySelector("script[data-meta]");
    window.testEngine = paperdigestEngine.create({
      metaFile: page.dataset.meta, lunrFile: page.dataset.lunr, lunr: () => window.lunr,
      load: src => new Promise((resolve, reject) => {
        const tag = document.createElement("script");
        tag.src = src; tag.onload = resolve; tag.onerror = () => reject(new Error(src));
        document.head.appendChild(tag);
      })
    });
    window.paperdigestSearch = window.testEngine.receiver;
  }
  return window.testEngine;
})()"""
