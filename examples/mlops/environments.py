"""What each environment holds before the story starts, set up through the servers' APIs: the model package
group, the endpoint (serving ``v0``, the hand-deployed model from before the registry), the binding that
deploys the group's approved versions to it (dev: all at once; prod: a canary judged under load with an alarm
on 5xx errors as a second guardrail), and in prod data capture, a data-quality baseline, a continuous monitoring
schedule and a drift alarm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from models import csv_line
from steps import wait_for

from greenfleet import Client

__all__ = ["DRIFT_ALARM", "ENDPOINT", "ERROR_ALARM", "GROUP", "JUDGE", "PROD_POLICY", "SCHEDULE", "set_up",
           "start_monitoring"]

GROUP = "diagnosis"
ENDPOINT = {"dev": "diagnosis-dev", "prod": "diagnosis"}
ERROR_ALARM = "diagnosis-5xx"
DRIFT_ALARM = "diagnosis-drift"
SCHEDULE = "diagnosis-drift"
ROLE = "arn:aws:iam::000000000000:role/example"
LATENCY = {"Name": "latency", "MetricName": "ModelLatency", "Test": "MANN_WHITNEY", "Direction": "INCREASE",
           "Critical": True, "MinSamples": 50, "AllowedIncrease": 2.5}
"""A significantly higher model latency fails the canary only when the new version's mean is at least 2.5 times
the old one's. These models answer in about a millisecond, where the noise between two processes of the same
model is large on a busy machine: on a shared 2-core machine at load averages of 12 to 19, runs measured v1 (the
same cost as v0) at up to 1.65 times v0's median, and a bound of 1.5 rolled it back."""
ERRORS = {"Name": "errors", "MetricName": "Invocation5XXErrors", "Test": "SEQUENTIAL_PROPORTION",
          "Direction": "INCREASE", "Critical": True, "MinSamples": 50}
JUDGE = {"Metrics": [LATENCY, ERRORS], "IntervalInSeconds": 2, "WarmUpInSeconds": 1}
PROD_POLICY = {
    "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                              "TerminationWaitInSeconds": 0, "MaximumExecutionTimeoutInSeconds": 300},
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ERROR_ALARM}]},
    "GreenfleetRollout": {"Steps": [{"TrafficPercent": 25, "BakeInSeconds": 8},
                                    {"TrafficPercent": 100, "BakeInSeconds": 2}], "Judge": JUDGE}}
"""Prod's guardrail: 25 % of the traffic on the new version for 8 s, judged against a fresh copy of the old one
(latency and 5xx rate), then all of it for 2 s; the 5xx alarm rolls back at any time."""
DEV_POLICY = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
    "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}, "TerminationWaitInSeconds": 0}}


def _endpoint(client: Client, name: str, model_url: Path, capture: Path | None) -> None:
    client.create_model(ModelName=f"{name}-v0", PrimaryContainer={"Image": "greenfleet/sklearn",
                                                                  "ModelDataUrl": str(model_url)})
    config: dict[str, Any] = {"EndpointConfigName": f"{name}-v0", "ProductionVariants": [{
        "VariantName": "AllTraffic", "ModelName": f"{name}-v0", "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}]}
    if capture is not None:
        config["DataCaptureConfig"] = {
            "EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": str(capture),
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}
    client.create_endpoint_config(**config)
    client.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-v0")


def set_up(dev: Client, prod: Client, v0: Path, train_rows: np.ndarray, workdir: Path) -> dict[str, Any]:
    for client in (dev, prod):
        client.create_model_package_group(ModelPackageGroupName=GROUP, by="platform-team",
                                          ModelPackageGroupDescription="breast cancer diagnosis, examples/mlops")
    _endpoint(dev, ENDPOINT["dev"], v0, None)
    _endpoint(prod, ENDPOINT["prod"], v0, workdir / "prod" / "capture")
    for client, env in ((dev, "dev"), (prod, "prod")):
        client.wait_for_endpoint(EndpointName=ENDPOINT[env], Status="InService", Timeout=120)
    prod.put_metric_alarm(
        AlarmName=ERROR_ALARM, Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors", Statistic="Average",
        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT["prod"]},
                    {"Name": "VariantName", "Value": "AllTraffic"}],
        Period=1, EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=0.01, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching")
    dev.create_registry_binding(by="platform-team", EndpointName=ENDPOINT["dev"], ModelPackageGroupName=GROUP,
                                DeploymentConfig=DEV_POLICY)
    prod.create_registry_binding(by="platform-team", EndpointName=ENDPOINT["prod"], ModelPackageGroupName=GROUP,
                                 DeploymentConfig=PROD_POLICY)
    # drift monitoring on prod: the training data's statistics are the baseline; every 2 s an execution reads
    # the last 10 s of captured inputs
    training = workdir / "train.csv"
    training.write_text("\n".join(csv_line(row) for row in train_rows) + "\n")
    baseline = workdir / "prod" / "baseline"
    prod.suggest_baseline(DatasetUri=str(training), DatasetFormat="csv", OutputUri=str(baseline))
    prod.put_metric_alarm(
        AlarmName=DRIFT_ALARM, Namespace="/aws/sagemaker/Endpoints/data-metric",
        MetricName="feature_baseline_drift__c0", Statistic="Maximum", Period=10, EvaluationPeriods=1,
        Threshold=0.3, ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT["prod"]}, {"Name": "ScheduleName", "Value": SCHEDULE}])
    wait_for(lambda: prod.describe_alarm(AlarmName=ERROR_ALARM)["StateValue"] == "OK", 30, "the 5xx alarm OK")
    return {"Group": GROUP, "Endpoints": ENDPOINT, "ProdDeploymentConfig": PROD_POLICY,
            "DevDeploymentConfig": DEV_POLICY, "MonitoringSchedule": SCHEDULE, "Alarms": [ERROR_ALARM, DRIFT_ALARM]}


def start_monitoring(prod: Client, workdir: Path) -> None:
    """The continuous schedule (once traffic flows, so that its first window has captured data)."""
    baseline = workdir / "prod" / "baseline"
    prod.create_monitoring_schedule(MonitoringScheduleName=SCHEDULE, MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": "rate(2 seconds)", "DataAnalysisStartTime": "-PT10S",
                           "DataAnalysisEndTime": "-PT0S"},
        "MonitoringType": "DataQuality", "MonitoringJobDefinition": {
            "BaselineConfig": {"ConstraintsResource": {"S3Uri": str(baseline / "constraints.json")},
                               "StatisticsResource": {"S3Uri": str(baseline / "statistics.json")}},
            "MonitoringInputs": [{"EndpointInput": {"EndpointName": ENDPOINT["prod"],
                                                    "LocalPath": "/opt/ml/processing/input"}}],
            "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
                "S3Uri": str(workdir / "prod" / "monitoring"), "LocalPath": "/opt/ml/processing/output"}}]},
            "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 20}},
            "MonitoringAppSpecification": {"ImageUri": "greenfleet/model-monitor"}, "RoleArn": ROLE}})
