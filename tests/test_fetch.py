"""paperdigest fetch, against a real HTTP server on 127.0.0.1 (pytest-httpserver) that replays
what the API sends: pages, rate limits, server errors, bad bodies, slowness, and kill -9."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from support import REPO, run_cli
from werkzeug import Request, Response

from generator import __version__
from generator.diagnostics import UsageError
from generator.fetch import dates_to_fetch

API_FIXTURE = REPO / "tests" / "fixtures" / "api" / "2025-03-15.json"


def items(count: int, day: str = "2025-03-20", start: int = 0) -> list[dict]:
    return [{"paper": {"id": f"2503.{start + n:05d}", "title": f"Paper number {start + n} on {day}",
                       "summary": f"Abstract of paper {start + n}. It has sentences.", "upvotes": n,
                       "authors": [{"name": f"Author {n}", "hidden": False}],
                       "submittedOnDailyAt": f"{day}T01:00:00.000Z"}, "numComments": 0} for n in range(count)]


def content_folder(root: Path, api: str, **fetch) -> Path:
    content = root / "content"
    (content / "digests").mkdir(parents=True)
    settings = {"api": api, "pause": 0, "backoff": 0.01, "timeout": 2, **fetch}
    lines = [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    (content / "site.toml").write_text("default_year = 2025\n\n[fetch]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return content


@pytest.fixture
def api(httpserver: HTTPServer) -> str:
    return httpserver.url_for("/api/daily_papers")


def serve_pages(httpserver: HTTPServer, day: str, pages: list[list]) -> None:
    for number, found in enumerate(pages):
        httpserver.expect_request("/api/daily_papers", query_string={"date": day, "limit": "100", "p": str(number)}) \
            .respond_with_json(found)


def fetch(content: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli("fetch", "--content", str(content), *args)


def files(content: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((content / "digests").iterdir())}


def test_all_pages_of_a_day_make_one_file_of_the_items_as_returned(tmp_path, httpserver, api):
    pages = [items(100), items(100, start=100), items(37, start=200)]
    serve_pages(httpserver, "2025-03-20", pages)
    content = content_folder(tmp_path, api)
    done = fetch(content, "--date", "2025-03-20")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "paperdigest fetch: 1 date fetched, 237 papers, 1 files written, 0 with no papers"
    written = json.loads((content / "digests" / "2025-03-20.json").read_text(encoding="utf-8"))
    assert written == pages[0] + pages[1] + pages[2]
    agents = {request.headers["User-Agent"] for request, _ in httpserver.log}
    assert agents == {f"paperdigest/{__version__} (static archive of Hugging Face Daily Papers; "
                      "+https://pypi.org/project/paperdigest/)"}
    assert list(files(content)) == ["2025-03-20.json"]  # no temporary file left


def test_fetched_files_build_into_the_site_with_their_metadata(tmp_path, httpserver, api):
    serve_pages(httpserver, "2025-03-15", [json.loads(API_FIXTURE.read_text(encoding="utf-8"))])
    content = content_folder(tmp_path, api)
    assert fetch(content, "--date", "2025-03-15").returncode == 0
    built = run_cli("build", "--content", str(content), "--out", str(tmp_path / "site"))
    assert built.returncode == 0, built.stderr
    page = (tmp_path / "site" / "papers" / "2-bits-are-enough-analytical-engines-for-quantised-attention.html").read_text()
    assert "Ada Lovelace, Alan Turing, Grace Hopper" in page and 'href="https://arxiv.org/pdf/2503.09876"' in page
    assert "@misc{lovelace2025bits," in page and (tmp_path / "site" / "abs" / "2503.09876.html").is_file()


def test_a_day_with_no_papers_writes_nothing(tmp_path, httpserver, api):
    serve_pages(httpserver, "2025-03-22", [[]])
    content = content_folder(tmp_path, api)
    done = fetch(content, "--date", "2025-03-22")
    assert done.returncode == 0 and "0 files written, 1 with no papers" in done.stdout
    assert files(content) == {}


def test_429_with_retry_after_is_waited_for(tmp_path, httpserver, api):
    served = []

    def limited(request: Request) -> Response:
        served.append(time.monotonic())
        if len(served) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return Response(json.dumps(items(3)), content_type="application/json")

    httpserver.expect_request("/api/daily_papers").respond_with_handler(limited)
    content = content_folder(tmp_path, api)
    done = fetch(content, "--date", "2025-03-20")
    assert done.returncode == 0, done.stderr
    assert len(served) == 2 and served[1] - served[0] >= 0.9  # Retry-After: 1, not the 0.01 s backoff


def test_retry_after_is_capped(tmp_path, httpserver, api):
    served = []

    def limited(request: Request) -> Response:
        served.append(time.monotonic())
        if len(served) == 1:
            return Response("come back in an hour", status=503, headers={"Retry-After": "3600"})
        return Response("[]", content_type="application/json")

    httpserver.expect_request("/api/daily_papers").respond_with_handler(limited)
    content = content_folder(tmp_path, api, retry_after_max=1)
    assert fetch(content, "--date", "2025-03-20").returncode == 0
    assert len(served) == 2 and 0.9 <= served[1] - served[0] < 30


def test_a_500_that_recovers_and_one_that_does_not(tmp_path, httpserver, api):
    calls = {"2025-03-20": 0}

    def flaky(request: Request) -> Response:
        day = request.args["date"]
        if day == "2025-03-20":
            calls[day] += 1
            if calls[day] < 3:
                return Response("oops", status=500)
            return Response(json.dumps(items(2)), content_type="application/json")
        return Response("down for good", status=502)

    httpserver.expect_request("/api/daily_papers").respond_with_handler(flaky)
    content = content_folder(tmp_path, api, retries=3)
    done = fetch(content, "--since", "2025-03-20", "--until", "2025-03-21")
    assert done.returncode == 1
    assert "paperdigest fetch: 2025-03-21: HTTP 502 after 4 tries: down for good" in done.stderr
    assert done.stdout.strip().endswith("2 papers, 1 files written, 0 with no papers, 1 failed")
    assert list(files(content)) == ["2025-03-20.json"]  # the good date is kept
    assert "Traceback" not in done.stderr


def test_a_400_fails_at_once_and_names_the_date(tmp_path, httpserver, api):
    httpserver.expect_request("/api/daily_papers").respond_with_json({"error": "Invalid date"}, status=400)
    content = content_folder(tmp_path, api)
    done = fetch(content, "--date", "2025-02-30".replace("30", "28"))
    assert done.returncode == 1 and "2025-02-28: HTTP 400: {" in done.stderr and '"Invalid date"' in done.stderr
    assert len(httpserver.log) == 1  # a 400 is not retried


@pytest.mark.parametrize("body, words", [
    ('[{"paper": {"title": "Cut', "the response is not JSON"),
    ('{"error": "maintenance"}', "the response is an object, not a list of papers"),
    ('<html>Sign in</html>', "the response is not JSON"),
])
def test_a_body_that_is_not_a_list_of_items_fails_that_date(tmp_path, httpserver, api, body, words):
    httpserver.expect_request("/api/daily_papers").respond_with_data(body, content_type="application/json")
    content = content_folder(tmp_path, api)
    done = fetch(content, "--date", "2025-03-20")
    assert done.returncode == 1 and f"2025-03-20: {words}" in done.stderr and files(content) == {}


def test_a_slow_answer_times_out(tmp_path, httpserver, api):
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response("[]", content_type="application/json")

    httpserver.expect_request("/api/daily_papers").respond_with_handler(slow)
    content = content_folder(tmp_path, api, timeout=0.3, retries=1)
    done = fetch(content, "--date", "2025-03-20")
    assert done.returncode == 1 and "2025-03-20: timed out" in done.stderr and files(content) == {}


def test_no_network_is_said_plainly(tmp_path):
    content = content_folder(tmp_path, "http://127.0.0.1:9/api/daily_papers", retries=1)
    done = fetch(content, "--date", "2025-03-20")
    assert done.returncode == 1 and "2025-03-20: no network: cannot connect to the API" in done.stderr
    assert "Traceback" not in done.stderr


def test_dates_already_there_are_skipped_unless_refreshed(tmp_path, httpserver, api):
    httpserver.expect_request("/api/daily_papers").respond_with_json(items(2, "2025-03-14"))
    content = content_folder(tmp_path, api)
    (content / "digests" / "saved.txt").write_bytes((REPO / "content" / "digests" / "000_655177a3bb48841b.txt").read_bytes())
    done = fetch(content, "--date", "2025-03-14")  # the seed dump says "Mar 14"
    assert done.returncode == 0 and "1 already there" in done.stdout and len(httpserver.log) == 0
    done = fetch(content, "--date", "2025-03-14", "--refresh")
    assert done.returncode == 0 and "1 files written" in done.stdout and "2025-03-14.json" in files(content)
    again = fetch(content, "--date", "2025-03-14", "--refresh")  # the same answer: the file is not rewritten
    assert "0 files written" in again.stdout


@pytest.mark.parametrize("args, words", [
    (["--since", "2025-03-05", "--until", "2025-03-01"], "--since 2025-03-05 is after --until 2025-03-01"),
    (["--date", "2025-13-01"], "'2025-13-01' is not a date like 2025-03-14"),
    (["--date", "2999-01-01"], "--date 2999-01-01 is in the future"),
    (["--date", "2025-03-01", "--since", "2025-03-01"], "not allowed with argument"),
    (["--until", "2025-03-01"], "--until needs --since"),
    (["--api", "ftp://example.org/"], "must be an http(s) URL"),
])
def test_usage_errors_exit_2(tmp_path, args, words):
    content = content_folder(tmp_path, "http://127.0.0.1:9/")
    done = fetch(content, *args)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


def test_which_dates_with_none_given():
    today = date(2025, 3, 20)
    assert dates_to_fetch(set(), today, None, None, None, False) == [today]
    assert dates_to_fetch({date(2025, 3, 17)}, today, None, None, None, False) == [
        date(2025, 3, 18), date(2025, 3, 19), today]
    assert dates_to_fetch({today}, today, None, None, None, True)[0] == date(2025, 3, 7)  # --refresh: 14 days
    assert dates_to_fetch({today}, today, None, None, None, False) == []  # up to date
    with pytest.raises(UsageError):
        dates_to_fetch({today}, today, None, date(2025, 3, 21), None, False)  # --since tomorrow


def test_kill_9_mid_fetch_leaves_whole_files_or_none(tmp_path, httpserver, api):
    """A fetch of many days, killed at different moments: each digest there is a whole day. A kill
    that lands mid-write can leave only a hidden temporary file, which builds ignore and the next
    fetch clears."""
    def slowly(request: Request) -> Response:
        time.sleep(0.05)
        day = request.args["date"]
        page = int(request.args["p"])
        return Response(json.dumps(items(100 if page < 2 else 10, day, start=page * 100)), content_type="application/json")

    httpserver.expect_request("/api/daily_papers").respond_with_handler(slowly)
    counts = []
    for attempt, delay in enumerate((0.9, 1.3, 1.7, 2.2)):
        content = content_folder(tmp_path / str(attempt), api)
        process = subprocess.Popen([sys.executable, "-m", "generator", "fetch", "--content", str(content),
                                    "--since", "2025-01-01", "--until", "2025-01-31"], cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.kill()  # SIGKILL (TerminateProcess on Windows): no handler runs
        process.wait()
        found = files(content)
        whole = {name: data for name, data in found.items() if name.endswith(".json")}
        leftovers = sorted(set(found) - set(whole))
        assert all(re.fullmatch(r"\.2025-01-\d\d\.json\.fetching", name) for name in leftovers), leftovers
        for name, data in whole.items():
            assert len(json.loads(data)) == 210, name
        counts.append(len(whole))
        if leftovers:  # the kill landed mid-write: the next fetch clears what it left
            assert fetch(content, "--date", "2025-02-15").returncode == 0
            assert not [name for name in files(content) if not name.endswith(".json")]
    assert any(0 < count < 31 for count in counts), counts  # some kills did land mid-fetch


def test_a_leftover_temporary_file_is_cleared(tmp_path, httpserver, api):
    httpserver.expect_request("/api/daily_papers").respond_with_json([])
    content = content_folder(tmp_path, api)
    (content / "digests" / ".2025-03-19.json.fetching").write_text("[{", encoding="utf-8")
    assert fetch(content, "--date", "2025-03-20").returncode == 0
    assert files(content) == {}
