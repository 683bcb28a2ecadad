"""The GitHub workflows: valid against GitHub's workflow schema, free of high-severity findings
by zizmor (offline), and wired as the README says (the build and deploy steps shared)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

WORKFLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent


def test_the_workflows_match_githubs_schema():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {path.name for path in files} >= {"pages.yml", "fetch.yml", "site.yml"}
    done = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, files)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: nope\n", encoding="utf-8")
    done = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(broken)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1


def zizmor(folder: Path) -> list[dict]:
    done = subprocess.run([BIN / "zizmor", "--offline", "--format", "json", str(folder)],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout)


def test_zizmor_finds_nothing_of_high_severity():
    findings = zizmor(WORKFLOWS)
    serious = [(f["ident"], f["determinations"]["severity"]) for f in findings
               if f["determinations"]["severity"] not in ("Unknown", "Informational", "Low")]
    assert serious == []


def test_zizmor_would_catch_an_unpinned_action_with_broad_permissions(tmp_path):
    (tmp_path / "bad.yml").write_text(
        "name: bad\non: pull_request_target\npermissions: write-all\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n"
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n", encoding="utf-8")
    severities = {f["determinations"]["severity"] for f in zizmor(tmp_path / "bad.yml")}
    assert "High" in severities


@pytest.mark.parametrize("name", ["pages.yml", "fetch.yml"])
def test_both_publishers_share_the_build_steps_and_one_concurrency_group(name):
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert "uses: ./.github/workflows/site.yml" in text
    assert "concurrency:\n  group: pages\n  cancel-in-progress: false" in text
    assert "paperdigest build" not in text and "upload-pages-artifact" not in text  # only in site.yml


def test_third_party_actions_are_pinned_to_full_commit_shas():
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" in line and "./.github/" not in line:
                action = line.split("uses:", 1)[1].split("#", 1)
                ref = action[0].strip().split("@", 1)[1]
                assert len(ref) == 40 and all(c in "0123456789abcdef" for c in ref), line
                assert len(action) == 2 and action[1].strip().startswith("v"), f"{path.name}: no version comment: {line}"


def test_the_fetch_workflow_runs_daily_and_on_demand_and_caches_the_build():
    fetch = (WORKFLOWS / "fetch.yml").read_text(encoding="utf-8")
    assert "schedule:\n    - cron:" in fetch and "workflow_dispatch:" in fetch
    assert "paperdigest fetch" in fetch and "git push" in fetch
    site = (WORKFLOWS / "site.yml").read_text(encoding="utf-8")
    assert "actions/cache@" in site and "._site.paperdigest" in site


# --- the workflows `paperdigest init` writes, and the release workflow ------------------------

@pytest.fixture(scope="module")
def archive_workflows(tmp_path_factory) -> Path:
    """The workflows of a new archive, as `paperdigest init` writes them."""
    from support import run_cli

    archive = tmp_path_factory.mktemp("archive")
    done = run_cli("init", str(archive), "--title", 'An "archive": with\\ quotes',
                   "--base-url", "https://x.github.io/a/")
    assert done.returncode == 0, done.stderr
    return archive / ".github" / "workflows"


def test_the_archives_workflows_match_githubs_schema(archive_workflows):
    files = sorted(archive_workflows.glob("*.yml"))
    assert [path.name for path in files] == ["fetch.yml", "pages.yml", "site.yml"]
    done = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, files)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing_of_high_severity_in_the_archives_workflows(archive_workflows):
    findings = zizmor(archive_workflows)
    serious = [(f["ident"], f["determinations"]["severity"]) for f in findings
               if f["determinations"]["severity"] not in ("Unknown", "Informational", "Low")]
    assert serious == []


def uses(path: Path) -> list[tuple[str, str, str]]:
    """(action, ref, version comment) of every third-party `uses:` line."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "uses:" in line and "./.github/" not in line:
            action, _, comment = line.split("uses:", 1)[1].partition("#")
            name, _, ref = action.strip().partition("@")
            found.append((name, ref, comment.strip()))
    return found


def test_every_action_has_one_pin_everywhere(archive_workflows):
    """The same action at the same commit in every workflow, the archive's included."""
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in [*WORKFLOWS.glob("*.yml"), *archive_workflows.glob("*.yml")]:
        for name, ref, comment in uses(path):
            assert len(ref) == 40 and all(c in "0123456789abcdef" for c in ref), (path.name, name, ref)
            assert comment.startswith("v"), f"{path.name}: no version comment for {name}"
            pins.setdefault(name, set()).add((ref, comment))
    assert {name: len(refs) for name, refs in pins.items() if len(refs) > 1} == {}
    assert pins["pypa/gh-action-pypi-publish"] == {("ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e", "v1.13.0")}


def test_the_release_runs_every_test_and_publishes_with_trusted_publishing_only():
    import yaml

    release = yaml.safe_load((WORKFLOWS / "release.yml").read_text(encoding="utf-8"))
    triggers = release[True]  # YAML 1.1 reads the key `on` as true
    assert triggers == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {}
    jobs = release["jobs"]
    assert jobs["tests"]["uses"] == "./.github/workflows/tests.yml"
    assert jobs["publish"]["needs"] == ["build", "tests"]
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert jobs["publish"]["environment"]["name"] == "pypi"
    publish = jobs["publish"]["steps"][-1]
    assert publish["uses"].startswith("pypa/gh-action-pypi-publish@") and "with" not in publish  # no token, no password
    assert all(job.get("permissions") in ({"contents": "read"}, {"id-token": "write"}) for job in jobs.values())
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    assert "secrets." not in text and "python -m build" in text and "twine check" in text
    tests = yaml.safe_load((WORKFLOWS / "tests.yml").read_text(encoding="utf-8"))
    assert "workflow_call" in tests[True] and tests[True]["push"] == {"branches": ["**"]}  # tags: through the release


def test_the_archives_publishers_share_the_build_steps_like_the_repositorys(archive_workflows):
    for name in ("pages.yml", "fetch.yml"):
        text = (archive_workflows / name).read_text(encoding="utf-8")
        assert "uses: ./.github/workflows/site.yml" in text
        assert "concurrency:\n  group: pages\n  cancel-in-progress: false" in text
    site = (archive_workflows / "site.yml").read_text(encoding="utf-8")
    assert "actions/cache@" in site and "._site.paperdigest" in site and "paperdigest build --out _site" in site
    assert "make " not in site and "make " not in (archive_workflows / "fetch.yml").read_text(encoding="utf-8")
