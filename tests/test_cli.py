"""cli.py: the command as a user runs it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import re

import pytest

from support import dump, make_content, run_cli

ABSTRACT = "An abstract that is long enough. " * 10


def test_build_prints_one_summary_line(tmp_path):
    content = make_content(tmp_path, {"a.txt": dump(("Paper One", ABSTRACT), ("Paper Two", ABSTRACT))})
    result = run_cli("build", "--content", str(content), "--out", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()
    assert re.fullmatch(r"paperdigest: 2 entries, 2 papers, 1 digests; wrote \d+ files to \S+ in [\d.]+ s", line)
    assert (tmp_path / "site" / "papers" / "paper-one.html").is_file()


def test_quiet_prints_nothing(tmp_path):
    content = make_content(tmp_path, {"a.txt": dump(("Paper One", ABSTRACT))})
    result = run_cli("build", "--quiet", "--content", str(content), "--out", str(tmp_path / "site"))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_bad_input_exits_1_with_file_and_line_and_no_traceback(tmp_path):
    content = make_content(tmp_path, {"a.txt": dump(("Paper One", ABSTRACT), date="Feb 30")})
    (tmp_path / "site").mkdir()
    result = run_cli("build", "--content", str(content), "--out", str(tmp_path / "site"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.search(r"a\.txt:\d+: error: 'Feb 30' is not a real date", result.stderr)
    assert "left unchanged" in result.stderr
    assert list((tmp_path / "site").iterdir()) == []


def test_warnings_print_and_strict_turns_them_into_failure(tmp_path):
    content = make_content(tmp_path, {"a.txt": dump(("Paper One", ABSTRACT)) + "Cut Off Title\n"})
    relaxed = run_cli("build", "--content", str(content), "--out", str(tmp_path / "site"))
    assert relaxed.returncode == 0 and "warning: title with no abstract" in relaxed.stderr
    strict = run_cli("build", "--strict", "--content", str(content), "--out", str(tmp_path / "strict"))
    assert strict.returncode == 1 and "--strict" in strict.stderr
    assert not (tmp_path / "strict").exists()


def test_usage_errors_exit_2(tmp_path):
    assert run_cli("build", "--no-such-flag").returncode == 2
    assert run_cli().returncode == 2
    content = make_content(tmp_path, {"a.txt": dump(("Paper One", ABSTRACT))})
    into_content = run_cli("build", "--content", str(content), "--out", str(content))
    assert into_content.returncode == 2 and "content folder" in into_content.stderr


def test_broken_site_toml_is_reported_with_its_line(tmp_path):
    content = make_content(tmp_path, {"a.txt": dump(("Paper One", ABSTRACT))}, site_toml="title = 'x'\nyear = \n")
    result = run_cli("build", "--content", str(content), "--out", str(tmp_path / "site"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"site\.toml:2: error: invalid TOML", result.stderr)


def test_console_script_and_module_are_the_same_command():
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    beside = Path(sys.executable).with_name("paperdigest")  # (paperdigest.exe on Windows: found by which)
    script = beside if beside.exists() else Path(shutil.which("paperdigest", path=str(beside.parent)) or "")
    assert script.name
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("paperdigest ")
    assert run_cli("--version").stdout == result.stdout


GOOD = dump(("Paper One", ABSTRACT))
RULES = [
    # (name, dumps, site.toml, level, line, message fragment)
    ("invalid-utf8", {"bad.txt": GOOD.encode().replace(b"Paper One", b"Pap\xe9r One")}, None, "error", 11, "not valid UTF-8"),
    ("binary", {"bad.txt": b"\x89PNG\r\n\x1a\n\x00\x00"}, None, "error", 2, "not a text dump (binary control byte b'\\x1a' at byte 6)"),
    ("no-structure", {"bad.txt": "a,b\n1,2\n"}, None, "error", 1, "no recognisable structure"),
    ("impossible-date", {"bad.txt": dump(("Paper One", ABSTRACT), date="Feb 29")}, None, "error", 9, "not a real date"),
    ("no-year", {"bad.txt": GOOD}, 'title = "x"\n', "error", 9, "no year"),
    ("broken-toml", {"a.txt": GOOD}, "default_year = 2025\n[dates\n", "error", 2, "invalid TOML"),
    ("empty-file", {"a.txt": GOOD, "bad.txt": ""}, None, "warning", None, "no papers"),
    ("header-only", {"a.txt": GOOD, "bad.txt": dump(date="Mar 14")}, None, "warning", None, "no papers"),
    ("title-no-abstract", {"bad.txt": GOOD + "Cut Off\n"}, None, "warning", 15, "title with no abstract"),
    ("skipped-file", {"a.txt": GOOD, "bad.md": GOOD}, None, "warning", None, "skipped"),
]


@pytest.mark.parametrize("name, dumps, toml, level, line, fragment", RULES, ids=[rule[0] for rule in RULES])
def test_error_model_rules(tmp_path, name, dumps, toml, level, line, fragment):
    content = make_content(tmp_path, dumps, toml if toml is not None else "default_year = 2025\n")
    bad = "site.toml" if name == "broken-toml" else next(n for n in dumps if n.startswith("bad"))
    where = re.escape(bad) + (f":{line}" if line else "")
    for strict in (False, True):
        out = tmp_path / f"site-{strict}"
        result = run_cli("build", *(["--strict"] if strict else []), "--content", str(content), "--out", str(out))
        assert "Traceback" not in result.stderr
        assert re.search(rf"{where}: {level}: .*{re.escape(fragment)}", result.stderr), result.stderr
        fails = level == "error" or strict
        assert result.returncode == (1 if fails else 0)
        assert out.exists() != fails


def test_a_disk_error_is_a_message_not_a_traceback(tmp_path):
    content = make_content(tmp_path, {"a.txt": GOOD})
    (tmp_path / "blocker").write_text("a file where a folder must go")
    result = run_cli("build", "--content", str(content), "--out", str(tmp_path / "blocker" / "site"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "build failed" in result.stderr and "--debug" in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    content = make_content(tmp_path, {"a.txt": GOOD})
    (tmp_path / "blocker").write_text("a file where a folder must go")
    result = run_cli("build", "--debug", "--content", str(content), "--out", str(tmp_path / "blocker" / "site"))
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_an_unchanged_input_is_not_rebuilt_and_any_change_is(tmp_path):
    content = make_content(tmp_path, {"a.txt": GOOD + "Cut Off\n"})
    out = tmp_path / "site"
    args = ("build", "--content", str(content), "--out", str(out))
    first = run_cli(*args)
    assert first.returncode == 0 and "wrote" in first.stdout
    index = out / "index.html"
    inode = index.stat().st_ino
    again = run_cli(*args)
    assert again.returncode == 0 and "is up to date" in again.stdout
    assert "warning: title with no abstract" in again.stderr  # the last build's warnings, repeated
    assert index.stat().st_ino == inode  # nothing was written
    changes = [
        lambda: (content / "digests" / "a.txt").write_text(GOOD + "Cut Off Again\n"),  # same size, new text
        lambda: (content / "site.toml").write_text('default_year = 2025\ntitle = "New"\n'),
        lambda: (content / "theme" / "static").mkdir(parents=True) or (content / "theme" / "static" / "x.css").write_text("a{}"),
    ]
    for change in changes:
        change()
        result = run_cli(*args)
        assert result.returncode == 0 and "wrote" in result.stdout, result.stdout
    assert "up to date" in run_cli(*args).stdout
    assert "wrote" in run_cli(*args, "--no-cache").stdout
    forced = run_cli(*args, "--force")  # the old spelling still works, and says what to use
    assert "wrote" in forced.stdout and "--force is deprecated; it now means --no-cache --replace" in forced.stderr
    strict = run_cli(*args, "--strict")  # another option is another input: it really builds, and fails
    assert strict.returncode == 1 and "--strict" in strict.stderr


def test_a_long_build_on_a_terminal_shows_a_progress_bar(tmp_path):
    """Run on a pseudo-terminal (120 columns), as a user would: a build of over a second draws a bar."""
    import fcntl
    import os
    import struct
    import subprocess
    import sys
    import termios

    # Big enough that streaming its pages takes several seconds (bars appear after one second).
    papers = [(f"Paper number {n} about something", ABSTRACT) for n in range(12000)]
    content = make_content(tmp_path, {"a.txt": dump(*papers)})
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "generator", "build", "--content", str(content),
                                "--out", str(tmp_path / "site")], stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the build is over
            break
        if not chunk:
            break
        output.extend(chunk)
    os.close(leader)
    text = output.decode("utf-8", "replace")
    assert process.wait(timeout=120) == 0, text[-500:]
    assert re.search(r"paperdigest: +\d+%\|", text), text[-500:]
    assert "wrote" in text
