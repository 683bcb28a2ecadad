"""The `paperdigest` command. Exit codes: 0 built, 1 the input is unusable, 2 bad usage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator import __version__
from generator.build import BuildOptions, Progress, build, no_progress
from generator.diagnostics import BuildError, Level, UsageError

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535; 0 picks a free one)")
    return port


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
    serve = commands.add_parser("serve", help="build, serve the site on 127.0.0.1, rebuild and reload pages on changes")
    serve.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    serve.add_argument("--out", type=Path, default=Path("site"), help="output folder (default: site)")
    serve.add_argument("--port", type=port_number, default=8000, help="port on 127.0.0.1 (default: 8000; 0 picks a free one)")
    serve.add_argument("--strict", action="store_true", help="treat warnings as errors")
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


def run_build(options: BuildOptions, label: Path, *, quiet: bool = False, debug: bool = False,
              progress: Progress = no_progress) -> tuple[int, str]:
    """One build, reported as `paperdigest build` reports it: diagnostics on stderr, one summary
    line on stdout. Returns (exit code, what was printed on stderr when the build failed).
    `label` is the output folder as the user wrote it. KeyboardInterrupt is left to the caller."""
    try:
        summary = build(options, progress=progress)
    except BuildError as exc:
        errors = sum(d.level is Level.ERROR for d in exc.diagnostics)
        why = f"{errors} error(s)" if errors else "warnings with --strict"
        lines = [str(d) for d in exc.diagnostics]
        lines.append(f"paperdigest: build failed: {why}; {label} was left unchanged")
        return EXIT_INPUT, report_failure(lines)
    except UsageError as exc:
        return EXIT_USAGE, report_failure([f"paperdigest: {exc}"])
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


def report_failure(lines: list[str]) -> str:
    text = "\n".join(lines)
    print(text, file=sys.stderr, flush=True)
    return text


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        from generator.serve import serve

        return serve(args.content, args.out, args.port, strict=args.strict)
    options = BuildOptions(args.content, args.out, strict=args.strict, force=args.force)
    try:
        code, _ = run_build(options, args.out, quiet=args.quiet, debug=args.debug,
                            progress=progress_bar(enabled=not args.quiet and sys.stderr.isatty()))
    except KeyboardInterrupt:
        print(f"paperdigest: interrupted; {args.out} was left unchanged", file=sys.stderr)
        return 130
    return code
