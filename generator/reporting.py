"""How a build is reported on a terminal, shared by `paperdigest build` and `serve`: the
diagnostics on stderr, one summary line on stdout, a progress bar, the exit codes. A full or
read-only disk is one line naming the path and the reason, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

from generator.build import BuildOptions, Busy, DiskError, Progress, build, no_progress
from generator.diagnostics import BuildError, Level, UsageError

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3


def progress_bar(enabled: bool):
    """A tqdm bar on stderr for builds that last more than a second (none when not a terminal)."""

    def wrap(files, total):
        if not enabled:
            return files
        from tqdm import tqdm

        return tqdm(files, total=total, delay=1.0, unit=" files", file=sys.stderr, leave=False,
                    desc="paperdigest")

    return wrap


def run_build(options: BuildOptions, label: Path, *, quiet: bool = False, debug: bool = False,
              progress: Progress = no_progress) -> tuple[int, str]:
    """One build, reported as `paperdigest build` reports it: diagnostics on stderr, one summary
    line on stdout. Returns (exit code, what was printed on stderr when the build failed).
    `label` is the output folder as the user wrote it. KeyboardInterrupt is left to the caller.
    While it runs, the build's notices (waiting for another build of `label`, starting over)
    go to stderr at once, one line each."""
    try:
        summary = build(options, progress=progress, notice=notice)
    except BuildError as exc:
        errors = sum(d.level is Level.ERROR for d in exc.diagnostics)
        why = f"{errors} error(s)" if errors else "warnings with --strict"
        lines = [str(d) for d in exc.diagnostics]
        lines.append(f"paperdigest: build failed: {why}; {label} was left unchanged")
        return EXIT_INPUT, report_failure(lines)
    except UsageError as exc:
        return EXIT_USAGE, report_failure([f"paperdigest: {exc}"])
    except Busy:
        return EXIT_BUSY, report_failure([f"paperdigest: another build of {label} is running; "
                                          "not waiting for it (--no-wait)"])
    except DiskError as exc:
        if debug:
            raise
        return EXIT_INPUT, report_failure([f"paperdigest: build failed: {exc}; {label} was left unchanged"])
    except Exception as exc:  # a bug or a disk problem: short message unless --debug
        if debug:
            raise
        return EXIT_INPUT, report_failure([f"paperdigest: build failed: {type(exc).__name__}: {exc}; {label} was left "
                                           "unchanged (run with --debug for details)"])
    for diagnostic in summary.diagnostics:
        print(diagnostic, file=sys.stderr, flush=True)
    if not quiet:
        done = (f"{label} is up to date" if summary.up_to_date
                else f"wrote {summary.files} files to {label}")
        print(f"paperdigest: {summary.entries} entries, {summary.papers} papers, {summary.digests} digests; "
              f"{done} in {summary.seconds:.2f} s", flush=True)
    return EXIT_OK, ""


def notice(line: str) -> None:
    print(f"paperdigest: {line}", file=sys.stderr, flush=True)


def report_failure(lines: list[str]) -> str:
    text = "\n".join(lines)
    print(text, file=sys.stderr, flush=True)
    return text
