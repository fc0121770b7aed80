"""greenfleet's rollout extensions through real processes: a failing pre-traffic webhook keeps all
traffic on blue; a manual gate holds a step until approved."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from greenfleet.server import Server
from tests.live.conftest import Api
from tests.live.test_deployments_live import Load, new_config, wait_done
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


def webhook(status: int) -> tuple[ThreadingHTTPServer, list[dict[str, Any]]]:
    import json

    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def green_shares(server: Server, endpoint: str, config: str, stop: threading.Event, seen: list[float]) -> None:
    while not stop.is_set():
        route = server.router.table.get(endpoint)
        if route is not None:
            seen.append(sum(t.weight for t in route.targets if t.config_name == config and t.instances))
        time.sleep(0.005)


def test_failing_pre_traffic_webhook_keeps_all_traffic_on_blue(server: Server, api: Api, sklearn_model: Path,
                                                                features: np.ndarray) -> None:
    hook, received = webhook(500)
    url = f"http://127.0.0.1:{hook.server_address[1]}/integration-tests"
    new_config(api, "pre", "p1", sklearn_model)
    api.call("POST", "/api/endpoints", {"EndpointName": "pre", "EndpointConfigName": "p1"})
    api.wait_status("pre", "InService")
    new_config(api, "pre", "p2", sklearn_model)
    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=green_shares, args=(server, "pre", "p2", stop, seen))
    watcher.start()
    with Load(api, "pre", csv_row(features)) as load:
        api.call("POST", "/api/endpoints/pre/update", {"EndpointConfigName": "p2", "DeploymentConfig": {
            "GreenfleetRollout": {"Steps": [{"TrafficPercent": 100, "BakeInSeconds": 1}], "Checks": [
                {"Name": "integration", "Point": "PRE_TRAFFIC", "Url": url, "TimeoutInSeconds": 2, "Retries": 1}]}}})
        described = wait_done(api, "pre")
    stop.set()
    watcher.join()
    hook.shutdown()
    assert described["EndpointConfigName"] == "p1" and "integration" in described["FailureReason"], described
    assert seen and max(seen) == 0  # green never had a share of the traffic
    assert len(received) == 2 and received[0]["Instances"]  # one retry; the green instances were given
    assert load.failures == []


def test_manual_gate_holds_until_approved(api: Api, sklearn_model: Path, features: np.ndarray) -> None:
    new_config(api, "gate", "g1", sklearn_model)
    api.call("POST", "/api/endpoints", {"EndpointName": "gate", "EndpointConfigName": "g1"})
    api.wait_status("gate", "InService")
    new_config(api, "gate", "g2", sklearn_model)
    with Load(api, "gate", csv_row(features)) as load:
        api.call("POST", "/api/endpoints/gate/update", {"EndpointConfigName": "g2", "DeploymentConfig": {
            "GreenfleetRollout": {"Steps": [{"TrafficPercent": 50, "BakeInSeconds": 0, "RequireApproval": True},
                                            {"TrafficPercent": 100, "BakeInSeconds": 0}]}}})
        deadline = time.monotonic() + 30
        while "AWAITING_APPROVAL" not in str(api.call("GET", "/api/endpoints/gate/deployments/latest")["Phase"]):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(2)
        assert api.call("GET", "/api/endpoints/gate")["EndpointStatus"] == "Updating"  # still held
        api.call("POST", "/api/endpoints/gate/deployment/approve", {"By": "ana", "Reason": "metrics look fine"})
        described = wait_done(api, "gate")
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "g2", described
    assert load.failures == []
    assert "metrics look fine" in str(api.call("GET", "/api/endpoints/gate/deployments/latest")["Timeline"])
