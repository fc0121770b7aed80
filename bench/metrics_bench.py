"""Benchmark of the metric store and alarm evaluation (not a test): ingest rate on one core, one evaluation
tick of 1,000 alarms, memory of 1,000 active series of one-second points.

    .venv/bin/python bench/metrics_bench.py            # ~1 min; memory measured over 10 min, scaled to 3 h
    .venv/bin/python bench/metrics_bench.py --full     # memory measured over the full 3 h (several minutes)

Prints a table and writes bench/results/metrics.json. Everything runs in this one thread (one core) on a
SQLite store in a temporary directory, with a fake clock.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from greenfleet.alarms import AlarmService
from greenfleet.clock import FakeClock
from greenfleet.events import EventService
from greenfleet.metrics import MetricService
from greenfleet.store.database import create_store_engine, migrate

RESULTS = Path(__file__).parent / "results" / "metrics.json"
START = 1_700_000_000.0 - 1_700_000_000.0 % 60


def _services(tmp: Path, memory_window_s: int = 3600) -> tuple[MetricService, AlarmService, FakeClock]:
    engine = create_store_engine(f"sqlite:///{tmp / 'bench.db'}")
    migrate(engine)
    clock = FakeClock(START)
    metrics = MetricService(engine, clock, memory_window_s=memory_window_s, max_series=100_000)
    events = EventService(engine, clock)
    return metrics, AlarmService(engine, metrics, events, clock), clock


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def bench_put(tmp: Path, series: int = 1000, seconds: int = 20, per_second: int = 60) -> dict[str, Any]:
    """PutMetricData, one value per datum, in requests of 1,000 datums, flushed and persisted every second
    (the requests are built beforehand; parsing and validating them is measured)."""
    metrics, _, clock = _services(tmp)
    rng = np.random.default_rng(1)
    values = rng.integers(1, 1000, size=per_second * series).astype(float).tolist()
    points = 0
    elapsed = 0.0
    for s in range(-1, seconds):  # second -1 creates the series (not measured)
        now = START + 1 + s
        data = [{"MetricName": "Latency", "Dimensions": [{"Name": "Id", "Value": str(sid)}],
                 "Value": values[i * series + sid], "Timestamp": now + i / per_second, "StorageResolution": 1}
                for i in range(per_second) for sid in range(series)]
        requests = [{"Namespace": "Bench", "MetricData": data[k:k + 1000]} for k in range(0, len(data), 1000)]
        started = time.perf_counter()
        for request in requests:
            metrics.put_metric_data(request, now=now)
        clock.set(now + 1)
        metrics.flush(now + 1)
        if s >= 0:
            elapsed += time.perf_counter() - started
            points += len(data)
    return {"points": points, "seconds": round(elapsed, 3), "points_per_s": round(points / elapsed)}


def bench_put_values(tmp: Path, series: int = 1000, seconds: int = 5) -> dict[str, Any]:
    """PutMetricData with Values arrays of 150 samples (CloudWatch's maximum) per datum."""
    metrics, _, clock = _services(tmp)
    rng = np.random.default_rng(2)
    values = 0
    started = time.perf_counter()
    for s in range(seconds):
        now = START + s
        data = [{"MetricName": "Latency", "Dimensions": [{"Name": "Id", "Value": str(sid)}],
                 "Values": rng.lognormal(7, 1, 150).tolist(), "Timestamp": now, "StorageResolution": 1}
                for sid in range(series)]
        metrics.put_metric_data({"Namespace": "Bench", "MetricData": data}, now=now)
        values += 150 * series
        clock.set(now + 1)
        metrics.flush(now + 1)
    elapsed = time.perf_counter() - started
    return {"values": values, "seconds": round(elapsed, 3), "values_per_s": round(values / elapsed)}


def bench_recorder(tmp: Path, variants: int = 50, seconds: int = 10, rate: int = 20_000) -> dict[str, Any]:
    """record_invocation (the router's per-request call) and the one-second flush, end to end, at ``rate``
    invocations per second over ``variants`` variants (700 series)."""
    metrics, _, clock = _services(tmp)
    record = metrics.recorder.record_invocation
    outcomes = ["ok"] * 98 + ["model_error_5xx", "client_4xx"]
    calls = 0
    hot = flush = 0.0
    for s in range(-1, seconds):  # second -1 creates the series (not measured)
        now = START + 1 + s
        t = time.perf_counter()
        for i in range(rate):
            v = i % variants
            record(f"ep-{v // 5}", f"v{v % 5}", "cfg", f"i-{i % 3}", outcomes[i % 100], 1000.0 + i % 500, 80.0,
                   now + i / rate)
        recorded = time.perf_counter() - t
        t = time.perf_counter()
        clock.set(now + 1)
        metrics.flush(now + 1)
        if s >= 0:
            hot += recorded
            flush += time.perf_counter() - t
            calls += rate
    return {"invocations": calls, "record_us_per_call": round(hot / calls * 1e6, 2),
            "flush_ms_per_second": round(flush / seconds * 1e3, 2),
            "invocations_per_s_end_to_end": round(calls / (hot + flush)),
            "series": len(metrics.store.all_series())}


def bench_evaluation(tmp: Path, alarms: int = 1000, ticks: int = 30) -> dict[str, Any]:
    """One tick of 1,000 alarms (60% Period 60 basic statistics, 30% Period 10, 10% p99) over data."""
    metrics, service, clock = _services(tmp)
    for i in range(alarms):
        body: dict[str, Any] = {"AlarmName": f"a{i}", "Namespace": "Bench", "MetricName": "Latency",
                                "Dimensions": [{"Name": "Id", "Value": str(i)}], "Period": 10 if i % 10 < 3 else 60,
                                "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 1e9,
                                "ComparisonOperator": "GreaterThanThreshold"}
        if i % 10 == 9:
            body["ExtendedStatistic"], body["Period"] = "p99", 60
        else:
            body["Statistic"] = ("Average", "Maximum", "Sum", "SampleCount")[i % 4]
        service.put_alarm(body, now=START)
    rng = np.random.default_rng(3)
    for s in range(300):
        now = START + s
        data = [{"MetricName": "Latency", "Dimensions": [{"Name": "Id", "Value": str(i)}],
                 "Values": rng.lognormal(5, 1, 5).tolist(), "Timestamp": now, "StorageResolution": 1}
                for i in range(alarms)]
        metrics.put_metric_data({"Namespace": "Bench", "MetricData": data}, now=now)
        metrics.flush(now + 1)
    now = START + 300
    clock.set(now)
    t = time.perf_counter()
    first = service.evaluate(now)
    first_s = time.perf_counter() - t
    durations = []
    for k in range(1, ticks + 1):
        clock.set(now + k)
        t = time.perf_counter()
        assert service.evaluate(now + k) == []
        durations.append(time.perf_counter() - t)
    return {"alarms": alarms, "tick_ms_median": round(statistics.median(durations) * 1e3, 1),
            "tick_ms_max": round(max(durations) * 1e3, 1),
            "first_tick_with_transitions_ms": round(first_s * 1e3, 1), "first_tick_transitions": len(first)}


def bench_memory(tmp: Path, seconds: int, variants: int = 72, rate: int = 20) -> dict[str, Any]:
    """1,000 active SageMaker series (72 variants x 7 figures x 2 dimension sets; latencies with sketches
    from ``rate`` invocations per second per variant) over ``seconds`` of one-second points, memory window
    3 h. RSS growth and the store's own estimate are scaled linearly to 3 h (the default memory window
    is 1 h: a third of that; older points are read from the database)."""
    gc.collect()
    before = _rss_bytes()
    metrics, _, clock = _services(tmp, memory_window_s=3 * 3600)
    record = metrics.recorder.record_invocation
    for s in range(seconds):
        now = START + s
        for v in range(variants):
            for i in range(rate):
                record(f"ep-{v // 4}", f"v{v % 4}", "cfg", "i-1", "ok", 800.0 + 37 * i + s % 50, 90.0 + i,
                       now + i / rate)
        clock.set(now + 1)
        metrics.flush(now + 1)
    metrics.store.maintain(START + seconds + 120)  # compact the last minutes' live sketches too
    gc.collect()
    series = len(metrics.store.all_series())
    rss = _rss_bytes() - before
    estimate = metrics.store.memory_bytes()
    scale = 3 * 3600 / seconds
    db_size = sum(f.stat().st_size for f in tmp.iterdir() if f.name.startswith("bench.db"))
    return {"series": series, "measured_seconds": seconds, "rss_growth_mb": round(rss / 2**20, 1),
            "store_estimate_mb": round(estimate / 2**20, 1),
            "rss_for_3h_mb": round(rss * scale / 2**20), "store_estimate_for_3h_mb": round(estimate * scale / 2**20),
            "bytes_per_point_in_memory": round(estimate / (series * seconds), 1),
            "db_bytes_per_point": round(db_size / (series * seconds), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="measure memory over the full 3 hours")
    args = parser.parse_args()
    results: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine(),
                               "cpus": os.cpu_count(), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    def memory(tmp: Path) -> dict[str, Any]:
        return bench_memory(tmp, 3 * 3600 if args.full else 600)

    steps = [("memory", "memory", memory),
             ("put_metric_data (1 value per datum)", "ingest_put", bench_put),
             ("put_metric_data (150 values per datum)", "ingest_put_values", bench_put_values),
             ("record_invocation + flush", "ingest_recorder", bench_recorder),
             ("evaluation tick", "evaluation", bench_evaluation)]
    for title, key, run in steps:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"running {title} ...", flush=True)
            results[key] = run(Path(tmp))
    rows = [
        ("ingest: PutMetricData values, 1 per datum", f"{results['ingest_put']['points_per_s']:,} points/s",
         "≥ 50,000 points/s"),
        ("ingest: PutMetricData Values[150]", f"{results['ingest_put_values']['values_per_s']:,} values/s", ""),
        ("ingest: record_invocation hot path", f"{results['ingest_recorder']['record_us_per_call']} µs/call", ""),
        ("ingest: invocations recorded+flushed",
         f"{results['ingest_recorder']['invocations_per_s_end_to_end']:,} /s", ""),
        ("evaluation tick, 1,000 alarms (median)", f"{results['evaluation']['tick_ms_median']} ms", "≤ 100 ms"),
        ("evaluation tick, 1,000 alarms (max)", f"{results['evaluation']['tick_ms_max']} ms", ""),
        ("first tick: 1,000 transitions committed", f"{results['evaluation']['first_tick_with_transitions_ms']} ms",
         ""),
        ("memory, 1,000 series x 3 h of 1-s points (RSS)", f"{results['memory']['rss_for_3h_mb']} MB",
         "reported"),
        ("memory, same (store's own estimate)", f"{results['memory']['store_estimate_for_3h_mb']} MB", ""),
        ("disk per one-second point (SQLite)", f"{results['memory']['db_bytes_per_point']} bytes", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n{'figure':<{width}}  {'result':>22}  goal")
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:>22}  {goal}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
