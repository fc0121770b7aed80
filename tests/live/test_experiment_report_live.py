"""The paired comparison report, live: two shadow tests on a real server with real workers. An identical
shadow agrees 100 %; a different model agrees less, with its confusion matrix and divergent inputs; the CLI
prints the table."""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from greenfleet.cli.main import cli
from tests.live.conftest import Api
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


def other_model(root: Path) -> Path:
    """A classifier of the same 20 features that decides differently (trained on another problem)."""
    x, y = make_classification(n_samples=500, n_features=20, random_state=7)
    joblib.dump(LogisticRegression(max_iter=1000).fit(x, y), root / "model.joblib")
    archive = root / "other.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "model.joblib", arcname="model.joblib")
    return archive


def shadow_test(api: Api, endpoint: str, production: Path, shadow: Path, storage: Path | None = None) -> None:
    for name, url in ((f"{endpoint}-prod", production), (f"{endpoint}-cand", shadow)):
        api.call("POST", "/api/models", {"ModelName": name, "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(url)}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": endpoint, "ProductionVariants": [{
        "VariantName": "main", "ModelName": f"{endpoint}-prod", "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": endpoint, "EndpointConfigName": endpoint})
    api.wait_status(endpoint, "InService")
    infra = {"InfrastructureType": "RealTimeInference",
             "RealTimeInferenceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}}
    api.call("POST", "/api/inference-experiments", {
        "Name": f"{endpoint}-test", "Type": "ShadowMode", "RoleArn": "arn:aws:iam::123456789012:role/r",
        "EndpointName": endpoint,
        "ModelVariants": [{"ModelName": f"{endpoint}-prod", "VariantName": "main", "InfrastructureConfig": infra},
                          {"ModelName": f"{endpoint}-cand", "VariantName": "cand", "InfrastructureConfig": infra}],
        "ShadowModeConfig": {"SourceModelVariantName": "main", "ShadowModelVariants": [
            {"ShadowModelVariantName": "cand", "SamplingPercentage": 100}]},
        **({"DataStorageConfig": {"Destination": str(storage), "ContentType": {"CsvContentTypes": ["text/csv"]}}}
           if storage else {})})
    deadline = time.monotonic() + 60
    while api.call("GET", f"/api/inference-experiments/{endpoint}-test")["Status"] != "Running":
        assert time.monotonic() < deadline
        time.sleep(0.2)


def report_after(api: Api, endpoint: str, features: np.ndarray, n: int) -> dict[str, Any]:
    for index in range(n):
        assert api.invoke(endpoint, csv_row(features, index % len(features))).status_code == 200
        time.sleep(0.005)  # the shadow keeps up: every copy is paired
    deadline = time.monotonic() + 10
    while True:
        report: dict[str, Any] = api.call("GET", f"/api/inference-experiments/{endpoint}-test/report")
        if report["Pairs"] >= n - 2 or time.monotonic() > deadline:
            return report
        time.sleep(0.1)


def test_identical_models_agree_fully_and_a_different_model_less(api: Api, sklearn_model: Path,
                                                                   features: np.ndarray, tmp_path: Path) -> None:
    shadow_test(api, "same", sklearn_model, sklearn_model, storage=tmp_path / "capture")
    shadow_test(api, "diff", sklearn_model, other_model(tmp_path))
    same = report_after(api, "same", features, 100)
    assert same["Pairs"] >= 98 and same["Predictions"]["Kind"] == "classification"
    assert same["Predictions"]["Agreement"] == 1.0 and same["Predictions"]["MostDivergent"] == []
    assert same["Errors"]["Production"]["Errors"] == same["Errors"]["Shadow"]["Errors"] == 0
    assert all(same["Latency"][side]["p99"] > 0 for side in ("Production", "Shadow"))
    assert "Shift" in same["Latency"]
    # DataStorageConfig: both variants' inputs and outputs in SageMaker's capture format, by inference id.
    captured: dict[str, dict[str, Any]] = {"main": {}, "cand": {}}
    deadline = time.monotonic() + 10
    while min(len(v) for v in captured.values()) < same["Pairs"] and time.monotonic() < deadline:
        time.sleep(0.3)
        for variant in captured:
            for path in (tmp_path / "capture" / "same" / variant).rglob("*.jsonl"):
                for line in path.read_text().splitlines():
                    record = json.loads(line)
                    captured[variant][record["eventMetadata"]["inferenceId"]] = record
    assert set(captured["main"]) == set(captured["cand"]) and len(captured["main"]) >= same["Pairs"]
    record = next(iter(captured["cand"].values()))
    assert record["captureData"]["endpointInput"]["encoding"] == "CSV"
    assert record["captureData"]["endpointOutput"]["mode"] == "OUTPUT"
    diff = report_after(api, "diff", features, 100)
    predictions = diff["Predictions"]
    assert 0.0 < predictions["Agreement"] < 1.0
    low, high = predictions["AgreementInterval"]
    assert low < predictions["Agreement"] < high
    assert predictions["Classes"] == ["0", "1"]
    matrix = np.asarray(predictions["ConfusionMatrix"])
    assert matrix.sum() == predictions["Pairs"] and np.trace(matrix) / matrix.sum() == predictions["Agreement"]
    divergent = predictions["MostDivergent"]
    assert divergent and all(d["Production"] != d["Shadow"] and len(d["InferenceId"]) == 32 for d in divergent)

    shown = CliRunner().invoke(cli, ["experiment", "report", "diff-test", "--url", api.base_url],
                               catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert "Agreement" in shown.output and "Confusion matrix" in shown.output and "p99" in shown.output
    as_json = CliRunner().invoke(cli, ["experiment", "report", "diff-test", "--json", "--url", api.base_url])
    assert json.loads(as_json.output)["Predictions"]["Kind"] == "classification"

    # Stop: Retain keeps the shadow mirroring (as a config's own shadow), Remove drops it.
    api.call("POST", "/api/inference-experiments/same-test/stop", {"ModelVariantActions": {"cand": "Retain"}})
    api.call("POST", "/api/inference-experiments/diff-test/stop", {"ModelVariantActions": {"cand": "Remove"},
                                                                   "DesiredState": "Cancelled"})
    deadline = time.monotonic() + 30
    while {api.call("GET", f"/api/inference-experiments/{n}")["Status"] for n in ("same-test", "diff-test")} != \
            {"Completed", "Cancelled"}:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert [v["Status"] for v in api.call("GET", "/api/inference-experiments/same-test")["ModelVariants"]] == \
        ["InService", "InService"]
    assert [v["VariantName"] for v in api.call("GET", "/api/endpoints/same")["ShadowProductionVariants"]] == ["cand"]
    assert "ShadowProductionVariants" not in api.call("GET", "/api/endpoints/diff")
    assert api.call("GET", "/api/inference-experiments/diff-test")["ModelVariants"][1]["Status"] == "Deleted"
