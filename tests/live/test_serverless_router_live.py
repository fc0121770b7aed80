"""A serverless variant served only through a ``greenfleet router`` process beside a ``greenfleet server``
process: the router's first request, held for the cold start, starts the variant (the router reports it
through the store; the server's own router never sees it) and is answered; steady requests through the router
alone keep the variant warm past the idle period; when they stop, it goes back to zero. The leader's own
router is counted once."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from greenfleet.control.router_presence import RouterReport
from greenfleet.scaling.serverless import Demand
from greenfleet.server import Server
from tests.live.conftest import Api, ServerProcess
from tests.live.test_endpoints_live import csv_row
from tests.live.test_router_process_live import start_router

pytestmark = pytest.mark.slow

IDLE_S = 2.0


def deploy_cold(api: Api, model: Path) -> None:
    """Endpoint "cold": one serverless variant, InService with no instance."""
    api.call("POST", "/api/models", {"ModelName": "lean", "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(model)}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "cold", "ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": "lean",
         "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 4}}]})
    api.call("POST", "/api/endpoints", {"EndpointName": "cold", "EndpointConfigName": "cold"})
    api.wait_status("cold", "InService", 30)


def _instances(api: Api, name: str) -> list[str]:
    return [i["InstanceId"] for i in api.call("GET", f"/api/endpoints/{name}/instances")["Instances"]]


def test_requests_through_a_router_process_start_and_keep_a_serverless_variant_warm(
        server_process: Callable[..., ServerProcess], sklearn_model: Path, features: np.ndarray, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENFLEET_SERVERLESS_COLD_START_TIMEOUT_S", "20")  # the router process's too
    server = server_process({"GREENFLEET_SERVERLESS_IDLE_S": str(IDLE_S)})
    server.start()
    api = Api(f"http://127.0.0.1:{server.port}")
    deploy_cold(api, sklearn_model)
    assert _instances(api, "cold") == []
    router, url = start_router(server.home, tmp_path / "router.log")
    try:
        revision = httpx.get(f"http://127.0.0.1:{server.port}/health").json()["routing_revision"]
        deadline = time.monotonic() + 10
        while httpx.get(url + "/health").json()["routing_revision"] < revision:
            assert time.monotonic() < deadline, "the router never read the server's table"
            time.sleep(0.05)
        through_router = Api(url)
        row = csv_row(features)
        started = time.monotonic()
        answer = through_router.invoke("cold", row)  # held by the router process through the cold start
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started < 15
        (warm,) = _instances(api, "cold")

        until = time.monotonic() + 3 * IDLE_S  # a request every 0.5 s, through the router only
        while time.monotonic() < until:
            assert through_router.invoke("cold", row).status_code == 200
            assert _instances(api, "cold") == [warm], "stopped while the router process served it"
            time.sleep(0.5)

        deadline = time.monotonic() + IDLE_S + 10  # quiet: back to zero after the idle period
        while _instances(api, "cold"):
            assert time.monotonic() < deadline, "never went back to zero"
            time.sleep(0.2)
        assert time.monotonic() - until > IDLE_S - 1.0  # not before the idle period (less the last request's age)
    finally:
        router.send_signal(signal.SIGTERM)
        router.wait(15)


def test_the_leaders_own_router_row_is_not_counted_again(server: Server, api: Api, sklearn_model: Path) -> None:
    """A row of the leader's own router (one that outlived its taking the lead) is its router's memory, already
    counted in-process: a request it says is held starts nothing; another router's does."""
    deploy_cold(api, sklearn_model)
    held = {("cold", "AllTraffic"): Demand(time.time(), 1)}
    server.routers.save(RouterReport(server.router_id, "server", 1, {}, time.time(), {}, held), time.time())
    passes = server.reconciler.control.records["serverless"].runs
    while server.reconciler.control.records["serverless"].runs < passes + 5:
        time.sleep(0.05)
    assert _instances(api, "cold") == []
    server.routers.save(RouterReport("router-other", "process", 1, {}, time.time(), {}, held), time.time())
    deadline = time.monotonic() + 10
    while not _instances(api, "cold"):
        assert time.monotonic() < deadline, "another router's held request started nothing"
        time.sleep(0.05)
