"""config.py: defaults, validation, and TOML errors that point at their line."""

from __future__ import annotations

from datetime import date

import pytest

from generator.config import SiteConfig, load_config
from generator.diagnostics import BuildError, Level


def write(tmp_path, text: str):
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_means_defaults(tmp_path):
    assert load_config(tmp_path / "site.toml") == (SiteConfig(), [])


def test_the_repository_settings_load_cleanly():
    from support import CONTENT

    config, diagnostics = load_config(CONTENT / "site.toml")
    assert diagnostics == [] and config.default_year == 2025 and config.title


def test_values_and_dates_table(tmp_path):
    config, _ = load_config(write(tmp_path, 'title = "T"\nbase_url = "https://x.org/sub"\ndefault_year = 2024\n'
                                            '[dates]\n"a.txt" = 2024-03-01\n"b.txt" = "2024-03-02"\n'))
    assert config.title == "T"
    assert config.base_url == "https://x.org/sub/"
    assert config.dates == {"a.txt": date(2024, 3, 1), "b.txt": date(2024, 3, 2)}


def test_broken_toml_names_the_line(tmp_path):
    with pytest.raises(BuildError) as caught:
        load_config(write(tmp_path, 'title = "ok"\n\ndefault_year = = 2025\n'))
    (problem,) = caught.value.diagnostics
    assert problem.line == 3 and problem.level is Level.ERROR and "invalid TOML" in problem.message


@pytest.mark.parametrize("text, fragment", [
    ("default_year = 25\n", "default_year"),
    ('default_year = "2025"\n', "default_year"),
    ("title = 3\n", "title"),
    ('base_url = "ftp://x"\n', "base_url"),
    ('[dates]\n"a.txt" = "March"\n', "dates"),
])
def test_bad_values_are_errors(tmp_path, text, fragment):
    with pytest.raises(BuildError) as caught:
        load_config(write(tmp_path, text))
    assert fragment in caught.value.diagnostics[0].message


def test_unknown_keys_warn(tmp_path):
    _, diagnostics = load_config(write(tmp_path, 'titel = "typo"\n'))
    assert [d.level for d in diagnostics] == [Level.WARNING] and "titel" in diagnostics[0].message
