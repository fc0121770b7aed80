"""Live serverless variants: a real server and worker processes. The endpoint is InService with no instance;
the first request is held through the cold start and answered; after the idle period the variant goes back
to zero and the next request starts it again; above MaxConcurrency requests are throttled (ThrottlingException,
HTTP 400); the worker runs under MemorySizeInMB as its address-space limit; SageMaker's exclusions answer
ValidationException."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from greenfleet.server import Server
from tests.aws.servers import running_server
from tests.aws.test_sagemaker_boto3 import ROLE, client
from tests.live.conftest import Api
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


@pytest.fixture
def idle_server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path / "home", serverless_idle_s=2.0, serverless_cold_start_timeout_s=60.0) as server:
        yield server


def _instances(api: Api, name: str) -> list[dict[str, Any]]:
    return list(api.call("GET", f"/api/endpoints/{name}/instances")["Instances"])


def _wait(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not {what} after {timeout_s} s")


def test_scale_to_zero_cold_start_throttling_and_memory_limit(idle_server: Server, sklearn_model: Path,
                                                              features: np.ndarray) -> None:
    sm: Any = client(idle_server, "sagemaker")
    api = Api(idle_server.settings.base_url)
    sm.create_model(ModelName="lean", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
    serverless = {"MemorySizeInMB": 2048, "MaxConcurrency": 2}
    for bad, config in (("MemorySizeInMB", {**serverless, "MemorySizeInMB": 1500}),
                        ("MaxConcurrency", {**serverless, "MaxConcurrency": 201}),
                        ("ProvisionedConcurrency", {**serverless, "ProvisionedConcurrency": 3})):
        with pytest.raises(ClientError) as info:
            sm.create_endpoint_config(EndpointConfigName="bad", ProductionVariants=[
                {"VariantName": "v", "ModelName": "lean", "ServerlessConfig": config}])
        assert info.value.response["Error"]["Code"] == "ValidationException" and bad.lower() in str(info.value).lower()
    with pytest.raises(ClientError) as info:  # several production variants
        sm.create_endpoint_config(EndpointConfigName="bad", ProductionVariants=[
            {"VariantName": v, "ModelName": "lean", "ServerlessConfig": serverless} for v in ("a", "b")])
    assert info.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as info:  # data capture
        sm.create_endpoint_config(EndpointConfigName="bad", ProductionVariants=[
            {"VariantName": "v", "ModelName": "lean", "ServerlessConfig": serverless}], DataCaptureConfig={
            "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://b/p",
            "CaptureOptions": [{"CaptureMode": "Input"}]})
    assert info.value.response["Error"]["Code"] == "ValidationException" and "serverless" in str(info.value)

    sm.create_endpoint_config(EndpointConfigName="cold", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "lean", "ServerlessConfig": serverless}])
    sm.create_endpoint(EndpointName="cold", EndpointConfigName="cold")
    api.wait_status("cold", "InService", 30)
    described = sm.describe_endpoint(EndpointName="cold")["ProductionVariants"][0]
    assert described["CurrentServerlessConfig"] == serverless and _instances(api, "cold") == []

    row = csv_row(features)
    started = time.perf_counter()
    answer = api.invoke("cold", row)  # held through the cold start, then answered
    cold_start_s = time.perf_counter() - started
    assert answer.status_code == 200, answer.text
    assert cold_start_s < 30
    (instance,) = _instances(api, "cold")
    limits = Path(f"/proc/{instance['Pid']}/limits").read_text()
    assert any(line.startswith("Max address space") and str(2048 * 1024 * 1024) in line
               for line in limits.splitlines()), limits
    assert api.invoke("cold", row).status_code == 200  # warm now

    _wait(lambda: _instances(api, "cold") == [], 30, "scaled to zero after the idle period")
    assert api.invoke("cold", row).status_code == 200  # the next request starts it again
    _wait(lambda: _instances(api, "cold") == [], 30, "back to zero")

    with concurrent.futures.ThreadPoolExecutor(12) as pool:  # 12 at once against MaxConcurrency 2, from cold
        answers = list(pool.map(lambda _: api_post(idle_server, row), range(12)))
    codes = sorted(code for code, _ in answers)
    throttled = [kind for code, kind in answers if code == 400]
    assert codes.count(200) >= 2 and throttled and set(throttled) == {"ThrottlingException"}, answers
    assert codes.count(200) + len(throttled) == 12

    cw: Any = client(idle_server, "cloudwatch")
    now = time.time()
    for metric in ("ModelSetupTime", "ServerlessConcurrentExecutionsUtilization", "MemoryUtilization"):
        points = cw.get_metric_statistics(Namespace="AWS/SageMaker", MetricName=metric, Dimensions=[
            {"Name": "EndpointName", "Value": "cold"}, {"Name": "VariantName", "Value": "AllTraffic"}],
            StartTime=now - 300, EndTime=now + 60, Period=60, Statistics=["SampleCount", "Maximum"])["Datapoints"]
        assert points, metric
    overhead = cw.get_metric_statistics(Namespace="AWS/SageMaker", MetricName="OverheadLatency", Dimensions=[
        {"Name": "EndpointName", "Value": "cold"}, {"Name": "VariantName", "Value": "AllTraffic"}],
        StartTime=now - 300, EndTime=now + 60, Period=60, Statistics=["Maximum"])["Datapoints"]
    assert max(p["Maximum"] for p in overhead) >= 0.5 * cold_start_s * 1e6  # microseconds: the held cold start


def api_post(server: Server, row: str) -> tuple[int, str]:
    import httpx

    answer = httpx.post(f"{server.settings.base_url}/endpoints/cold/invocations", content=row,
                        headers={"Content-Type": "text/csv"}, timeout=60)
    return answer.status_code, answer.headers.get("x-amzn-errortype", "")
