"""The `paperdigest` command. Exit codes: 0 done, 1 the input is unusable (or a fetch failed), 2 bad usage."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone
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


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-03-14") from None


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
    get = commands.add_parser("fetch", help="download digests from the Hugging Face daily papers API into content/digests")
    get.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    which = get.add_mutually_exclusive_group()
    which.add_argument("--date", type=iso_date, metavar="YYYY-MM-DD", help="fetch this one day")
    which.add_argument("--since", type=iso_date, metavar="YYYY-MM-DD",
                       help="fetch every day from this one (default: the day after the newest digest)")
    get.add_argument("--until", type=iso_date, metavar="YYYY-MM-DD", help="the last day to fetch (default: today, UTC)")
    get.add_argument("--refresh", action="store_true",
                     help="fetch days already there again (upvotes change for about two weeks; "
                          "with no dates, the last 14 days too)")
    get.add_argument("--api", help="the API's address (default: site.toml's [fetch] api, else Hugging Face's)")
    get.add_argument("--quiet", action="store_true", help="print nothing but failures")
    get.add_argument("--debug", action="store_true", help="show Python tracebacks for failures")
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


def run_fetch(args: argparse.Namespace) -> int:
    """`paperdigest fetch`: one summary line on stdout, each failed date on stderr."""
    from generator import fetch

    try:
        settings = fetch.load_settings(args.content, args.api)
        known = fetch.existing_dates(args.content / "digests", args.content)
        if args.until and not args.since and not args.date:
            raise UsageError("--until needs --since")
        days = fetch.dates_to_fetch(known, datetime.now(timezone.utc).date(), args.date, args.since, args.until,
                                    args.refresh)
    except UsageError as exc:
        print(f"paperdigest fetch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BuildError as exc:
        print("\n".join(str(d) for d in exc.diagnostics), file=sys.stderr)
        return EXIT_INPUT

    def progress(wanted):
        if args.quiet or len(wanted) <= 3 or not sys.stderr.isatty():
            return wanted
        from tqdm import tqdm

        return tqdm(wanted, unit=" days", file=sys.stderr, leave=False, desc="paperdigest fetch")

    try:
        report = fetch.fetch(args.content, days, settings, args.refresh, known, progress)
    except KeyboardInterrupt:
        print("paperdigest fetch: interrupted; every file written so far is complete", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or a disk problem: short message unless --debug
        if args.debug:
            raise
        print(f"paperdigest fetch: failed: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return EXIT_INPUT
    for outcome in report.failed:
        print(f"paperdigest fetch: {outcome.day.isoformat()}: {outcome.problem}", file=sys.stderr)
    if not args.quiet or report.failed:
        print(report.summary(), flush=True)
    return EXIT_INPUT if report.failed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "fetch":
        return run_fetch(args)
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
