"""Benchmark of the dashboard's server time (not a test): the endpoints overview with 100 endpoints and one
endpoint's chart data, each with five minutes of one-second metrics in the store.

    .venv/bin/python bench/dashboard_bench.py          # ~20 s

The pages are rendered by the real server (``greenfleet.server.Server``'s ASGI app: auth, routing,
services, metric store, templates) on a SQLite store in a temporary directory, with a fake clock. The 100
endpoints are created through the services, each with two variants; their instances are not started
(starting 200 workers would exceed the instance ceiling and this machine: no controller runs, so they stay
Creating with no instance), and the invocations are recorded straight into the metric recorder, as the
data plane does. Each request is timed inside the server (ASGI call to last body byte)
and over loopback HTTP (adding the client and the socket). Prints a table and writes
bench/results/dashboard.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from greenfleet.clock import FakeClock
from greenfleet.server import Server
from greenfleet.settings import Settings

RESULTS = Path(__file__).parent / "results" / "dashboard.json"
ENDPOINTS = 100
VARIANTS = ("blue", "green")
HISTORY_S = 300
CALLS_PER_SECOND = 4
ROUNDS = 30
TOKEN = "bench-token"


def populate(server: Server, clock: FakeClock) -> None:
    services = server.services
    for variant in VARIANTS:
        services.models.create_model({"ModelName": f"m-{variant}", "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": "/nonexistent/model.tar.gz"}})
    services.models.create_endpoint_config({"EndpointConfigName": "c1", "ProductionVariants": [
        {"VariantName": v, "ModelName": f"m-{v}", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large",
         "InitialVariantWeight": 1.0} for v in VARIANTS]})
    for i in range(ENDPOINTS):
        name = f"endpoint-{i:03d}"
        services.endpoints.create_endpoint({"EndpointName": name, "EndpointConfigName": "c1"})
    recorder = server.metrics.recorder
    start = clock.now() - HISTORY_S
    for second in range(HISTORY_S):
        at = start + second
        for i in range(ENDPOINTS):
            for variant in VARIANTS:
                for k in range(CALLS_PER_SECOND):
                    outcome = "model_error_5xx" if (second + k + i) % 97 == 0 else "ok"
                    recorder.record_invocation(f"endpoint-{i:03d}", variant, "c1", "i-1", outcome,
                                               1500.0 + 10 * k, 120.0, at)
        server.metrics.flush(at + 1)


async def server_time(app: Any, path: str, cookie: str) -> tuple[float, float, int, int]:
    """Milliseconds from the ASGI call to the response's last byte (wall clock, and the process's CPU time:
    the machine is shared, so both are shown), the status and the body's size."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"cookie", f"gf_session={cookie}".encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    begin, cpu = time.perf_counter(), time.process_time()
    await app(scope, receive, send)
    elapsed, cpu_ms = (time.perf_counter() - begin) * 1000, (time.process_time() - cpu) * 1000
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    size = sum(len(m.get("body", b"")) for m in sent if m["type"] == "http.response.body")
    return elapsed, cpu_ms, status, size


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
            "max_ms": round(ordered[-1], 2)}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(float(int(time.time())))
        # the server-wide instance ceiling counts desired instances; none starts here (no control pass runs)
        settings = Settings(home=Path(tmp) / "home", port=0, api_token=TOKEN,
                            max_instances_total=ENDPOINTS * len(VARIANTS))
        server = Server(settings, clock=clock)
        begin = time.perf_counter()
        populate(server, clock)
        populate_s = time.perf_counter() - begin
        keys_cookie = ""
        pages = {"overview": "/ui", "chart_data": "/ui/endpoints/endpoint-042/chart-data",
                 "overview_fragment": "/ui/fragments/overview"}
        results: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine(),
                                   "endpoints": ENDPOINTS, "variants_per_endpoint": len(VARIANTS),
                                   "history_s": HISTORY_S, "populate_s": round(populate_s, 1), "rounds": ROUNDS}

        async def run() -> None:
            nonlocal keys_cookie
            transport = httpx.ASGITransport(app=server.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                signed = await client.post("/ui/login", data={"token": TOKEN, "next": "/ui"})
                keys_cookie = signed.cookies["gf_session"]
            for key, path in pages.items():
                samples, cpu = [], []
                for _ in range(ROUNDS + 2):
                    elapsed, cpu_ms, status, size = await server_time(server.app, path, keys_cookie)
                    assert status == 200, (path, status)
                    samples.append(elapsed)
                    cpu.append(cpu_ms)
                results[key] = {"path": path, "bytes": size, **summary(samples[2:]),
                                "cpu_median_ms": round(statistics.median(cpu[2:]), 2)}

        asyncio.run(run())
        server.engine.dispose()
    targets = {"overview": 300.0, "chart_data": 50.0}
    results["load_average_1min"] = round(os.getloadavg()[0], 1)
    rows = [(key, r["median_ms"], r["p95_ms"], r["cpu_median_ms"], r["bytes"], targets.get(key))
            for key, r in results.items() if isinstance(r, dict)]
    print(f"dashboard, {ENDPOINTS} endpoints x {len(VARIANTS)} variants, {HISTORY_S} s of 1-second metrics "
          f"(server time, {ROUNDS} rounds; load average {results['load_average_1min']} on "
          f"{os.cpu_count()} cores)")
    print(f"{'page':<20}{'median ms':>11}{'p95 ms':>9}{'CPU ms':>9}{'bytes':>9}  goal (median)")
    for key, median, p95, cpu_ms, size, goal in rows:
        verdict = "" if goal is None else f"≤ {goal:g} ms: {'met' if median <= goal else 'NOT met'}"
        print(f"{key:<20}{median:>11}{p95:>9}{cpu_ms:>9}{size:>9}  {verdict}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
