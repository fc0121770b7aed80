"""SIGKILL of the server in the middle of a deployment: after a restart the deployment resumes from
its persisted state and finishes; the endpoint serves again as soon as the server is back."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.live.conftest import Api, ServerProcess
from tests.live.test_deployments_live import new_config, wait_done
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


def test_sigkill_mid_linear_update_resumes_and_finishes(server_process: Callable[[], ServerProcess],
                                                        sklearn_model: Path, features: np.ndarray) -> None:
    first = server_process()
    first.start()
    api = Api(f"http://127.0.0.1:{first.port}")
    new_config(api, "crash", "c1", sklearn_model, count=2)
    api.call("POST", "/api/endpoints", {"EndpointName": "crash", "EndpointConfigName": "c1"})
    api.wait_status("crash", "InService")
    new_config(api, "crash", "c2", sklearn_model, count=2)
    api.call("POST", "/api/endpoints/crash/update", {"EndpointConfigName": "c2", "DeploymentConfig": {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
            "Type": "LINEAR", "WaitIntervalInSeconds": 2,
            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25}},
            "TerminationWaitInSeconds": 1, "MaximumExecutionTimeoutInSeconds": 300}}})
    deadline = time.monotonic() + 60
    while True:  # wait until traffic is really split between the fleets, then kill the server
        described = api.call("GET", "/api/endpoints/crash")
        pending = described.get("PendingDeploymentSummary", {}).get("ProductionVariants", [])
        if pending and pending[0].get("CurrentWeight", 0) > 0:
            break
        assert time.monotonic() < deadline, described
        time.sleep(0.1)
    first.kill()
    second = server_process()
    second.start()
    # Right after the restart the endpoint serves: the workers of both fleets were adopted.
    ok = failed = 0
    restarted_at = time.monotonic()
    while time.monotonic() - restarted_at < 3:
        response = httpx.post(f"{api.base_url}/endpoints/crash/invocations", content=csv_row(features),
                              headers={"Content-Type": "text/csv"}, timeout=10)
        ok, failed = (ok + 1, failed) if response.status_code == 200 else (ok, failed + 1)
    assert failed == 0 and ok > 0
    described = wait_done(api, "crash", timeout_s=120)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "c2", described
    history = api.call("GET", "/api/endpoints/crash/deployments")["Deployments"]
    assert history[0]["Outcome"] == "SUCCEEDED"
    deadline = time.monotonic() + 15  # blue is stopped right after the switch (drained first)
    while True:
        instances = api.call("GET", "/api/endpoints/crash/instances")["Instances"]
        if len(instances) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(instances) == 2 and all(i["Group"].startswith("2/") for i in instances), instances
