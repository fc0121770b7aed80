"""``greenfleet monitor …`` against a live server: baseline, schedule with NOW, executions, the report
(a per-feature table with terminal histograms, and as JSON), describe and update, and job definitions."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sklearn.datasets import make_classification

from greenfleet.cli.main import cli
from greenfleet.server import Server
from tests.aws.test_sagemaker_boto3 import FAST_WAITER, ROLE, client

pytestmark = pytest.mark.slow


def test_monitor_commands(server: Server, sklearn_model: Path, tmp_path: Path) -> None:
    def run(*args: str) -> Result:
        result = CliRunner().invoke(cli, ["monitor", *args], env={"GREENFLEET_URL": server.settings.base_url},
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    x, _ = make_classification(n_samples=600, n_features=20, random_state=0)
    (tmp_path / "train.csv").write_text("\n".join(",".join(f"{v:.5f}" for v in row) for row in x))
    out = run("baseline", str(tmp_path / "train.csv"), "--output", str(tmp_path / "base")).output
    assert "600 rows" in out and "_c19" in out and "Fractional" in out

    sm, runtime = client(server, "sagemaker"), client(server, "sagemaker-runtime")
    sm.create_model(ModelName="cli-model", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
    sm.create_endpoint_config(EndpointConfigName="cli-cfg", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "cli-model", "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}], DataCaptureConfig={
        "InitialSamplingPercentage": 100, "DestinationS3Uri": str(tmp_path / "capture"),
        "CaptureOptions": [{"CaptureMode": "Input"}], "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}})
    sm.create_endpoint(EndpointName="cli", EndpointConfigName="cli-cfg")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="cli", WaiterConfig=FAST_WAITER)
    for row in x[:200]:
        shifted = [row[0] + 3.0, *row[1:]]
        runtime.invoke_endpoint(EndpointName="cli", Body=",".join(f"{v:.5f}" for v in shifted), ContentType="text/csv")
    time.sleep(1.5)

    run("schedule", "cli-now", "--endpoint", "cli", "--baseline", str(tmp_path / "base"), "--output",
        str(tmp_path / "reports"), "--expression", "NOW", "--window-start", "-PT1H", "--window-end", "-PT0H")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "CompletedWithViolations" not in run("executions", "cli-now").output:
        time.sleep(0.3)
    assert "CompletedWithViolations" in run("executions", "cli-now").output
    table = run("report", "cli-now").output
    line = next(line for line in table.splitlines() if line.lstrip().startswith("_c0 "))
    assert "baseline_drift_check" in line and any(ch in line for ch in "▁▂▃▄▅▆▇█")
    report = json.loads(run("report", "cli-now", "--json").output)
    c0 = report["Features"][0]
    assert c0["Name"] == "_c0" and c0["Distance"] > 0.5 and c0["Violations"] == ["baseline_drift_check"]
    assert len(c0["Histogram"]["Baseline"]) == 10 and abs(sum(c0["Histogram"]["Baseline"]) - 1) < 1e-6
    assert all(f["Violations"] == [] for f in report["Features"][1:])
    assert "cli-now" in run("list").output
    run("stop", "cli-now")
    assert "Stopped" in run("list").output
    run("update", "cli-now", "--expression", "cron(0 * ? * * *)")
    described = json.loads(run("describe", "cli-now").output)
    assert described["MonitoringScheduleConfig"]["ScheduleConfig"] == {"ScheduleExpression": "cron(0 * ? * * *)"}
    assert described["LastMonitoringExecutionSummary"]["MonitoringExecutionStatus"] == "CompletedWithViolations"
    run("delete", "cli-now")

    job = described["MonitoringScheduleConfig"]["MonitoringJobDefinition"]
    (tmp_path / "dq.json").write_text(json.dumps({
        "DataQualityBaselineConfig": job["BaselineConfig"], "DataQualityAppSpecification": {"ImageUri": "monitor"},
        "DataQualityJobInput": {"EndpointInput": job["MonitoringInputs"][0]["EndpointInput"]},
        "DataQualityJobOutputConfig": job["MonitoringOutputConfig"], "JobResources": job["MonitoringResources"],
        "RoleArn": ROLE}))
    created = run("data-quality", "create", "cli-dq", f"@{tmp_path}/dq.json").output
    assert "data-quality-job-definition/cli-dq" in created
    run("schedule", "cli-hourly", "--job-definition", "cli-dq")
    assert json.loads(run("data-quality", "describe", "cli-dq").output)["JobDefinitionName"] == "cli-dq"
    assert "cli-dq" in run("data-quality", "list").output
    refused = CliRunner().invoke(cli, ["monitor", "data-quality", "delete", "cli-dq"],
                                 env={"GREENFLEET_URL": server.settings.base_url})
    assert refused.exit_code == 1 and "ResourceInUse" in refused.output and "cli-hourly" in refused.output
    run("delete", "cli-hourly")
    run("data-quality", "delete", "cli-dq")
    assert "cli-dq" not in run("data-quality", "list").output
