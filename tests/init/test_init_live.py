"""A project made by ``greenfleet init``, run for real: its own tests in a fresh interpreter, its pipeline
registering on a live greenfleet server (lineage, metrics, the condition, idempotent re-runs), and its
checks against an endpoint the registry deploys when a version is approved."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenfleet.cli.registry_views import metrics_of
from greenfleet.client import Client
from greenfleet.server import Server
from tests.init.conftest import MakeProject
from tests.live.conftest import Api

pytestmark = [pytest.mark.slow, pytest.mark.parallel]
FAST_POLICY = {"BlueGreenUpdatePolicy": {
    "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 1},
    "TerminationWaitInSeconds": 0, "MaximumExecutionTimeoutInSeconds": 120}}


def clean_env() -> dict[str, str]:
    """This process's environment without pytest's, CI's and greenfleet's own variables."""
    drop = ("PYTEST_", "GREENFLEET_", "GITHUB_", "CI_", "GITLAB_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def python(project: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=project, env=clean_env(), capture_output=True, text=True,
                          timeout=timeout)


def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=project,
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("scenario", ["baseline", "advanced"])
def test_the_project_passes_its_own_tests(make_project: MakeProject, scenario: str) -> None:
    project = make_project("churn-model", scenario)
    done = python(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", timeout=500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "8 passed" in done.stdout


@pytest.mark.timeout(300)
def test_the_pipeline_registers_a_version_with_its_lineage(make_project: MakeProject, server: Server) -> None:
    url = server.settings.base_url
    project = make_project("churn", "baseline")
    git(project, "init", "-q", "-b", "feature-more-trees")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "greenfleet init")
    head = git(project, "rev-parse", "HEAD")

    done = python(project, "-m", "churn.pipeline", "--url", url, "--by", "ana")  # the branch picks the group
    assert done.returncode == 0, done.stderr
    assert "registered churn-feature/1 (PendingManualApproval)" in done.stdout
    record = json.loads((project / "build/lineage.json").read_text())
    registered = json.loads((project / "build/registered.json").read_text())
    with Client(url) as client:
        doc = client.describe_model_package(ModelPackageName=registered["ModelPackageArn"])
        history = client.model_package_history(ModelPackageGroupName="churn-feature")["History"]
    assert doc["ModelPackageGroupName"] == "churn-feature" and doc["ModelApprovalStatus"] == "PendingManualApproval"
    assert doc["MetadataProperties"]["CommitId"] == head == record["commit"]
    assert doc["MetadataProperties"]["ProjectId"] == "churn"
    assert doc["MetadataProperties"]["GeneratedBy"].startswith("local:")
    properties = doc["CustomerMetadataProperties"]
    assert properties["dataset"] == "breast_cancer" and properties["dataset.rows"] == "569"
    assert properties["dataset.sha256"] == record["dataset_sha256"] and len(record["dataset_sha256"]) == 64
    assert properties["model.sha256"] == record["model_sha256"]
    assert properties["branch"] == "feature-more-trees" and properties["dirty"] == "false"
    assert (properties["param.C"], properties["param.max_iter"]) == ("1.0", "1000")
    assert (properties["condition.metric"], properties["condition.threshold"]) == ("accuracy", "0.9")
    assert metrics_match(metrics_of(doc), record["metrics"])  # what `greenfleet registry list` shows
    assert record["metrics"]["accuracy"] >= 0.9
    assert doc["GreenfleetArtifact"]["Sha256"]
    assert any(h.get("By") == "ana" for h in history)

    again = python(project, "-m", "churn.pipeline", "--url", url)  # a re-run CI job: the same version
    assert again.returncode == 0, again.stderr
    assert "registered churn-feature/1 " in again.stdout

    refused = python(project, "-m", "churn.pipeline", "--url", url, "--threshold", "0.999")
    assert refused.returncode == 1
    assert "below the threshold 0.9990: the model is not registered" in refused.stderr
    assert not (project / "build/registered.json").exists()
    with Client(url) as client:
        versions = client.list_model_packages(ModelPackageGroupName="churn-feature")["ModelPackageSummaryList"]
    assert len(versions) == 1

    (project / "churn" / "model.py").write_text((project / "churn" / "model.py").read_text() + "\n")
    dirty = python(project, "-m", "churn.pipeline", "--url", url, "--group", "dev", "--approve")
    assert dirty.returncode == 0, dirty.stderr
    with Client(url) as client:
        doc = client.describe_model_package(ModelPackageName="churn-dev/1")
    assert doc["ModelApprovalStatus"] == "Approved" and doc["CustomerMetadataProperties"]["dirty"] == "true"

    unknown = python(project, "-m", "churn.pipeline", "--url", "http://127.0.0.1:9", "--group", "dev")
    assert unknown.returncode == 1 and "error:" in unknown.stderr  # nothing listens there: one clear line
    assert "Traceback" not in unknown.stderr


def metrics_match(registered: dict[str, float], computed: dict[str, float]) -> bool:
    return set(registered) == set(computed) and all(abs(registered[k] - v) < 1e-9 for k, v in computed.items())


@pytest.mark.timeout(300)
def test_the_checks_run_against_the_endpoint_bound_to_the_group(make_project: MakeProject, server: Server,
                                                                api: Api, sklearn_model: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """What ci/release.sh does on the test server, less ``greenfleet promote``: approve, wait until the bound
    endpoint serves the version, run the checks, turn their results into evidence arguments."""
    url = server.settings.base_url
    project = make_project("churn-checks", "baseline")
    other = project / "other.yaml"  # v1: other hyperparameters; v2: the project's own
    config = yaml.safe_load((project / "greenfleet-project.yaml").read_text())
    config["model"]["hyperparameters"]["C"] = 0.05
    other.write_text(yaml.safe_dump(config))
    first = python(project, "-m", "churn_checks.pipeline", "--url", url, "--group", "prod", "--approve",
                   "--config", str(other))
    assert first.returncode == 0, first.stderr
    api.call("POST", "/api/models", {"ModelName": "v1", "Containers": [{"ModelPackageName": "churn-checks-prod/1"}]})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "c1", "ProductionVariants": [
        {"VariantName": "main", "ModelName": "v1", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": "churn", "EndpointConfigName": "c1"})
    api.wait_status("churn", "InService")
    api.call("POST", "/api/registry-bindings", {"EndpointName": "churn", "ModelPackageGroupName": "churn-checks-prod",
                                                "DeploymentConfig": FAST_POLICY})
    second = python(project, "-m", "churn_checks.pipeline", "--url", url, "--group", "prod")
    assert second.returncode == 0, second.stderr
    with Client(url) as client:
        client.update_model_package("churn-checks-prod/2", by="ci", ModelApprovalStatus="Approved")

    monkeypatch.syspath_prepend(str(project))  # the checks run in this process: the machine is shared
    checks = importlib.import_module("churn_checks.checks")

    def check(*args: str) -> tuple[int, dict[str, Any]]:
        code = checks.main([args[0], "--url", url, *args[1:]])
        return code, json.loads(capsys.readouterr().out)

    code, waited = check("wait", "--group", "churn-checks-prod", "--version", "2", "--endpoint", "churn",
                         "--timeout", "120")
    assert code == 0 and waited["status"] == "Passed", waited
    code, result = check("integration", "--endpoint", "churn")
    assert code == 0 and result["status"] == "Passed" and result["details"]["agreement"] == 1.0, result
    assert result["details"]["rows"] == result["details"]["answers"] == 143 and result["details"]["accuracy"] >= 0.9
    (project / "integration.json").write_text(json.dumps(result))
    evidence = python(project, "-m", "churn_checks.checks", "evidence", "integration.json")
    assert evidence.stdout.split() == ["--status", "Passed", "--detail", "accuracy=" + str(
        result["details"]["accuracy"]), "--detail", "agreement=1.0", "--detail", "answers=143", "--detail", "rows=143"]

    code, load = check("load", "--endpoint", "churn", "--requests", "20", "--p95-ms", "5000")
    assert code == 0 and load["details"]["errors"] == 0, load
    code, over = check("load", "--endpoint", "churn", "--requests", "5", "--p95-ms", "0.001")
    assert code == 1 and over["status"] == "Failed"
    code, shadow = check("shadow", "--champion", "churn", "--challenger", "churn")
    assert code == 0 and shadow["details"]["agreement"] == 1.0, shadow

    api.deploy("wrong", sklearn_model, {"main": (1.0, 1)})  # a model of 20 features: the rows have 30
    code, wrong = check("integration", "--endpoint", "wrong")
    assert code == 2 and wrong["status"] == "Error", wrong
    assert checks.evidence_arguments(wrong)[:2] == ["--status", "Failed"]
    code, late = check("wait", "--group", "churn-checks-prod", "--version", "3", "--endpoint", "churn",
                       "--timeout", "0.5")
    assert code == 1 and late["details"]["serving"] == 2


@pytest.mark.timeout(300)
def test_the_pipeline_uploads_to_the_servers_s3_artifacts_prefix(make_project: MakeProject,
                                                                  tmp_path: Path) -> None:
    """A server on another machine cannot read the runner's disk: with ``artifacts: s3://…`` the register
    step uploads the model and its metrics report there (boto3) and registers those addresses."""
    import boto3

    from greenfleet.settings import Settings
    from tests.artifacts.s3 import CREDENTIALS, moto_s3
    from tests.conftest import free_port
    from tests.live.conftest import FAST

    with moto_s3() as endpoint:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="models")
        server = Server(Settings(home=tmp_path / "home", port=free_port(), s3_endpoint_url=endpoint,
                                 **{**FAST, "model_data_roots": str(tmp_path / "nothing-local")}))
        server.start_in_thread()
        try:
            project = make_project("churn-s3", "baseline")
            config = yaml.safe_load((project / "greenfleet-project.yaml").read_text())
            config["servers"]["dev"] = {"url": server.settings.base_url, "artifacts": "s3://models/churn"}
            (project / "greenfleet-project.yaml").write_text(yaml.safe_dump(config))
            env = {**clean_env(), **CREDENTIALS, "AWS_ENDPOINT_URL_S3": endpoint}
            done = subprocess.run([sys.executable, "-m", "churn_s3.pipeline", "--group", "dev"], cwd=project,
                                  env=env, capture_output=True, text=True, timeout=200)
            assert done.returncode == 0, done.stderr
            with Client(server.settings.base_url) as client:
                doc = client.describe_model_package(ModelPackageName="churn-s3-dev/1")
        finally:
            server.stop_thread()
        keys = sorted(o["Key"] for o in boto3.client("s3", endpoint_url=endpoint).list_objects_v2(
            Bucket="models")["Contents"])
    record = json.loads((project / "build/lineage.json").read_text())
    assert doc["GreenfleetArtifact"]["SourceUri"].startswith("s3://models/churn/")
    assert metrics_match(metrics_of(doc), record["metrics"])
    assert [k.rsplit("/", 1)[-1] for k in keys] == ["metrics.json", "model.joblib"]
