"""The `paperdigest` command. Exit codes: 0 done, 1 the input is unusable (or a fetch failed), 2 bad usage,
3 another build of the output folder is running (build --no-wait)."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from generator import __version__
from generator.build import BuildOptions
from generator.diagnostics import BuildError, UsageError
from generator.reporting import EXIT_INPUT, EXIT_OK, EXIT_USAGE, progress_bar, run_build


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


def one_line(text: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise argparse.ArgumentTypeError(f"{text!r} is not one line of text")
    return text


def http_url(text: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() or ord(c) < 32 for c in text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) address like https://you.github.io/archive/")
    return text


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="paperdigest", description="Build a static archive site from saved Daily Papers pages.")
    root.add_argument("--version", action="version", version=f"paperdigest {__version__}")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = commands.add_parser("build", help="build the site from the content folder")
    command.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    command.add_argument("--out", type=Path, default=Path("site"), help="output folder (default: site)")
    command.add_argument("--strict", action="store_true", help="treat warnings as errors")
    command.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors")
    command.add_argument("--no-cache", action="store_true", help="rebuild everything, using nothing a previous build left")
    command.add_argument("--replace", action="store_true", help="allow replacing an output folder paperdigest did not build")
    command.add_argument("--force", action="store_true", help="deprecated: --no-cache and --replace together")
    command.add_argument("--no-wait", action="store_true",
                         help="if another build of the same output folder is running, exit (code 3) instead of waiting")
    command.add_argument("--debug", action="store_true", help="show Python tracebacks for failures")
    serve = commands.add_parser("serve", help="build, serve the site on 127.0.0.1, rebuild and reload pages on changes")
    serve.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    serve.add_argument("--out", type=Path, default=Path("site"), help="output folder (default: site)")
    serve.add_argument("--port", type=port_number, default=8000, help="port on 127.0.0.1 (default: 8000; 0 picks a free one)")
    serve.add_argument("--strict", action="store_true", help="treat warnings as errors")
    serve.add_argument("--host", help="address to listen on (default: 127.0.0.1, this machine only); another one "
                       "may let other machines in: a preview server, with no TLS and no access control")
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
    new = commands.add_parser("init", help="start an archive of your own: settings, folders, README, workflows")
    new.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="DIR",
                     help="the archive's folder, made if missing (default: the current folder)")
    new.add_argument("--title", type=one_line, metavar="TEXT", help="the site's title (default: Daily Papers Digest)")
    new.add_argument("--base-url", type=http_url, metavar="URL",
                     help="the site's public address, e.g. https://you.github.io/archive/ (default: none yet)")
    new.add_argument("--fetch-since", type=iso_date, metavar="YYYY-MM-DD",
                     help="then fetch every day's digest from this one to today")
    new.add_argument("--api", type=http_url, metavar="URL", help="the daily papers API's address, for site.toml "
                     "(default: Hugging Face's)")
    new.add_argument("--force", action="store_true", help="overwrite files that are there already")
    return root


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


def run_serve(args: argparse.Namespace) -> int:
    """`paperdigest serve`: the server gets what to watch and how to rebuild (serve.py knows
    nothing of builds), like MkDocs' LiveReloadServer(builder=...)."""
    import os

    import generator.search  # noqa: F401  (imported before the server's threads start: builds fork)
    from generator.serve import serve
    from generator.theme import default_theme_dir

    options = BuildOptions(args.content, args.out, strict=args.strict)
    progress = progress_bar(enabled=sys.stderr.isatty())
    watched = tuple(dict.fromkeys(Path(os.path.abspath(folder))
                                  for folder in (args.content, args.content / "theme", default_theme_dir())))
    return serve(args.out, args.port, lambda: run_build(options, args.out, progress=progress), watched,
                 host=args.host)


def run_init(args: argparse.Namespace) -> int:
    """`paperdigest init`: the files (init.py), then the first fetch with `paperdigest fetch`'s own code."""
    from generator import init

    today = datetime.now(timezone.utc).date()
    if args.fetch_since and args.fetch_since > today:
        print(f"paperdigest init: --fetch-since {args.fetch_since.isoformat()} is in the future "
              f"(today is {today.isoformat()} UTC)", file=sys.stderr)
        return EXIT_USAGE
    given = {"title": args.title, "base_url": args.base_url and args.base_url.rstrip("/") + "/", "api": args.api}
    values = init.Values(**{key: value for key, value in given.items() if value is not None})
    try:
        outcome = init.create(args.folder, values, force=args.force)
    except UsageError as exc:
        print(f"paperdigest init: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        print(f"paperdigest init: cannot write {exc.filename or args.folder}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT
    code, out, err = init.report(outcome, args.folder.as_posix())
    for lines, stream in ((out, sys.stdout), (err, sys.stderr)):
        if lines:
            print("\n".join(lines), file=stream, flush=True)
    if outcome.archive and args.fetch_since:
        content = (args.folder / "content").as_posix()
        print(f"paperdigest init: to fetch from {args.fetch_since.isoformat()} anyway: "
              f"paperdigest fetch --content {content} --since {args.fetch_since.isoformat()}")
    if code != EXIT_OK or not args.fetch_since or not outcome.written:
        return code
    return run_fetch(argparse.Namespace(content=args.folder / "content", date=None, since=args.fetch_since,
                                        until=None, refresh=False, api=None, quiet=False, debug=False))


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a path a Windows console's code page lacks must not crash a report
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = parser().parse_args(argv)
    if args.command == "fetch":
        return run_fetch(args)
    if args.command == "serve":
        return run_serve(args)
    if args.command == "init":
        return run_init(args)
    if args.force:
        print("paperdigest: --force is deprecated; it now means --no-cache --replace (use those)", file=sys.stderr)
    options = BuildOptions(args.content, args.out, strict=args.strict, no_cache=args.no_cache or args.force,
                           replace=args.replace or args.force, wait=not args.no_wait)
    try:
        code, _ = run_build(options, args.out, quiet=args.quiet, debug=args.debug,
                            progress=progress_bar(enabled=not args.quiet and sys.stderr.isatty()))
    except KeyboardInterrupt:
        print(f"paperdigest: interrupted; {args.out} was left unchanged", file=sys.stderr)
        return 130
    return code
