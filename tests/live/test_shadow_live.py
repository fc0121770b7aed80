"""Shadow variants end to end: a real server, real worker processes (production and shadow each on its own
instance), real HTTP; the shadow gets copies, its answers and errors never reach the caller."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from greenfleet.cli.main import cli
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.live.conftest import FAST, Api

pytestmark = pytest.mark.slow

SCRIPT = '''
import time


def model_fn(model_dir):
    return None


def predict_fn(data, model):
    {body}
'''
SLEEPY = "time.sleep({delay})\n    return [0 for _ in range(len(data))]"
FAILING = 'raise RuntimeError("the shadow is broken")'


def script_model(tmp_path: Path, name: str, body: str) -> Path:
    root = tmp_path / name
    (root / "code").mkdir(parents=True)
    (root / "code" / "inference.py").write_text(SCRIPT.format(body=body))
    return root


def csv_row(features: np.ndarray, index: int = 0) -> str:
    return ",".join(f"{v:.6f}" for v in features[index])


@pytest.fixture
def shadow_server(tmp_path: Path) -> Iterator[Server]:
    settings = Settings(home=tmp_path / "home", port=free_port(), shadow_max_in_flight=2, **FAST)
    instance = Server(settings)
    instance.start_in_thread()
    yield instance
    instance.stop_thread()


@pytest.fixture
def sapi(shadow_server: Server) -> Iterator[Api]:
    client = Api(shadow_server.settings.base_url)
    yield client
    client.http.close()


def deploy_with_shadow(api: Api, name: str, production_url: Path, shadow: dict[str, Any]) -> dict[str, Any]:
    api.call("POST", "/api/models", {"ModelName": f"{name}-prod", "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(production_url)}})
    api.call("POST", "/api/models", {"ModelName": f"{name}-shadow", "PrimaryContainer": shadow})
    api.call("POST", "/api/endpoint-configs", {
        "EndpointConfigName": name,
        "ProductionVariants": [{"VariantName": "prod", "ModelName": f"{name}-prod", "InitialInstanceCount": 1,
                                "InstanceType": "ml.m5.large"}],
        "ShadowProductionVariants": [{"VariantName": "shadow", "ModelName": f"{name}-shadow",
                                      "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": name, "EndpointConfigName": name})
    return api.wait_status(name, "InService")


def metric_sum(api: Api, endpoint: str, variant: str, metric: str, namespace: str = "AWS/SageMaker") -> float:
    statistics = api.call("POST", "/api/metric-statistics", {
        "Namespace": namespace, "MetricName": metric, "Statistics": ["Sum"],
        "Dimensions": [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
        "StartTime": time.time() - 300, "EndTime": time.time() + 5, "Period": 60})
    return float(sum(p["Sum"] for p in statistics["Datapoints"]))


def wait_metric(api: Api, endpoint: str, variant: str, metric: str, at_least: float,
                namespace: str = "AWS/SageMaker") -> float:
    deadline = time.monotonic() + 15
    value = 0.0
    while time.monotonic() < deadline:
        value = metric_sum(api, endpoint, variant, metric, namespace)
        if value >= at_least:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{metric} of {endpoint}/{variant} is {value} < {at_least}")


def test_a_shadow_that_fails_every_call_causes_no_caller_error(sapi: Api, sklearn_model: Path,
                                                               features: np.ndarray, tmp_path: Path) -> None:
    described = deploy_with_shadow(sapi, "mirrored", sklearn_model, {
        "Image": "greenfleet/script", "ModelDataUrl": str(script_model(tmp_path, "broken", FAILING))})
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["prod"]
    assert [(v["VariantName"], v["CurrentInstanceCount"]) for v in described["ShadowProductionVariants"]] == \
        [("shadow", 1)]
    for index in range(60):
        response = sapi.invoke("mirrored", csv_row(features, index))
        assert response.status_code == 200, response.text
        assert response.headers["x-amzn-invoked-production-variant"] == "prod"
        time.sleep(0.01)  # under the mirror's in-flight limit of 2: every copy is sent
    # The shadow's errors are recorded under its own VariantName; production's record has none.
    assert wait_metric(sapi, "mirrored", "shadow", "Invocation5XXErrors", 30) <= 60
    assert wait_metric(sapi, "mirrored", "shadow", "Invocations", 30) <= 60
    assert wait_metric(sapi, "mirrored", "prod", "Invocations", 60) == 60
    assert metric_sum(sapi, "mirrored", "prod", "Invocation5XXErrors") == 0
    config = sapi.call("GET", "/api/endpoint-configs/mirrored")
    assert config["ShadowProductionVariants"][0]["VariantName"] == "shadow"
    shown = CliRunner().invoke(cli, ["endpoint", "describe", "mirrored", "--url", sapi.base_url],
                               catch_exceptions=False)
    assert "Shadow variants" in shown.output and "shadow" in shown.output, shown.output
    # The shadow's worker runs at the server's shadow niceness under SCHED_IDLE (the default
    # GREENFLEET_SHADOW_SCHEDULING=idle: best effort beside production), every thread of it (the model's
    # too); production's at the server's own priority and policy.
    pids = {i["VariantName"]: i["Pid"] for i in sapi.call("GET", "/api/endpoints/mirrored/instances")["Instances"]}
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, pids["prod"]) == own
    assert os.getpriority(os.PRIO_PROCESS, pids["shadow"]) == min(own + 10, 19)
    assert policies(pids["shadow"]) == {os.SCHED_IDLE}
    assert policies(pids["prod"]) == {os.sched_getscheduler(0)} == {os.SCHED_OTHER}


def policies(pid: int) -> set[int]:
    """The scheduling policy of every thread of process ``pid``."""
    return {os.sched_getscheduler(int(tid.name)) for tid in Path(f"/proc/{pid}/task").iterdir()}


def test_shadow_scheduling_nice_leaves_the_shadow_on_the_normal_policy(
        tmp_path: Path, sklearn_model: Path, features: np.ndarray) -> None:
    settings = Settings(home=tmp_path / "home", port=free_port(), shadow_scheduling="nice", **FAST)
    server = Server(settings)
    server.start_in_thread()
    api = Api(settings.base_url)
    try:
        deploy_with_shadow(api, "niced", sklearn_model, {"Image": "greenfleet/sklearn",
                                                         "ModelDataUrl": str(sklearn_model)})
        assert api.invoke("niced", csv_row(features)).status_code == 200
        pids = {i["VariantName"]: i["Pid"] for i in api.call("GET", "/api/endpoints/niced/instances")["Instances"]}
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, pids["shadow"]) == min(own + 10, 19)
        assert policies(pids["shadow"]) == policies(pids["prod"]) == {os.SCHED_OTHER}
    finally:
        api.http.close()
        server.stop_thread()


def test_a_slow_shadow_is_dropped_not_queued_and_production_is_not_delayed(
        sapi: Api, shadow_server: Server, sklearn_model: Path, features: np.ndarray, tmp_path: Path) -> None:
    deploy_with_shadow(sapi, "slowshadow", sklearn_model, {
        "Image": "greenfleet/script", "ModelDataUrl": str(script_model(tmp_path, "sleepy", SLEEPY.format(delay=1.0)))})
    mirror = shadow_server.router.mirror
    latencies: list[float] = []
    failures: list[str] = []

    def client(seed: int) -> None:
        local = Api(sapi.base_url)
        for index in range(25):
            started = time.perf_counter()
            response = local.invoke("slowshadow", csv_row(features, (seed * 25 + index) % len(features)))
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                failures.append(response.text)
        local.http.close()

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    # 100 requests in far less time than one shadow answer (1 s each, one at a time): at most 2 copies in
    # flight, the rest dropped and counted; production answered without waiting for any copy.
    assert max(mirror.in_flight.values(), default=0) <= 2
    assert mirror.dropped >= 80 and mirror.sent + mirror.dropped == 100, (mirror.sent, mirror.dropped)
    assert float(np.percentile(latencies, 50)) < 0.5, sorted(latencies)[-5:]
    assert wait_metric(sapi, "slowshadow", "shadow", "ShadowRequestsDropped", mirror.dropped,
                       namespace="Greenfleet/Endpoints") == mirror.dropped


def test_inference_ids_are_the_callers_or_assigned(api: Api, sklearn_model: Path, features: np.ndarray) -> None:
    api.deploy("ids", sklearn_model, {"only": (1.0, 1)})
    given = api.invoke("ids", csv_row(features), headers={"X-Amzn-SageMaker-Inference-Id": "order-42"})
    assert given.status_code == 200 and given.headers["x-amzn-sagemaker-inference-id"] == "order-42"
    first, second = (api.invoke("ids", csv_row(features)).headers["x-amzn-sagemaker-inference-id"] for _ in range(2))
    assert len(first) == 32 and first != second
    failed = api.invoke("ids", "1,2,3")  # the model answers 4xx: the id is still returned
    assert failed.status_code == 424 and len(failed.headers["x-amzn-sagemaker-inference-id"]) == 32
    too_long = api.invoke("ids", csv_row(features), headers={"X-Amzn-SageMaker-Inference-Id": "x" * 65})
    assert too_long.status_code == 400 and too_long.headers["x-amzn-errortype"] == "ValidationError"


def test_a_shadow_beside_two_production_variants_is_refused(api: Api, sklearn_model: Path) -> None:
    for model in ("m1", "m2", "m3"):
        api.call("POST", "/api/models", {"ModelName": model, "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)}})
    variant = {"InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    refused = api.call("POST", "/api/endpoint-configs", {
        "EndpointConfigName": "two-and-shadow",
        "ProductionVariants": [{"VariantName": "a", "ModelName": "m1", **variant},
                               {"VariantName": "b", "ModelName": "m2", **variant}],
        "ShadowProductionVariants": [{"VariantName": "s", "ModelName": "m3", **variant}]}, expect=400)
    assert "exactly one variant in ProductionVariants and one in ShadowProductionVariants" in refused["message"]


def test_a_configs_data_capture_holds_the_shadows_answers_too(api: Api, sklearn_model: Path, features: np.ndarray,
                                                               tmp_path: Path) -> None:
    for model in ("cap-prod", "cap-shadow"):
        api.call("POST", "/api/models", {"ModelName": model, "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)}})
    variant = {"InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    api.call("POST", "/api/endpoint-configs", {
        "EndpointConfigName": "captured", "ProductionVariants": [{"VariantName": "prod", "ModelName": "cap-prod",
                                                                   **variant}],
        "ShadowProductionVariants": [{"VariantName": "shadow", "ModelName": "cap-shadow", **variant}],
        "DataCaptureConfig": {"InitialSamplingPercentage": 100, "DestinationS3Uri": str(tmp_path / "cap"),
                              "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}})
    api.call("POST", "/api/endpoints", {"EndpointName": "captured", "EndpointConfigName": "captured"})
    api.wait_status("captured", "InService")
    ids = set()
    for index in range(10):
        response = api.invoke("captured", csv_row(features, index))
        ids.add(response.headers["x-amzn-sagemaker-inference-id"])
        time.sleep(0.02)
    found: dict[str, set[str]] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and found.get("shadow", set()) != ids:
        time.sleep(0.3)
        found = {variant: {json.loads(line)["eventMetadata"]["inferenceId"]
                           for path in (tmp_path / "cap" / "captured" / variant).rglob("*.jsonl")
                           for line in path.read_text().splitlines()} for variant in ("prod", "shadow")}
    assert found == {"prod": ids, "shadow": ids}
