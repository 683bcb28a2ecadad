"""`paperdigest serve`: build, serve the site on 127.0.0.1, rebuild on changes, reload open pages.

Three parts:
- The server (preview.py: http.server's ThreadingHTTPServer, one daemon thread per connection)
  serves the files of the output folder, answers hostile or malformed requests with a 4xx, and
  binds to 127.0.0.1 unless --host says otherwise (then with a warning: it is a preview, with
  no TLS and no access control, not a production server).
- Live reload touches no built file: the server adds a `<script>` tag for
  /__paperdigest__/reload.js to the HTML it sends, and that script polls
  /__paperdigest__/state, reloading the page after a newer successful build and showing a
  failed build's errors in a banner. Polling holds no connection, so any number of open tabs
  leave the browser's few connections per host to page loads (see preview.py).
- The watcher polls: every 0.3 s it lists the content folder and the theme folders (path ->
  modification time and size, with os.scandir). Polling costs a few milliseconds per round
  even for a large content folder and needs no dependency; a watcher library (watchdog,
  watchfiles) would react sooner but would be one more package to install for every user.

Builds run in the main thread, one at a time, between rounds of the watcher: a change made
during a build is seen by the next round and builds again. Ctrl-C (or SIGTERM) therefore
reaches a running build as the KeyboardInterrupt that build() already handles: the output
folder is replaced whole or not at all, so the site stays as it was or becomes the new one.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from generator.preview import HOST, Server, State, with_reload_script
from generator.reporting import EXIT_OK, EXIT_USAGE

__all__ = ["Watcher", "ignored", "serve", "snapshot", "with_reload_script"]

POLL_SECONDS = 0.3
SETTLE_SECONDS = 0.15  # a change is built once the files stay the same for this long
IGNORED_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".part", ".crdownload")
PREVIEW_WARNING = ("paperdigest: warning: serving on {host} as --host asks; this server is for previews only, "
                   "not for production: no TLS, no access control, anyone who can reach the address can read the site")


# --- the watcher ---------------------------------------------------------------------------

def ignored(name: str) -> bool:
    """Editors' and downloads' temporary files, hidden files, and Python's caches."""
    return (name.startswith((".", "#")) or name.endswith(IGNORED_SUFFIXES) or name == "__pycache__"
            or name == "4913")  # vim's test of whether a folder is writable


def snapshot(folders: tuple[Path, ...], skip: tuple[Path, ...] = ()) -> dict[str, tuple[int, int]]:
    """Every file under the folders: path -> (modification time in ns, size). Folders in `skip`
    (the output folder, if it lies inside a watched one) are left out."""
    skipped = {os.path.abspath(path) for path in skip}
    found: dict[str, tuple[int, int]] = {}
    pending = [os.path.abspath(folder) for folder in folders]
    while pending:
        folder = pending.pop()
        if folder in skipped:
            continue
        try:
            entries = list(os.scandir(folder))
        except OSError:  # missing (no content/theme), or gone meanwhile
            continue
        for entry in entries:
            if ignored(entry.name):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    stat = entry.stat()
                    found[entry.path] = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                continue
    return found


class Watcher:
    """Polls the folders a build reads; changed() is true once they differ from the last
    build's and have stopped changing (an editor saving several files, or writing in steps)."""

    def __init__(self, folders: tuple[Path, ...], skip: tuple[Path, ...]):
        self.folders, self.skip = folders, skip
        self.built = self.look()

    def look(self) -> dict[str, tuple[int, int]]:
        return snapshot(self.folders, self.skip)

    def changed(self) -> dict[str, tuple[int, int]] | None:
        """The settled new state if anything changed since the last build, else None."""
        now = self.look()
        if now == self.built:
            return None
        while True:
            time.sleep(SETTLE_SECONDS)
            later = self.look()
            if later == now:
                return now
            now = later


# --- the command ---------------------------------------------------------------------------

def bind(host: str, port: int, root: Path, state: State) -> Server | None:
    """The server, bound now so that a port in use fails before any build; None (and the
    reason on stderr) if it cannot be."""
    try:
        return Server(host, port, root, state)
    except OSError as exc:
        why = ("the port is in use; pick another with --port (0 picks a free one)"
               if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc))
        print(f"paperdigest: cannot serve on {host}:{port}: {why}", file=sys.stderr)
        return None


def address(server: Server) -> str:
    """The URL the server answers at (an IPv6 address in brackets)."""
    host, port = server.server_address[:2]
    return f"http://[{host}]:{port}/" if ":" in str(host) else f"http://{host}:{port}/"


def serve(out: Path, port: int, rebuild: Callable[[], tuple[int, str]], watched: tuple[Path, ...],
          host: str | None = None) -> int:
    """Build (with `rebuild`: exit code and the failure's text), serve `out` on `host` (None:
    127.0.0.1 only), watch the `watched` folders and rebuild on changes, until Ctrl-C or
    SIGTERM; return the exit code."""
    builds = State()
    root = Path(os.path.abspath(out))
    server = bind(host or HOST, port, root, builds)
    if server is None:
        return EXIT_USAGE
    if host:  # an explicit choice, perhaps reachable from other machines: say what this is
        print(PREVIEW_WARNING.format(host=host), file=sys.stderr, flush=True)
    stop = threading.Event()
    thread = None

    def on_signal(signum, frame):
        """Ctrl-C and SIGTERM alike: a KeyboardInterrupt in the main thread, which a running
        build turns into leaving the output folder as it was (or, once the new site is in place,
        ignores: `stop` is how the loop learns of it then)."""
        if os.getpid() != pid:
            # A worker process the build forked, which inherited this handler. The build ends its
            # workers with SIGTERM once it is interrupted, so Ctrl-C (which a terminal sends to
            # every process of the group) is left to it, and SIGTERM ends a worker at once.
            if signum == signal.SIGTERM:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
            return
        stop.set()
        raise KeyboardInterrupt

    pid = os.getpid()

    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    code = EXIT_OK
    building = False
    try:
        try:
            watcher = Watcher(watched, skip=(root,))
            building = True
            code, failure = rebuild()
            building = False
            if code != EXIT_USAGE:  # a usage error (such as --out naming a folder that is not a site) stays one
                builds.publish(code == EXIT_OK, failure)
                thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                          name="paperdigest-server", daemon=True)
                thread.start()
                print(f"paperdigest: serving {out} at {address(server)} (Ctrl-C to stop)", flush=True)
                code = EXIT_OK
            while thread is not None and not stop.is_set():
                time.sleep(POLL_SECONDS)
                state = watcher.changed()
                if state is None:
                    continue
                watcher.built = state  # as it was before the build: a change during it builds again
                building = True
                built, failure = rebuild()
                building = False
                if not stop.is_set():
                    builds.publish(built == EXIT_OK, failure)
        except KeyboardInterrupt:
            if building:
                print(f"paperdigest: build interrupted; {out} was left unchanged", file=sys.stderr, flush=True)
        for number in previous:  # from here on, another Ctrl-C changes nothing
            signal.signal(number, signal.SIG_IGN)
        if thread is not None:
            server.shutdown()
            thread.join()
        server.server_close()
        if code != EXIT_USAGE:
            print("paperdigest: stopped", flush=True)
        return code
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
