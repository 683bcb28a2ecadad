"""serve.py: `paperdigest serve` as a user runs it, in a real process on a free port: it builds,
serves, sees a dump change, rebuilds, and the page (fetched again, or open in Chromium)
changes; a failed build shows its errors on the open page; Ctrl-C and SIGTERM stop it cleanly.
(Hostile and parallel requests, --host, and many open tabs: test_serve_hostile.py.)"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support import REPO, dump, make_content, run_cli, tree

from generator.serve import ignored, snapshot, with_reload_script

ABSTRACT = "An abstract that is long enough to be a real one. " * 6
DIGEST = "digests/2025-03-14.html"
MARK = b"__paperdigest__"


def papers(first: str = "Paper One") -> str:
    return dump((first, ABSTRACT), ("Paper Two", ABSTRACT))


class Served:
    """`python -m generator serve --port 0` in a process of its own, its output read as it comes."""

    def __init__(self, content: Path, out: Path, *extra: str):
        self.out = out
        self.process = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve", "--port", "0", "--content", str(content), "--out", str(out),
             *extra], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)  # a process group of its own, as a terminal gives a command
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.changed = threading.Condition()
        self.readers = [threading.Thread(target=self.read, args=(name, getattr(self.process, name)), daemon=True)
                        for name in self.lines]
        for reader in self.readers:
            reader.start()
        self.url = ""

    def read(self, name: str, stream) -> None:
        for line in stream:
            with self.changed:
                self.lines[name].append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def text(self, name: str) -> str:
        with self.changed:
            return "\n".join(self.lines[name])

    def wait_for(self, pattern: str, name: str = "stdout", timeout: float = 60, count: int = 1) -> re.Match:
        """The count-th line of the stream that matches pattern (waits for it)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = [m for m in map(re.compile(pattern).search, self.lines[name]) if m]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not any(r.is_alive() for r in self.readers)):
                    raise AssertionError(f"no {pattern!r} in {name}:\n{self.text('stdout')}\n{self.text('stderr')}")
                self.changed.wait(min(left, 0.5))

    def started(self) -> "Served":
        # (the first build comes before it serves: 6,000 papers take ~15 s, and over 60 s once,
        # in CI, on a VM whose disk stalled)
        self.url = self.wait_for(r"serving \S+ at (http://[^/\s]+:\d+/) \(Ctrl-C to stop\)$", timeout=180).group(1)
        return self

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].strip("/"))

    def stop(self, number: int = signal.SIGINT, timeout: float = 10, group: bool = False) -> int:
        """Send the signal (to its whole process group, as Ctrl-C in a terminal does, if `group`);
        the exit code (it must exit within `timeout` seconds)."""
        if group:
            os.killpg(self.process.pid, number)
        else:
            self.process.send_signal(number)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running {timeout} s after signal {number}:\n{self.text('stderr')}")
        for reader in self.readers:
            reader.join(timeout=5)
        return code

    def kill(self) -> None:
        """SIGKILL the whole group: the server and any worker it forked, which would otherwise
        keep the output pipes open (and the reader threads waiting on them) for ever."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def close(self) -> None:
        self.kill()
        for reader in self.readers:  # closing a stream a thread still reads would wait for that thread
            reader.join(timeout=5)
        if not any(reader.is_alive() for reader in self.readers):
            self.process.stdout.close()
            self.process.stderr.close()


@pytest.fixture
def served(tmp_path):
    """Start `serve` on a content folder (made by the test); stopped (killed if need be) after."""
    made: list[Served] = []

    def start(content: Path, *extra: str, wait: bool = True) -> Served:
        made.append(Served(content, tmp_path / "site", *extra))
        return made[-1].started() if wait else made[-1]

    yield start
    for server in made:
        server.close()


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def eventually(check, timeout: float = 30, what: str = "the condition", server: Served | None = None):
    """Call check() until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            output = f"\n{server.text('stdout')}\n{server.text('stderr')}" if server else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{output}")
        time.sleep(0.2)


def assert_clean_stop(server: Served, code: int) -> None:
    assert code == 0, server.text("stderr")
    assert server.text("stdout").endswith("paperdigest: stopped")
    assert "Traceback" not in server.text("stderr"), server.text("stderr")


