"""cli.py: the command as a user runs it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import re

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

    script = Path(sys.executable).with_name("paperdigest")
    assert script.exists() or shutil.which("paperdigest")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("paperdigest ")
    assert run_cli("--version").stdout == result.stdout
