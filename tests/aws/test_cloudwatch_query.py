"""An OLDER boto3 (botocore 1.42.6: CloudWatch over the query protocol) against greenfleet, unchanged.

That botocore lives in its own venv, built once per machine under /tmp (keyed by Python and botocore
version) and reused; ``query_client.py`` runs in it and prints what it saw as JSON."""

from __future__ import annotations

import contextlib
import fcntl
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from greenfleet.server import Server
from tests.aws.servers import running_server

OLD_BOTOCORE = "1.42.6"  # the last botocore whose cloudwatch model is query-only
CACHE = Path("/tmp/greenfleet-test-venvs") / f"py{sys.version_info[0]}{sys.version_info[1]}-botocore-{OLD_BOTOCORE}"
SCRIPT = Path(__file__).with_name("query_client.py")
KEYS = {"AKIDLEGACY": "legacy-secret"}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers build the venv once, not in parallel
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def old_botocore_python() -> Path:
    python, ready = CACHE / "bin" / "python", CACHE / ".ready"
    with _locked(CACHE.with_suffix(".lock")):
        if not ready.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(CACHE)], check=True, timeout=120)
            pip = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                  f"botocore=={OLD_BOTOCORE}", f"boto3=={OLD_BOTOCORE}"],
                                 capture_output=True, text=True, timeout=600)
            if pip.returncode != 0:
                pytest.skip(f"cannot install botocore=={OLD_BOTOCORE} from the package registry, so the query "
                            f"protocol is not tested: {pip.stderr.strip()[-500:]}")
            ready.write_text(OLD_BOTOCORE)
    return python


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("query") / "home", aws_credentials=KEYS) as server:
        yield server


@pytest.fixture(scope="module")
def seen(old_botocore_python: Path, locked_server: Server) -> dict[str, Any]:
    run = subprocess.run([str(old_botocore_python), str(SCRIPT), locked_server.settings.base_url, "AKIDLEGACY",
                          "legacy-secret"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    result: dict[str, Any] = json.loads(run.stdout)
    return result


@pytest.mark.slow
def test_query_protocol_client_works_unchanged(seen: dict[str, Any]) -> None:
    assert (seen["botocore"], seen["protocol"]) == (OLD_BOTOCORE, "query")

    # metrics; the second PutMetricData (> 10 KB) was gzipped by botocore and signed compressed
    assert seen["encodings"] == [None, "gzip"]
    [point] = seen["statistics"]
    assert (point["SampleCount"], point["Sum"], point["Maximum"], point["Unit"]) == (4.0, 90.0, 30.0, "Milliseconds")
    assert point["ExtendedStatistics"]["p50"] == pytest.approx(20.0, rel=0.02)
    assert datetime.fromisoformat(point["Timestamp"]).tzinfo is not None
    assert seen["big"][0]["SampleCount"] == 150.0
    [half] = seen["metric_data"]
    assert (half["Id"], half["Label"], half["Values"], half["StatusCode"]) == ("half", "half", [45.0], "Complete")
    assert seen["metrics"] == ["Errors", "Latency"]
    assert seen["metrics_by_dimension"] == 2

    # alarms
    alarm = seen["alarm"]
    assert alarm["AlarmActions"] == ["http://127.0.0.1:9/hook"] and alarm["OKActions"] == []
    assert alarm["Dimensions"] == [{"Name": "Endpoint", "Value": "checkout"}]
    assert (alarm["Threshold"], alarm["Period"], alarm["DatapointsToAlarm"], alarm["ActionsEnabled"]) == \
        (50.5, 3600, 1, True)
    assert [(m["Id"], m["ReturnData"]) for m in seen["math_alarm"]["Metrics"]] == [("e", False), ("rate", True)]
    assert seen["pages"] == [["legacy-0", "legacy-1"], ["legacy-2", "legacy-3"], ["legacy-4", "legacy-math"]]
    assert seen["in_alarm"] == ["legacy-1"]
    assert seen["by_action"] == ["legacy-0"]
    assert seen["for_metric"] == [f"legacy-{i}" for i in range(5)]
    assert seen["actions_enabled"]["legacy-0"] is False and seen["actions_enabled"]["legacy-2"] is True
    assert [h["HistoryItemType"] for h in seen["history"]] == ["StateUpdate", "ConfigurationUpdate"]
    assert json.loads(seen["history"][0]["HistoryData"])["newState"]["stateReasonData"] == {"x": 1}
    assert sum(seen["history_pages"]) == 7 and max(seen["history_pages"]) == 4
    assert seen["after_delete"] == []


@pytest.mark.slow
def test_query_protocol_errors(seen: dict[str, Any]) -> None:
    errors = {name: tuple(error[:3]) if error else None for name, error in seen["errors"].items()}
    assert errors == {
        "bad_statistic": ("InvalidParameterValue", 400, "Sender"),
        "reserved_namespace": ("InvalidParameterValue", 400, "Sender"),
        "missing_parameter": ("MissingParameter", 400, "Sender"),
        "combination": ("InvalidParameterCombination", 400, "Sender"),
        "token": ("InvalidNextToken", 400, "Sender"),
        "missing_alarm": ("ResourceNotFound", 404, "Sender"),
        "bad_reason_data": ("InvalidFormat", 400, "Sender"),
        "delete_missing": None,
        "wrong_secret": ("SignatureDoesNotMatch", 403, "Sender"),
        "unknown_action": ("InvalidAction", 400, "Sender"),
    }
    assert "statistic" in seen["errors"]["bad_statistic"][3]
