"""Live: a real server, real worker processes, real HTTP. Under a load step (1 → 16 clients and back) the
variant scales out and back in through its target-tracking policy, with zero failed requests, and the scaling
activities explain each change. Alarm periods are short (settings) so that the scenario takes about a minute."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from greenfleet.server import Server
from tests.aws.servers import running_server
from tests.aws.test_sagemaker_boto3 import client
from tests.live.conftest import Api
from tests.live.test_endpoints_live import csv_row
from tests.scaling.load import Load

pytestmark = pytest.mark.slow
SHORT = {"scaling_alarm_period_s": 2, "scaling_alarm_high_datapoints": 2, "scaling_alarm_low_datapoints": 4,
         "scaling_default_cooldown_s": 4.0, "drain_timeout_s": 30.0}
KEY = {"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/elastic/variant/AllTraffic",
       "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}


@pytest.fixture
def short_server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path / "home", **SHORT) as server:
        yield server


def _until(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"not {what} after {timeout_s} s")


def _variant(api: Api) -> dict[str, Any]:
    described: dict[str, Any] = api.call("GET", "/api/endpoints/elastic")
    return {"status": described["EndpointStatus"], **described["ProductionVariants"][0]}


def test_a_load_step_scales_out_and_back_in_with_zero_failed_requests(short_server: Server, sklearn_model: Path,
                                                                      features: np.ndarray) -> None:
    api = Api(short_server.settings.base_url)
    api.deploy("elastic", sklearn_model, {"AllTraffic": (1.0, 1)})
    aas: Any = client(short_server, "application-autoscaling")
    aas.register_scalable_target(**KEY, MinCapacity=1, MaxCapacity=3)
    aas.put_scaling_policy(**KEY, PolicyName="per-instance", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={
                               "TargetValue": 1500.0,  # invocations per instance per minute: 25 per second
                               "PredefinedMetricSpecification": {
                                   "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    load = Load(short_server.settings.base_url, "elastic", csv_row(features), rate=10.0)
    try:
        load.set_clients(1)  # 600 per minute: below the target, nothing to do
        time.sleep(6)
        assert _variant(api)["DesiredInstanceCount"] == 1
        load.set_clients(16)  # 9600 per minute on one instance: ceil(9600 / 1500) = 7, bounded by MaxCapacity 3
        _until(lambda: (v := _variant(api))["CurrentInstanceCount"] == 3 and v["status"] == "InService", 90,
               "scaled out to 3 serving instances")
        load.set_clients(1)  # 600 per minute over 3: 200 each, under 0.9 x 1500; ceil(3 x 200 / 1500) = 1
        _until(lambda: (v := _variant(api))["CurrentInstanceCount"] == 1 and v["status"] == "InService"
               and len(api.call("GET", "/api/endpoints/elastic/instances")["Instances"]) == 1, 90,
               "scaled back in to 1")
        time.sleep(2)
    finally:
        load.stop()
    assert load.failures == [] and load.ok > 500
    activities = aas.describe_scaling_activities(ServiceNamespace="sagemaker",
                                                 ResourceId=KEY["ResourceId"])["ScalingActivities"]
    assert [(a["Description"], a["StatusCode"]) for a in activities] == [
        ("Setting desired instance count to 1.", "Successful"), ("Setting desired instance count to 3.", "Successful")]
    assert "-AlarmLow-" in activities[0]["Cause"] and "-AlarmHigh-" in activities[1]["Cause"]
    assert activities[1]["StatusMessage"].startswith("Successfully set desired instance count to 3.")
    # the concurrency metric that SageMakerVariantConcurrentRequestsPerModelHighResolution tracks is published
    cw: Any = client(short_server, "cloudwatch")
    now = time.time()
    points = cw.get_metric_statistics(Namespace="AWS/SageMaker", MetricName="ConcurrentRequestsPerModel",
                                      Dimensions=[{"Name": "EndpointName", "Value": "elastic"},
                                                  {"Name": "VariantName", "Value": "AllTraffic"}],
                                      StartTime=now - 300, EndTime=now + 60, Period=60,
                                      Statistics=["Maximum", "SampleCount"])["Datapoints"]
    assert points and max(p["Maximum"] for p in points) >= 1 and sum(p["SampleCount"] for p in points) > 20
