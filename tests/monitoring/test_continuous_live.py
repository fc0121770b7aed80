"""Continuous monitoring, live: the input distribution shifts under load → a continuous schedule's
execution finds drift → the per-feature metric → an ordinary CloudWatch alarm goes to ALARM, within the
window plus one evaluation period → its webhook."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.datasets import make_classification

from tests.aws.servers import running_server
from tests.aws.test_sagemaker_boto3 import FAST_WAITER, ROLE, client
from tests.monitoring.test_monitor_boto3 import job
from tests.observability_support import Receiver

pytestmark = pytest.mark.slow


def send(runtime: Any, rows: np.ndarray) -> None:
    for row in rows:
        runtime.invoke_endpoint(EndpointName="live", Body=",".join(f"{v:.5f}" for v in row), ContentType="text/csv")


def statuses(sm: Any) -> list[str]:
    found = sm.list_monitoring_executions(MonitoringScheduleName="cont", MaxResults=100, SortBy="ScheduledTime",
                                          SortOrder="Ascending")["MonitoringExecutionSummaries"]
    return [e["MonitoringExecutionStatus"] for e in found]


def test_shifted_inputs_raise_the_drift_alarm(tmp_path: Path, sklearn_model: Path, receiver: Receiver) -> None:
    with running_server(tmp_path / "home", monitoring_min_interval_s=1.0) as server:
        sm, runtime, cloudwatch = (client(server, s) for s in ("sagemaker", "sagemaker-runtime", "cloudwatch"))
        x, _ = make_classification(n_samples=1000, n_features=20, random_state=0)
        (tmp_path / "train.csv").write_text("\n".join(",".join(f"{v:.5f}" for v in row) for row in x))
        httpx.post(f"{server.settings.base_url}/api/monitoring/baselines", timeout=30, json={
            "DatasetUri": str(tmp_path / "train.csv"), "DatasetFormat": "csv",
            "OutputUri": str(tmp_path / "base")}).raise_for_status()
        sm.create_model(ModelName="live-model", ExecutionRoleArn=ROLE, PrimaryContainer={
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
        sm.create_endpoint_config(EndpointConfigName="live-cfg", ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": "live-model", "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}], DataCaptureConfig={
            "InitialSamplingPercentage": 100, "DestinationS3Uri": str(tmp_path / "capture"),
            "CaptureOptions": [{"CaptureMode": "Input"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}})
        sm.create_endpoint(EndpointName="live", EndpointConfigName="live-cfg")
        sm.get_waiter("endpoint_in_service").wait(EndpointName="live", WaiterConfig=FAST_WAITER)
        send(runtime, x[:200])
        time.sleep(1.2)
        cloudwatch.put_metric_alarm(
            AlarmName="drift-c0", Namespace="/aws/sagemaker/Endpoints/data-metric",
            MetricName="feature_baseline_drift__c0", Statistic="Maximum", Period=10, EvaluationPeriods=1,
            Threshold=0.3, ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
            AlarmActions=[f"{receiver.url}/drift"],
            Dimensions=[{"Name": "EndpointName", "Value": "live"}, {"Name": "ScheduleName", "Value": "cont"}])
        sm.create_monitoring_schedule(MonitoringScheduleName="cont", MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "rate(2 seconds)", "DataAnalysisStartTime": "-PT8S",
                               "DataAnalysisEndTime": "-PT0S"},
            "MonitoringJobDefinition": job("live", tmp_path / "base", tmp_path / "reports"),
            "MonitoringType": "DataQuality"})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "Completed" not in statuses(sm):
            time.sleep(0.2)
        assert statuses(sm)[0] == "Completed"  # the same distribution as the baseline: no drift

        shifted = x[200:600].copy()
        shifted[:, 0] += 3.0
        started = time.monotonic()
        state = "OK"
        while time.monotonic() - started < 40 and state != "ALARM":
            send(runtime, shifted[:40])
            shifted = np.roll(shifted, 40, axis=0)
            state = cloudwatch.describe_alarms(AlarmNames=["drift-c0"])["MetricAlarms"][0]["StateValue"]
        assert state == "ALARM", statuses(sm)
        assert "CompletedWithViolations" in statuses(sm)
        webhook = receiver.wait_for(1, timeout=10)[0]
        assert webhook.path == "/drift" and webhook.body["AlarmName"] == "drift-c0"
        assert webhook.body["NewStateValue"] == "ALARM"
        assert webhook.body["Trigger"]["MetricName"] == "feature_baseline_drift__c0"
        assert time.monotonic() - started <= 8 + 10 + 12  # window + one period + the execution and slack
        sm.stop_monitoring_schedule(MonitoringScheduleName="cont")
