"""The HTTP side of `paperdigest serve`: which requests the preview answers, and how.

The preview serves one folder to a browser, so it answers what a browser asks of a static
site, GET and HEAD of a path, and refuses everything else with a 4xx before any file is
touched (never a traceback, never a dropped connection):
- a method other than GET or HEAD: 405 with `Allow: GET, HEAD` (400 if it is not even a token);
- a request target longer than MAX_TARGET: 414 (a whole line over 64 KiB: http.server's 414);
- a target that is not a path (an absolute URL, `*`, host:port) or not printable ASCII; invalid
  percent-encoding (`%zz`, `%`); or, decoded, invalid UTF-8, a NUL or other control character,
  a backslash, a `%` (double encoding) or a `.`/`..` segment: 400. Browsers never send these
  (they normalise dot segments, `%2e` included, and encode the rest), so refusing them costs a
  real page nothing and leaves no decoding order to get wrong;
- a path that names nothing inside the folder, also through a symlink that leads out: 404.
The file sent is the folder's real path joined with the checked path, symlinks resolved, and
only if that still lies inside the folder's real path; the folder is looked up by its path on
every request, never held open, because every build renames a new folder over it (write.py).

Live reload holds no connection: each HTML page it sends gets a `<script>` tag for
/__paperdigest__/reload.js (external: the site's CSP allows no inline script), which polls
/__paperdigest__/state (the latest build's number and result, a few dozen bytes) about twice
a second. A held event stream per tab took one of the ~6 connections a browser allows per host,
so the seventh open tab could load nothing; a poll takes one for a moment, and with HTTP/1.1
keep-alive not even a new one.
"""

from __future__ import annotations

import http.server
import json
import mimetypes
import os
import re
import socket
import socketserver
import sys
import threading
import time
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

HOST = "127.0.0.1"
PREFIX = "/__paperdigest__/"
SCRIPT_PATH = PREFIX + "reload.js"
STATE_PATH = PREFIX + "state"
RELOAD_SCRIPT = Path(__file__).with_name("livereload.js")
MAX_TARGET = 4096  # bytes of a request target: PATH_MAX; the site's longest URLs are a few hundred
IDLE_SECONDS = 30.0  # a connection that sends nothing for this long is closed (its thread ends)
LINGER_SECONDS, LINGER_BYTES = 2.0, 1 << 20  # what a closing connection may still send, to be dropped
ALLOWED = ("GET", "HEAD")
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110's token: what a method may be
NOT_TARGET = re.compile(r"[^\x21-\x7e]|#")  # outside printable ASCII, or a fragment
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
UNSAFE = re.compile(r"[\x00-\x1f\x7f\\%]")  # decoded: control characters, backslashes, double encoding
TEXT_TYPES = {".md": "text/plain", ".txt": "text/plain", ".xml": "application/xml", ".json": "application/json",
              ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}

NOT_FOUND_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><h1>Not found</h1><p>There is no such file in the site (yet). This page reloads by itself after
the next successful build.</p></body></html>
"""


# --- what the pages are told ---------------------------------------------------------------

class State:
    """The latest build's result, numbered, for the pages' polls (written by the main thread,
    read by the server's threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # Builds are numbered from the time the server started, in milliseconds, so that after
        # a restart of `serve` every build outnumbers those of the pages still open from before,
        # and those pages reload on the first good build instead of waiting for the count.
        self.number = time.time_ns() // 1_000_000
        self.ok, self.message = True, ""

    def publish(self, ok: bool, message: str = "") -> None:
        with self.lock:
            self.number += 1
            self.ok, self.message = ok, message

    def current(self) -> int:
        with self.lock:
            return self.number

    def as_json(self) -> bytes:
        """What /__paperdigest__/state says: a page from an older build reloads if `ok`, and
        shows `message` in a banner if not."""
        with self.lock:
            state = {"build": self.number, "ok": self.ok, "message": self.message}
        return json.dumps(state, ensure_ascii=False).encode("utf-8")


def with_reload_script(page: bytes, build_number: int) -> bytes:
    """The page with the reload script's tag before </head> (or at the end if it has none).
    `build_number` says which build the page came from, so the script knows which builds are
    newer than the page, however late its first poll."""
    tag = f'<script src="{SCRIPT_PATH}" data-build="{build_number}" defer></script>'.encode()
    at = page.lower().find(b"</head>")
    return page[:at] + tag + page[at:] if at >= 0 else page + tag


# --- which file a request names --------------------------------------------------------------

class Refused(Exception):
    """A request answered with an error status and a fixed reason (never an echo of the request)."""

    def __init__(self, status: int, why: str = ""):
        super().__init__(why)
        self.status = status


def checked_path(target: str) -> str:
    """The decoded path of a request target, or Refused: one strict decoding, then no `..`,
    backslash, NUL or `%` left, so no second decoding anywhere can change what it names."""
    if len(target) > MAX_TARGET:
        raise Refused(414, "the request target is too long")
    if not target.startswith("/") or NOT_TARGET.search(target):
        raise Refused(400, "the request target is not a path")
    path = target.partition("?")[0]
    if BAD_PERCENT.search(path):
        raise Refused(400, "the path has invalid percent-encoding")
    try:
        decoded = unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the path is not UTF-8") from None
    if UNSAFE.search(decoded) or any(part in (".", "..") for part in decoded.split("/")):
        raise Refused(400, "the path has a character or segment that no page of the site has")
    return decoded


def inside(root: str, path: str) -> str | None:
    """The real path (symlinks resolved) of `path` in the folder, if it lies inside the folder's
    real path; None if it leads out (a symlink to elsewhere)."""
    base = os.path.realpath(root)
    real = os.path.realpath(os.path.join(base, *path.split("/")))
    return real if real == base or real.startswith(base + os.sep) else None


def read_file(real: str | None) -> bytes | None:
    """The file's bytes, or None when there is no regular file (gone, a folder, a FIFO)."""
    if real is None or not os.path.isfile(real):
        return None
    try:
        with open(real, "rb") as handle:
            return handle.read()
    except OSError:  # gone meanwhile (a build renamed the folder), unreadable, name too long
        return None


def content_type(file: str) -> str:
    suffix = os.path.splitext(file)[1].lower()
    if suffix in TEXT_TYPES:
        return f"{TEXT_TYPES[suffix]}; charset=utf-8"
    return mimetypes.guess_type(file)[0] or "application/octet-stream"


def address_family(host: str) -> socket.AddressFamily:
    """IPv4 or IPv6, as the host is written (a name resolves: socket.gaierror, an OSError, if not)."""
    return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]


