"""Live: inference pipelines behind an asynchronous endpoint, through boto3's sagemaker-runtime. Seed 004's
pipeline (scikit-learn preprocessing script → XGBoost → post-processing script, a process per container)
writes its risk labels to the output location, and a failing container is named in the failure object; a
built-in chain (run in one process) serves the same way."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from greenfleet.server import Server
from tests.aws.servers import running_server
from tests.live.conftest import Api
from tests.live.test_async_live import runtime
from tests.live.test_pipeline_chain_live import _models
from tests.live.test_pipelines_live import csv, pipeline_model, seed_models

pytestmark = pytest.mark.slow
__all__ = ["seed_models"]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "files").mkdir()
    return tmp_path / "files"


@pytest.fixture
def async_server(tmp_path: Path, files: Path) -> Iterator[Server]:
    with running_server(tmp_path / "home", async_file_roots=str(files)) as server:
        yield server


def _async_config(api: Api, name: str, model: str, out: Path) -> None:
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "main", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        "AsyncInferenceConfig": {"ClientConfig": {"MaxConcurrentInvocationsPerInstance": 2},
                                 "OutputConfig": {"S3OutputPath": out.as_uri()}}})
    api.call("POST", "/api/endpoints", {"EndpointName": name, "EndpointConfigName": name})
    api.wait_status(name, "InService", timeout_s=120)


def _wait(path: Path, timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"nothing at {path}")


def test_seed_004_pipeline_behind_an_async_endpoint(async_server: Server, files: Path,
                                                    seed_models: dict[str, Any]) -> None:
    api = Api(async_server.settings.base_url)
    pipeline_model(api, "risk", seed_models, "post-a")
    _async_config(api, "risk-async", "risk", files / "out")
    client = runtime(async_server)
    x, scores = seed_models["x"], seed_models["scores"]
    for index in range(6):
        answer = client.invoke_endpoint_async(EndpointName="risk-async", Body=csv(x[index]).encode(),
                                              ContentType="text/csv", Accept="application/json",
                                              InferenceId=f"risk-{index}")
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    for index in range(6):
        expected = "High Risk" if scores[index] > 0.5 else "Low Risk"
        assert json.loads(_wait(files / "out" / f"risk-{index}.out")) == {"risk": [expected]}
    broken = client.invoke_endpoint_async(EndpointName="risk-async", Body=b"not,a,number", ContentType="text/csv",
                                          InferenceId="broken")
    reason = _wait(files / "out" / "broken-error.out")
    assert reason.startswith("ModelError: Received server error (500) from preprocess with message \"input_fn"), \
        reason  # the user's input_fn raised: the container answered 500, named
    assert broken["FailureLocation"] == (files / "out" / "broken-error.out").as_uri()


def test_a_built_in_chain_behind_an_async_endpoint(async_server: Server, files: Path, tmp_path: Path) -> None:
    api = Api(async_server.settings.base_url)
    models = _models(tmp_path)
    api.call("POST", "/api/models", {"ModelName": "chain", "Containers": [
        {"Image": "greenfleet/sklearn", "ModelDataUrl": str(models["classify"]),
         "Environment": {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}},
        {"Image": "greenfleet/sklearn", "ModelDataUrl": str(models["double"])}]})
    _async_config(api, "chain-async", "chain", files / "chain")
    client = runtime(async_server)
    x, classifier = models["x"], models["classifier"]
    for index in range(4):
        client.invoke_endpoint_async(EndpointName="chain-async", Body=csv(x[index]).encode(), ContentType="text/csv",
                                     InferenceId=f"c-{index}")
    for index in range(4):
        label = int(classifier.predict(x[index:index + 1])[0])
        assert json.loads(_wait(files / "chain" / f"c-{index}.out"))["predictions"] == \
            [pytest.approx(2 * label + 1)]