def assert_no_reload_code_on_disk(site: Path) -> None:
    files = [path for path in site.rglob("*") if path.is_file()]
    assert files
    assert [path for path in files if MARK in path.read_bytes()] == []


# --- over HTTP ------------------------------------------------------------------------------

def test_serves_the_site_and_serves_the_new_page_after_a_dump_changes(tmp_path, served):
    content = make_content(tmp_path, {"a.txt": papers()})
    server = served(content)
    assert re.fullmatch(r"paperdigest: 2 entries, 2 papers, 1 digests; wrote \d+ files to \S+ in [\d.]+ s",
                        server.lines["stdout"][0]), server.text("stdout") + server.text("stderr")
    assert server.url.startswith("http://127.0.0.1:")

    status, headers, body = fetch(server.url + DIGEST)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body)
    assert b"Paper One" in body
    on_disk = (tmp_path / "site" / DIGEST).read_bytes()
    assert MARK not in on_disk
    assert body.count(b'<script src="/__paperdigest__/reload.js"') == 1
    assert body.index(b"/__paperdigest__/reload.js") < body.index(b"</head>")
    assert re.sub(rb'<script src="/__paperdigest__/reload.js"[^>]*></script>', b"", body) == on_disk

    status, headers, script = fetch(server.url + "__paperdigest__/reload.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert b"/__paperdigest__/state" in script
    status, _, index = fetch(server.url)  # a folder: its index.html
    assert status == 200 and index.startswith(b"<!doctype html>") and MARK in index
    status, _, asset = fetch(server.url + "assets/site.js")  # not HTML: sent as it is
    assert status == 200 and asset == (tmp_path / "site" / "assets" / "site.js").read_bytes()
    status, _, missing = fetch(server.url + "papers/no-such-paper.html")
    assert status == 404 and MARK in missing
    status, _, _ = fetch(server.url + "../../../../etc/passwd")  # sent as it is: urllib keeps the dots
    assert status == 400

    (content / "digests" / "a.txt").write_text(papers("Paper Uno"), encoding="utf-8")
    eventually(lambda: b"Paper Uno" in fetch(server.url + DIGEST)[2], what="the new title on the digest page",
               server=server)
    server.wait_for(r"^paperdigest: 2 entries, 2 papers, 1 digests; wrote", count=2)
    assert b"Paper One" not in fetch(server.url + DIGEST)[2]
    assert_no_reload_code_on_disk(tmp_path / "site")
    assert_clean_stop(server, server.stop())


def test_a_failing_first_build_is_served_as_not_found_until_the_dump_is_fixed(tmp_path, served):
    content = make_content(tmp_path, {"a.txt": dump(("Paper One", ABSTRACT), date="Feb 30")})
    server = served(content)
    assert re.search(r"a\.txt:9: error: 'Feb 30' is not a real date", server.text("stderr"))
    assert "build failed" in server.text("stderr")
    status, headers, body = fetch(server.url)
    assert status == 404 and MARK in body and int(headers["Content-Length"]) == len(body)

    (content / "digests" / "a.txt").write_text(papers(), encoding="utf-8")
    eventually(lambda: fetch(server.url + DIGEST)[0] == 200, what="the site after the fix", server=server)
    assert b"Paper One" in fetch(server.url + DIGEST)[2]
    assert_no_reload_code_on_disk(tmp_path / "site")
    assert_clean_stop(server, server.stop())


def test_theme_overrides_are_watched_too(tmp_path, served):
    content = make_content(tmp_path, {"a.txt": papers()})
    server = served(content)
    override = content / "theme" / "static" / "style.css"
    override.parent.mkdir(parents=True)
    override.write_text("body { color: rebeccapurple }\n", encoding="utf-8")
    eventually(lambda: b"rebeccapurple" in fetch(server.url + "assets/style.css")[2], what="the new style sheet", server=server)
    assert_clean_stop(server, server.stop())


def test_the_state_says_each_builds_number_and_result_and_holds_no_connection(tmp_path, served):
    content = make_content(tmp_path, {"a.txt": papers()})
    server = served(content)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)

    def state() -> dict:
        connection.request("GET", "/__paperdigest__/state")  # on one kept-alive connection, as a tab polls
        response = connection.getresponse()
        assert response.status == 200 and response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-store"
        return json.loads(response.read())

    first = state()
    assert first == {"build": first["build"], "ok": True, "message": ""} and first["build"] > 1_700_000_000_000
    (content / "digests" / "a.txt").write_text(papers("Paper Uno"), encoding="utf-8")
    eventually(lambda: state()["build"] > first["build"], what="build 2", server=server)
    built = state()
    assert built["ok"] is True and built["message"] == ""
    (content / "digests" / "a.txt").write_text(dump(("Paper Uno", ABSTRACT), date="Feb 30"), encoding="utf-8")
    failed = eventually(lambda: (now := state())["build"] > built["build"] and not now["ok"] and now,
                        what="the failed build", server=server)
    assert "a.txt:9: error: 'Feb 30' is not a real date" in failed["message"]
    assert "build failed" in failed["message"]

    started = time.monotonic()  # with a kept-alive connection open
    assert_clean_stop(server, server.stop())
    assert time.monotonic() - started < 5
    connection.close()


