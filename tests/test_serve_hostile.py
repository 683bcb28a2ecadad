"""preview.py under hostile and parallel requests, over real sockets to a real `serve` process
(--port 0): malformed, traversing and oversized requests and other methods get a 4xx and never
a traceback, nothing outside the output folder is served (symlinks included), 60 clients at
once are all served, open tabs do not starve page loads (Chromium), and only 127.0.0.1 listens
unless --host says otherwise. Raw sockets, since urllib and http.client tidy up what they send."""

from __future__ import annotations

import http.client
import random
import re
import socket
import subprocess
import threading
import time

import pytest

from support import make_content, run_cli
from test_serve import ABSTRACT, DIGEST, MARK, Served, assert_clean_stop, dump, eventually, fetch, papers

SECRET = b"the secret outside the site"
TAG = rb'<script src="/__paperdigest__/reload.js" data-build="\d+" defer></script>'
LIMIT_BYTES = 4 * 1024 * 1024  # what one raw exchange reads at most
CLIENTS = 60


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One server (default host) for the request tests of this module, with a secret file
    beside its output folder; its output is checked for tracebacks when it stops."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "outside").mkdir()
    (root / "outside" / "secret.txt").write_bytes(SECRET)
    server = Served(make_content(root, {"a.txt": papers()}), root / "site").started()
    yield server
    try:
        assert server.process.poll() is None, "the server died"
        assert_clean_stop(server, server.stop())
        assert "could not answer" not in server.text("stderr"), server.text("stderr")
        assert "warning" not in server.text("stderr")  # no --host: no warning
    finally:
        server.close()


# --- raw HTTP --------------------------------------------------------------------------------

def exchange(port: int, data: bytes, host: str = "127.0.0.1", timeout: float = 10, one: bool = False) -> bytes:
    """Send the bytes, then read until the server closes the connection, or (`one`) until one
    whole response came, if the request may have kept the connection alive (bounded in time and size)."""
    deadline = time.monotonic() + timeout
    received = bytearray()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        while len(received) < LIMIT_BYTES and not (one and whole(received)):
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return bytes(received)


def whole(received: bytes) -> bool:
    """Whether the bytes hold a whole response (to a GET: its Content-Length says how long)."""
    head, found, body = bytes(received).partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return bool(found) and length is not None and len(body) >= int(length.group(1))


