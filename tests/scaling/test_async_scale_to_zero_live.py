"""Live: an asynchronous variant scales to zero on an empty backlog and back when work arrives, SageMaker's
pattern (sgdocs:async-inference-autoscale.md) through boto3's application-autoscaling and cloudwatch clients:
MinCapacity 0, target tracking on ApproximateBacklogSizePerInstance, and a step policy fired by the caller's
alarm on HasBacklogWithoutCapacity. Requests sent while no instance runs wait in the queue (none fails) and are
served once the instance is up. Alarm periods are short (settings) so the scenario takes well under a minute."""

from __future__ import annotations

import json
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
from tests.live.test_async_live import async_endpoint, runtime
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow
SHORT = {"scaling_alarm_period_s": 2, "scaling_alarm_high_datapoints": 2, "scaling_alarm_low_datapoints": 4,
         "scaling_default_cooldown_s": 4.0}
KEY = {"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/sleepy/variant/main",
       "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "files").mkdir()
    return tmp_path / "files"


@pytest.fixture
def short_server(tmp_path: Path, files: Path) -> Iterator[Server]:
    with running_server(tmp_path / "home", async_file_roots=str(files), **SHORT) as server:
        yield server


def _until(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"not {what} after {timeout_s} s")


def _at(api: Api, count: int) -> bool:
    described = api.call("GET", "/api/endpoints/sleepy")
    variant = described["ProductionVariants"][0]
    return bool(described["EndpointStatus"] == "InService" and variant["DesiredInstanceCount"] == count
                and variant["CurrentInstanceCount"] == count
                and len(api.call("GET", "/api/endpoints/sleepy/instances")["Instances"]) == count)


def test_an_async_variant_scales_to_zero_and_wakes_on_backlog(short_server: Server, files: Path,
                                                              sklearn_model: Path, features: np.ndarray) -> None:
    api = Api(short_server.settings.base_url)
    async_endpoint(api, "sleepy", sklearn_model, {"S3OutputPath": (files / "out").as_uri()})
    aas: Any = client(short_server, "application-autoscaling")
    cw: Any = client(short_server, "cloudwatch")
    aas.register_scalable_target(**KEY, MinCapacity=0, MaxCapacity=2)
    aas.put_scaling_policy(**KEY, PolicyName="backlog", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={
                               "TargetValue": 5.0, "ScaleInCooldown": 4, "ScaleOutCooldown": 4,
                               "CustomizedMetricSpecification": {
                                   "MetricName": "ApproximateBacklogSizePerInstance", "Namespace": "AWS/SageMaker",
                                   "Dimensions": [{"Name": "EndpointName", "Value": "sleepy"}],
                                   "Statistic": "Average"}})
    wake = aas.put_scaling_policy(**KEY, PolicyName="wake-from-zero", PolicyType="StepScaling",
                                  StepScalingPolicyConfiguration={
                                      "AdjustmentType": "ChangeInCapacity", "MetricAggregationType": "Average",
                                      "Cooldown": 4, "StepAdjustments": [
                                          {"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}]})["PolicyARN"]
    cw.put_metric_alarm(AlarmName="sleepy-has-backlog-without-capacity", MetricName="HasBacklogWithoutCapacity",
                        Namespace="AWS/SageMaker", Statistic="Average", Period=2, EvaluationPeriods=2,
                        DatapointsToAlarm=2, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        TreatMissingData="missing", Dimensions=[{"Name": "EndpointName", "Value": "sleepy"}],
                        AlarmActions=[wake])

    # an empty backlog: target tracking's AlarmLow scales the variant in to zero
    _until(lambda: _at(api, 0), 60, "scaled in to zero")

    # work arrives while no instance runs: it waits (not fails), the backlog alarm wakes the variant
    sent_at = time.monotonic()
    rt = runtime(short_server)
    answers = [rt.invoke_endpoint_async(EndpointName="sleepy", Body=csv_row(features, i).encode(),
                                        ContentType="text/csv", InferenceId=f"waiting-{i}") for i in range(3)]
    time.sleep(1.0)
    outputs = [files / "out" / f"waiting-{i}.out" for i in range(3)]
    assert not any(p.exists() for p in outputs)  # nothing can serve them yet
    _until(lambda: all(p.exists() for p in outputs), 60, "served after waking")
    waited = time.monotonic() - sent_at
    assert all(len(json.loads(p.read_text())["predictions"]) == 1 for p in outputs)
    assert not any((files / "out" / f"waiting-{i}-error.out").exists() for i in range(3))
    assert all(a["ResponseMetadata"]["HTTPStatusCode"] == 202 for a in answers)
    assert waited > 2.0  # they waited for the alarm (2 periods of 2 s) and the instance's start

    # and once the backlog is empty again, back to zero after the cooldown
    _until(lambda: _at(api, 0), 60, "scaled back in to zero")

    def activities() -> list[dict[str, Any]]:
        return list(aas.describe_scaling_activities(ServiceNamespace="sagemaker",
                                                    ResourceId=KEY["ResourceId"])["ScalingActivities"])

    _until(lambda: all(a["StatusCode"] != "InProgress" for a in activities()), 10, "every activity finished")
    done = activities()
    seen = [(a["Description"], a["StatusCode"]) for a in reversed(done)]
    assert seen == [("Setting desired instance count to 0.", "Successful"),
                    ("Setting desired instance count to 1.", "Successful"),
                    ("Setting desired instance count to 0.", "Successful")]
    oldest_first = list(reversed(done))
    assert "-AlarmLow-" in oldest_first[0]["Cause"] and "-AlarmLow-" in oldest_first[2]["Cause"]
    assert oldest_first[1]["Cause"] == ("monitor alarm sleepy-has-backlog-without-capacity in state ALARM "
                                        "triggered policy wake-from-zero")
    now = time.time()
    points = cw.get_metric_statistics(Namespace="AWS/SageMaker", MetricName="HasBacklogWithoutCapacity",
                                      Dimensions=[{"Name": "EndpointName", "Value": "sleepy"}],
                                      StartTime=now - 300, EndTime=now + 60, Period=60,
                                      Statistics=["Maximum"])["Datapoints"]
    assert max(p["Maximum"] for p in points) == 1.0
