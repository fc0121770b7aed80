"""The MLOps example (examples/mlops), end to end, as a user runs it: two real servers, real worker processes,
real traffic. Each step's outcome in its report.json was read back from the servers' APIs by the example; here
it is checked against what the story must produce, with the figures behind it, and the Markdown report and
prod's saved dashboard timeline are checked to tell the same story."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
STORY = [
    ("v1 trained and registered in dev", "Approved"),
    ("v1 deployed in dev", "SUCCEEDED"),
    ("v1 checked in dev", "integration Passed, load Passed"),
    ("v1 promoted to prod", "PendingManualApproval"),
    ("v1 approved in prod", "Approved"),
    ("v1 canary under load in prod", "SUCCEEDED"),
    ("v2 trained and registered in dev", "Approved"),
    ("v2 deployed in dev", "SUCCEEDED"),
    ("v2 checked in dev", "integration Passed, load Passed"),
    ("v2 promoted to prod", "PendingManualApproval"),
    ("v2 shadow test in prod", "worse than the champion"),
    ("v2 rejected in prod", "Rejected"),
    ("v3 trained and registered in dev", "Approved"),
    ("v3 deployed in dev", "SUCCEEDED"),
    ("v3 checked in dev", "integration Passed, load Passed"),
    ("v3 promoted to prod", "PendingManualApproval"),
    ("v3 approved in prod", "Approved"),
    ("v3 canary under load in prod", "ROLLED_BACK"),
    ("drift monitoring catches the shifted input stream", "CompletedWithViolations"),
    ("prod at the end", "diagnosis/1 live"),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], subprocess.CompletedProcess[str]]:
    workdir = tmp_path_factory.mktemp("mlops") / "run"
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "mlops" / "run.py"), "--workdir", str(workdir)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    print(done.stdout[-3000:], done.stderr[-3000:])
    report = json.loads((workdir / "report.json").read_text())
    return workdir, report, done


def steps(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["title"]: s for s in report["Steps"]}


@pytest.mark.timeout(600)
def test_every_step_turns_out_as_the_story_says(run: tuple[Path, dict[str, Any], Any]) -> None:
    _, report, done = run
    assert report["Error"] is None, report["Error"]
    assert [(s["title"], s["outcome"]) for s in report["Steps"]] == STORY
    assert report["AllAsExpected"] and done.returncode == 0


@pytest.mark.timeout(600)
def test_the_figures_behind_each_outcome(run: tuple[Path, dict[str, Any], Any]) -> None:
    _, report, _ = run
    found = steps(report)
    dev_url = report["Setup"]["DevUrl"]
    for version in (1, 2, 3):
        promoted = found[f"v{version} promoted to prod"]["details"]
        assert promoted["same_digest"] is True and promoted["created"] is True
        assert promoted["promoted_from"]["greenfleet:promoted-from-url"] == dev_url
        assert promoted["evidence_carried"] == ["integration Passed", "load Passed"]
        assert found[f"v{version} trained and registered in dev"]["details"]["approved_by"] == "dev-pipeline"
    assert found["v1 approved in prod"]["details"]["required_evidence"] == ["integration", "load"]

    canary = found["v1 canary under load in prod"]["details"]
    print(json.dumps({t: found[t]["details"] for t in found if "canary" in t or "shadow" in t or "drift" in t},
                     default=str)[:6000])
    assert canary["load"]["requests"] >= 100 and canary["load"]["failed"] == 0, canary["load"]
    assert canary["judge_reason"] == "score 100 (PASS)" and canary["champion_after"] == 1
    assert {m["name"]: m["verdict"] for m in canary["judge_metrics"]} == {"latency": "PASS", "errors": "PASS"}
    assert all(m["control_n"] >= 50 and m["experiment_n"] >= 50 for m in canary["judge_metrics"])
    assert any("Judge passed" in line for line in canary["timeline"])

    shadow = found["v2 shadow test in prod"]["details"]
    assert shadow["status"] == "Completed" and shadow["pairs"] >= 200
    assert shadow["agreement"] < shadow["min_agreement"]
    confusion = shadow["confusion"]
    assert sum(map(sum, confusion)) == shadow["pairs"]
    assert abs((confusion[0][0] + confusion[1][1]) / shadow["pairs"] - shadow["agreement"]) < 1e-9
    accuracy = shadow["accuracy"]
    assert accuracy["challenger"]["n"] >= 200 and accuracy["challenger"]["n"] == accuracy["AllTraffic"]["n"]
    assert accuracy["challenger"]["accuracy"] < accuracy["AllTraffic"]["accuracy"]
    rejected = found["v2 rejected in prod"]
    assert rejected["details"]["rejected_by"] == "release-manager" and rejected["details"]["champion"] == 1
    assert f"agreement {shadow['agreement']:.3f}" in rejected["why"]

    faulty = found["v3 canary under load in prod"]["details"]
    assert "diagnosis-5xx" in faulty["failure_reason"] or "judge" in faulty["failure_reason"]
    assert faulty["champion_after"] == 1 and faulty["approval_after"] == "Rejected"
    assert faulty["approval_after_by"] == "greenfleet:binding/diagnosis"
    assert faulty["load"].get("status_424", 0) >= 1 and set(faulty["load"]) <= {"requests", "ok", "failed",
                                                                                 "status_424"}

    drift = found["drift monitoring catches the shifted input stream"]["details"]
    assert drift["executions_before_shift"].get("Completed", 0) >= 5
    assert set(drift["executions_before_shift"]) == {"Completed"}  # no false alarm on unshifted traffic
    assert drift["alarm"] == "ALARM"
    assert {"feature_name": "_c0", "constraint_check_type": "baseline_drift_check"}.items() <= \
        next(v for v in drift["violations"] if v["feature_name"] == "_c0").items()
    end = found["prod at the end"]["details"]
    assert end["approved_by"] == "release-manager" and end["endpoint_config"] == "diagnosis-diagnosis-v1"


@pytest.mark.timeout(600)
def test_the_markdown_report_and_the_dashboard_timeline_tell_the_same_story(
        run: tuple[Path, dict[str, Any], Any]) -> None:
    workdir, report, _ = run
    markdown = (workdir / "report.md").read_text()
    for step in report["Steps"]:
        assert f"| {step['number']} | {step['title']} | {step['environment']} | {step['outcome']} |" in markdown
        assert f"## {step['number']}. {step['title']}" in markdown
    assert "Every step turned out as expected." in markdown
    timeline = (workdir / "timeline.html").read_text()
    events = re.findall(r'data-kind="([a-z-]+)"(?: data-version="(\d+)")?', timeline)
    kinds = [kind for kind, _ in events]
    assert kinds.count("promoted") == 3 and kinds.count("approval") == 4  # v1, v3 approved; v2, v3 rejected
    words = " ".join(re.sub(r"<[^>]+>", " ", timeline).split())
    assert "v1: deployment on diagnosis ended ✓ SUCCEEDED" in words
    assert "v3: deployment on diagnosis ended ✖ ROLLED_BACK" in words
    assert re.search(r"v2: shadow test Completed ✓ Completed \d+ paired requests; agreement \d+\.\d% with production",
                     words)
    assert "✖ CompletedWithViolations" in words and kinds.index("monitoring") < kinds.index("promoted")
