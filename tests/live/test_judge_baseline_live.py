"""The judge's fresh baseline through real processes: a copy of blue's config runs beside green at green's
share while judged, its invocations recorded under its own per-config series (and in the variant's
metrics), compared with green, shown by describe and the CLI, and stopped with the deployment."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from greenfleet.metrics.series import SeriesKey
from greenfleet.server import Server
from tests.live.conftest import Api
from tests.live.test_deployments_live import wait_done
from tests.live.test_rollout_extensions_live import LATENCY, UserLoad, sleepy_config

pytestmark = pytest.mark.slow


def watch(server: Server, endpoint: str, stop: threading.Event, seen: list[dict[str, tuple[float, int]]]) -> None:
    """Each routing table's targets: config (series) name -> (weight, ready instances)."""
    while not stop.is_set():
        route = server.router.table.get(endpoint)
        if route is not None:
            seen.append({t.config_name: (t.weight, len(t.instances)) for t in route.targets})
        time.sleep(0.005)


def series_count(server: Server, endpoint: str, config: str | None) -> float:
    dims = [("EndpointName", endpoint), ("VariantName", "main")] + ([("EndpointConfigName", config)] if config else [])
    key = SeriesKey("AWS/SageMaker", "Invocations", tuple(sorted(dims)))
    now = int(time.time())
    total = 0.0
    for series in server.metrics.store.find(key):
        for agg in server.metrics.store.aggregate(series, now - 120, now, 120, distribution=False):
            total += agg.total if agg is not None else 0.0
    return total


def test_green_is_judged_against_a_fresh_baseline_that_stops_with_the_deployment(server: Server, api: Api,
                                                                                   tmp_path: Path) -> None:
    for name in ("fb-blue", "fb-green"):
        sleepy_config(api, tmp_path, name, 0.004)
    api.call("POST", "/api/endpoints", {"EndpointName": "fb", "EndpointConfigName": "fb-blue"})
    api.wait_status("fb", "InService")
    judge: dict[str, Any] = {"Metrics": [LATENCY], "IntervalInSeconds": 2, "WarmUpInSeconds": 1}
    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=watch, args=(server, "fb", stop, seen))
    watcher.start()
    with UserLoad(api, "fb", seed=3) as load:
        api.call("POST", "/api/endpoints/fb/update", {"EndpointConfigName": "fb-green", "DeploymentConfig": {
            "GreenfleetRollout": {"Steps": [{"TrafficPercent": 25, "BakeInSeconds": 4},
                                            {"TrafficPercent": 100, "BakeInSeconds": 0}], "Judge": judge}}})
        described = wait_done(api, "fb", timeout_s=120)
        time.sleep(1.5)  # the last seconds flushed to the metric store
    stop.set()
    watcher.join()
    assert described["EndpointConfigName"] == "fb-green" and "FailureReason" not in described, described
    assert load.failures == []
    judged = [t for t in seen if t.get("fb-blue@baseline", (0, 0))[1] > 0 and t["fb-blue@baseline"][0] > 0]
    assert judged and all(t["fb-blue@baseline"][0] == t["fb-green"][0] == 25 and t["fb-blue"][0] == 50
                          for t in judged), judged[:3]
    assert "fb-blue@baseline" not in seen[-1]  # stopped with the deployment
    deployment = api.call("GET", "/api/endpoints/fb/deployments/latest")
    report = deployment["Rollout"]["Judge"]["LastJudgement"]
    assert report["compared"].startswith("green fb-green (fleet 2) vs baseline: a fresh copy of fb-blue (fleet 3)")
    assert report["excluded"] and "left out as warm-up (WarmUpInSeconds 1)" in report["excluded"][1]
    latency = report["metrics"][0]
    assert latency["verdict"] == "PASS" and latency["control_n"] >= 50 and latency["experiment_n"] >= 50
    # its own per-config series, apart from blue's; the variant's metric counts every invocation
    baseline, blue, green = (series_count(server, "fb", c) for c in ("fb-blue@baseline", "fb-blue", "fb-green"))
    assert baseline >= latency["control_n"] and blue > 0 and green > 0
    assert series_count(server, "fb", None) == baseline + blue + green
    deadline = time.monotonic() + 20
    while any(i["FleetId"] == 3 for i in api.call("GET", "/api/endpoints/fb/instances")["Instances"]):
        assert time.monotonic() < deadline, "the baseline's instance was not stopped"
        time.sleep(0.2)

    from greenfleet.cli.main import cli

    shown = CliRunner().invoke(cli, ["deployment", "describe", "fb", "--url", api.base_url])
    assert shown.exit_code == 0, shown.output
    assert "Judge compares" in shown.output and "fresh copy of fb-blue" in shown.output
    assert "Warm-up not judged" in shown.output and "first 1 s" in shown.output
    assert "Left out" in shown.output and "n baseline / green" in shown.output


def test_fresh_where_it_cannot_work_is_refused_with_a_clear_error(api: Api, tmp_path: Path) -> None:
    for name in ("fr-blue", "fr-green"):
        sleepy_config(api, tmp_path, name, 0.004)
    api.call("POST", "/api/endpoints", {"EndpointName": "fr", "EndpointConfigName": "fr-blue"})
    api.wait_status("fr", "InService")
    response = api.http.post("/api/endpoints/fr/update", json={"EndpointConfigName": "fr-green", "DeploymentConfig": {
        "GreenfleetRollout": {"Steps": [{"TrafficPercent": 60, "BakeInSeconds": 4},
                                        {"TrafficPercent": 100, "BakeInSeconds": 0}],
                              "Judge": {"Metrics": [LATENCY], "Baseline": "FRESH"}}}})
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == "ValidationException"
    assert "Judge.Baseline: FRESH cannot work here" in response.text and "got 60 %" in response.text
    assert api.call("GET", "/api/endpoints/fr")["EndpointStatus"] == "InService"
