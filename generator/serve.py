"""`paperdigest serve`: build, serve the site on 127.0.0.1, rebuild on changes, reload open pages.

Three parts:
- The server (http.server's ThreadingHTTPServer, one daemon thread per connection) serves the
  files of the output folder. It joins the folder's path with each request's path every time,
  never holding a descriptor of the folder or changing into it, because every build replaces
  the folder whole by renaming a new one over it (write.py).
- Live reload touches no built file: when the server sends an HTML page it inserts a `<script>`
  tag for /__paperdigest__/reload.js (an external script, as the site's Content-Security-Policy
  allows no inline ones) into that response only. The script listens on
  /__paperdigest__/events (server-sent events): after each build the server sends one event,
  and the page reloads itself on success or shows the errors in a banner on failure.
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
import http.server
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from typing import Callable

from generator.reporting import EXIT_OK, EXIT_USAGE

HOST = "127.0.0.1"
PREFIX = "/__paperdigest__/"
SCRIPT_PATH = PREFIX + "reload.js"
EVENTS_PATH = PREFIX + "events"
RELOAD_SCRIPT = Path(__file__).with_name("livereload.js")
POLL_SECONDS = 0.3
SETTLE_SECONDS = 0.15  # a change is built once the files stay the same for this long
KEEPALIVE_SECONDS = 15.0  # an event stream sends a comment this often, to notice closed pages
IGNORED_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".part", ".crdownload")
TEXT_TYPES = {".md": "text/plain", ".txt": "text/plain", ".xml": "application/xml", ".json": "application/json",
              ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}

NOT_FOUND_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><h1>Not found</h1><p>There is no such file in the site (yet). This page reloads by itself after
the next successful build.</p></body></html>
"""


# --- what the pages are told ---------------------------------------------------------------

class Broadcast:
    """The result of the latest build, numbered, for every open event stream to wait on."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.number = 0  # builds finished since the server started
        self.latest: dict | None = None  # {"ok": bool, "message": str} of the latest build
        self.stopping = threading.Event()

    def publish(self, ok: bool, message: str = "") -> None:
        with self.condition:
            self.number += 1
            self.latest = {"ok": ok, "message": message}
            self.condition.notify_all()

    def current(self) -> tuple[int, dict | None]:
        with self.condition:
            return self.number, self.latest

    def wait(self, seen: int, timeout: float) -> tuple[int, dict | None]:
        """Wait until a build newer than `seen` finished, the server stops, or the timeout."""
        with self.condition:
            self.condition.wait_for(lambda: self.number > seen or self.stopping.is_set(), timeout)
            return self.number, self.latest

    def stop(self) -> None:
        with self.condition:
            self.stopping.set()
            self.condition.notify_all()


def with_reload_script(page: bytes, build_number: int) -> bytes:
    """The page with the reload script's tag before </head> (or at the end if it has none).
    `build_number` says which build the page came from, so a build that finishes before the
    page's event stream connects is not missed."""
    tag = f'<script src="{SCRIPT_PATH}" data-build="{build_number}" defer></script>'.encode()
    at = page.lower().find(b"</head>")
    return page[:at] + tag + page[at:] if at >= 0 else page + tag


