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
