"""``greenfleet router`` as its own process beside the server: kill -9 of the server under load through
the router → zero refused or failed requests while the server is down and after it is back; the
router's per-second invocation metrics reach the shared metric store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from greenfleet.clock import SystemClock
from greenfleet.metrics import MetricService
from greenfleet.store.database import create_store_engine
from tests.conftest import free_port
from tests.live.conftest import Api, ServerProcess
from tests.live.test_deployments_live import Load
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


def start_router(home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "greenfleet", "router", "--port", str(port)],
                                   env={**os.environ, "GREENFLEET_HOME": str(home)}, stdout=out,
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
        # the router's own invocations are in the shared metric store (the servers' routers served none);
        # it ships each second once it is closed. Read by a fresh reader: a running server's metric cache
        # does not see another process's writes (a known limit, see the README).
        time.sleep(2.5)
        reader = MetricService(create_store_engine(f"sqlite:///{first.home / 'greenfleet.db'}"), SystemClock())
        stats = reader.get_metric_statistics({
            "Namespace": "AWS/SageMaker", "MetricName": "Invocations", "Statistics": ["Sum"], "Period": 60,
            "Dimensions": [{"Name": "EndpointName", "Value": "steady"}, {"Name": "VariantName", "Value": "main"}],
            "StartTime": time.time() - 600, "EndTime": time.time() + 60})
        recorded = sum(p["Sum"] for p in stats["Datapoints"])
        served = sum(load.served.values()) + 1  # and the first answer, before the load
        assert recorded == served, (recorded, served)
        assert time.monotonic() - down_at < 60
    finally:
        router.send_signal(signal.SIGTERM)
        router.wait(15)