# --- stopping ---------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_it_cleanly(tmp_path, served, number):
    content = make_content(tmp_path, {"a.txt": papers()})
    server = served(content)
    started = time.monotonic()
    assert_clean_stop(server, server.stop(number))
    assert time.monotonic() - started < 5
    with pytest.raises(OSError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/"))), timeout=2).close()


def test_ctrl_c_during_a_build_leaves_a_whole_site(tmp_path, served):
    """A rebuild of 6,000 papers takes seconds; Ctrl-C in the middle of it, as a terminal sends it
    (to the build's worker processes too). The site is then the old one, whole (or the new one,
    whole, if the build had already swapped it in)."""
    many = lambda suffix: dump(*[(f"Paper number {n} about {suffix}", ABSTRACT) for n in range(6000)])
    content = make_content(tmp_path, {"a.txt": many("something")})
    server = served(content)
    site = tmp_path / "site"
    before = tree(site)

    (content / "digests" / "a.txt").write_text(many("something else"), encoding="utf-8")
    time.sleep(1.5)  # the watcher polls every 0.3 s: the rebuild is under way
    assert_clean_stop(server, server.stop(group=True))  # the build's worker processes get Ctrl-C too
    after = tree(site)
    if "build interrupted" in server.text("stderr"):
        assert after == before
    else:  # it had finished: then it is exactly what a build of the new content makes
        rebuilt = run_cli("build", "--no-cache", "--content", str(content), "--out", str(tmp_path / "fresh"))
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert after == {**tree(tmp_path / "fresh")}
    again = run_cli("build", "--content", str(content), "--out", str(site))  # and the next build goes on from it
    assert again.returncode == 0 and "Traceback" not in again.stderr
    assert "about something else" in (site / "papers" / "paper-number-5999-about-something-else.html").read_text()


# --- usage ---------------------------------------------------------------------------------

def test_a_port_in_use_is_a_message_and_exit_code_2(tmp_path):
    content = make_content(tmp_path, {"a.txt": papers()})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--content", str(content), "--out", str(tmp_path / "site"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"paperdigest: cannot serve on 127.0.0.1:{port}: the port is in use; " \
                                    "pick another with --port (0 picks a free one)"
    assert result.stdout == ""
    assert not (tmp_path / "site").exists()  # nothing was built


def test_bad_port_numbers_are_usage_errors(tmp_path):
    for port in ("-1", "65536", "http"):
        result = run_cli("serve", "--port", port)
        assert result.returncode == 2 and "not a port number" in result.stderr and "Traceback" not in result.stderr


def test_an_out_folder_that_is_not_a_site_is_refused_with_exit_code_2(tmp_path):
    content = make_content(tmp_path, {"a.txt": papers()})
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    result = run_cli("serve", "--port", "0", "--content", str(content), "--out", str(tmp_path / "mine"))
    assert result.returncode == 2 and "refusing to replace" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"


# --- the watcher and the injection, directly ---------------------------------------------------

def test_the_watcher_skips_editor_files_and_the_output_folder(tmp_path):
    content = make_content(tmp_path, {"a.txt": papers()})
    digests = content / "digests"
    for name in (".a.txt.swp", "a.txt~", "#a.txt#", "4913", "b.txt.swp", ".hidden"):
        (digests / name).write_text("x")
    (content / "site" / "papers").mkdir(parents=True)
    (content / "site" / "papers" / "x.html").write_text("x")
    seen = snapshot((content,), skip=(content / "site",))
    assert sorted(Path(path).relative_to(content).as_posix() for path in seen) == ["digests/a.txt", "site.toml"]
    before = seen[str(digests / "a.txt")]
    os.utime(digests / "a.txt", ns=(before[0] + 10**9, before[0] + 10**9))
    assert snapshot((content,), skip=(content / "site",))[str(digests / "a.txt")] != before
    assert not ignored("a.txt") and ignored("a.txt.swx") and ignored("__pycache__")
    assert snapshot((tmp_path / "missing",)) == {}


def test_the_reload_script_goes_before_the_head_ends_or_at_the_end():
    tag = b'<script src="/__paperdigest__/reload.js" data-build="3" defer></script>'
    assert with_reload_script(b"<html><head><title>x</title></HEAD><body></body>", 3) == \
        b"<html><head><title>x</title>" + tag + b"</HEAD><body></body>"
    assert with_reload_script(b"<p>no head", 3) == b"<p>no head" + tag


# --- in Chromium ---------------------------------------------------------------------------------

def test_an_open_page_reloads_itself_and_shows_a_failed_build(tmp_path, served, page):
    from playwright.sync_api import expect

    content = make_content(tmp_path, {"a.txt": papers()})
    server = served(content)
    loads = []
    page.on("load", lambda: loads.append(page.url))
    page.goto(server.url + DIGEST)
    expect(page.get_by_role("link", name="Paper One")).to_be_visible()
    page.wait_for_function("document.querySelectorAll('script[src^=\"/__paperdigest__/\"]').length === 1")

    (content / "digests" / "a.txt").write_text(papers("Paper Uno"), encoding="utf-8")
    expect(page.get_by_role("link", name="Paper Uno")).to_be_visible(timeout=30_000)
    assert page.url == server.url + DIGEST and len(loads) >= 2  # the page reloaded itself
    banner = page.locator("#paperdigest-build-error")
    expect(banner).to_have_count(0)

    (content / "digests" / "a.txt").write_text(dump(("Paper Uno", ABSTRACT), date="Feb 30"), encoding="utf-8")
    expect(banner).to_be_visible(timeout=30_000)
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text("a.txt:9: error: 'Feb 30' is not a real date")
    expect(page.get_by_role("link", name="Paper Uno")).to_be_visible()  # the last good page stays

    markup = content / "digests" / "<u>b.txt"  # the message is text, never markup
    markup.write_text(dump(("Paper Tres", ABSTRACT), date="Feb 31"), encoding="utf-8")
    expect(banner).to_contain_text("<u>b.txt:9: error: 'Feb 31' is not a real date", timeout=30_000)
    expect(banner.locator("u")).to_have_count(0)

    markup.unlink()
    (content / "digests" / "a.txt").write_text(papers("Paper Dos"), encoding="utf-8")
    expect(page.get_by_role("link", name="Paper Dos")).to_be_visible(timeout=30_000)
    expect(banner).to_have_count(0)
    assert page.url == server.url + DIGEST
    assert page.problems == []
    assert_no_reload_code_on_disk(tmp_path / "site")

    started = time.monotonic()  # with the page open, polling
    assert_clean_stop(server, server.stop())
    assert time.monotonic() - started < 5


def test_a_page_opened_while_the_build_is_failing_shows_the_banner(tmp_path, served, page):
    from playwright.sync_api import expect

    content = make_content(tmp_path, {"a.txt": papers()})
    server = served(content)
    (content / "digests" / "a.txt").write_text(dump(("Paper One", ABSTRACT), date="Feb 30"), encoding="utf-8")
    server.wait_for(r"build failed", name="stderr")
    page.goto(server.url + DIGEST)
    expect(page.locator("#paperdigest-build-error")).to_contain_text("not a real date", timeout=10_000)
    expect(page.get_by_role("link", name="Paper One")).to_be_visible()
    assert_clean_stop(server, server.stop())


def test_a_restarted_server_numbers_its_builds_past_the_old_ones():
    """Pages open from a server that was stopped reload on the new server's first good build."""
    from generator.preview import State

    old = State()
    for _ in range(3):
        old.publish(True)
    time.sleep(0.01)  # a restart takes far longer
    new = State()
    new.publish(True)
    assert new.current() > old.current()