def parse(response: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of the first response in the bytes."""
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    assert re.fullmatch(r"HTTP/1\.[01] \d{3} .*", lines[0]), response[:300]
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def request(port: int, method: str, target: bytes, headers: bytes = b"", body: bytes = b"") -> bytes:
    """One request (asking the server to close after it) and what came back."""
    line = method.encode("iso-8859-1") + b" " + target + b" HTTP/1.1\r\n"
    return exchange(port, line + b"Host: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n" + body)


TRAVERSALS = [  # -> 400: dot segments, backslashes, NUL, double encoding, in any encoding
    b"/index.html%00", b"/%00", b"/index.html\x00", b"/index.html%00.css", b"/../", b"/..", b"/../../../../etc/passwd",
    b"/assets/../index.html", b"/./index.html", b"/%2e/index.html", b"/%2e%2e/", b"/%2E%2E%2F", b"/.%2e/",
    b"/%2E%2E%2Fetc%2Fpasswd", b"/..%2f..%2f..%2fetc%2fpasswd", b"/assets/..%5c..%5cindex.html", b"/..%5c",
    b"/..\\..\\etc\\passwd", b"/assets\\site.js", b"/%5cetc%5cpasswd", b"/%252e%252e/%252e%252e/etc/passwd",
    b"/%252e%252e%252f", b"/%25", b"/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", b"/%e0%80%ae%e0%80%ae/",
    b"/%0d%0aSet-Cookie:%20a=b", b"/index.html%0a", b"/%7f",
]
MALFORMED = [  # -> 400: invalid percent-encoding, not a path, not ASCII
    b"/%zz", b"/%", b"/%2", b"/a%g1", b"/index.html%", b"/%ff", b"/caf\xe9.html", b"/index.html#top",
    b"http://127.0.0.1/index.html", b"http://example.com/", b"https://example.com:443/etc/passwd",
    b"file:///etc/passwd", b"*", b"127.0.0.1:80", b"index.html", b"%2fetc%2fpasswd", b"\\\\server\\share",
]
LONG = [b"/" + b"a" * 10_000, b"/" + b"%2e" * 3_000, b"/index.html?" + b"q" * 10_000,  # -> 414
        b"/" + b"a" * 100_000]  # longer than a request line may be (http.server reads 64 KiB of it)
OTHER_METHODS = ["POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT", "PROPFIND", "BREW", "get", "Head"]


def refused(response: bytes, status: int) -> dict[str, str]:
    """A refusal: the status, a short fixed text, the connection closed, nothing from elsewhere."""
    code, headers, body = parse(response)
    assert code == status, response[:300]
    assert headers.get("connection") == "close"
    assert len(re.findall(rb"^HTTP/1\.[01] \d{3} ", response, re.MULTILINE)) == 1
    assert SECRET not in body and b"root:" not in body and len(body) < 1000
    return headers


@pytest.mark.parametrize("target", TRAVERSALS + MALFORMED, ids=repr)
def test_traversal_nul_and_malformed_paths_are_400(site, target):
    refused(request(site.port, "GET", target), 400)


@pytest.mark.parametrize("target", LONG, ids=lambda target: f"{len(target)} bytes")
def test_overlong_targets_are_414(site, target):
    refused(request(site.port, "GET", target), 414)


@pytest.mark.parametrize("method", OTHER_METHODS)
def test_methods_other_than_get_and_head_are_405_with_allow(site, method):
    for target in (b"/", b"/index.html", b"*", b"/index.html%00"):
        headers = refused(request(site.port, method, target, b"Content-Length: 11\r\n", b"hello=world"), 405)
        assert headers["allow"] == "GET, HEAD"
    upload = b"x" * 300_000  # a body the server never reads: the refusal still arrives whole
    refused(request(site.port, method, b"/", b"Content-Length: %d\r\n" % len(upload), upload), 405)


@pytest.mark.parametrize("data", [
    b"GET /\r\n\r\n",  # HTTP/0.9: no version
    b"GET / HTTP/1\r\n\r\n", b"GET / FOO/1.1\r\n\r\n", b"GET / HTTP/1.1 extra\r\n\r\n", b"garbage\r\n\r\n",
    b"G\x01T / HTTP/1.1\r\n\r\n", b"<script> / HTTP/1.1\r\n\r\n",  # not even a method
    bytes.fromhex("160301020001") + b"\x00" * 64 + b"\r\n\r\n",  # the start of a TLS handshake
], ids=repr)
def test_malformed_request_lines_are_400(site, data):
    refused(exchange(site.port, data), 400)


def test_oversized_headers_are_431_and_http_2_is_505(site):
    assert parse(request(site.port, "GET", b"/", b"X-Big: " + b"x" * 70_000 + b"\r\n"))[0] == 431
    assert parse(request(site.port, "GET", b"/", b"".join(b"X-%d: 1\r\n" % n for n in range(120))))[0] == 431
    assert parse(exchange(site.port, b"GET / HTTP/2.0\r\n\r\n"))[0] == 505


def test_head_refusals_have_no_body(site):
    response = exchange(site.port, b"HEAD /index.html%00 HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = parse(response)
    assert (status, body) == (400, b"") and int(headers["content-length"]) > 0


def test_what_the_site_has_is_still_served(site):
    out = site.out
    status, headers, body = parse(request(site.port, "GET", b"/assets/site.js"))
    assert status == 200 and body == (out / "assets" / "site.js").read_bytes()
    status, _, body = parse(request(site.port, "GET", b"/index.html?%zz&..=%00"))  # the query is no path
    assert status == 200 and re.sub(TAG, b"", body) == (out / "index.html").read_bytes()
    status, headers, body = parse(request(site.port, "HEAD", b"/" + DIGEST.encode()))
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    assert parse(request(site.port, "GET", b"//etc/passwd"))[0] == 404  # http.server makes it /etc/passwd
    status, _, body = parse(request(site.port, "GET", b"/<script>alert(1)</script>"))
    assert status == 404 and b"alert(1)" not in body  # the 404 page never echoes the path
    for target in (b"/assets", b"//assets", b"/%2Fassets", b"/%2F%2Fassets"):  # never Location: //assets/
        status, headers, _ = parse(request(site.port, "GET", target))
        assert (status, headers["location"]) == (301, "/assets/"), target


def test_a_get_with_a_body_closes_after_its_answer(site):
    smuggled = b"GET /assets/site.js HTTP/1.1\r\nHost: x\r\n\r\n"
    head = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled)
    response = exchange(site.port, head + smuggled)
    assert parse(response)[0] == 200 and len(re.findall(rb"^HTTP/1\.1 \d{3} ", response, re.MULTILINE)) == 1


def test_a_refusal_ends_a_pipeline(site):
    response = exchange(site.port, b"GET /%00 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
    refused(response, 400)


def test_symlinks_out_of_the_folder_are_not_followed(site):
    out = site.out
    outside = out.parent / "outside"

    def put_links() -> None:  # again if a build (another edit of the default theme) replaced the folder
        for name, target in (("outside.txt", outside / "secret.txt"), ("outside-dir", outside),
                             ("assets/up", out.parent), ("inside.js", out / "assets" / "site.js")):
            if not (out / name).is_symlink():
                (out / name).symlink_to(target)

    put_links()
    for target in (b"/outside.txt", b"/outside-dir/secret.txt", b"/outside-dir/", b"/outside-dir",
                   b"/assets/up/outside/secret.txt", b"/assets/up/content/site.toml"):
        status, _, body = parse(request(site.port, "GET", target))
        assert status == 404 and SECRET not in body, target
    put_links()
    status, _, body = parse(request(site.port, "GET", b"/inside.js"))  # a symlink within the folder is fine
    assert status == 200 and body == (out / "assets" / "site.js").read_bytes()


def test_empty_and_cut_off_requests_leave_no_trace(site):
    for data in (b"", b"\r\n", b"GET / HT", b"GET /index.html HTTP/1.1\r\nHost: x\r\n"):
        with socket.create_connection(("127.0.0.1", site.port), timeout=5) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            sock.recv(65536)  # whatever comes, then the close
    assert parse(request(site.port, "GET", b"/"))[0] == 200


def test_mangled_requests_get_an_answer_and_no_traceback(site):
    """300 requests, each a valid one with a few bytes changed, inserted or cut (a fixed seed):
    every one gets one of the expected answers (or, for a blank first line, a plain close)."""
    chaos = random.Random(20250314)
    valid = b"GET /%s?build=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\nConnection: close\r\n\r\n" % DIGEST.encode()
    for _ in range(300):
        data = bytearray(valid)
        for _ in range(chaos.randint(1, 4)):
            at = chaos.randrange(len(data))
            byte = chaos.choice(b"\x00\r\n %./\\?#:\x7f\xff" + bytes([chaos.randrange(256)]))
            if (choice := chaos.random()) < 0.4:
                data[at] = byte
            elif choice < 0.8:
                data.insert(at, byte)
            else:
                del data[at]
        response = exchange(site.port, bytes(data) + b"\r\n\r\n", one=True)
        if not response:
            assert not data.split(b"\n", 1)[0].strip(), bytes(data)
            continue
        assert parse(response)[0] in {200, 301, 400, 404, 405, 414, 431, 505}, (bytes(data), response[:200])
        assert SECRET not in response
    assert parse(request(site.port, "GET", b"/"))[0] == 200 and "Traceback" not in site.text("stderr")


# --- parallel clients -----------------------------------------------------------------------------

def test_60_clients_at_once_get_the_right_bytes(site):
    """60 connections open at the same time, each asking three files on its kept-alive
    connection; a barrier makes sure all 60 are open (and answered once) before any goes on."""
    out = site.out
    paths = ("/assets/site.js", "/" + DIGEST, "/assets/style.css")
    pages = {path: (out / path.lstrip("/")).read_bytes() for path in paths}
    barrier = threading.Barrier(CLIENTS, timeout=60)
    results: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
            connection.connect()
            barrier.wait()
            order = list(pages)[number % 3:] + list(pages)[:number % 3]
            for round_, path in enumerate(order):
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read()
                sent = re.sub(TAG, b"", body) if path.endswith(".html") else body
                ok = response.status == 200 and sent == pages[path]
                with lock:
                    results.append("ok" if ok else f"{path}: {response.status}, {len(body)} bytes")
                if round_ == 0:
                    barrier.wait()  # all 60 connections are open and have been answered
            connection.close()
        except Exception as exc:  # noqa: BLE001 (reported below)
            with lock:
                results.append(f"client {number}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1, 90 - (time.monotonic() - started)))
    assert [r for r in results if r != "ok"] == [] and len(results) == 3 * CLIENTS
    assert time.monotonic() - started < 30


def test_idle_connections_do_not_block_a_page(site):
    idle = [socket.create_connection(("127.0.0.1", site.port), timeout=5) for _ in range(CLIENTS)]
    try:
        for sock in idle[::2]:
            sock.sendall(b"GET / HTTP/1.1\r\n")  # and never the end of the headers
        started = time.monotonic()
        status, _, body = fetch(site.url + DIGEST)
        assert status == 200 and b"Paper One" in body and time.monotonic() - started < 2
    finally:
        for sock in idle:
            sock.close()


# --- where it listens -------------------------------------------------------------------------------

def other_addresses() -> list[str]:
    """This machine's non-loopback addresses (`hostname -I`)."""
    try:
        found = subprocess.run(["hostname", "-I"], check=False, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [address for address in found.stdout.split() if not address.startswith(("127.", "::1", "fe80:"))]


def bindable(host: str, family: socket.AddressFamily = socket.AF_INET) -> bool:
    """Whether this machine has the address (Linux answers on all of 127/8, macOS only on 127.0.0.1)."""
    try:
        with socket.socket(family) as probe:
            probe.bind((host, 0))
        return True
    except OSError:
        return False


def assert_refused(host: str, port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=5).close()


def test_by_default_other_loopback_addresses_are_refused(site):
    assert site.url == f"http://127.0.0.1:{site.port}/"
    if not bindable("127.0.0.2"):
        pytest.skip("127.0.0.2 is no address of this machine")
    assert_refused("127.0.0.2", site.port)


def test_by_default_the_machines_other_addresses_are_refused(site):
    addresses = other_addresses()
    if not addresses:
        pytest.skip("this machine has no address but loopback")
    for address in addresses:
        assert_refused(address, site.port)


def test_host_opts_in_to_another_address_with_a_warning(tmp_path):
    if not bindable("127.0.0.2"):
        pytest.skip("127.0.0.2 is no address of this machine")
    server = Served(make_content(tmp_path, {"a.txt": papers()}), tmp_path / "site", "--host", "127.0.0.2").started()
    try:
        assert server.url == f"http://127.0.0.2:{server.port}/"
        assert server.text("stderr").splitlines() == [(
            "paperdigest: warning: serving on 127.0.0.2 as --host asks; this server is for previews only, not for "
            "production: no TLS, no access control, anyone who can reach the address can read the site")]
        status, _, body = fetch(server.url + DIGEST)
        assert status == 200 and b"Paper One" in body and MARK in body
        assert parse(request_to("127.0.0.2", server.port, b"/%2e%2e/"))[0] == 400
        assert_refused("127.0.0.1", server.port)
        assert_clean_stop(server, server.stop())
    finally:
        server.close()


def request_to(host: str, port: int, target: bytes) -> bytes:
    return exchange(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", host=host)


def test_host_takes_an_ipv6_address(tmp_path):
    if not bindable("::1", socket.AF_INET6):
        pytest.skip("no IPv6 loopback here")
    server = Served(make_content(tmp_path, {"a.txt": papers()}), tmp_path / "site", "--host", "::1").started()
    try:
        assert server.url == f"http://[::1]:{server.port}/"
        assert parse(request_to("::1", server.port, b"/"))[0] == 200
        assert_clean_stop(server, server.stop())
    finally:
        server.close()


def test_an_address_not_of_this_machine_is_a_usage_error(tmp_path):
    content = make_content(tmp_path, {"a.txt": papers()})
    result = run_cli("serve", "--host", "203.0.113.7", "--port", "0", "--content", str(content),
                     "--out", str(tmp_path / "site"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == "paperdigest: cannot serve on 203.0.113.7:0: Cannot assign requested address"
    assert not (tmp_path / "site").exists()


# --- many open tabs, in Chromium -----------------------------------------------------------------

def navigation(tab) -> str:
    """How the tab's page was loaded: "navigate" or "reload" ("" while it is being replaced)."""
    try:
        return tab.evaluate("performance.getEntriesByType('navigation')[0].type")
    except Exception:  # noqa: BLE001 (the page navigated away mid-call)
        return ""


def test_ten_open_tabs_leave_room_for_an_eleventh_and_all_reload(tmp_path, browser):
    """A browser allows ~6 connections per host: with a held connection per tab, the 7th tab's
    page never loaded. Now 10 tabs poll, an 11th loads at once, and an edit reloads all 11."""
    from conftest import watched_page
    from playwright.sync_api import expect

    content = make_content(tmp_path, {"a.txt": papers()})
    server = Served(content, tmp_path / "site").started()
    context = browser.new_context()
    try:
        tabs = []
        for _ in range(10):
            tabs.append(watched_page(context))
            tabs[-1].goto(server.url + DIGEST, timeout=10_000)
            expect(tabs[-1].get_by_role("link", name="Paper One")).to_be_visible()
        tabs[0].wait_for_timeout(1500)  # every tab has polled a few times
        tabs.append(watched_page(context))
        started = time.monotonic()
        tabs[-1].goto(server.url, timeout=10_000)
        assert time.monotonic() - started < 5
        expect(tabs[-1].get_by_role("heading", level=1).first).to_be_visible()

        (content / "digests" / "a.txt").write_text(papers("Paper Uno"), encoding="utf-8")
        server.wait_for(r"^paperdigest: 2 entries, 2 papers, 1 digests; wrote", count=2)
        for tab in tabs[:-1]:
            expect(tab.get_by_role("link", name="Paper Uno")).to_be_visible(timeout=30_000)
        eventually(lambda: navigation(tabs[-1]) == "reload", what="the 11th tab to reload", server=server)
        (content / "digests" / "a.txt").write_text(dump(("Paper Uno", ABSTRACT), date="Feb 30"), encoding="utf-8")
        for tab in tabs:
            expect(tab.locator("#paperdigest-build-error")).to_contain_text("not a real date", timeout=30_000)
        assert [problem for tab in tabs for problem in tab.problems] == []
        assert_clean_stop(server, server.stop())
    finally:
        context.close()
        server.close()
