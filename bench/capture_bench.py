"""Data capture and Model Monitor benchmark (issue 13). Not a test: prints a table, writes
bench/results/capture.json.

    .venv/bin/python bench/capture_bench.py [--seconds 5] [--rounds 3] [--records 200000] [--execution 1000000]

- writer: records/s and this (the serving) process's CPU per record through ``CaptureWriter`` (encoding
  here, as the old writer thread did) and through ``CaptureHandoff`` (framing here, encoding in the
  writer process, whose CPU is given apart), 20-feature CSV requests with JSON responses;
- router: req/s of InvokeEndpoint through a real in-process server and one real worker, c8 from a separate
  load-generator process (raw keep-alive HTTP/1.1 connections) to one endpoint with 100 % InputAndOutput
  capture, in cycles of one round each (their order rotating from cycle to cycle): capture off (the router
  given no sink), capture through the server's capture-writer process (``process``, the server's way) and
  through a writer thread in the serving process (``thread``, the way before it). Costs and CPU ratios are
  medians over cycles of the ratio to capture off in the same cycle. For each mode, the serving process's
  CPU per request (getrusage of this process, which runs the server; the worker, load generator and writer
  process are other processes) and the writer process's own CPU per request;
- execution: one Model Monitor execution (read captured files, statistics, checks, reports) over
  ``--execution`` captured records of 20 features (0 skips it)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
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
from greenfleet.capture.handoff import CaptureHandoff
from greenfleet.capture.record import CapturedEvent
from greenfleet.capture.writer import CaptureWriter
from greenfleet.monitoring import baseline
from greenfleet.monitoring.execution import run_execution
from greenfleet.monitoring.scheduler import RunExecution
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port

MODES = ("off", "thread", "process")
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


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_of(pid: int | None) -> float:
    """User + system CPU seconds of a live process (0 when there is none)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_writer(tmp: Path, records: int) -> dict[str, Any]:
    """Records/s and this (the serving) process's CPU per record: through ``CaptureWriter`` (its encoding
    done here, as the writer thread did it) and through ``CaptureHandoff`` (framing here, encoding in the
    writer process, whose CPU is reported apart)."""
    bodies = [r.encode() for r in rows(1000)]
    result: dict[str, Any] = {"records": records}
    for mode in ("thread", "process"):
        setting = CaptureSetting(str(tmp / mode), 100, True, True, SETTING["csv"], SETTING["json"])
        calls = [(setting, "ep", "v", time.time(), bodies[i % 1000], "text/csv", b'{"predictions":[1]}',
                  "application/json", str(i)) for i in range(records)]
        sink: CaptureWriter | CaptureHandoff
        if mode == "thread":
            sink = CaptureWriter(max_queued_bytes=1 << 30, flush_interval_s=1.0)
        else:
            sink = CaptureHandoff(max_queued_bytes=1 << 30, flush_interval_s=1.0)
            sink.start()
            sink.capture(*calls[0][:8], None)  # start the writer process before the clock
            sink.flush()
        cpu, child_cpu = _cpu_self(), _cpu_of(getattr(sink, "pid", None))
        started = time.perf_counter()
        for call in calls:
            sink.capture(*call)
        offered = time.perf_counter() - started
        sink.flush()
        total = time.perf_counter() - started
        cpu = _cpu_self() - cpu
        child_cpu = _cpu_of(getattr(sink, "pid", None)) - child_cpu
        sink.stop()
        written = sum(1 for path in (tmp / mode).rglob("*.jsonl") for _ in path.open("rb"))
        assert written == records + (mode == "process"), (mode, written, records)
        result[mode] = {"records_per_s": records / total, "capture_call_ns": offered / records * 1e9,
                        "serving_cpu_us": cpu / records * 1e6,
                        "writer_process_cpu_us": child_cpu / records * 1e6 if mode == "process" else 0.0}
    result["records_per_s"] = result["process"]["records_per_s"]
    result["offer_ns"] = result["process"]["capture_call_ns"]
    return result


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
        for name, extra in (("on", {"DataCaptureConfig": capture}),):
            api.post("/api/endpoint-configs", json={"EndpointConfigName": name, "ProductionVariants": variant,
                                                    **extra}).raise_for_status()
            api.post("/api/endpoints", json={"EndpointName": name, "EndpointConfigName": name}).raise_for_status()
        for name in ("on",):
            while api.get(f"/api/endpoints/{name}").json()["EndpointStatus"] != "InService":
                time.sleep(0.1)
        handoff = server.capture
        assert isinstance(handoff, CaptureHandoff)
        thread = CaptureWriter(max_queued_bytes=settings.capture_max_queued_bytes,
                               flush_interval_s=settings.capture_flush_interval_s)
        thread.start()
        # One endpoint and worker for every mode: "off" only takes the router's sink away (two endpoints
        # would compare two workers too, which differ by more than capture costs on this machine).
        sinks: dict[str, CaptureWriter | CaptureHandoff | None] = {"off": None, "thread": thread,
                                                                    "process": handoff}
        _loadgen(settings.port, "on", body, 1.0)  # warm-up, and the writer process's start
        server.capture.flush()
        base = {name: sum(c.written for c in sink.counts().values()) for name, sink in (("thread", thread),
                                                                                        ("process", handoff))}
        results: dict[str, list[dict[str, float]]] = {"off": [], "thread": [], "process": []}
        for cycle in range(rounds):
            for mode in MODES[cycle % 3:] + MODES[:cycle % 3]:  # each mode takes each place in turn
                server.router.capture = server.router.mirror.capture = sinks[mode]
                cpu, writer_cpu = _cpu_self(), _cpu_of(handoff.pid)
                rate = _loadgen(settings.port, "on", body, seconds)
                cpu, writer_cpu = _cpu_self() - cpu, _cpu_of(handoff.pid) - writer_cpu
                requests = rate * seconds
                results[mode].append({"req_per_s": rate, "serving_cpu_us": cpu / requests * 1e6,
                                      "writer_process_cpu_us": writer_cpu / requests * 1e6 if mode == "process"
                                      else 0.0})
        server.router.capture = server.router.mirror.capture = handoff
        handoff.flush()
        thread.stop()
        counts = {name: {"captured": sum(c.written for c in sink.counts().values()) - base[name],
                         "dropped": sum(c.dropped for c in sink.counts().values()),
                         "lost": sum(c.lost for c in sink.counts().values())}
                  for name, sink in (("thread", thread), ("process", handoff))}
    finally:
        api.close()
        server.stop_thread()

    def median(mode: str, measure: str) -> float:
        return statistics.median(r[measure] for r in results[mode])

    def paired(mode: str, measure: str) -> float:
        """The median over cycles of the mode's figure over capture off's in the same cycle."""
        return statistics.median(r[measure] / o[measure] for r, o in zip(results[mode], results["off"], strict=True))

    off_rate = median("off", "req_per_s")
    summary = {mode: {"req_per_s": median(mode, "req_per_s"), "serving_cpu_us": median(mode, "serving_cpu_us"),
                      "writer_process_cpu_us": median(mode, "writer_process_cpu_us"),
                      "cost": 1 - paired(mode, "req_per_s"),
                      "serving_cpu_ratio": paired(mode, "serving_cpu_us")}
               for mode in MODES}
    return {"rounds": results, "median": summary, "counts": counts,
            "off_req_per_s": off_rate, "on_req_per_s": summary["process"]["req_per_s"],
            "cost": summary["process"]["cost"], "captured": counts["process"]["captured"],
            "dropped": counts["process"]["dropped"]}


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
    load = os.getloadavg()
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
    print(f"{'writer, ' + format(writer['records'], ',') + ' records':<30} {'records/s':>10} {'call ns':>8} "
          f"{'serving CPU us/rec':>19} {'writer proc us/rec':>19}")
    for mode in ("thread", "process"):
        w = writer[mode]
        print(f"{'  through the writer ' + mode:<30} {w['records_per_s']:>10,.0f} {w['capture_call_ns']:>8,.0f} "
              f"{w['serving_cpu_us']:>19.2f} {w['writer_process_cpu_us']:>19.2f}")
    print(f"{'writer records/s (process; goal >= 20,000)':<52} {writer['records_per_s']:>14,.0f}")
    print(f"load average before / after: {load[0]:.1f} / {os.getloadavg()[0]:.1f}")
    print(f"{'router c8, ' + str(args.rounds) + ' cycles (medians)':<30} {'req/s':>8} {'cost':>7} "
          f"{'serving CPU us/req':>19} {'x off':>6} {'writer proc us/req':>19}")
    for mode, label in (("off", "capture off"), ("thread", "100 % I+O, writer thread"),
                        ("process", "100 % I+O, writer process")):
        m = router["median"][mode]
        print(f"{label:<30} {m['req_per_s']:>8,.0f} {100 * m['cost']:>6.1f}% {m['serving_cpu_us']:>19.1f} "
              f"{m['serving_cpu_ratio']:>5.2f}x {m['writer_process_cpu_us']:>19.1f}")
    print(f"{'capture cost (writer process; goal <= 10 %)':<52} {100 * router['cost']:>13.1f}%")
    for mode in ("thread", "process"):
        c = router["counts"][mode]
        print(f"{'records captured / dropped / lost, writer ' + mode:<52} {c['captured']:>7,} / {c['dropped']:,}"
              f" / {c['lost']:,}")
    if execution:
        print(f"{'execution over ' + format(execution['records'], ',') + ' records x 20 features, s':<52} "
              f"{execution['seconds']:>14.1f}  <= 60")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                   "machine": platform.platform(), "load_average": [load[0], os.getloadavg()[0]],
                                   "writer": writer, "router": router,
                                   "execution": execution}, indent=1))


if __name__ == "__main__":
    main()
