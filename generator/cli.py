"""The `paperdigest` command. Exit codes: 0 built, 1 the input is unusable, 2 bad usage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator import __version__
from generator.build import BuildOptions, build
from generator.diagnostics import BuildError, Level, UsageError

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="paperdigest", description="Build a static archive site from saved Daily Papers pages.")
    root.add_argument("--version", action="version", version=f"paperdigest {__version__}")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = commands.add_parser("build", help="build the site from the content folder")
    command.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    command.add_argument("--out", type=Path, default=Path("site"), help="output folder (default: site)")
    command.add_argument("--strict", action="store_true", help="treat warnings as errors")
    command.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors")
    command.add_argument("--force", action="store_true", help="rebuild even if nothing changed; replace an output folder paperdigest did not build")
    command.add_argument("--debug", action="store_true", help="show Python tracebacks for failures")
    return root


def progress_bar(enabled: bool):
    """A tqdm bar on stderr for builds that last more than a second (none when not a terminal)."""

    def wrap(files, total):
        if not enabled:
            return files
        from tqdm import tqdm

        return tqdm(files, total=total, delay=1.0, unit=" files", file=sys.stderr, leave=False,
                    desc="paperdigest")

    return wrap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    options = BuildOptions(args.content, args.out, strict=args.strict, force=args.force)
    try:
        summary = build(options, progress=progress_bar(enabled=not args.quiet and sys.stderr.isatty()))
    except BuildError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic, file=sys.stderr)
        errors = sum(d.level is Level.ERROR for d in exc.diagnostics)
        why = f"{errors} error(s)" if errors else "warnings with --strict"
        print(f"paperdigest: build failed: {why}; {args.out} was left unchanged", file=sys.stderr)
        return EXIT_INPUT
    except UsageError as exc:
        print(f"paperdigest: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"paperdigest: interrupted; {args.out} was left unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or a disk problem: short message unless --debug
        if args.debug:
            raise
        print(f"paperdigest: build failed: {type(exc).__name__}: {exc}; {args.out} was left unchanged "
              "(run with --debug for details)", file=sys.stderr)
        return EXIT_INPUT
    for diagnostic in summary.diagnostics:
        print(diagnostic, file=sys.stderr)
    if not args.quiet:
        done = (f"{args.out} is up to date" if summary.up_to_date
                else f"wrote {summary.files} files to {args.out}")
        print(f"paperdigest: {summary.entries} entries, {summary.papers} papers, {summary.digests} digests; "
              f"{done} in {summary.seconds:.2f} s")
    return EXIT_OK
