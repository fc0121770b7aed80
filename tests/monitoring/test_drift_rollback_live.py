"""Drift rolls a deployment back, live: a deployment lists a drift alarm (on a continuous schedule's
per-feature metric) in its AutoRollbackConfiguration; the new fleet's traffic arrives shifted during the
bake → CompletedWithViolations → the alarm → the endpoint returns to its old config, saying why."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.datasets import make_classification

from tests.aws.servers import running_server
from tests.aws.test_guarded_deployments_boto3 import wait_settled
from tests.aws.test_sagemaker_boto3 import FAST_WAITER, ROLE, client
from tests.monitoring.test_monitor_boto3 import job

pytestmark = pytest.mark.slow


def send(runtime: Any, rows: np.ndarray) -> None:
    for row in rows:
        runtime.invoke_endpoint(EndpointName="roll", Body=",".join(f"{v:.5f}" for v in row), ContentType="text/csv")


def test_drift_during_the_bake_rolls_the_deployment_back(tmp_path: Path, sklearn_model: Path) -> None:
    with running_server(tmp_path / "home", monitoring_min_interval_s=1.0) as server:
        sm, runtime, cloudwatch = (client(server, s) for s in ("sagemaker", "sagemaker-runtime", "cloudwatch"))
        x, _ = make_classification(n_samples=1000, n_features=20, random_state=0)
        (tmp_path / "train.csv").write_text("\n".join(",".join(f"{v:.5f}" for v in row) for row in x))
        httpx.post(f"{server.settings.base_url}/api/monitoring/baselines", timeout=30, json={
            "DatasetUri": str(tmp_path / "train.csv"), "DatasetFormat": "csv",
            "OutputUri": str(tmp_path / "base")}).raise_for_status()
        sm.create_model(ModelName="roll-model", ExecutionRoleArn=ROLE, PrimaryContainer={
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
        for name in ("roll-v1", "roll-v2"):
            sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
                {"VariantName": "AllTraffic", "ModelName": "roll-model", "InitialInstanceCount": 1,
                 "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}], DataCaptureConfig={
                "InitialSamplingPercentage": 100, "DestinationS3Uri": str(tmp_path / "capture"),
                "CaptureOptions": [{"CaptureMode": "Input"}],
                "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}})
        sm.create_endpoint(EndpointName="roll", EndpointConfigName="roll-v1")
        sm.get_waiter("endpoint_in_service").wait(EndpointName="roll", WaiterConfig=FAST_WAITER)
        cloudwatch.put_metric_alarm(
            AlarmName="drift-roll", Namespace="/aws/sagemaker/Endpoints/data-metric",
            MetricName="feature_baseline_drift__c0", Statistic="Maximum", Period=10, EvaluationPeriods=1,
            Threshold=0.3, ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
            Dimensions=[{"Name": "EndpointName", "Value": "roll"}, {"Name": "ScheduleName", "Value": "watch"}])
        sm.create_monitoring_schedule(MonitoringScheduleName="watch", MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "rate(2 seconds)", "DataAnalysisStartTime": "-PT8S",
                               "DataAnalysisEndTime": "-PT0S"},
            "MonitoringJobDefinition": job("roll", tmp_path / "base", tmp_path / "reports"),
            "MonitoringType": "DataQuality"})
        send(runtime, x[:100])  # the baseline's distribution: the alarm goes to OK, and stays there
        deadline = time.monotonic() + 20
        while cloudwatch.describe_alarms(AlarmNames=["drift-roll"])["MetricAlarms"][0]["StateValue"] != "OK":
            assert time.monotonic() < deadline
            time.sleep(0.2)

        sm.update_endpoint(EndpointName="roll", EndpointConfigName="roll-v2", DeploymentConfig={
            "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE",
                                                                      "WaitIntervalInSeconds": 60}},
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "drift-roll"}]}})
        shifted = x[100:500].copy()
        shifted[:, 0] += 3.0
        started = time.monotonic()
        while time.monotonic() - started < 50 and \
                sm.describe_endpoint(EndpointName="roll")["EndpointStatus"] == "Updating":
            send(runtime, shifted[:40])
            shifted = np.roll(shifted, 40, axis=0)
        described = wait_settled(sm, "roll", timeout_s=60)
        assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "roll-v1", described
        assert "drift-roll" in described["FailureReason"]
        assert time.monotonic() - started < 50  # rolled back within the 60 s bake
        assert described["DataCaptureConfig"]["CaptureStatus"] == "Started"
        history = cloudwatch.describe_alarm_history(AlarmName="drift-roll", HistoryItemType="StateUpdate")
        assert any("to ALARM" in item["HistorySummary"] for item in history["AlarmHistoryItems"])
        sm.stop_monitoring_schedule(MonitoringScheduleName="watch")
