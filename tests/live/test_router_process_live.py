"""``greenfleet router`` as its own process beside the server: kill -9 of the server under load through
the router → zero refused or failed requests while the server is down and after it is back; the
router's per-second invocation metrics reach the shared metric store; shadows, data capture and A/B
assignments work through it as through the server's own router."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.conftest import free_port
from tests.live.conftest import Api, ServerProcess
from tests.live.test_deployments_live import Load
from tests.live.test_endpoints_live import csv_row
from tests.live.test_experiment_report_live import shadow_test
from tests.live.test_shadow_live import metric_sum

pytestmark = pytest.mark.slow


def start_router(home: Path, log: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "greenfleet", "router", "--port", str(port)],
                                   env={**os.environ, "GREENFLEET_HOME": str(home), **(env or {})}, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("router did not start: " + log.read_text()[-2000:])


def test_the_router_process_serves_through_a_server_crash(server_process: Callable[[], ServerProcess],
                                                          sklearn_model: Path, features: np.ndarray,
                                                          tmp_path: Path) -> None:
    first = server_process()
    first.start()
    api = Api(f"http://127.0.0.1:{first.port}")
    api.deploy("steady", sklearn_model, {"main": (1.0, 2)})
    router, url = start_router(first.home, tmp_path / "router.log")
    try:
        through_router = Api(url)
        deadline = time.monotonic() + 10
        while through_router.invoke("steady", csv_row(features)).status_code != 200:
            assert time.monotonic() < deadline, "the router never served the endpoint"
            time.sleep(0.1)
        with Load(through_router, "steady", csv_row(features), clients=4) as load:
            time.sleep(1)
            first.kill(signal.SIGKILL)  # the control plane is gone; its workers live on
            down_at = time.monotonic()
            served_before = sum(load.served.values())
            time.sleep(3)
            served_while_down = sum(load.served.values()) - served_before
            second = server_process()
            second.start()  # adopts the workers, publishes the table at the next revision
            time.sleep(3)
        assert load.failures == [], load.failures[:5]
        assert served_while_down > 30
        revision = httpx.get(url + "/health").json()["routing_revision"]
        server_revision = httpx.get(f"http://127.0.0.1:{second.port}/health").json()["routing_revision"]
        assert revision > 0 and server_revision == revision  # the router follows the restarted server
        # the router's own invocations reach the running server's metric store (the servers' routers served
        # none): it ships each closed second to the inbox, which the leading server merges every second.
        # Nothing is lost while the server was down: the inbox keeps the rows for the restarted one.
        served = sum(load.served.values()) + 1  # and the first answer, before the load
        second_api = Api(f"http://127.0.0.1:{second.port}")
        deadline = time.monotonic() + 10
        while True:
            stats = second_api.call("POST", "/api/metric-statistics", {
                "Namespace": "AWS/SageMaker", "MetricName": "Invocations", "Statistics": ["Sum"], "Period": 60,
                "Dimensions": [{"Name": "EndpointName", "Value": "steady"}, {"Name": "VariantName", "Value": "main"}],
                "StartTime": time.time() - 600, "EndTime": time.time() + 60})
            recorded = sum(p["Sum"] for p in stats["Datapoints"])
            if recorded == served:
                break
            assert time.monotonic() < deadline, (recorded, served)
            time.sleep(0.5)
        assert time.monotonic() - down_at < 60
        # stopped with SIGTERM right after one more invocation, the router ships its open second before it exits
        assert through_router.invoke("steady", csv_row(features)).status_code == 200
        router.send_signal(signal.SIGTERM)
        assert router.wait(15) == 0  # returned from serving (uvicorn's re-raised signal would have killed it)
        deadline = time.monotonic() + 10
        while recorded != served + 1:
            assert time.monotonic() < deadline, (recorded, served + 1)
            time.sleep(0.5)
            stats = second_api.call("POST", "/api/metric-statistics", {
                "Namespace": "AWS/SageMaker", "MetricName": "Invocations", "Statistics": ["Sum"], "Period": 60,
                "Dimensions": [{"Name": "EndpointName", "Value": "steady"}, {"Name": "VariantName", "Value": "main"}],
                "StartTime": time.time() - 600, "EndTime": time.time() + 60})
            recorded = sum(p["Sum"] for p in stats["Datapoints"])
    finally:
        if router.poll() is None:
            router.send_signal(signal.SIGTERM)
            router.wait(15)


SLEEPY_MODEL = '''
import time


def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    time.sleep(float(body))
    return body, "text/plain"
'''


def test_a_drain_waits_for_a_request_in_flight_through_the_router_process(
        server_process: Callable[..., ServerProcess], tmp_path: Path) -> None:
    """UpdateEndpoint drains the old instance while a 4 s request is in flight on it through the router
    process (the server's own router is idle): the instance is stopped only once that request is answered."""
    model = tmp_path / "sleepy"
    (model / "code").mkdir(parents=True)
    (model / "code" / "inference.py").write_text(SLEEPY_MODEL)
    server = server_process({"GREENFLEET_DRAIN_TIMEOUT_S": "60", "GREENFLEET_MODEL_DATA_ROOTS": str(tmp_path)})
    server.start()
    api = Api(f"http://127.0.0.1:{server.port}")
    for name in ("blue", "green"):
        api.call("POST", "/api/models", {"ModelName": name, "PrimaryContainer": {
            "Image": "greenfleet/script", "ModelDataUrl": str(model)}})
        api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": name, "ProductionVariants": [
            {"VariantName": "main", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": "sleepy", "EndpointConfigName": "blue"})
    api.wait_status("sleepy", "InService")
    (blue,) = [i["InstanceId"] for i in api.call("GET", "/api/endpoints/sleepy/instances")["Instances"]]
    router, url = start_router(server.home, tmp_path / "router.log")
    try:
        through_router = Api(url)
        deadline = time.monotonic() + 10
        while through_router.invoke("sleepy", "0", content_type="text/plain").status_code != 200:
            assert time.monotonic() < deadline, "the router never served the endpoint"
            time.sleep(0.1)
        answers: list[tuple[int, float]] = []

        def slow_request() -> None:
            response = through_router.invoke("sleepy", "4", content_type="text/plain")
            answers.append((response.status_code, time.monotonic()))

        worker = threading.Thread(target=slow_request)
        worker.start()
        time.sleep(0.5)  # in flight on blue, through the router process
        api.call("POST", "/api/endpoints/sleepy/update", {"EndpointConfigName": "green"})
        stopped_at = None
        while stopped_at is None:
            ids = [i["InstanceId"] for i in api.call("GET", "/api/endpoints/sleepy/instances")["Instances"]]
            if blue not in ids:
                stopped_at = time.monotonic()
            assert not answers or time.monotonic() - answers[0][1] < 10, "blue was never stopped"
            time.sleep(0.05)
        worker.join(10)
        assert answers and answers[0][0] == 200, answers  # its instance was not stopped under it
        assert stopped_at >= answers[0][1]
        assert stopped_at - answers[0][1] < 5  # and stopped soon after: the router reported it let go
        assert api.wait_status("sleepy", "InService")["EndpointConfigName"] == "green"
    finally:
        router.send_signal(signal.SIGTERM)
        router.wait(15)


@pytest.mark.parallel  # times nothing
def test_the_router_process_mirrors_captures_and_records_ab_assignments(
        server_process: Callable[..., ServerProcess], sklearn_model: Path, features: np.ndarray,
        tmp_path: Path) -> None:
    """Every feature of the routing table works through the router process, not only routing: a shadow
    test's copies are mirrored and paired in the server's report, its DataStorageConfig captures both sides,
    and the feedback API knows the inference ids the router process answered under an A/B test."""
    server = server_process()
    server.start()
    api = Api(f"http://127.0.0.1:{server.port}")
    shadow_test(api, "shadowed", sklearn_model, sklearn_model, storage=tmp_path / "capture")
    api.deploy("ab", sklearn_model, {"a": (0.5, 1), "b": (0.5, 1)})
    api.call("POST", "/api/ab-tests", {"Name": "ab-test", "EndpointName": "ab", "VariantA": "a", "VariantB": "b",
                                       "MinimumSamples": 1000}, expect=201)
    revision = httpx.get(f"http://127.0.0.1:{server.port}/health").json()["routing_revision"]
    # The mirror process at normal priority: this test is about what the router process does, not when an
    # idle-priority process gets the CPU (beside other tests it may get none for seconds and drop copies).
    router, url = start_router(server.home, tmp_path / "router.log",
                               {"GREENFLEET_SHADOW_SCHEDULING": "nice", "GREENFLEET_SHADOW_NICENESS": "0"})
    try:
        deadline = time.monotonic() + 10
        while httpx.get(url + "/health").json()["routing_revision"] < revision:
            assert time.monotonic() < deadline, "the router process never caught up with the server's table"
            time.sleep(0.1)
        through_router = Api(url)
        outcomes = []
        for index in range(20):
            answer = through_router.invoke("ab", csv_row(features, index))
            assert answer.status_code == 200, answer.text
            outcomes.append({"InferenceId": answer.headers["x-amzn-sagemaker-inference-id"], "Reward": 1.0})
        for index in range(30):
            assert through_router.invoke("shadowed", csv_row(features, index)).status_code == 200
            time.sleep(0.005)  # the shadow keeps up: every copy is paired
        recorded, deadline = 0, time.monotonic() + 10  # the router process ships its records once a second
        while recorded < 20:
            assert time.monotonic() < deadline, f"the feedback API knows only {recorded} of the 20 answers"
            recorded += api.call("POST", "/api/endpoints/ab/feedback", {"Outcomes": outcomes})["Recorded"]
            time.sleep(0.3)
        report = api.call("GET", "/api/inference-experiments/shadowed-test/report")
        deadline = time.monotonic() + 10
        while report["Pairs"] < 28:
            assert time.monotonic() < deadline, report["Pairs"]
            time.sleep(0.3)
            report = api.call("GET", "/api/inference-experiments/shadowed-test/report")
        assert report["Predictions"]["Agreement"] == 1.0
        # InvokeEndpointAsync is the server's (its durable queue): the router process says so
        runtime = boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        with pytest.raises(ClientError) as refused:
            runtime.invoke_endpoint_async(EndpointName="ab", InputLocation="s3://bucket/in.csv")
        assert refused.value.response["Error"]["Code"] == "UnknownOperationException"
        assert "greenfleet server" in refused.value.response["Error"]["Message"]
    finally:
        router.send_signal(signal.SIGTERM)
        assert router.wait(15) == 0
    # the router's capture writer wrote every record it took before the router exited
    for variant in ("main", "cand"):
        ids = {json.loads(line)["eventMetadata"]["inferenceId"]
               for path in (tmp_path / "capture" / "shadowed" / variant).rglob("*.jsonl")
               for line in path.read_text().splitlines()}
        assert len(ids) >= 28, (variant, len(ids))
        # and counted in the server's metrics (the router's capture counters go with its invocation metrics)
        deadline = time.monotonic() + 10
        while (counted := metric_sum(api, "shadowed", variant, "CapturedRecords", "greenfleet/DataCapture")) < len(ids):
            assert time.monotonic() < deadline, (variant, counted, len(ids))
            time.sleep(0.3)
        assert counted == len(ids)


@pytest.mark.parallel  # times nothing
def test_describe_endpoint_names_the_router_process_whose_capture_destination_refuses_writes(
        server_process: Callable[..., ServerProcess], sklearn_model: Path, features: np.ndarray,
        tmp_path: Path) -> None:
    """Invocations answered only by the router process, to a capture destination its writer cannot write (a
    path under a file, which even root cannot create): the server's DescribeEndpoint (boto3) shows the router's
    reason, naming the router, while the endpoint serves; once the destination takes writes, it is gone."""
    server = server_process()
    server.start()
    api = Api(f"http://127.0.0.1:{server.port}")
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    api.deploy_capturing("cap", sklearn_model, f"file://{blocker}/sub")
    sm = boto3.client("sagemaker", endpoint_url=f"http://127.0.0.1:{server.port}", region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    router, url = start_router(server.home, tmp_path / "router.log")
    try:
        through_router = Api(url)
        described: dict[str, Any] = {}
        deadline = time.monotonic() + 15
        while "FailureReason" not in described:
            assert time.monotonic() < deadline, described
            answer = through_router.invoke("cap", csv_row(features))  # still served (once its table arrived)
            assert answer.status_code in (200, 404), answer.text
            time.sleep(0.3)
            described = sm.describe_endpoint(EndpointName="cap")
        reason = described["FailureReason"]
        assert described["EndpointStatus"] == "InService"
        assert reason.startswith("Data capture is failing: capture on router router-"), reason
        assert str(blocker) in reason and "dropped" in reason
        assert through_router.invoke("cap", csv_row(features)).status_code == 200
        blocker.unlink()  # the destination takes writes again: the router's next write clears its failure
        deadline = time.monotonic() + 15
        while "FailureReason" in described:
            assert time.monotonic() < deadline, described
            assert through_router.invoke("cap", csv_row(features)).status_code == 200
            time.sleep(0.3)
            described = sm.describe_endpoint(EndpointName="cap")
        assert any((tmp_path / "blocker" / "sub" / "cap" / "main").rglob("*.jsonl"))
    finally:
        router.send_signal(signal.SIGTERM)
        assert router.wait(15) == 0
