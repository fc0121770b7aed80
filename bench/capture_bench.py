"""Data capture and Model Monitor benchmark (issue 13). Not a test: prints a table, writes
bench/results/capture.json.

    .venv/bin/python bench/capture_bench.py [--seconds 5] [--rounds 3] [--records 200000] [--execution 1000000]

- writer: records/s through ``CaptureWriter`` (offer on this thread; drain, encode and write to a local
  directory), 20-feature CSV requests with JSON responses, and the cost of one ``offer`` call;
- router: req/s of InvokeEndpoint through a real in-process server and one real worker, c8 from a separate
  load-generator process (raw keep-alive HTTP/1.1 connections), capture off vs 100 % InputAndOutput on two
  endpoints of the same model, alternating rounds in the same run;
- execution: one Model Monitor execution (read captured files, statistics, checks, reports) over
  ``--execution`` captured records of 20 features (0 skips it)."""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.guardrails import make_models
from greenfleet.capture.config import CaptureSetting
from greenfleet.capture.record import CapturedEvent
from greenfleet.capture.writer import CaptureWriter
from greenfleet.monitoring import baseline
from greenfleet.monitoring.execution import run_execution
from greenfleet.monitoring.scheduler import RunExecution
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port

RESULTS = Path(__file__).parent / "results" / "capture.json"
SETTING = {"csv": frozenset({"text/csv"}), "json": frozenset({"application/json"})}
LOADGEN = r"""
import asyncio, sys, time
port, path, body = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
clients, seconds = int(sys.argv[4]), float(sys.argv[5])
request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
done = 0
async def client(deadline):
    global done
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.monotonic() < deadline:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(head.decode())
        done += 1
    writer.close()
async def main():
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(client(deadline) for _ in range(clients)))
asyncio.run(main())
print(done / seconds)
"""


def rows(n: int, seed: int = 0) -> list[str]:
    values = np.random.default_rng(seed).normal(size=(n, 20))
    return [",".join(f"{v:.5f}" for v in row) for row in values]


def bench_writer(tmp: Path, records: int) -> dict[str, Any]:
    setting = CaptureSetting(str(tmp / "writer"), 100, True, True, SETTING["csv"], SETTING["json"])
    bodies = [r.encode() for r in rows(1000)]
    events = [CapturedEvent(setting, "ep", "v", time.time(), bodies[i % 1000], "text/csv",
                            b'{"predictions":[1]}', "application/json", None) for i in range(records)]
    writer = CaptureWriter(max_queued_bytes=1 << 30, flush_interval_s=1.0)
    started = time.perf_counter()
    for event in events:
        writer.offer(event)
    offered = time.perf_counter() - started
    writer.flush()
    total = time.perf_counter() - started
    writer.stop()
    written = sum(1 for path in (tmp / "writer").rglob("*.jsonl") for _ in path.open("rb"))
    assert written == records, (written, records)
    return {"records": records, "records_per_s": records / total, "offer_ns": offered / records * 1e9}


