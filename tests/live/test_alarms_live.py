"""Real 5xx through an endpoint (a model that raises) drive an alarm to ALARM and, once the errors
stop, back to OK; the alarm's webhook receives both notifications."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.live.conftest import Api
from tests.live.test_deployments_live import failing_model
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    instance = Receiver()
    yield instance
    instance.server.shutdown()


def wait_state(api: Api, name: str, state: str, timeout_s: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alarm = api.call("GET", f"/api/alarms/{name}")
        if alarm["StateValue"] == state:
            return alarm  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"alarm {name} not {state}: {alarm}")


def test_model_errors_drive_an_alarm_to_alarm_and_back_to_ok(api: Api, sklearn_model: Path, features: np.ndarray,
                                                             tmp_path: Path, receiver: Receiver) -> None:
    api.call("POST", "/api/models", {"ModelName": "good", "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)}})
    api.call("POST", "/api/models", {"ModelName": "raises", "PrimaryContainer": {
        "Image": "greenfleet/script", "ModelDataUrl": str(failing_model(tmp_path))}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "mixed", "ProductionVariants": [
        {"VariantName": v, "ModelName": m, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large",
         "InitialVariantWeight": 1} for v, m in (("good", "good"), ("bad", "raises"))]})
    api.call("POST", "/api/endpoints", {"EndpointName": "watched", "EndpointConfigName": "mixed"})
    api.wait_status("watched", "InService")
    api.call("PUT", "/api/alarms/watched-5xx", {
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": "watched"}, {"Name": "VariantName", "Value": "bad"}],
        "Period": 1, "EvaluationPeriods": 2, "Threshold": 0.5, "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching", "AlarmActions": [receiver.url], "OKActions": [receiver.url]})
    for _ in range(30):  # healthy traffic on the good variant only
        assert api.invoke("watched", csv_row(features), headers={
            "X-Amzn-SageMaker-Target-Variant": "good"}).status_code == 200
    wait_state(api, "watched-5xx", "OK")
    stop = time.monotonic() + 3
    while time.monotonic() < stop:  # every call to the bad variant is a 5xx from the model
        response = api.invoke("watched", csv_row(features), headers={"X-Amzn-SageMaker-Target-Variant": "bad"})
        assert response.status_code == 424 and response.json()["OriginalStatusCode"] == 500
    alarm = wait_state(api, "watched-5xx", "ALARM")
    assert "greater than the threshold (0.5)" in alarm["StateReason"]
    wait_state(api, "watched-5xx", "OK")  # errors stopped: missing data is not breaching
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(receiver.bodies) < 3:
        time.sleep(0.2)
    states = [body.get("NewStateValue") for body in receiver.bodies]
    assert states[-2:] == ["ALARM", "OK"], receiver.bodies
    statistics = api.call("POST", "/api/metric-statistics", {
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistics": ["Sum"],
        "Dimensions": [{"Name": "EndpointName", "Value": "watched"}, {"Name": "VariantName", "Value": "bad"}],
        "StartTime": time.time() - 120, "EndTime": time.time() + 5, "Period": 60})
    assert sum(p["Sum"] for p in statistics["Datapoints"]) > 10
