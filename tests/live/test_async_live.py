"""Asynchronous inference through real parts: boto3's sagemaker-runtime client, a greenfleet server on a
loopback port with real worker processes, payloads in a real S3 server (moto's) and in files, SNS-shaped
notifications delivered to a real webhook receiver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.artifacts.s3 import moto_s3
from tests.conftest import free_port
from tests.live.conftest import FAST, Api
from tests.live.test_endpoints_live import csv_row
from tests.observability_support import Receiver

pytestmark = pytest.mark.slow
SUCCESS_TOPIC = "arn:aws:sns:us-east-1:123456789012:async-success"
ERROR_TOPIC = "arn:aws:sns:us-east-1:123456789012:async-error"


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


@pytest.fixture
def async_server(tmp_path: Path, s3_endpoint: str, receiver: Receiver) -> Iterator[Server]:
    (tmp_path / "files").mkdir()
    settings = Settings(home=tmp_path / "home", port=free_port(), s3_endpoint_url=s3_endpoint,
                        async_file_roots=str(tmp_path / "files"),
                        alarm_action_webhooks={SUCCESS_TOPIC: f"{receiver.url}/ok", ERROR_TOPIC: f"{receiver.url}/err"},
                        **FAST)
    server = Server(settings)
    server.start_in_thread()
    yield server
    server.stop_thread()


def runtime(server: Server) -> Any:
    return boto3.client("sagemaker-runtime", endpoint_url=server.settings.base_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


def s3(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def async_endpoint(api: Api, name: str, model_url: Path, output: dict[str, Any], concurrency: int = 2) -> None:
    api.call("POST", "/api/models", {"ModelName": name, "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(model_url)}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "main", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        "AsyncInferenceConfig": {"ClientConfig": {"MaxConcurrentInvocationsPerInstance": concurrency},
                                 "OutputConfig": output}})
    api.call("POST", "/api/endpoints", {"EndpointName": name, "EndpointConfigName": name})
    api.wait_status(name, "InService")


def wait_object(client: Any, url: str, timeout_s: float = 30) -> bytes:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())
        except ClientError:
            time.sleep(0.1)
    raise AssertionError(f"no object at {url}")


def test_boto3_async_flow_on_s3_with_notifications(async_server: Server, s3_endpoint: str, receiver: Receiver,
                                                   sklearn_model: Path, features: np.ndarray) -> None:
    api = Api(async_server.settings.base_url)
    storage = s3(s3_endpoint)
    storage.create_bucket(Bucket="bucket")
    async_endpoint(api, "scorer", sklearn_model, {
        "S3OutputPath": "s3://bucket/out", "S3FailurePath": "s3://bucket/fail",
        "NotificationConfig": {"SuccessTopic": SUCCESS_TOPIC, "ErrorTopic": ERROR_TOPIC,
                               "IncludeInferenceResponseIn": ["SUCCESS_NOTIFICATION_TOPIC"]}})
    rows = "\n".join(csv_row(features, i) for i in range(3))
    storage.put_object(Bucket="bucket", Key="in/rows.csv", Body=rows.encode())
    client = runtime(async_server)
    answer = client.invoke_endpoint_async(EndpointName="scorer", InputLocation="s3://bucket/in/rows.csv",
                                          ContentType="text/csv", Accept="application/json",
                                          InferenceId="first-request")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert answer["InferenceId"] == "first-request"
    assert answer["OutputLocation"] == "s3://bucket/out/first-request.out"
    assert answer["FailureLocation"] == "s3://bucket/fail/first-request-error.out"
    output = json.loads(wait_object(storage, answer["OutputLocation"]))
    assert len(output["predictions"]) == 3 and set(output["predictions"]) <= {0, 1}
    ok = receiver.wait_for(1, timeout=10)[0]
    assert ok.path == "/ok"
    assert ok.body["invocationStatus"] == "Completed" and ok.body["inferenceId"] == "first-request"
    assert ok.body["eventSource"] == "aws:sagemaker" and ok.body["eventName"] == "InferenceResult"
    assert ok.body["requestParameters"] == {"endpointName": "scorer", "inputLocation": "s3://bucket/in/rows.csv",
                                            "contentType": "text/csv"}
    assert ok.body["responseParameters"]["outputLocation"] == answer["OutputLocation"]
    assert json.loads(ok.body["responseParameters"]["inferenceResponse"]) == output

    # An inline Body, a file name and a path extension of our own.
    inline = client.invoke_endpoint_async(EndpointName="scorer", Body=csv_row(features, 5).encode(),
                                          ContentType="text/csv", Filename="five.json", S3OutputPathExtension="x/y")
    assert inline["OutputLocation"] == "s3://bucket/out/x/y/five.json"
    assert len(json.loads(wait_object(storage, inline["OutputLocation"]))["predictions"]) == 1

    # A request the model refuses ends in the failure path, with the reason, and the error topic hears of it.
    storage.put_object(Bucket="bucket", Key="in/bad.csv", Body=b"not,numbers")
    bad = client.invoke_endpoint_async(EndpointName="scorer", InputLocation="s3://bucket/in/bad.csv",
                                       ContentType="text/csv", InferenceId="bad-one")
    failure = wait_object(storage, bad["FailureLocation"]).decode()
    assert failure.startswith("ModelError: Received client error (400)")
    errors = [r for r in receiver.wait_for(3, timeout=10) if r.path == "/err"]
    assert errors and errors[0].body["invocationStatus"] == "Failed" and "ModelError" in errors[0].body["failureReason"]

    # A missing input object is refused at once, nothing queued.
    with pytest.raises(ClientError) as missing:
        client.invoke_endpoint_async(EndpointName="scorer", InputLocation="s3://bucket/in/nothing-here.csv")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert "no input object at s3://bucket/in/nothing-here.csv" in missing.value.response["Error"]["Message"]

    # An output bucket that disappears after the config was made: the request ends in the failure path.
    storage.create_bucket(Bucket="gone")
    async_endpoint(api, "gone-out", sklearn_model, {"S3OutputPath": "s3://gone/out",
                                                    "S3FailurePath": "s3://bucket/gone-fail"})
    storage.delete_bucket(Bucket="gone")
    lost = client.invoke_endpoint_async(EndpointName="gone-out", InputLocation="s3://bucket/in/rows.csv",
                                        ContentType="text/csv")
    reason = wait_object(storage, lost["FailureLocation"]).decode()
    assert reason.startswith("ResponseUploadFailure: cannot write s3://gone/out/"), reason

    # An asynchronous endpoint takes no synchronous invocation.
    with pytest.raises(ClientError) as refused:
        client.invoke_endpoint(EndpointName="scorer", Body=csv_row(features).encode(), ContentType="text/csv")
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert "InvokeEndpointAsync" in refused.value.response["Error"]["Message"]

    # The backlog metrics are published (and back at zero once the queue is empty).
    wanted = {"ApproximateBacklogSize", "ApproximateBacklogSizePerInstance", "ApproximateAgeOfOldestRequest",
              "HasBacklogWithoutCapacity"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = api.call("GET", "/api/metric-series")["Metrics"]
        published = {m["MetricName"] for m in listed
                     if m["Dimensions"] == [{"Name": "EndpointName", "Value": "scorer"}]}
        if wanted <= published:
            break
        time.sleep(0.2)
    assert wanted <= published
    # and the per-variant ones (EndpointName, VariantName): two processed, one model error, one upload failure
    variant = [{"Name": "EndpointName", "Value": "scorer"}, {"Name": "VariantName", "Value": "main"}]
    cw = boto3.client("cloudwatch", endpoint_url=async_server.settings.base_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")

    def total(metric: str, statistic: str = "Sum", endpoint: str = "scorer") -> float:
        now = time.time()
        points = cw.get_metric_statistics(
            Namespace="AWS/SageMaker", MetricName=metric, StartTime=now - 300, EndTime=now + 60, Period=60,
            Statistics=[statistic], Dimensions=[{**variant[0], "Value": endpoint}, variant[1]])["Datapoints"]
        return float(sum(p[statistic] for p in points))

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (total("InvocationFailures") < 1
                                           or total("ResponseUploadFailures", endpoint="gone-out") < 1):
        time.sleep(0.2)
    assert total("InvocationsProcesssed") == 2 and total("InvocationFailures") == 1
    assert total("ResponseUploadFailures", endpoint="gone-out") == 1
    assert total("TimeInBacklog", "SampleCount") == 3 and total("TotalProcessingTime", "SampleCount") == 3


def test_files_and_bad_input_get_specific_errors(async_server: Server, tmp_path: Path, sklearn_model: Path,
                                                features: np.ndarray) -> None:
    api = Api(async_server.settings.base_url)
    files = tmp_path / "files"
    async_endpoint(api, "local", sklearn_model, {"S3OutputPath": (files / "out").as_uri()})
    (files / "in.csv").write_text(csv_row(features, 1))
    client = runtime(async_server)
    answer = client.invoke_endpoint_async(EndpointName="local", InputLocation=(files / "in.csv").as_uri(),
                                          ContentType="text/csv")
    output = files / "out" / f"{answer['InferenceId']}.out"
    deadline = time.monotonic() + 20
    while not output.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(json.loads(output.read_text())["predictions"]) == 1
    assert answer["FailureLocation"] == (files / "out" / f"{answer['InferenceId']}-error.out").as_uri()

    from click.testing import CliRunner

    from greenfleet.cli.main import cli

    shown = CliRunner().invoke(cli, ["invoke-async", "local", "--input-location", (files / "in.csv").as_uri(),
                                     "--content-type", "text/csv", "--inference-id", "from-cli", "--json",
                                     "--url", async_server.settings.base_url])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == {"InferenceId": "from-cli",
                                        "OutputLocation": (files / "out" / "from-cli.out").as_uri(),
                                        "FailureLocation": (files / "out" / "from-cli-error.out").as_uri()}

    def refusal(**params: Any) -> str:
        with pytest.raises(ClientError) as info:
            client.invoke_endpoint_async(EndpointName="local", ContentType="text/csv", **params)
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert info.value.response["Error"]["Code"] == "ValidationError"
        return str(info.value.response["Error"]["Message"])

    assert "no input object at" in refusal(InputLocation=(files / "missing.csv").as_uri())
    assert "not under GREENFLEET_ASYNC_FILE_ROOTS" in refusal(InputLocation="file:///etc/passwd")
    assert "Member must have value between 60 and 21600" in refusal(InputLocation=(files / "in.csv").as_uri(),
                                                                     RequestTTLSeconds=30000)
    assert "between 1 and 3600" in refusal(InputLocation=(files / "in.csv").as_uri(), InvocationTimeoutSeconds=7200)
    assert "mutually exclusive" in refusal(InputLocation=(files / "in.csv").as_uri(), Body=b"1,2")
    # Out of out/ (here onto the input file): refused for a file:// output path (an S3 key keeps "..").
    for escape in ({"S3OutputPathExtension": ".."}, {"InferenceId": "../../x"}):
        assert "'..' path segment" in refusal(Body=b"1", Filename="in.csv", **escape)
    assert "already in use" in refusal(InputLocation=(files / "in.csv").as_uri(), InferenceId=answer["InferenceId"])
    too_big = api.http.post("/endpoints/local/async-invocations", content=b"1" * 128_001,
                            headers={"X-Amzn-SageMaker-Content-Type": "text/csv"})
    assert too_big.status_code == 400 and "at most 128000 bytes" in too_big.json()["message"]
    with pytest.raises(ClientError) as unknown:
        client.invoke_endpoint_async(EndpointName="nope", InputLocation=(files / "in.csv").as_uri())
    assert "Endpoint nope of account" in unknown.value.response["Error"]["Message"]

    # Output paths the server cannot write are refused when the config is created.
    (files / "a-file").write_text("")
    unwritable = (((files / "a-file" / "out").as_uri(), "cannot create"),
                  ("s3://no-such-bucket/out", "cannot be written"),
                  ("https://example.com/out", "must be an s3:// URL or a file:// URL"))
    for path, reason in unwritable:
        refused = api.http.post("/api/endpoint-configs", json={"EndpointConfigName": "bad", "ProductionVariants": [
            {"VariantName": "main", "ModelName": "local", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
            "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": path}}})
        assert refused.status_code == 400 and reason in refused.json()["message"], (path, refused.text)
    unmapped = api.http.post("/api/endpoint-configs", json={"EndpointConfigName": "bad2", "ProductionVariants": [
        {"VariantName": "main", "ModelName": "local", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": (files / "out").as_uri(), "NotificationConfig": {
            "SuccessTopic": "arn:aws:sns:us-east-1:123456789012:unmapped"}}}})
    assert unmapped.status_code == 400 and "has no webhook URL" in unmapped.json()["message"]


def test_latencies_and_notification_failures_are_published(async_server: Server, tmp_path: Path,
                                                           receiver: Receiver, sklearn_model: Path,
                                                           features: np.ndarray) -> None:
    receiver.statuses = [404]  # the success notification's webhook refuses it: failed for good, not retried
    api = Api(async_server.settings.base_url)
    files = tmp_path / "files"
    async_endpoint(api, "metered", sklearn_model, {"S3OutputPath": (files / "out").as_uri(),
                                                   "NotificationConfig": {"SuccessTopic": SUCCESS_TOPIC}})
    (files / "in.csv").write_text("\n".join(csv_row(features, i) for i in range(50)))
    answer = runtime(async_server).invoke_endpoint_async(EndpointName="metered", ContentType="text/csv",
                                                         InputLocation=(files / "in.csv").as_uri())
    output = files / "out" / f"{answer['InferenceId']}.out"
    receiver.wait_for(1, timeout=20)
    assert output.exists()
    cw = boto3.client("cloudwatch", endpoint_url=async_server.settings.base_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    dimensions = [{"Name": "EndpointName", "Value": "metered"}, {"Name": "VariantName", "Value": "main"}]

    def points(metric: str, statistic: str) -> list[dict[str, Any]]:
        now = time.time()
        return list(cw.get_metric_statistics(Namespace="AWS/SageMaker", MetricName=metric, StartTime=now - 300,
                                             EndTime=now + 60, Period=60, Statistics=[statistic],
                                             Dimensions=dimensions)["Datapoints"])

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not points("NotificationFailures", "Sum"):
        time.sleep(0.2)
    assert sum(p["Sum"] for p in points("NotificationFailures", "Sum")) == 1
    for metric in ("RequestDownloadLatency", "ResponseUploadLatency"):
        (point,) = points(metric, "SampleCount")
        assert point["SampleCount"] == 1 and point["Unit"] == "Microseconds", (metric, point)
        (longest,) = points(metric, "Maximum")
        assert 0 < longest["Maximum"] < 5e6, (metric, longest)  # microseconds: a file of 50 rows, well under 5 s


SLEEPER = '''
import time


def model_fn(model_dir):
    return None


def input_fn(body, content_type):
    return float(body)


def predict_fn(seconds, model):
    time.sleep(seconds)
    return seconds


def output_fn(seconds, accept):
    return f"slept {seconds:g}", "text/plain"
'''


@pytest.mark.parallel  # the model's sleep is 3 s against timeouts of 1 s and 30 s: load does not decide it
def test_an_async_request_may_run_longer_than_the_servers_invocation_timeout(tmp_path: Path) -> None:
    """InvocationTimeoutSeconds (1-3600, default 900) bounds an asynchronous request, not the server's
    synchronous invocation timeout: an async variant's instances are not cut at the latter."""
    files = tmp_path / "files"
    files.mkdir()
    model = tmp_path / "sleeper"
    (model / "code").mkdir(parents=True)
    (model / "code" / "inference.py").write_text(SLEEPER)
    settings = Settings(home=tmp_path / "home", port=free_port(), async_file_roots=str(files),
                        **{**FAST, "invocation_timeout_s": 1.0})
    server = Server(settings)
    server.start_in_thread()
    try:
        api = Api(settings.base_url)
        api.call("POST", "/api/models", {"ModelName": "sleeper", "PrimaryContainer": {
            "Image": "greenfleet/script", "ModelDataUrl": str(model)}})
        api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "sleeper", "ProductionVariants": [
            {"VariantName": "main", "ModelName": "sleeper", "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large"}],
            "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": (files / "out").as_uri()}}})
        api.call("POST", "/api/endpoints", {"EndpointName": "sleeper", "EndpointConfigName": "sleeper"})
        api.wait_status("sleeper", "InService")
        client = runtime(server)
        patient = client.invoke_endpoint_async(EndpointName="sleeper", Body=b"3", ContentType="text/plain",
                                               InvocationTimeoutSeconds=30)
        hasty = client.invoke_endpoint_async(EndpointName="sleeper", Body=b"3", ContentType="text/plain",
                                             InvocationTimeoutSeconds=1)
        ends = {answer["InferenceId"]: (Path(answer["OutputLocation"].removeprefix("file://")),
                                        Path(answer["FailureLocation"].removeprefix("file://")))
                for answer in (patient, hasty)}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(o.exists() or f.exists() for o, f in ends.values()):
            time.sleep(0.1)
        output, failure = ends[patient["InferenceId"]]
        assert not failure.exists(), failure.read_text()
        assert output.read_text() == "slept 3"
        output, failure = ends[hasty["InferenceId"]]
        assert not output.exists()
        assert failure.read_text() == "InvocationTimeout: the model did not answer within 1 seconds"
    finally:
        server.stop_thread()