# --- the server ----------------------------------------------------------------------------

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many tabs, each loading several assets at once; socketserver's is 5
    # SO_REUSEADDR lets a restarted server bind at once on POSIX; on Windows it would let two
    # servers share the port, so a port in use would never be reported there.
    allow_reuse_address = sys.platform != "win32"

    def __init__(self, host: str, port: int, root: Path, state: State):
        self.root = str(root)
        self.state = state
        self.script = RELOAD_SCRIPT.read_bytes()
        self.address_family = address_family(host)
        super().__init__((host, port), Handler)

    def server_bind(self) -> None:
        """Bind without http.server's reverse DNS lookup of the host (slow without a network);
        on Windows, exclusively, so that a port in use is an error as it is elsewhere."""
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request, client_address) -> None:
        """A page closed or reloaded mid-response is no error. Anything else is a bug here: one
        line on stderr, never a traceback that a hostile request could print at will."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            print(f"paperdigest: serve: could not answer a request: {type(error).__name__}: {error}",
                  file=sys.stderr, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    """Files of the output folder (read whole on each request), the reload script, the state."""

    server: Server
    protocol_version = "HTTP/1.1"  # keep-alive: a tab's polls reuse one connection
    default_request_version = "HTTP/1.0"  # so that a refusal of an HTTP/0.9 line has a status line
    timeout = IDLE_SECONDS

    def log_message(self, format: str, *args) -> None:  # no line per request (nor per refusal)
        pass

    def handle(self) -> None:
        """http.server's loop over the connection's requests, then a lingering close."""
        super().handle()
        self.linger()

    def linger(self) -> None:
        """Say we are done (FIN), then read and drop what the client still sends, a little while:
        closing a socket with unread bytes (the body of a refused POST, the rest of an overlong
        line) makes the kernel send a reset, which can wipe the refusal before the client reads it."""
        deadline = time.monotonic() + LINGER_SECONDS
        dropped = 0
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            while dropped < LINGER_BYTES and (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                dropped += len(chunk)
        except OSError:  # gone already, or silent until the deadline
            pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (400, 414, 431, 505) as ours: fixed text, no echo of the request."""
        self.refuse(Refused(int(code)))

    def parse_request(self) -> bool:
        """http.server's parsing (its 400, 414, 431 and 505), then only HTTP/1.x GET and HEAD."""
        if not super().parse_request():
            return False
        if len(self.requestline.split()) != 3:
            return self.refuse(Refused(400, "the request line has no HTTP version"))
        if self.command not in ALLOWED:
            return self.refuse(Refused(405 if TOKEN.fullmatch(self.command) else 400, "only GET and HEAD"))
        return True

    def do_GET(self) -> None:
        self.respond(body=True)

    def do_HEAD(self) -> None:
        self.respond(body=False)

    def respond(self, body: bool) -> None:
        try:
            path = checked_path(self.path)
        except Refused as refusal:
            self.refuse(refusal)
            return
        if self.headers.get("Content-Length", "0").strip() != "0" or "Transfer-Encoding" in self.headers:
            self.close_connection = True  # a GET with a body: never read that body as a next request
        if path == SCRIPT_PATH:
            return self.send(200, "text/javascript; charset=utf-8", self.server.script, body)
        if path == STATE_PATH:
            return self.send(200, "application/json; charset=utf-8", self.server.state.as_json(), body)
        self.send_file(path, body)

    def send_file(self, path: str, body: bool) -> None:
        """The file `path` names (a folder: its index.html, after a redirect to the path with a
        slash), HTML with the reload script; else the site's 404 page, or ours."""
        number = self.server.state.current()  # before reading the file: see with_reload_script
        real = inside(self.server.root, path)
        if real is not None and os.path.isdir(real):
            if not path.endswith("/"):
                return self.redirect("/" + quote(path.lstrip("/") + "/"))
            real = inside(self.server.root, path + "index.html")
        data = read_file(real)
        if data is None:
            page = read_file(inside(self.server.root, "/404.html")) or NOT_FOUND_PAGE
            return self.send(404, "text/html; charset=utf-8", with_reload_script(page, number), body)
        kind = content_type(real)
        self.send(200, kind, with_reload_script(data, number) if kind.startswith("text/html") else data, body)

    def redirect(self, location: str) -> None:
        """To the folder's path with its slash (one leading slash: never `//host`, elsewhere)."""
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def send(self, status: int, kind: str, data: bytes, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def refuse(self, refusal: Refused) -> bool:
        """A 4xx with a one-line text body. The connection closes after it: what follows on it
        (a request body, the rest of a malformed request) is not to be read as a request."""
        why = f": {refusal}" if str(refusal) else ""
        data = f"{refusal.status} {HTTPStatus(refusal.status).phrase}{why}\n".encode()
        self.send_response(refusal.status)
        if refusal.status == 405:
            self.send_header("Allow", ", ".join(ALLOWED))
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True
        return False
