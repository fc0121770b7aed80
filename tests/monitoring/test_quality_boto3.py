"""Model quality through boto3: endpoint with capture → traffic with InferenceIds → ground-truth labels
→ ModelQualityJobDefinition → schedule with NOW → execution → metrics, violations, model-metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import make_classification

from greenfleet.server import Server
from tests.aws.test_sagemaker_boto3 import FAST_WAITER, ROLE, client
from tests.monitoring.test_monitor_boto3 import wait_execution

pytestmark = pytest.mark.slow


def test_model_quality_flow(server: Server, sklearn_model: Path, tmp_path: Path) -> None:
    sm, runtime, cloudwatch = (client(server, s) for s in ("sagemaker", "sagemaker-runtime", "cloudwatch"))
    sm.create_model(ModelName="mq-model", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
    sm.create_endpoint_config(EndpointConfigName="mq-cfg", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "mq-model", "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}], DataCaptureConfig={
        "InitialSamplingPercentage": 100, "DestinationS3Uri": str(tmp_path / "capture"),
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}})
    sm.create_endpoint(EndpointName="mq", EndpointConfigName="mq-cfg")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="mq", WaiterConfig=FAST_WAITER)
    x, y = make_classification(n_samples=1000, n_features=20, random_state=0)
    for i in range(120):
        runtime.invoke_endpoint(EndpointName="mq", Body=",".join(f"{v:.5f}" for v in x[i]), ContentType="text/csv",
                                InferenceId=f"inf-{i}")
    hour = time.strftime("%Y/%m/%d/%H", time.gmtime())
    (tmp_path / "truth" / hour).mkdir(parents=True)
    labels = [1 - int(y[i]) if i % 2 else int(y[i]) for i in range(100)]  # half the labels disagree
    (tmp_path / "truth" / hour / "labels.jsonl").write_text("\n".join(json.dumps(
        {"groundTruthData": {"data": str(label), "encoding": "CSV"}, "eventMetadata": {"eventId": f"inf-{i}"},
         "eventVersion": "0"}) for i, label in enumerate(labels)))
    import tarfile

    import joblib

    with tarfile.open(sklearn_model) as tar:
        tar.extractall(tmp_path / "model", filter="data")
    predicted = joblib.load(tmp_path / "model" / "model.joblib").predict(x[600:900])
    (tmp_path / "validation.csv").write_text("label,prediction\n" + "\n".join(
        f"{int(t)},{int(p)}" for t, p in zip(y[600:900], predicted, strict=True)))
    suggested = httpx.post(f"{server.settings.base_url}/api/monitoring/baselines", timeout=30, json={
        "DatasetUri": str(tmp_path / "validation.csv"), "DatasetFormat": "csv", "Header": True,
        "ProblemType": "BinaryClassification", "GroundTruthAttribute": "label", "InferenceAttribute": "prediction",
        "OutputUri": str(tmp_path / "mq-baseline")}).json()
    f1 = suggested["Constraints"]["binary_classification_constraints"]["f1"]
    assert f1["comparison_operator"] == "LessThanThreshold" and f1["threshold"] > 0.8
    time.sleep(1.2)

    output = {"MonitoringOutputs": [{"S3Output": {"S3Uri": str(tmp_path / "reports"),
                                                  "LocalPath": "/opt/ml/processing/output"}}]}
    common = {"ModelQualityJobOutputConfig": output, "RoleArn": ROLE, "JobResources": {"ClusterConfig": {
        "InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}}}
    with pytest.raises(ClientError) as info:
        sm.create_model_quality_job_definition(
            JobDefinitionName="bad", ModelQualityAppSpecification={"ImageUri": "x"}, ModelQualityJobInput={
                "EndpointInput": {"EndpointName": "mq", "LocalPath": "/in"},
                "GroundTruthS3Input": {"S3Uri": str(tmp_path / "truth")}}, **common)
    assert "ProblemType is required" in info.value.response["Error"]["Message"]
    sm.create_model_quality_job_definition(
        JobDefinitionName="mq-def", ModelQualityBaselineConfig={"ConstraintsResource": {
            "S3Uri": suggested["ConstraintsResource"]["S3Uri"]}},
        ModelQualityAppSpecification={"ImageUri": "greenfleet/model-monitor", "ProblemType": "BinaryClassification"},
        ModelQualityJobInput={"EndpointInput": {"EndpointName": "mq", "LocalPath": "/in",
                                                "InferenceAttribute": "predictions"},
                              "GroundTruthS3Input": {"S3Uri": str(tmp_path / "truth")}}, **common)
    assert sm.describe_model_quality_job_definition(JobDefinitionName="mq-def")[
        "ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    with pytest.raises(ClientError) as info:
        sm.create_monitoring_schedule(MonitoringScheduleName="wrong", MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": "mq-def", "MonitoringType": "DataQuality"})
    assert "is a ModelQuality job" in info.value.response["Error"]["Message"]
    sm.create_monitoring_schedule(MonitoringScheduleName="mq-now", MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H",
                           "DataAnalysisEndTime": "-PT0H"},
        "MonitoringJobDefinitionName": "mq-def", "MonitoringType": "ModelQuality"})
    execution = wait_execution(sm, "mq-now")
    assert execution["MonitoringExecutionStatus"] == "CompletedWithViolations", execution
    assert execution["MonitoringType"] == "ModelQuality"
    report = next((tmp_path / "reports").rglob("statistics.json"))
    statistics = json.loads(report.read_text())
    assert statistics["dataset"]["item_count"] == 100  # 20 inferences have no label yet
    assert statistics["binary_classification_metrics"]["accuracy"]["value"] < 0.7
    violations = json.loads((report.parent / "constraint_violations.json").read_text())["violations"]
    assert ("f1", "LessThanThreshold") in [(v["metric_name"], v["constraint_check_type"]) for v in violations]
    assert ("accuracy", "LessThanThreshold") in [(v["metric_name"], v["constraint_check_type"]) for v in violations]
    now = time.time()
    points = cloudwatch.get_metric_statistics(
        Namespace="aws/sagemaker/Endpoints/model-metrics", MetricName="f1", StartTime=now - 600, EndTime=now + 60,
        Period=60, Statistics=["Maximum"],
        Dimensions=[{"Name": "EndpointName", "Value": "mq"}, {"Name": "ScheduleName", "Value": "mq-now"}])
    assert points["Datapoints"] and points["Datapoints"][0]["Maximum"] < 0.8
