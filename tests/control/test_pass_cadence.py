"""Alarm evaluation keeps its one-second cadence while an instance's /ping hangs (health pings time out
after 2 s; a pass waits for them only briefly). Real server parts, real HTTP pings over loopback; the
instance is a small HTTP server that a fake backend hands out as the instance's address."""

from __future__ import annotations

import itertools
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from greenfleet.clock import SystemClock
from greenfleet.control.control_pass import EverySecond
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.control.fake_backend import FakeBackend
from tests.services.test_hosting import config, model

pytestmark = pytest.mark.slow


class Instance(BaseHTTPRequestHandler):
    hang = threading.Event()

    def do_GET(self) -> None:
        if self.hang.is_set():
            time.sleep(3)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_alarm_evaluation_keeps_its_cadence_while_a_ping_hangs(tmp_path: Path) -> None:
    instance = ThreadingHTTPServer(("127.0.0.1", 0), Instance)
    instance.daemon_threads = True
    threading.Thread(target=instance.serve_forever, daemon=True).start()
    backend = FakeBackend(SystemClock(), host="127.0.0.1", fixed_port=instance.server_address[1])
    server = Server(Settings(home=tmp_path / "home"), backend=backend)
    try:
        server.services.models.create_model(model())
        server.services.models.create_endpoint_config(config())
        server.services.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
        server.start_controllers()
        deadline = time.monotonic() + 10
        while server.repo.get_endpoint("e")["status"] != "InService":  # type: ignore[index]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        alarms = next(s for s in server.reconciler.control.steps if s.name == "alarms")
        assert isinstance(alarms, EverySecond)
        Instance.hang.set()
        time.sleep(4.5)
        runs = [t for t in alarms.ran_at if t >= time.time() - 4.0]
        gaps = [b - a for a, b in itertools.pairwise(runs)]
        assert len(runs) >= 3 and max(gaps) < 1.6, runs
        assert server.reconciler.order == ["instances", "routing", "table-publish", "serverless", "metrics", "alarms",
                                          "deployments", "registry bindings", "capture", "monitoring",
                                          "experiment-pairs", "inference experiments", "feedback", "scaling"]
    finally:
        Instance.hang.clear()
        server.stop_controllers(stop_instances=True)
        instance.shutdown()
