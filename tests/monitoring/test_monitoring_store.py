"""Model Monitor's service and driver on both stores (SQLite and PostgreSQL): a job definition, a NOW
schedule over shifted captured data, the driver's step recording the execution and running it to
CompletedWithViolations with its metrics, job definitions refused for deletion while used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from greenfleet.clock import FakeClock
from greenfleet.control.snapshot import Snapshot
from greenfleet.errors import ResourceInUse, ResourceNotFound, ValidationError
from greenfleet.monitoring.definitions import JobDefinitionService
from greenfleet.monitoring.driver import MonitoringDriver
from greenfleet.monitoring.repository import MonitoringRepository
from greenfleet.monitoring.service import MonitoringService
from greenfleet.services.tags import TagService
from greenfleet.store.database import create_store_engine, migrate
from greenfleet.store.repository import Repository
from tests.monitoring.test_execution import NOW, setup

ROLE = "arn:aws:iam::123456789012:role/monitor"


class Sink:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def put_metric_data(self, body: dict[str, Any], now: float | None = None) -> None:
        self.bodies.append(body)


def test_a_schedule_runs_through_service_and_driver(database_url: str, tmp_path: Path) -> None:
    job = setup(tmp_path)  # baseline of N(0, 1) data; captured rows are N(0, 1) too ...
    shifted = tmp_path / "cap" / "ep"
    for path in shifted.rglob("*.jsonl"):  # ... so shift the first feature of every captured row by 3
        path.write_text("".join(_shift(line) for line in path.read_text().splitlines(keepends=True)))
    engine = create_store_engine(database_url)
    migrate(engine)
    repo, clock, sink = MonitoringRepository(engine), FakeClock(NOW), Sink()
    tags = TagService(Repository(engine))
    destinations = {"ep": str(tmp_path / "cap")}
    service = MonitoringService(repo, clock, "us-east-1", "123456789012", destinations.get, tags)
    jobs = JobDefinitionService(repo, clock, tags, lambda kind, name: service.arn(name, kind))
    jobs.create_data_quality_job_definition({
        "JobDefinitionName": "dq", "DataQualityBaselineConfig": job["BaselineConfig"],
        "DataQualityAppSpecification": {"ImageUri": "monitor"},
        "DataQualityJobInput": {"EndpointInput": {"EndpointName": "ep", "LocalPath": "/opt/ml/processing/input"}},
        "DataQualityJobOutputConfig": {"MonitoringOutputs": [{"S3Output": {
            "S3Uri": str(tmp_path / "out"), "LocalPath": "/opt/ml/processing/output"}}]},
        "JobResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
        "RoleArn": ROLE})
    with pytest.raises(ResourceNotFound, match="Job definition other does not exist"):
        service.create_monitoring_schedule({"MonitoringScheduleName": "s", "MonitoringScheduleConfig": {
            "MonitoringJobDefinitionName": "other", "MonitoringType": "DataQuality",
            "ScheduleConfig": {"ScheduleExpression": "NOW"}}})
    with pytest.raises(ValidationError, match="is a DataQuality job, the MonitoringType is ModelQuality"):
        service.create_monitoring_schedule({"MonitoringScheduleName": "s", "MonitoringScheduleConfig": {
            "MonitoringJobDefinitionName": "dq", "MonitoringType": "ModelQuality",
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}}})
    with pytest.raises(ValidationError, match="a NOW schedule needs DataAnalysisStartTime and DataAnalysisEndTime"):
        service.create_monitoring_schedule({"MonitoringScheduleName": "s", "MonitoringScheduleConfig": {
            "MonitoringJobDefinitionName": "dq", "ScheduleConfig": {"ScheduleExpression": "NOW"}}})
    assert service.list_monitoring_schedules({})["MonitoringScheduleSummaries"] == []  # nothing half-written
    service.create_monitoring_schedule({"MonitoringScheduleName": "s", "MonitoringScheduleConfig": {
        "MonitoringJobDefinitionName": "dq", "MonitoringType": "DataQuality", "ScheduleConfig": {
            "ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H", "DataAnalysisEndTime": "-PT0H"}}})
    with pytest.raises(ResourceInUse, match="used by monitoring schedule"):
        jobs.delete_data_quality_job_definition({"JobDefinitionName": "dq"})

    driver = MonitoringDriver(repo, clock, sink, destinations.get, None)
    try:
        driver.run(Snapshot(now=clock.now(), pass_number=1, instances=()))
    finally:
        driver.close()  # waits for the execution the step handed to its thread
    executions = service.list_monitoring_executions({"MonitoringScheduleName": "s"})["MonitoringExecutionSummaries"]
    assert [e["MonitoringExecutionStatus"] for e in executions] == ["CompletedWithViolations"]
    described = service.describe_monitoring_schedule({"MonitoringScheduleName": "s"})
    assert described["LastMonitoringExecutionSummary"]["MonitoringExecutionStatus"] == "CompletedWithViolations"
    report = service.monitoring_report("s")
    assert [f["Name"] for f in report["Features"] if f["Violations"]] == ["_c0"]
    names = {d["MetricName"] for body in sink.bodies for d in body["MetricData"]}
    assert "feature_baseline_drift__c0" in names
    assert {b["Namespace"] for b in sink.bodies} == {"/aws/sagemaker/Endpoints/data-metric"}

    service.delete_monitoring_schedule({"MonitoringScheduleName": "s"})
    jobs.delete_data_quality_job_definition({"JobDefinitionName": "dq"})
    assert jobs.list_data_quality_job_definitions({})["JobDefinitionSummaries"] == []


def _shift(line: str) -> str:
    import json

    record = json.loads(line)
    payload = record["captureData"]["endpointInput"]
    first, *rest = payload["data"].split(",")
    payload["data"] = ",".join([f"{float(first) + 3:.4f}", *rest])
    return json.dumps(record, separators=(",", ":")) + "\n"
