"""``greenfleet registry …`` against a real server: groups, registering from a directory, a model.tar.gz
and an MLflow run (its params and metrics become lineage), list, describe, approve/reject, history, diff,
bind, served and champion."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from greenfleet.cli.main import cli
from greenfleet.server import Server


def run(server: Server, *args: str) -> Result:
    result = CliRunner().invoke(cli, [*args, "--url", server.settings.base_url])
    assert result.exit_code == 0, result.output
    return result


def test_register_approve_history_and_diff(server: Server, sklearn_model: Path, tmp_path: Path) -> None:
    run(server, "registry", "group", "create", "cli", "--description", "from the CLI")
    assert "cli" in run(server, "registry", "group", "list").output
    directory = tmp_path / "model-dir"
    directory.mkdir()
    (directory / "model.joblib").write_bytes(b"not really a model")
    report = tmp_path / "eval.json"
    report.write_text(json.dumps({"metrics": {"accuracy": {"value": 0.8}}}))
    run(server, "registry", "register", "cli", str(directory), "--image", "greenfleet/sklearn", "--commit",
        "c0ffee", "--meta", "dataset=s3://data/v1", "--metrics", str(report), "--by", "ana")
    report.write_text(json.dumps({"metrics": {"accuracy": {"value": 0.9}}}))
    run(server, "registry", "register", "cli", str(sklearn_model), "--image", "greenfleet/sklearn", "--commit",
        "beef", "--metrics", str(report))
    listed = run(server, "registry", "list", "cli").output
    assert "accuracy=0.9" in listed and "accuracy=0.8" in listed and "beef" in listed
    run(server, "registry", "approve", "cli/2", "--reason", "better accuracy", "--by", "ana")
    run(server, "registry", "reject", "cli/1", "--reason", "superseded", "--by", "bob")
    described = run(server, "registry", "describe", "cli/2").output
    assert "Approved" in described and "better accuracy" in described and "sha256:" in described
    trail = run(server, "registry", "history", "cli").output
    assert "ana" in trail and "bob" in trail and "superseded" in trail
    diff = run(server, "registry", "diff", "cli/1", "cli/2").output
    assert "metric accuracy" in diff and "0.1" in diff and "c0ffee" in diff and "changed" in diff
    missing = CliRunner().invoke(cli, ["registry", "describe", "cli/9", "--url", server.settings.base_url])
    assert missing.exit_code == 1 and "ValidationException" in missing.output
    described = json.loads(run(server, "registry", "group", "describe", "cli", "--json").output)
    assert described["ModelPackageGroupDescription"] == "from the CLI"
    held = CliRunner().invoke(cli, ["registry", "group", "delete", "cli", "--url", server.settings.base_url])
    assert held.exit_code == 1 and "still holds 2 model package version(s)" in held.output
    assert run(server, "registry", "delete", "cli/1", "--by", "carol").output.strip() == "Deleted model package cli/1"
    assert json.loads(run(server, "registry", "delete", "cli/2", "--json").output) == {}
    assert "deleted" in run(server, "registry", "history", "cli", "--version", "1").output
    assert run(server, "registry", "group", "delete", "cli").output.strip() == "Deleted model package group cli"
    assert "cli" not in run(server, "registry", "group", "list").output


@pytest.mark.slow
@pytest.mark.parallel  # (a local MLflow run registered through the CLI: nothing timed)
def test_register_from_an_mlflow_run_carries_params_and_metrics(server: Server, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    import mlflow.sklearn

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow's own switch for its file store
    tracking = (tmp_path / "mlruns").as_uri()  # a local file store: no database to migrate (fast)
    mlflow.set_tracking_uri(tracking)
    x, y = make_classification(n_samples=200, n_features=5, random_state=0)
    with mlflow.start_run() as active:
        mlflow.log_params({"C": 0.5, "max_iter": 200})
        mlflow.log_metric("accuracy", 0.87)
        mlflow.set_tag("team", "churn")
        mlflow.sklearn.log_model(LogisticRegression(C=0.5, max_iter=200).fit(x, y), name="model",
                                 pip_requirements=["scikit-learn"])  # no requirement inference (slow)
    run_id = active.info.run_id
    run(server, "registry", "group", "create", "flow")
    run(server, "registry", "register", "flow", f"runs:/{run_id}/model", "--tracking-uri", tracking)
    doc = json.loads(run(server, "registry", "describe", "flow/1", "--json").output)
    assert doc["CustomerMetadataProperties"]["param.C"] == "0.5"
    assert doc["CustomerMetadataProperties"]["tag.team"] == "churn"
    assert doc["MetadataProperties"]["GeneratedBy"] == f"mlflow:runs/{run_id}"
    assert doc["InferenceSpecification"]["Containers"][0]["Image"] == "greenfleet/mlflow"
    report = doc["GreenfleetMetrics"]["ModelMetrics.ModelQuality.Statistics"]["Content"]
    assert report["metrics"]["accuracy"]["value"] == 0.87
    assert len(doc["GreenfleetArtifact"]["Sha256"]) == 64


def test_bind_served_and_champion(server: Server, api: object, sklearn_model: Path) -> None:
    from tests.live.conftest import Api

    assert isinstance(api, Api)
    run(server, "registry", "group", "create", "b")
    run(server, "registry", "register", "b", str(sklearn_model), "--image", "greenfleet/sklearn", "--approve",
        "--by", "ana")
    api.call("POST", "/api/models", {"ModelName": "b1", "Containers": [{"ModelPackageName": "b/1"}]})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "bc1", "ProductionVariants": [
        {"VariantName": "main", "ModelName": "b1", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": "bep", "EndpointConfigName": "bc1"})
    api.wait_status("bep", "InService")
    bound = run(server, "registry", "bind", "bep", "b", "--deployment-config", json.dumps({
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                                  "MaximumExecutionTimeoutInSeconds": 600}})).output
    assert "champion: 1" in bound
    assert "bep" in run(server, "registry", "bindings").output
    served = run(server, "registry", "served", "bep", "--at", str(time.time())).output
    assert "b/1" in served and "ana" in served
    assert "1" in run(server, "registry", "champion", "b").output
    live = api.http.delete("/api/model-packages/b/1")  # the version live on a bound endpoint stays
    assert live.status_code == 409 and "live on endpoint(s) bep" in live.json()["message"]
    group = api.http.delete("/api/model-package-groups/b")
    assert group.status_code == 409
    run(server, "registry", "unbind", "bep")
    bad = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 1}}}
    refused = api.http.post("/api/registry-bindings", json={"EndpointName": "bep", "ModelPackageGroupName": "b",
                                                             "DeploymentConfig": bad})
    assert refused.status_code == 400 and "CanarySize" in refused.json()["message"]
    judged = {"GreenfleetRollout": {
        "Steps": [{"TrafficPercent": 50, "BakeInSeconds": 60}, {"TrafficPercent": 100}],
        "Judge": {"Metrics": [{"Name": "latency", "MetricName": "ModelLatency", "Test": "MANN_WHITNEY"}]}}}
    accepted = api.call("POST", "/api/registry-bindings", {"EndpointName": "bep", "ModelPackageGroupName": "b",
                                                           "DeploymentConfig": judged})
    assert accepted["DeploymentConfig"] == judged and accepted["Champion"] == 1
