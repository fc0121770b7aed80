"""The asynchronous queue is durable: a server SIGKILLed with 200 requests queued processes every one of them
after its restart, each ending in exactly one output or one failure."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.live.conftest import Api, ServerProcess

pytestmark = pytest.mark.slow

SLOW_MODEL = '''
import time


def model_fn(model_dir):
    return None


def input_fn(body, content_type):
    return body


def predict_fn(data, model):
    time.sleep(0.02)
    if data.strip() == "fail":
        raise ValueError("asked to fail")
    return data


def output_fn(prediction, accept):
    return prediction, "text/plain"
'''


def test_sigkill_with_200_queued_requests_loses_none(server_process: Callable[..., ServerProcess],
                                                     tmp_path: Path) -> None:
    files = tmp_path / "files"
    (files / "in").mkdir(parents=True)
    model = tmp_path / "slow-model"
    (model / "code").mkdir(parents=True)
    (model / "code" / "inference.py").write_text(SLOW_MODEL)
    env = {"GREENFLEET_ASYNC_FILE_ROOTS": str(files)}
    server = server_process(env)
    server.start()
    api = Api(f"http://127.0.0.1:{server.port}")
    api.call("POST", "/api/models", {"ModelName": "slow", "PrimaryContainer": {
        "Image": "greenfleet/script", "ModelDataUrl": str(model)}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "slow", "ProductionVariants": [
        {"VariantName": "main", "ModelName": "slow", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        "AsyncInferenceConfig": {"ClientConfig": {"MaxConcurrentInvocationsPerInstance": 1},
                                 "OutputConfig": {"S3OutputPath": (files / "out").as_uri(),
                                                  "S3FailurePath": (files / "fail").as_uri()}}})
    api.call("POST", "/api/endpoints", {"EndpointName": "slow", "EndpointConfigName": "slow"})
    api.wait_status("slow", "InService")
    client = boto3.client("sagemaker-runtime", endpoint_url=api.base_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          config=Config(retries={"max_attempts": 1}))
    ids = [f"req-{i:03d}" for i in range(200)]
    for index, inference_id in enumerate(ids):
        payload = "fail" if index % 10 == 0 else f"payload {index}"
        (files / "in" / inference_id).write_text(payload)
        answer = client.invoke_endpoint_async(EndpointName="slow", InputLocation=(files / "in" / inference_id).as_uri(),
                                              ContentType="text/plain", InferenceId=inference_id)
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    server.kill()  # SIGKILL: with most of the 200 still queued (each takes >= 20 ms, one at a time)
    finished_before = {p.name for d in ("out", "fail") if (files / d).exists() for p in (files / d).iterdir()}
    assert len(finished_before) < 150, "the kill came too late to test anything"

    restarted = server_process(env)
    restarted.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        outputs = {p.name for p in (files / "out").glob("req-*.out")} if (files / "out").exists() else set()
        failures = {p.name for p in (files / "fail").glob("req-*-error.out")} if (files / "fail").exists() else set()
        if len(outputs) + len(failures) >= 200:
            break
        time.sleep(0.2)
    for inference_id in ids:
        output = f"{inference_id}.out" in outputs
        failure = f"{inference_id}-error.out" in failures
        assert output != failure, f"{inference_id}: output {output}, failure {failure}"
        expect_failure = int(inference_id[4:]) % 10 == 0
        assert failure == expect_failure, inference_id
    assert (files / "out" / "req-001.out").read_text() == "payload 1"
    assert "asked to fail" in (files / "fail" / "req-000-error.out").read_text()
