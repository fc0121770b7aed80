"""DataCaptureConfig end to end: boto3 → real server → real worker → captured files, toggled by
UpdateEndpoint, an unwritable destination reported while serving goes on, counts in the metric store."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from greenfleet.server import Server
from tests.aws.test_sagemaker_boto3 import FAST_WAITER, ROLE, client
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


def records(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(root.rglob("*.jsonl")) for line in path.read_text().splitlines()]


def wait_records(root: Path, count: int, timeout_s: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(records(root)) < count:
        time.sleep(0.1)
    return records(root)


def config(sm: Any, name: str, capture: dict[str, Any]) -> None:
    sm.create_endpoint_config(EndpointConfigName=name, DataCaptureConfig=capture, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "cap-model", "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}])


def capture(destination: Path | str, enabled: bool = True, percentage: int = 100) -> dict[str, Any]:
    return {"EnableCapture": enabled, "InitialSamplingPercentage": percentage,
            "DestinationS3Uri": str(destination), "CaptureOptions": [{"CaptureMode": "InputAndOutput"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}}


def test_capture_runs_toggles_and_reports_failures(server: Server, sklearn_model: Path, features: np.ndarray,
                                                   tmp_path: Path) -> None:
    sm, runtime = client(server, "sagemaker"), client(server, "sagemaker-runtime")
    cloudwatch = client(server, "cloudwatch")
    sm.create_model(ModelName="cap-model", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
    root = tmp_path / "capture"
    config(sm, "cap-on", capture(root))
    sm.create_endpoint(EndpointName="cap", EndpointConfigName="cap-on")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="cap", WaiterConfig=FAST_WAITER)
    assert sm.describe_endpoint(EndpointName="cap")["DataCaptureConfig"] == {
        "EnableCapture": True, "CaptureStatus": "Started", "CurrentSamplingPercentage": 100,
        "DestinationS3Uri": str(root)}

    bodies = [csv_row(features, i) for i in range(10)]
    answers = [runtime.invoke_endpoint(EndpointName="cap", Body=b, ContentType="text/csv", InferenceId=f"r{i}")
               ["Body"].read().decode() for i, b in enumerate(bodies)]
    found = wait_records(root, 10)
    assert len(found) == 10
    assert [r["captureData"]["endpointInput"]["data"] for r in found] == bodies
    assert [r["captureData"]["endpointOutput"]["data"] for r in found] == answers
    assert [r["eventMetadata"]["inferenceId"] for r in found] == [f"r{i}" for i in range(10)]
    assert {(r["captureData"]["endpointInput"]["encoding"], r["captureData"]["endpointOutput"]["encoding"])
            for r in found} == {("CSV", "JSON")}
    assert {p.relative_to(root).parts[:2] for p in root.rglob("*.jsonl")} == {("cap", "AllTraffic")}

    config(sm, "cap-off", capture(root, enabled=False))
    sm.update_endpoint(EndpointName="cap", EndpointConfigName="cap-off")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="cap", WaiterConfig=FAST_WAITER)
    assert sm.describe_endpoint(EndpointName="cap")["DataCaptureConfig"]["CaptureStatus"] == "Stopped"
    for body in bodies[:5]:
        runtime.invoke_endpoint(EndpointName="cap", Body=body, ContentType="text/csv")
    time.sleep(1.5)
    assert len(records(root)) == 10

    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    config(sm, "cap-bad", capture(blocker / "sub"))
    sm.update_endpoint(EndpointName="cap", EndpointConfigName="cap-bad")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="cap", WaiterConfig=FAST_WAITER)
    deadline = time.monotonic() + 5
    described: dict[str, Any] = {}
    while time.monotonic() < deadline and "FailureReason" not in described:
        runtime.invoke_endpoint(EndpointName="cap", Body=bodies[0], ContentType="text/csv")  # still served
        described = sm.describe_endpoint(EndpointName="cap")
        time.sleep(0.2)
    assert described["EndpointStatus"] == "InService"
    assert "Data capture is failing" in described["FailureReason"] and str(blocker) in described["FailureReason"]

    now = time.time()
    stats = cloudwatch.get_metric_statistics(
        Namespace="greenfleet/DataCapture", MetricName="CapturedRecords", Statistics=["Sum"], Period=60,
        StartTime=now - 600, EndTime=now + 60,
        Dimensions=[{"Name": "EndpointName", "Value": "cap"}, {"Name": "VariantName", "Value": "AllTraffic"}])
    assert sum(p["Sum"] for p in stats["Datapoints"]) == 10


def test_sampling_and_validation(server: Server, sklearn_model: Path, features: np.ndarray, tmp_path: Path) -> None:
    sm, runtime = client(server, "sagemaker"), client(server, "sagemaker-runtime")
    sm.create_model(ModelName="cap-model", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
    for bad, message in (({**capture(tmp_path), "InitialSamplingPercentage": 101}, "initialSamplingPercentage"),
                         ({**capture(tmp_path), "KmsKeyId": "k"}, "S3 only"),
                         ({**capture("https://host/x")}, "not a local path")):
        with pytest.raises(sm.exceptions.ClientError) as info:
            config(sm, "bad", bad)
        assert info.value.response["Error"]["Code"] == "ValidationException"
        assert message in info.value.response["Error"]["Message"]
    config(sm, "cap-30", capture(f"file://{tmp_path}/c", percentage=30))
    sm.create_endpoint(EndpointName="cap30", EndpointConfigName="cap-30")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="cap30", WaiterConfig=FAST_WAITER)
    for _ in range(300):
        runtime.invoke_endpoint(EndpointName="cap30", Body=csv_row(features), ContentType="text/csv")
    server.capture.flush()
    captured = len(records(tmp_path / "c"))
    assert 50 <= captured <= 130  # 30 % of 300 = 90; binomial sd ≈ 8


def test_the_servers_writer_process_killed_under_traffic(server: Server, sklearn_model: Path, features: np.ndarray,
                                                         tmp_path: Path) -> None:
    """The server's capture-writer process dies: serving goes on, a new one captures what follows, and what
    the dead one had not confirmed is counted in LostRecords."""
    sm, runtime = client(server, "sagemaker"), client(server, "sagemaker-runtime")
    cloudwatch = client(server, "cloudwatch")
    sm.create_model(ModelName="cap-model", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
    config(sm, "cap-on", capture(tmp_path))
    sm.create_endpoint(EndpointName="cap", EndpointConfigName="cap-on")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="cap", WaiterConfig=FAST_WAITER)
    for i in range(5):
        runtime.invoke_endpoint(EndpointName="cap", Body=csv_row(features, i), ContentType="text/csv",
                                InferenceId=f"a{i}")
    server.capture.flush()
    first = server.capture.pid
    assert first is not None and len(records(tmp_path)) == 5
    os.kill(first, signal.SIGSTOP)  # what it is sent from now on stays in the pipe
    for i in range(3):
        runtime.invoke_endpoint(EndpointName="cap", Body=csv_row(features, i), ContentType="text/csv",
                                InferenceId=f"b{i}")
    deadline = time.monotonic() + 5
    while server.capture.waiting and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(first, signal.SIGKILL)
    for i in range(4):  # served while no writer process runs, captured by the next one
        assert runtime.invoke_endpoint(EndpointName="cap", Body=csv_row(features, i), ContentType="text/csv",
                                       InferenceId=f"c{i}")["ResponseMetadata"]["HTTPStatusCode"] == 200
    server.capture.flush()
    assert server.capture.pid not in (None, first)
    assert sorted(r["eventMetadata"]["inferenceId"] for r in records(tmp_path)) == \
        [f"a{i}" for i in range(5)] + [f"c{i}" for i in range(4)]

    def metric(name: str) -> float:
        now = time.time()
        stats = cloudwatch.get_metric_statistics(
            Namespace="greenfleet/DataCapture", MetricName=name, Statistics=["Sum"], Period=60,
            StartTime=now - 600, EndTime=now + 60,
            Dimensions=[{"Name": "EndpointName", "Value": "cap"}, {"Name": "VariantName", "Value": "AllTraffic"}])
        return float(sum(p["Sum"] for p in stats["Datapoints"]))

    deadline = time.monotonic() + 5
    while (metric("LostRecords"), metric("CapturedRecords")) != (3.0, 9.0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (metric("LostRecords"), metric("CapturedRecords")) == (3.0, 9.0)
