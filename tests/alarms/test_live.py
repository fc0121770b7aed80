"""Live, in real time: the API served by uvicorn on 127.0.0.1, a one-second control loop on a background
thread (flush, then evaluate), invocations recorded as the router does while a model raises, and a real
webhook receiver: the alarm goes ALARM while the 5xx flow, then OK once they stop, and the receiver gets
both. (The end-to-end run through a real endpoint and worker is the server's integration test.)"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from greenfleet.alarms import AlarmService
from greenfleet.api import errors
from greenfleet.api.routes import alarms, events, metrics, prometheus
from greenfleet.clock import SystemClock
from greenfleet.events import EventService
from greenfleet.metrics import MetricService
from tests.observability_support import Receiver


@pytest.fixture
def live(sqlite_engine: Engine) -> Iterator[SimpleNamespace]:
    clock = SystemClock()
    metric_service = MetricService(sqlite_engine, clock)
    event_service = EventService(sqlite_engine, clock, poll_interval_s=0.05)
    alarm_service = AlarmService(sqlite_engine, metric_service, event_service, clock)
    services = SimpleNamespace(metrics=metric_service, events=event_service, alarms=alarm_service)
    app = FastAPI()
    app.state.services = services
    errors.install(app)
    for module in (metrics, alarms, events, prometheus):
        app.include_router(module.router)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    stop = threading.Event()

    def control_loop() -> None:  # what the control plane does every second (here every 0.2 s)
        while not stop.wait(0.2):
            now = clock.now()
            metric_service.flush(now)
            alarm_service.evaluate(now)

    loop = threading.Thread(target=control_loop, daemon=True)
    event_service.start()
    loop.start()
    deadline = time.monotonic() + 5
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", services=services, clock=clock)
    stop.set()
    loop.join()
    server.should_exit = True
    event_service.stop()


def _traffic(live: SimpleNamespace, outcome: str, seconds: float) -> None:
    """What the router records for each request to a variant whose model raises (or answers)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        latency = 1500.0 if outcome == "ok" else 800.0
        live.services.metrics.recorder.record_invocation("shop", "AllTraffic", "shop-v2", "i-1", outcome, latency,
                                                         120.0, live.clock.now())
        time.sleep(0.01)


def test_an_alarm_fires_and_recovers_live(live: SimpleNamespace, receiver: Receiver) -> None:
    client = httpx.Client(base_url=live.url, timeout=5)
    put = client.put("/api/alarms/shop-5xx", json={
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": "shop"}, {"Name": "VariantName", "Value": "AllTraffic"},
                       {"Name": "EndpointConfigName", "Value": "shop-v2"}],
        "Period": 1, "EvaluationPeriods": 1, "Threshold": 0.5, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching", "AlarmActions": [f"{receiver.url}/alarm"],
        "OKActions": [f"{receiver.url}/ok"]})
    assert put.status_code == 200, put.text
    _traffic(live, "model_error_5xx", 2.0)
    _traffic(live, "ok", 2.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        hooks = sorted(receiver.wait_for(2), key=lambda r: r.body["StateChangeTime"])
        if hooks[-1].body["NewStateValue"] == "OK" and any(r.path == "/alarm" for r in hooks):
            break
        time.sleep(0.05)
    # (the first evaluation may already see the errors: INSUFFICIENT_DATA → ALARM without an OK first)
    assert [(r.path, r.body["NewStateValue"]) for r in hooks][-2:] == [("/alarm", "ALARM"), ("/ok", "OK")]
    history = client.get("/api/alarms/shop-5xx/history", params={"type": "StateUpdate", "order": "asc"}).json()
    assert [h["HistorySummary"] for h in history["AlarmHistoryItems"]][-2:] in (  # (as the hooks, above)
        ["Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"],
        ["Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to OK"])
    changes = client.get("/api/events", params={"source": "aws.cloudwatch"}).json()["Events"]
    assert [e["detail"]["state"]["value"] for e in changes][-2:] == ["ALARM", "OK"]
    scrape = client.get("/metrics").text
    assert 'aws_sagemaker_invocation_5xx_errors_sum{endpoint_config_name="shop-v2"' in scrape