def _loadgen(port: int, endpoint: str, body: str, seconds: float) -> float:
    done = subprocess.run([sys.executable, "-c", LOADGEN, str(port), f"/endpoints/{endpoint}/invocations", body,
                           "8", str(seconds)], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def bench_router(tmp: Path, seconds: float, rounds: int) -> dict[str, Any]:
    model, _, body = make_models(tmp)
    settings = Settings(home=tmp / "home", port=free_port(), strict_deployment_minimums=False,
                        model_data_roots=str(tmp))  # the model is made under tmp
    server = Server(settings)
    server.start_in_thread()
    api = httpx.Client(base_url=settings.base_url, timeout=30)
    try:
        api.post("/api/models", json={"ModelName": "m", "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(model)}}).raise_for_status()
        variant = [{"VariantName": "v", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large",
                    "InitialVariantWeight": 1.0}]
        capture = {"InitialSamplingPercentage": 100, "DestinationS3Uri": str(tmp / "captured"),
                   "CaptureOptions": [{"CaptureMode": "InputAndOutput"}],
                   "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"],
                                                "JsonContentTypes": ["application/json"]}}
        for name, extra in (("off", {}), ("on", {"DataCaptureConfig": capture})):
            api.post("/api/endpoint-configs", json={"EndpointConfigName": name, "ProductionVariants": variant,
                                                    **extra}).raise_for_status()
            api.post("/api/endpoints", json={"EndpointName": name, "EndpointConfigName": name}).raise_for_status()
        for name in ("off", "on"):
            while api.get(f"/api/endpoints/{name}").json()["EndpointStatus"] != "InService":
                time.sleep(0.1)
        _loadgen(settings.port, "off", body, 1.0)  # warm-up
        results: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(rounds):
            for name in ("off", "on"):
                results[name].append(_loadgen(settings.port, name, body, seconds))
        dropped = sum(c.dropped for c in server.capture.counts().values())
        server.capture.flush()
        written = sum(c.written for c in server.capture.counts().values())
    finally:
        api.close()
        server.stop_thread()
    off, on = statistics.median(results["off"]), statistics.median(results["on"])
    return {"rounds": results, "off_req_per_s": off, "on_req_per_s": on, "cost": 1 - on / off,
            "captured": written, "dropped": dropped}


def bench_execution(tmp: Path, records: int) -> dict[str, Any]:
    base = baseline("\n".join(rows(10_000, seed=1)).encode(), "csv")
    (tmp / "base").mkdir()
    (tmp / "base" / "constraints.json").write_text(json.dumps(base.constraints))
    (tmp / "base" / "statistics.json").write_text(json.dumps(base.statistics))
    setting = CaptureSetting(str(tmp / "exec"), 100, True, True, SETTING["csv"], SETTING["json"])
    writer = CaptureWriter(max_queued_bytes=1 << 31, flush_interval_s=1.0)
    now = time.time()
    for i, row in enumerate(rows(records, seed=2)):
        writer.offer(CapturedEvent(setting, "ep", "v", now - 60 + i * 50 / records, row.encode(), "text/csv",
                                   b"0.5", "text/csv", None))
        if i % 100_000 == 99_999:
            writer.flush()
    writer.stop()
    job = {"BaselineConfig": {"ConstraintsResource": {"S3Uri": str(tmp / "base" / "constraints.json")},
                              "StatisticsResource": {"S3Uri": str(tmp / "base" / "statistics.json")}},
           "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {"S3Uri": str(tmp / "out")}}]}}
    started = time.perf_counter()
    outcome = run_execution(job, "ep", str(tmp / "exec"), RunExecution("s", now, now - 3600, now + 1), None)
    elapsed = time.perf_counter() - started
    assert outcome.evaluation is not None and outcome.evaluation.statistics["dataset"]["item_count"] == records
    return {"records": records, "features": 20, "seconds": elapsed, "status": outcome.status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--execution", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "w").mkdir()
        writer = bench_writer(tmp / "w", args.records)
        (tmp / "r").mkdir()
        router = bench_router(tmp / "r", args.seconds, args.rounds)
        execution = None
        if args.execution:
            (tmp / "e").mkdir()
            execution = bench_execution(tmp / "e", args.execution)
    print(f"{'measure':<52} {'value':>14}  goal")
    print(f"{'writer records/s':<52} {writer['records_per_s']:>14,.0f}  >= 20,000")
    print(f"{'offer() per record (hot path), ns':<52} {writer['offer_ns']:>14,.0f}")
    print(f"{'router req/s c8, capture off (median)':<52} {router['off_req_per_s']:>14,.0f}")
    print(f"{'router req/s c8, capture 100% InputAndOutput':<52} {router['on_req_per_s']:>14,.0f}")
    print(f"{'capture cost':<52} {100 * router['cost']:>13.1f}%  <= 10 %")
    print(f"{'records captured / dropped in the router run':<52} {router['captured']:>7,} / {router['dropped']:,}")
    if execution:
        print(f"{'execution over ' + format(execution['records'], ',') + ' records x 20 features, s':<52} "
              f"{execution['seconds']:>14.1f}  <= 60")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                   "machine": platform.platform(), "writer": writer, "router": router,
                                   "execution": execution}, indent=1))


if __name__ == "__main__":
    main()
