"""Model Monitor through boto3 against a real server and worker: endpoint with capture → traffic →
baseline → schedule with NOW → execution → violations, files and metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import make_classification

from greenfleet.server import Server
from tests.aws.test_sagemaker_boto3 import FAST_WAITER, ROLE, client

pytestmark = pytest.mark.slow


def job(endpoint: str, base: Path, output: Path) -> dict[str, Any]:
    return {
        "BaselineConfig": {"ConstraintsResource": {"S3Uri": str(base / "constraints.json")},
                           "StatisticsResource": {"S3Uri": str(base / "statistics.json")}},
        "MonitoringInputs": [{"EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input"}}],
        "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
            "S3Uri": str(output), "LocalPath": "/opt/ml/processing/output"}}]},
        "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 20}},
        "MonitoringAppSpecification": {"ImageUri": "greenfleet/model-monitor"},
        "RoleArn": ROLE}


def wait_execution(sm: Any, schedule: str, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = sm.list_monitoring_executions(MonitoringScheduleName=schedule)["MonitoringExecutionSummaries"]
        if found and found[0]["MonitoringExecutionStatus"] not in ("Pending", "InProgress"):
            return found[0]  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"no finished execution of {schedule}")


def test_capture_baseline_schedule_now_execution_violations(server: Server, sklearn_model: Path,
                                                             tmp_path: Path) -> None:
    sm, runtime, cloudwatch = (client(server, s) for s in ("sagemaker", "sagemaker-runtime", "cloudwatch"))
    x, _ = make_classification(n_samples=1000, n_features=20, random_state=0)
    dataset = tmp_path / "train.csv"
    dataset.write_text("\n".join(",".join(f"{v:.5f}" for v in row) for row in x))
    base = tmp_path / "baseline"
    answer = httpx.post(f"{server.settings.base_url}/api/monitoring/baselines", json={
        "DatasetUri": str(dataset), "DatasetFormat": "csv", "OutputUri": str(base)}, timeout=30).json()
    assert answer["ItemCount"] == 1000 and len(answer["Features"]) == 20
    assert json.loads((base / "constraints.json").read_text())["features"][0]["name"] == "_c0"

    sm.create_model(ModelName="mon-model", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
    sm.create_endpoint_config(EndpointConfigName="mon-cfg", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "mon-model", "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}], DataCaptureConfig={
        "InitialSamplingPercentage": 100, "DestinationS3Uri": str(tmp_path / "capture"),
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}})
    sm.create_endpoint(EndpointName="mon", EndpointConfigName="mon-cfg")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="mon", WaiterConfig=FAST_WAITER)
    shifted = x[:300].copy()
    shifted[:, 0] += 3.0  # the input distribution of feature 0 moves
    for row in shifted:
        runtime.invoke_endpoint(EndpointName="mon", Body=",".join(f"{v:.5f}" for v in row), ContentType="text/csv")
    time.sleep(1.5)  # captured records reach the destination within a second

    with pytest.raises(ClientError) as info:
        sm.create_monitoring_schedule(MonitoringScheduleName="bad", MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(5 * * * ? *)"},
            "MonitoringJobDefinition": job("mon", base, tmp_path / "out"), "MonitoringType": "DataQuality"})
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "cron(5 * * * ? *)" in info.value.response["Error"]["Message"]

    output = tmp_path / "reports"
    sm.create_monitoring_schedule(MonitoringScheduleName="mon-now", MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H",
                           "DataAnalysisEndTime": "-PT0H"},
        "MonitoringJobDefinition": job("mon", base, output), "MonitoringType": "DataQuality"})
    execution = wait_execution(sm, "mon-now")
    assert execution["MonitoringExecutionStatus"] == "CompletedWithViolations", execution
    assert execution["EndpointName"] == "mon" and execution["MonitoringType"] == "DataQuality"
    described = sm.describe_monitoring_schedule(MonitoringScheduleName="mon-now")
    assert described["MonitoringScheduleStatus"] == "Scheduled"
    assert described["LastMonitoringExecutionSummary"]["MonitoringExecutionStatus"] == "CompletedWithViolations"

    reports = list(output.rglob("constraint_violations.json"))
    assert len(reports) == 1 and reports[0].parent.relative_to(output).parts[:2] == ("mon", "mon-now")
    violations = json.loads(reports[0].read_text())["violations"]
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [("_c0", "baseline_drift_check")]
    statistics = json.loads((reports[0].parent / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 300

    now = time.time()
    points = cloudwatch.get_metric_statistics(
        Namespace="/aws/sagemaker/Endpoints/data-metric", MetricName="feature_baseline_drift__c0",
        Dimensions=[{"Name": "EndpointName", "Value": "mon"}, {"Name": "ScheduleName", "Value": "mon-now"}],
        StartTime=now - 600, EndTime=now + 60, Period=60, Statistics=["Maximum"])["Datapoints"]
    assert points and points[0]["Maximum"] > 0.5

    inline = job("mon", base, tmp_path / "by-definition")
    sm.create_data_quality_job_definition(
        JobDefinitionName="mon-dq", DataQualityBaselineConfig=inline["BaselineConfig"],
        DataQualityAppSpecification={"ImageUri": "greenfleet/model-monitor"},
        DataQualityJobInput={"EndpointInput": inline["MonitoringInputs"][0]["EndpointInput"]},
        DataQualityJobOutputConfig=inline["MonitoringOutputConfig"], JobResources=inline["MonitoringResources"],
        RoleArn=ROLE, StoppingCondition={"MaxRuntimeInSeconds": 600})
    definition = sm.describe_data_quality_job_definition(JobDefinitionName="mon-dq")
    assert definition["JobDefinitionArn"].endswith(":data-quality-job-definition/mon-dq")
    assert definition["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == "mon"
    assert [d["MonitoringJobDefinitionName"] for d in
            sm.list_data_quality_job_definitions(EndpointName="mon")["JobDefinitionSummaries"]] == ["mon-dq"]
    sm.create_monitoring_schedule(MonitoringScheduleName="mon-def", MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H",
                           "DataAnalysisEndTime": "-PT0H"},
        "MonitoringJobDefinitionName": "mon-dq", "MonitoringType": "DataQuality"})
    assert wait_execution(sm, "mon-def")["MonitoringExecutionStatus"] == "CompletedWithViolations"
    assert list((tmp_path / "by-definition").rglob("constraint_violations.json"))
    with pytest.raises(ClientError) as info:
        sm.delete_data_quality_job_definition(JobDefinitionName="mon-dq")
    assert info.value.response["Error"]["Code"] == "ResourceInUse"
    sm.delete_monitoring_schedule(MonitoringScheduleName="mon-def")
    sm.delete_data_quality_job_definition(JobDefinitionName="mon-dq")

    sm.stop_monitoring_schedule(MonitoringScheduleName="mon-now")
    summaries = sm.list_monitoring_schedules(EndpointName="mon")["MonitoringScheduleSummaries"]
    assert [(s["MonitoringScheduleName"], s["MonitoringScheduleStatus"]) for s in summaries] == [("mon-now", "Stopped")]
    sm.delete_monitoring_schedule(MonitoringScheduleName="mon-now")
    with pytest.raises(ClientError) as info:
        sm.describe_monitoring_schedule(MonitoringScheduleName="mon-now")
    assert info.value.response["Error"]["Code"] == "ResourceNotFound"


def test_schedule_needs_an_endpoint_with_capture(server: Server, tmp_path: Path) -> None:
    sm = client(server, "sagemaker")
    with pytest.raises(ClientError) as info:
        sm.create_monitoring_schedule(MonitoringScheduleName="s", MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinition": job("nowhere", tmp_path, tmp_path), "MonitoringType": "DataQuality"})
    assert "has no enabled DataCaptureConfig" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        sm.create_monitoring_schedule(MonitoringScheduleName="s", MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": "def", "MonitoringType": "ModelBias"})
    assert "ModelBias monitoring is not supported" in info.value.response["Error"]["Message"]
    definition = job("nowhere", tmp_path, tmp_path)
    definition["MonitoringInputs"][0]["EndpointInput"]["ExcludeFeaturesAttribute"] = "_c3"
    with pytest.raises(ClientError) as info:
        sm.create_monitoring_schedule(MonitoringScheduleName="s", MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}, "MonitoringJobDefinition": definition})
    assert "EndpointInput.ExcludeFeaturesAttribute is not supported" in info.value.response["Error"]["Message"]
    np.testing.assert_equal(sm.list_monitoring_executions()["MonitoringExecutionSummaries"], [])
