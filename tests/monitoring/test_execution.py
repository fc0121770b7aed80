"""One execution over real captured files: reports written where SageMaker puts them, failures named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from greenfleet.capture.config import CaptureSetting
from greenfleet.capture.record import CapturedEvent
from greenfleet.capture.writer import CaptureWriter
from greenfleet.monitoring import baseline
from greenfleet.monitoring.execution import run_execution
from greenfleet.monitoring.scheduler import RunExecution

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def rows(n: int, seed: int) -> list[str]:
    return [",".join(f"{v:.4f}" for v in row) for row in np.random.default_rng(seed).normal(size=(n, 3))]


def setup(tmp_path: Path) -> dict[str, Any]:
    base = baseline("\n".join(rows(2000, 1)).encode(), "csv")
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "constraints.json").write_text(json.dumps(base.constraints))
    (tmp_path / "base" / "statistics.json").write_text(json.dumps(base.statistics))
    setting = CaptureSetting(str(tmp_path / "cap"), 100, True, False, frozenset({"text/csv"}), frozenset())
    writer = CaptureWriter(max_queued_bytes=1 << 24, flush_interval_s=1.0)
    for i, row in enumerate(rows(500, 2)):
        writer.offer(CapturedEvent(setting, "ep", "v", NOW - 600 + i, row.encode(), "text/csv", b"", "", None))
    writer.stop()
    return {"BaselineConfig": {"ConstraintsResource": {"S3Uri": str(tmp_path / "base" / "constraints.json")},
                               "StatisticsResource": {"S3Uri": f"file://{tmp_path}/base/statistics.json"}},
            "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {"S3Uri": str(tmp_path / "out")}}]}}


def test_execution_writes_reports_under_endpoint_schedule_and_hour(tmp_path: Path) -> None:
    job = setup(tmp_path)
    outcome = run_execution(job, "ep", str(tmp_path / "cap"), RunExecution("s", NOW, NOW - 3600, NOW), None)
    assert outcome.status == "Completed" and outcome.failure_reason is None
    folder = tmp_path / "out" / "ep" / "s" / "2023" / "11" / "14" / "22"
    assert outcome.output_uri == str(folder)
    assert json.loads((folder / "constraint_violations.json").read_text()) == {"violations": []}
    assert json.loads((folder / "statistics.json").read_text())["dataset"]["item_count"] == 500


def test_failures_name_their_cause(tmp_path: Path) -> None:
    job = setup(tmp_path)
    empty = run_execution(job, "ep", str(tmp_path / "cap"), RunExecution("s", NOW, NOW - 60, NOW - 30), None)
    assert empty.status == "Failed" and "No captured data of endpoint ep between 2023-11-14T22:12:20Z" in \
        (empty.failure_reason or "")
    (tmp_path / "base" / "constraints.json").write_text("{not json")
    broken = run_execution(job, "ep", str(tmp_path / "cap"), RunExecution("s", NOW, NOW - 3600, NOW), None)
    assert broken.status == "Failed" and "constraints.json is not JSON" in (broken.failure_reason or "")
    job["BaselineConfig"].pop("ConstraintsResource")
    job["StoppingCondition"] = {"MaxRuntimeInSeconds": 0}
    slow = run_execution(job, "ep", str(tmp_path / "cap"), RunExecution("s", NOW, NOW - 3600, NOW), None)
    assert slow.status == "Failed" and "MaxRuntimeInSeconds" in (slow.failure_reason or "")


def test_execution_reads_capture_and_baseline_from_s3_and_writes_reports_there() -> None:
    import boto3

    from tests.artifacts.s3 import moto_s3

    with moto_s3() as url:
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        s3.create_bucket(Bucket="mon")
        base = baseline("\n".join(rows(1000, 1)).encode(), "csv")
        s3.put_object(Bucket="mon", Key="base/constraints.json", Body=json.dumps(base.constraints).encode())
        s3.put_object(Bucket="mon", Key="base/statistics.json", Body=json.dumps(base.statistics).encode())
        setting = CaptureSetting("s3://mon/capture", 100, True, False, frozenset({"text/csv"}), frozenset())
        writer = CaptureWriter(max_queued_bytes=1 << 24, flush_interval_s=1.0, s3_endpoint_url=url)
        for i, row in enumerate(rows(300, 2)):
            writer.offer(CapturedEvent(setting, "ep", "v", NOW - 600 + i, row.encode(), "text/csv", b"", "", None))
        writer.stop()
        job = {"BaselineConfig": {"ConstraintsResource": {"S3Uri": "s3://mon/base/constraints.json"},
                                  "StatisticsResource": {"S3Uri": "s3://mon/base/statistics.json"}},
               "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {"S3Uri": "s3://mon/reports"}}]}}
        outcome = run_execution(job, "ep", "s3://mon/capture", RunExecution("s", NOW, NOW - 3600, NOW), url)
        assert outcome.status == "Completed", outcome.failure_reason
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="mon", Prefix="reports/")["Contents"])
        assert keys == ["reports/ep/s/2023/11/14/22/constraint_violations.json",
                        "reports/ep/s/2023/11/14/22/statistics.json"]
