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


SLEEPY = '''
import time


def model_fn(model_dir):
    return None


def predict_fn(data, model):
    time.sleep({delay})
    return [0 for _ in range(len(data))]
'''


def sleepy_model(tmp_path: Path, name: str, delay_s: float) -> Path:
    root = tmp_path / name
    (root / "code").mkdir(parents=True)
    (root / "code" / "inference.py").write_text(SLEEPY.format(delay=delay_s))
    return root


def judged(api: Api, tmp_path: Path, endpoint: str, blue_s: float, green_s: float) -> dict[str, Any]:
    for name, delay in (("blue", blue_s), ("green", green_s)):
        api.call("POST", "/api/models", {"ModelName": f"{endpoint}-{name}", "PrimaryContainer": {
            "Image": "greenfleet/script", "ModelDataUrl": str(sleepy_model(tmp_path, f"{endpoint}-{name}", delay))}})
        api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": f"{endpoint}-{name}", "ProductionVariants": [
            {"VariantName": "main", "ModelName": f"{endpoint}-{name}", "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": endpoint, "EndpointConfigName": f"{endpoint}-blue"})
    api.wait_status(endpoint, "InService")
    judge = {"Metrics": [{"Name": "latency", "MetricName": "ModelLatency", "Test": "MANN_WHITNEY",
                          "Direction": "INCREASE", "Critical": True, "MinSamples": 50}], "IntervalInSeconds": 2}
    with Load(api, endpoint, "1,2,3", clients=4) as load:
        api.call("POST", f"/api/endpoints/{endpoint}/update", {"EndpointConfigName": f"{endpoint}-green",
                 "DeploymentConfig": {"GreenfleetRollout": {"Steps": [
                     {"TrafficPercent": 50, "BakeInSeconds": 4}, {"TrafficPercent": 100, "BakeInSeconds": 0}],
                     "Judge": judge}}})
        described = wait_done(api, endpoint, timeout_s=120)
    assert load.failures == []
    return described


def test_the_judge_rolls_back_a_green_three_times_slower_with_no_alarm(api: Api, tmp_path: Path) -> None:
    described = judged(api, tmp_path, "slow", blue_s=0.004, green_s=0.012)
    assert described["EndpointConfigName"] == "slow-blue", described
    assert "canary judge rejected the new fleet" in described["FailureReason"], described["FailureReason"]
    from click.testing import CliRunner

    from greenfleet.cli.main import cli

    shown = CliRunner().invoke(cli, ["deployment", "describe", "slow", "--url", api.base_url])
    assert shown.exit_code == 0 and "Judge: ROLLBACK" in shown.output and "HIGH" in shown.output, shown.output


def test_the_judge_promotes_an_identical_green(api: Api, tmp_path: Path) -> None:
    described = judged(api, tmp_path, "same", blue_s=0.004, green_s=0.004)
    assert described["EndpointConfigName"] == "same-green" and "FailureReason" not in described, described
    timeline = str(api.call("GET", "/api/endpoints/same/deployments/latest")["Timeline"])
    assert "Judge passed" in timeline, timeline
