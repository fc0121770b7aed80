"""The foundation end to end: real server, real worker processes, real HTTP over loopback."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from tests.live.conftest import Api

pytestmark = pytest.mark.slow


def csv_row(features: np.ndarray, index: int = 0) -> str:
    return ",".join(f"{v:.6f}" for v in features[index])


def test_two_variants_split_70_30_over_5000_invocations(api: Api, sklearn_model: Path,
                                                         features: np.ndarray) -> None:
    described = api.deploy("split", sklearn_model, {"blue": (0.7, 1), "green": (0.3, 1)})
    assert [(v["CurrentWeight"], v["CurrentInstanceCount"]) for v in described["ProductionVariants"]] == \
        [(0.7, 1), (0.3, 1)]
    seen: Counter[str] = Counter()
    for index in range(5000):
        response = api.invoke("split", csv_row(features, index % len(features)))
        assert response.status_code == 200, response.text
        seen[response.headers["x-Amzn-Invoked-Production-Variant"]] += 1
    assert binomtest(seen["blue"], 5000, 0.7).pvalue > 0.001, seen
    assert set(seen) == {"blue", "green"}


def test_target_variant_header_and_response_headers(api: Api, sklearn_model: Path, features: np.ndarray) -> None:
    api.deploy("target", sklearn_model, {"blue": (1.0, 1), "green": (0.0, 1)})
    for _ in range(20):
        assert api.invoke("target", csv_row(features)).headers["x-amzn-invoked-production-variant"] == "blue"
    response = api.invoke("target", csv_row(features), headers={
        "X-Amzn-SageMaker-Target-Variant": "green", "X-Amzn-SageMaker-Custom-Attributes": "trace=abc",
        "X-Amzn-SageMaker-Inference-Id": "req-1"})
    assert response.status_code == 200
    assert response.headers["x-amzn-invoked-production-variant"] == "green"
    missing = api.invoke("target", csv_row(features), headers={"X-Amzn-SageMaker-Target-Variant": "nope"})
    assert missing.status_code == 400 and missing.headers["x-amzn-errortype"] == "ValidationError"
    assert "Variant nope not found" in missing.json()["message"]


def test_data_plane_errors_are_sagemakers(api: Api, sklearn_model: Path, features: np.ndarray) -> None:
    unknown = api.invoke("no-such-endpoint", csv_row(features))
    assert unknown.status_code == 400 and unknown.headers["x-amzn-errortype"] == "ValidationError"
    assert "Endpoint no-such-endpoint of account" in unknown.json()["message"]
    api.deploy("errors", sklearn_model, {"only": (1.0, 1)})
    bad = api.invoke("errors", "1,2,3")  # 3 features instead of 20: the model answers 4xx
    assert bad.status_code == 424, bad.text
    body = bad.json()
    assert bad.headers["x-amzn-errortype"] == "ModelError"
    assert 400 <= body["OriginalStatusCode"] < 500 and body["OriginalMessage"]
    unsupported = api.invoke("errors", b"\x00\x01", content_type="application/x-unknown")
    assert unsupported.status_code == 424 and unsupported.json()["OriginalStatusCode"] == 415
    big = api.invoke("errors", b"1" * (6 * 1024 * 1024 + 1))
    assert big.status_code == 413
    assert api.invoke("errors", csv_row(features)).status_code == 200  # still serving


def test_weight_change_under_concurrent_load_drops_nothing(api: Api, sklearn_model: Path,
                                                           features: np.ndarray) -> None:
    api.deploy("shift", sklearn_model, {"blue": (1.0, 1), "green": (0.0, 1)})
    stop = threading.Event()
    failures: list[str] = []
    seen: list[str] = []

    def load() -> None:
        from tests.live.conftest import Api as Client
        client = Client(api.base_url)
        while not stop.is_set():
            response = client.invoke("shift", csv_row(features))
            if response.status_code != 200:
                failures.append(response.text)
            else:
                seen.append(response.headers["x-amzn-invoked-production-variant"])

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        for blue, green in ((0.5, 0.5), (0.0, 1.0), (1.0, 0.0), (0.2, 0.8)):
            time.sleep(0.5)
            api.call("POST", "/api/endpoints/shift/weights-and-capacities", {"DesiredWeightsAndCapacities": [
                {"VariantName": "blue", "DesiredWeight": blue}, {"VariantName": "green", "DesiredWeight": green}]})
            api.wait_status("shift", "InService")
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert len(seen) > 200 and {"blue", "green"} <= set(seen)
    described = api.call("GET", "/api/endpoints/shift")
    assert [v["CurrentWeight"] for v in described["ProductionVariants"]] == [0.2, 0.8]


def test_capacity_change_and_killed_worker_is_replaced_while_serving(api: Api, sklearn_model: Path,
                                                                    features: np.ndarray) -> None:
    api.deploy("heal", sklearn_model, {"only": (1.0, 1)})
    api.call("POST", "/api/endpoints/heal/weights-and-capacities",
             {"DesiredWeightsAndCapacities": [{"VariantName": "only", "DesiredInstanceCount": 2}]})
    described = api.wait_status("heal", "InService")
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    before = api.call("GET", "/api/endpoints/heal/instances")["Instances"]
    assert len(before) == 2 and all(i["ReadyAt"] for i in before)
    os.kill(before[0]["Pid"], signal.SIGKILL)
    failed = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if api.invoke("heal", csv_row(features)).status_code != 200:
            failed += 1
        after = api.call("GET", "/api/endpoints/heal/instances")["Instances"]
        if len(after) == 2 and all(i["ReadyAt"] for i in after) and before[0]["InstanceId"] not in \
                {i["InstanceId"] for i in after}:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the killed instance was not replaced")
    assert failed == 0
    api.call("POST", "/api/endpoints/heal/weights-and-capacities",
             {"DesiredWeightsAndCapacities": [{"VariantName": "only", "DesiredInstanceCount": 1}]})
    assert api.wait_status("heal", "InService")["ProductionVariants"][0]["CurrentInstanceCount"] == 1


def test_bad_archive_fails_the_endpoint_with_a_precise_reason(api: Api, tmp_path: Path) -> None:
    import io
    import tarfile

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        data = b"owned"
        info = tarfile.TarInfo("../escape.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    api.call("POST", "/api/models", {"ModelName": "evil", "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(evil)}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "evil", "ProductionVariants": [
        {"VariantName": "v", "ModelName": "evil", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": "evil", "EndpointConfigName": "evil"})
    described = api.wait_status("evil", "Failed")
    assert "../escape.txt" in described["FailureReason"], described["FailureReason"]
    assert not list(tmp_path.rglob("escape.txt"))
    api.call("DELETE", "/api/endpoints/evil")
    deadline = time.monotonic() + 20
    while api.http.get("/api/endpoints/evil").status_code != 400:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_malformed_requests_get_clear_4xx_and_change_nothing(api: Api) -> None:
    response = api.http.post("/api/models", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["message"]
    response = api.http.post("/api/models", json={"ModelName": "m", "PrimaryContainer": {"Image": "x"}, "Extra": 1})
    assert response.status_code == 400 and "Unknown member 'extra'" in response.json()["message"]
    assert api.call("GET", "/api/models")["Models"] == []
