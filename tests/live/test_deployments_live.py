"""UpdateEndpoint through real processes: blue/green and rolling under continuous load."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.live.conftest import Api
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


class Load:
    """8 concurrent clients invoking an endpoint until stopped; records failures and variants."""

    def __init__(self, api: Api, endpoint: str, body: str, clients: int = 8) -> None:
        self.api, self.endpoint, self.body = api, endpoint, body
        self.stop_flag = threading.Event()
        self.failures: list[tuple[float, int, str]] = []
        self.served: Counter[str] = Counter()
        self.threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def _run(self) -> None:
        client = Api(self.api.base_url)
        while not self.stop_flag.is_set():
            response = client.invoke(self.endpoint, self.body)
            if response.status_code == 200:
                self.served[response.headers["x-amzn-invoked-production-variant"]] += 1
            else:
                self.failures.append((time.monotonic(), response.status_code, response.text[:200]))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop_flag.set()
        for thread in self.threads:
            thread.join()


def new_config(api: Api, endpoint: str, name: str, model_url: Path, count: int = 1) -> None:
    api.call("POST", "/api/models", {"ModelName": name, "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(model_url)}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "main", "ModelName": name, "InitialInstanceCount": count, "InstanceType": "ml.m5.large"}]})


def wait_done(api: Api, endpoint: str, timeout_s: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = api.call("GET", f"/api/endpoints/{endpoint}")
        if described["EndpointStatus"] in ("InService", "UpdateRollbackFailed", "Failed"):
            return described
        time.sleep(0.1)
    raise AssertionError(f"deployment of {endpoint} did not finish: {described}")


def test_default_update_is_all_at_once_blue_green_without_downtime(api: Api, sklearn_model: Path,
                                                                   features: np.ndarray) -> None:
    new_config(api, "upd", "v1", sklearn_model)
    api.call("POST", "/api/endpoints", {"EndpointName": "upd", "EndpointConfigName": "v1"})
    api.wait_status("upd", "InService")
    new_config(api, "upd", "v2", sklearn_model)
    with Load(api, "upd", csv_row(features)) as load:
        api.call("POST", "/api/endpoints/upd/update", {"EndpointConfigName": "v2"})
        described = api.call("GET", "/api/endpoints/upd")
        assert described["EndpointStatus"] == "Updating"
        rejected = api.http.post("/api/endpoints/upd/update", json={"EndpointConfigName": "v1"})
        assert rejected.status_code == 400 and "Cannot update in-progress endpoint" in rejected.json()["message"]
        described = wait_done(api, "upd")
        time.sleep(0.3)
    assert described["EndpointStatus"] == "InService", described
    assert described["EndpointConfigName"] == "v2"
    assert load.failures == []
    assert sum(load.served.values()) > 50
    history = api.call("GET", "/api/endpoints/upd/deployments")["Deployments"]
    assert [(d["Outcome"], d["FromConfig"], d["ToConfig"]) for d in history] == [("SUCCEEDED", "v1", "v2")]
    latest = api.call("GET", "/api/endpoints/upd/deployments/latest")
    assert latest["Timeline"] and latest["Outcome"] == "SUCCEEDED"


@pytest.mark.parametrize("policy", [
    {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "LINEAR", "WaitIntervalInSeconds": 1, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 34}},
        "TerminationWaitInSeconds": 1, "MaximumExecutionTimeoutInSeconds": 120}},
    {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                             "WaitIntervalInSeconds": 1, "MaximumExecutionTimeoutInSeconds": 120}},
], ids=["linear", "rolling"])
def test_guarded_update_to_a_good_model_completes_with_zero_failed_requests(
        api: Api, sklearn_model: Path, features: np.ndarray, policy: dict[str, Any]) -> None:
    new_config(api, "guard", "g1", sklearn_model, count=2)
    api.call("POST", "/api/endpoints", {"EndpointName": "guard", "EndpointConfigName": "g1"})
    api.wait_status("guard", "InService")
    new_config(api, "guard", "g2", sklearn_model, count=2)
    with Load(api, "guard", csv_row(features)) as load:
        api.call("POST", "/api/endpoints/guard/update", {"EndpointConfigName": "g2", "DeploymentConfig": policy})
        described = wait_done(api, "guard")
        time.sleep(0.3)
    assert described["EndpointStatus"] == "InService", described
    assert described["EndpointConfigName"] == "g2"
    assert described["LastDeploymentConfig"] == policy
    assert load.failures == []
    instances = api.call("GET", "/api/endpoints/guard/instances")["Instances"]
    assert len(instances) == 2