# --- the server ----------------------------------------------------------------------------

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, root: Path, broadcast: Broadcast):
        self.root = str(root)
        self.broadcast = broadcast
        self.script = RELOAD_SCRIPT.read_bytes()
        super().__init__((HOST, port), Handler)

    def handle_error(self, request, client_address) -> None:
        """A page closed or reloaded mid-response is no error; anything else is reported."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class Handler(http.server.SimpleHTTPRequestHandler):
    """Files of the output folder (read whole on each request), the reload script, the events."""

    server: Server

    def __init__(self, request, client_address, server: Server):
        # The folder by its path, joined with each request's: never a descriptor of a folder
        # that the next build renames away.
        super().__init__(request, client_address, server, directory=server.root)

    def log_message(self, format: str, *args) -> None:  # no line per request
        pass

    def do_GET(self) -> None:
        self.respond(body=True)

    def do_HEAD(self) -> None:
        self.respond(body=False)

    def respond(self, body: bool) -> None:
        path = urlsplit(self.path).path
        if path == SCRIPT_PATH:
            return self.send(200, "text/javascript; charset=utf-8", self.server.script, body)
        if path == EVENTS_PATH and body:
            return self.stream_events()
        number, _ = self.server.broadcast.current()  # before reading the file: see with_reload_script
        file = self.translate_path(self.path)
        if os.path.isdir(file):
            if not path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            file = os.path.join(file, "index.html")
        try:
            with open(file, "rb") as handle:
                data = handle.read()
        except OSError:  # missing, or a folder with no index.html: the site's 404 page, or ours
            try:
                with open(os.path.join(self.server.root, "404.html"), "rb") as handle:
                    data = handle.read()
            except OSError:
                data = NOT_FOUND_PAGE
            return self.send(404, "text/html; charset=utf-8", with_reload_script(data, number), body)
        kind = self.content_type(file)
        if kind.startswith("text/html"):
            data = with_reload_script(data, number)
        self.send(200, kind, data, body)

    def content_type(self, file: str) -> str:
        suffix = os.path.splitext(file)[1].lower()
        if suffix in TEXT_TYPES:
            return f"{TEXT_TYPES[suffix]}; charset=utf-8"
        return self.guess_type(file)

    def send(self, status: int, kind: str, data: bytes, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def stream_events(self) -> None:
        """Server-sent events: one `build` event per finished build, until the page goes away
        or the server stops. A page learns at once of a build newer than its own, and of a
        failing latest build (to show the banner on a page opened or reloaded meanwhile)."""
        broadcast = self.server.broadcast
        seen = self.seen_build()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(b"retry: 1000\n\n")
            number, latest = broadcast.current()
            if latest is not None and (number > seen or not latest["ok"]):
                self.send_event(number, latest)
            seen = number
            while not broadcast.stopping.is_set():
                number, latest = broadcast.wait(seen, KEEPALIVE_SECONDS)
                if broadcast.stopping.is_set():
                    break
                if number > seen and latest is not None:
                    self.send_event(number, latest)
                    seen = number
                else:
                    self.wfile.write(b": still here\n\n")
                    self.wfile.flush()
        except OSError:  # the page was closed or reloaded
            pass

    def seen_build(self) -> int:
        """The build the page has seen: the event stream's Last-Event-ID when it reconnects,
        else the build its HTML came from (?build=N)."""
        for text in (self.headers.get("Last-Event-ID", ""),
                     parse_qs(urlsplit(self.path).query).get("build", [""])[0]):
            if text.isdigit():
                return int(text)
        return 0

    def send_event(self, number: int, latest: dict) -> None:
        data = json.dumps(latest, ensure_ascii=False)
        lines = "".join(f"data: {line}\n" for line in data.split("\n"))  # json.dumps escapes newlines anyway
        self.wfile.write(f"id: {number}\nevent: build\n{lines}\n".encode("utf-8"))
        self.wfile.flush()


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

def serve(out: Path, port: int, rebuild: Callable[[], tuple[int, str]], watched: tuple[Path, ...]) -> int:
    """Build (with `rebuild`: exit code and the failure's text), serve `out`, watch the
    `watched` folders and rebuild on changes, until Ctrl-C or SIGTERM; return the exit code."""
    broadcast = Broadcast()
    root = Path(os.path.abspath(out))
    try:
        server = Server(port, root, broadcast)  # bound now: a port in use fails before any build
    except OSError as exc:
        why = ("the port is in use; pick another with --port (0 picks a free one)"
               if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc))
        print(f"paperdigest: cannot serve on {HOST}:{port}: {why}", file=sys.stderr)
        return EXIT_USAGE
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
                broadcast.publish(code == EXIT_OK, failure)
                thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                          name="paperdigest-server", daemon=True)
                thread.start()
                print(f"paperdigest: serving {out} at http://{HOST}:{server.server_address[1]}/ (Ctrl-C to stop)",
                      flush=True)
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
                    broadcast.publish(built == EXIT_OK, failure)
        except KeyboardInterrupt:
            if building:
                print(f"paperdigest: build interrupted; {out} was left unchanged", file=sys.stderr, flush=True)
        for number in previous:  # from here on, another Ctrl-C changes nothing
            signal.signal(number, signal.SIG_IGN)
        broadcast.stop()  # ends every event stream
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
