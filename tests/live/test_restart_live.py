"""A restarted server finds every resource and brings every endpoint back InService."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.live.conftest import Api, ServerProcess
from tests.live.test_endpoints_live import csv_row

pytestmark = [pytest.mark.slow, pytest.mark.parallel]  # times nothing


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "sigkill"])
def test_restart_keeps_every_resource(server_process: Callable[[], ServerProcess], sklearn_model: Path,
                                      features: np.ndarray, how: signal.Signals) -> None:
    first = server_process()
    first.start()
    api = Api(f"http://127.0.0.1:{first.port}")
    api.deploy("keep", sklearn_model, {"a": (0.5, 1), "b": (0.5, 1)})
    api.call("POST", "/api/tags", {"ResourceArn": api.call("GET", "/api/endpoints/keep")["EndpointArn"],
                                   "Tags": [{"Key": "k", "Value": "v"}]})
    before = {i["InstanceId"] for i in api.call("GET", "/api/endpoints/keep/instances")["Instances"]}
    first.kill(how)
    second = server_process()
    second.start()
    described = api.wait_status("keep", "InService", timeout_s=60)
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["a", "b"]
    assert api.call("GET", "/api/models")["Models"]
    assert api.call("GET", "/api/endpoint-configs/keep-config")["EndpointConfigName"] == "keep-config"
    response = api.invoke("keep", csv_row(features))
    assert response.status_code == 200, response.text
    after = {i["InstanceId"] for i in api.call("GET", "/api/endpoints/keep/instances")["Instances"]}
    if how == signal.SIGKILL:
        assert after == before  # the workers outlived the server and were adopted
    else:
        assert not after & before  # a graceful stop stops the fleet; the restart starts a new one
