"""Seed 003 through boto3 only: CloudWatch alarms from put_metric_alarm guard a canary and a linear
update_endpoint to a broken model; describe_endpoint shows the automatic rollback; the same
DeploymentConfig then ships a good model with RetainDeploymentConfig=True."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from greenfleet.server import Server
from tests.aws.test_sagemaker_boto3 import FAST_WAITER, client
from tests.live.conftest import Api
from tests.live.test_deployments_live import Load, failing_model
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow

CANARY = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
    "Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25}, "WaitIntervalInSeconds": 4},
    "TerminationWaitInSeconds": 1, "MaximumExecutionTimeoutInSeconds": 600}}
LINEAR = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
    "Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 34}, "WaitIntervalInSeconds": 2},
    "TerminationWaitInSeconds": 1, "MaximumExecutionTimeoutInSeconds": 600}}


def wait_settled(sm: Any, name: str, timeout_s: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described: dict[str, Any] = sm.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] in ("InService", "UpdateRollbackFailed", "Failed"):
            return described
        time.sleep(0.2)
    raise AssertionError(f"{name} did not settle")


@pytest.mark.parametrize("policy", [CANARY, LINEAR], ids=["canary", "linear"])
def test_seed_003_guarded_update_rolls_back_then_succeeds(server: Server, sklearn_model: Path,
                                                          features: np.ndarray, tmp_path: Path,
                                                          policy: dict[str, Any]) -> None:
    sm, cw = client(server, "sagemaker"), client(server, "cloudwatch")
    role = "arn:aws:iam::123456789012:role/SageMakerRole"
    images = {"v1": ("greenfleet/sklearn", str(sklearn_model)), "broken": ("greenfleet/script",
              str(failing_model(tmp_path))), "v2": ("greenfleet/sklearn", str(sklearn_model))}
    for name, (image, url) in images.items():
        sm.create_model(ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"Image": image, "ModelDataUrl": url})
        sm.create_endpoint_config(EndpointConfigName=f"cfg-{name}", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 3,
            "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}])
    sm.create_endpoint(EndpointName="guarded", EndpointConfigName="cfg-v1")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="guarded", WaiterConfig=FAST_WAITER)
    dimensions = [{"Name": "EndpointName", "Value": "guarded"}, {"Name": "VariantName", "Value": "AllTraffic"}]
    cw.put_metric_alarm(AlarmName="guarded-5xx", AlarmDescription="auto-rollback alarm", ActionsEnabled=False,
                        Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors", Statistic="Average",
                        Dimensions=dimensions, Period=1, EvaluationPeriods=1, Threshold=0.01,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
    cw.put_metric_alarm(AlarmName="guarded-latency", AlarmDescription="auto-rollback alarm", ActionsEnabled=False,
                        Namespace="AWS/SageMaker", MetricName="ModelLatency", Statistic="Average",
                        Dimensions=dimensions, Period=1, EvaluationPeriods=1, Threshold=5_000_000,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
    config = {**policy, "AutoRollbackConfiguration": {
        "Alarms": [{"AlarmName": "guarded-5xx"}, {"AlarmName": "guarded-latency"}]}}
    api = Api(server.settings.base_url)
    with Load(api, "guarded", csv_row(features)):
        sm.update_endpoint(EndpointName="guarded", EndpointConfigName="cfg-broken", DeploymentConfig=config)
        assert sm.describe_endpoint(EndpointName="guarded")["EndpointStatus"] == "Updating"
        described = wait_settled(sm, "guarded")
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "cfg-v1", described
    assert "guarded-5xx" in described["FailureReason"]
    assert described["LastDeploymentConfig"]["AutoRollbackConfiguration"] == config["AutoRollbackConfiguration"]
    alarms = cw.describe_alarms(AlarmNames=["guarded-5xx"])["MetricAlarms"]
    assert alarms and alarms[0]["StateValue"] in ("ALARM", "OK")
    history = cw.describe_alarm_history(AlarmName="guarded-5xx", HistoryItemType="StateUpdate")
    assert any("to ALARM" in item["HistorySummary"] for item in history["AlarmHistoryItems"])

    deadline = time.monotonic() + 30  # an alarm still in ALARM would stop the next update at once, as in SageMaker
    while {a["StateValue"] for a in cw.describe_alarms(AlarmNamePrefix="guarded-")["MetricAlarms"]} != {"OK"}:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    with Load(api, "guarded", csv_row(features)) as load:
        sm.update_endpoint(EndpointName="guarded", EndpointConfigName="cfg-v2", RetainDeploymentConfig=True)
        described = wait_settled(sm, "guarded")
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "cfg-v2", \
        described.get("FailureReason")
    assert "FailureReason" not in described
    assert load.failures == []
