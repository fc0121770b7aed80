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


ECHO_MODEL = '''
def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    return body, "application/octet-stream"
'''


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_a_large_payload_streams_through_the_server_without_being_held(
        server_process: Callable[..., ServerProcess], tmp_path: Path) -> None:
    """256 MB in a file → the instance → a file: the server's peak memory grows by far less than the payload
    (the worker holds it: a model needs its whole input)."""
    files = tmp_path / "files"
    files.mkdir()
    model = tmp_path / "echo"
    (model / "code").mkdir(parents=True)
    (model / "code" / "inference.py").write_text(ECHO_MODEL)
    # A script model reads its body whole: the worker's maximum is raised past the payload for this test.
    server = server_process({"GREENFLEET_ASYNC_FILE_ROOTS": str(files),
                             "GREENFLEET_WORKER_MAX_BODY_BYTES": str(300 * 1024 * 1024)})
    server.start()
    api = Api(f"http://127.0.0.1:{server.port}")
    api.deploy_async("echo", model, "greenfleet/script", (files / "out").as_uri())
    size = 256 * 1024 * 1024
    block = bytes(range(256)) * 4096
    with open(files / "big.bin", "wb") as handle:
        for _ in range(size // len(block)):
            handle.write(block)
    assert server.process is not None
    before = _peak_rss_mb(server.process.pid)
    answer = api.http.post("/endpoints/echo/async-invocations", headers={
        "X-Amzn-SageMaker-InputLocation": (files / "big.bin").as_uri(),
        "X-Amzn-SageMaker-Content-Type": "application/octet-stream", "X-Amzn-SageMaker-Inference-Id": "big"})
    assert answer.status_code == 202, answer.text
    output = files / "out" / "big.out"
    deadline = time.monotonic() + 120
    while not output.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert output.stat().st_size == size
    grown = _peak_rss_mb(server.process.pid) - before
    assert grown < 64, f"the server's peak memory grew by {grown:.0f} MB for a 256 MB payload"
