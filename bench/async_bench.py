"""Benchmark of asynchronous inference and inference pipelines (issue 15; not a test), against a real server
(``greenfleet server``, its own process) on loopback with real worker processes:

1. async enqueue rate: InvokeEndpointAsync calls with an inline body, from wrk (2 threads, 8 keep-alive
   connections; goal: >= 2,000 requests/s) and from 4 Python client threads (no goal: the client threads are
   the limit there), to an async endpoint whose instance never gets ready (so that nothing is consumed
   meanwhile: enqueueing alone); without wrk installed that goal is reported as not measured;
2. async end-to-end p50 at 10 requests/s for a linear model: enqueue → output file written (goal: <= 50 ms);
3. the p50 cost of each extra Serial container: InvokeEndpoint p50 (c1) of pipelines of 2, 3 and 4
   containers, the slope per container (goal: <= 0.15 ms), for a linear model then identity script containers
   (a process each) and a linear model then pass-through scikit-learn containers (chained in one process).

    .venv/bin/python bench/async_bench.py                 # ~1.5 min
    .venv/bin/python bench/async_bench.py --enqueue 4000 --e2e 200 --rounds 2000
    .venv/bin/python bench/async_bench.py --baseline /work/main --parts enqueue,serial   # same-run ratios

``--baseline CHECKOUT`` also starts that checkout's server (its own process, the same settings) and measures
both in alternating rounds, reporting each figure's ratio (new / old): on a shared, loaded machine only
same-run ratios say whether a change helped.

Prints a table and writes bench/results/async.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import joblib
from sklearn.datasets import make_classification
from sklearn.linear_model import LinearRegression, LogisticRegression

RESULTS = Path(__file__).parent / "results" / "async.json"
IDENTITY = '''
def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    return body, content_type
'''


def write_models(root: Path) -> str:
    """The benchmark's models under ``root``: ``linear`` (a logistic regression on 20 features, built-in
    scikit-learn), ``identity`` (a script whose transform_fn hands its input on) and ``passthrough`` (y = x,
    built in: a container that hands its input on); returns a CSV row ``linear`` reads."""
    x, y = make_classification(n_samples=500, n_features=20, random_state=0)
    (root / "linear").mkdir()
    joblib.dump(LogisticRegression(max_iter=500).fit(x, y), root / "linear" / "model.joblib")
    (root / "identity" / "code").mkdir(parents=True)
    (root / "identity" / "code" / "inference.py").write_text(IDENTITY)
    (root / "passthrough").mkdir()
    ramp = [[0.0], [1.0], [2.0]]
    joblib.dump(LinearRegression().fit(ramp, [0.0, 1.0, 2.0]), root / "passthrough" / "model.joblib")
    return ",".join(f"{v:.6f}" for v in x[0])


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(http: httpx.Client, name: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = http.get(f"/api/endpoints/{name}").json()["EndpointStatus"]
        if status == "InService":
            return
        if status == "Failed":
            raise SystemExit(f"{name} failed: {http.get(f'/api/endpoints/{name}').json().get('FailureReason')}")
        time.sleep(0.1)
    raise SystemExit(f"{name} not InService")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _endpoint(http: httpx.Client, name: str, model: dict[str, Any], extra: dict[str, Any] | None = None,
              wait: bool = True) -> None:
    http.post("/api/models", json={"ModelName": name, **model}).raise_for_status()
    http.post("/api/endpoint-configs", json={"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "main", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        **(extra or {})}).raise_for_status()
    http.post("/api/endpoints", json={"EndpointName": name, "EndpointConfigName": name}).raise_for_status()
    if wait:
        _wait(http, name)


def enqueue_rate(base: str, count: int, row: str, threads: int = 4, tag: str = "") -> dict[str, Any]:
    per = count // threads
    failures: list[int] = []

    def run(worker: int) -> None:
        with httpx.Client(base_url=base) as client:
            for i in range(per):
                response = client.post("/endpoints/async-rate/async-invocations", content=row, headers={
                    "X-Amzn-SageMaker-Content-Type": "text/csv",
                    "X-Amzn-SageMaker-Inference-Id": f"rate{tag}-{worker}-{i}"})
                if response.status_code != 202:
                    failures.append(response.status_code)

    started = time.perf_counter()
    workers = [threading.Thread(target=run, args=(w,)) for w in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    return {"requests": per * threads, "seconds": round(elapsed, 3), "per_s": round(per * threads / elapsed, 1),
            "failures": len(failures)}


def enqueue_rate_wrk(base: str, row: str, root: Path, seconds: int = 10) -> dict[str, Any] | None:
    """The same calls from wrk (2 threads, 8 connections; no InferenceId, so the server makes each one):
    the client's own cost out of the way. None when wrk is not installed."""
    if shutil.which("wrk") is None:
        return None
    script = root / "post.lua"
    script.write_text('wrk.method = "POST"\n'
                      f'wrk.body = "{row}"\n'
                      'wrk.headers["X-Amzn-SageMaker-Content-Type"] = "text/csv"\n')
    done = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "-s", str(script),
                           f"{base}/endpoints/async-rate/async-invocations"], capture_output=True, text=True,
                          check=True)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    return {"per_s": float(rate.group(1)) if rate else None, "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "seconds": seconds, "connections": 8}


def end_to_end(base: str, out: Path, count: int, row: str, rate: float = 10.0) -> dict[str, Any]:
    latencies = []
    with httpx.Client(base_url=base) as client:
        for i in range(count):
            planned = time.perf_counter()
            response = client.post("/endpoints/async-bench/async-invocations", content=row, headers={
                "X-Amzn-SageMaker-Content-Type": "text/csv", "X-Amzn-SageMaker-Inference-Id": f"e2e-{i}"})
            assert response.status_code == 202, response.text
            target = out / f"e2e-{i}.out"
            while not target.exists():
                time.sleep(0.0005)
            latencies.append((time.perf_counter() - planned) * 1000)
            time.sleep(max(0.0, planned + 1 / rate - time.perf_counter()))
    return {"requests": count, "p50_ms": round(statistics.median(latencies), 2),
            "p90_ms": round(statistics.quantiles(latencies, n=10)[-1], 2)}


def serial_p50(base: str, name: str, rounds: int, row: str) -> float:
    with httpx.Client(base_url=base) as client:
        for _ in range(50):
            client.post(f"/endpoints/{name}/invocations", content=row, headers={"Content-Type": "text/csv"})
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = client.post(f"/endpoints/{name}/invocations", content=row, headers={"Content-Type": "text/csv"})
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return statistics.median(samples)


class Bench:
    """One server (this checkout's, or ``checkout``'s) with the benchmark's endpoints."""

    def __init__(self, root: Path, checkout: Path | None = None) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "files" / "out").mkdir(parents=True)
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "GREENFLEET_HOME": str(root / "home"), "GREENFLEET_PORT": str(port),
               "GREENFLEET_ASYNC_FILE_ROOTS": str(root / "files"), "GREENFLEET_MODEL_DATA_ROOTS": str(root.parent),
               "GREENFLEET_RECONCILE_INTERVAL_S": "0.1", "GREENFLEET_HEALTH_CHECK_INTERVAL_S": "0.5"}
        if checkout is not None:
            env["PYTHONPATH"] = str(checkout)
        self.process = subprocess.Popen([sys.executable, "-m", "greenfleet", "server"], env=env,
                                        cwd=str(checkout) if checkout else None, stdout=subprocess.DEVNULL,
                                        stderr=open(root / "server.log", "wb"))  # noqa: SIM115
        self.http = httpx.Client(base_url=self.base, timeout=60)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.http.get("/health").raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit((root / "server.log").read_text()[-2000:]) from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


def _interleaved(targets: list[tuple[str, str]], rounds: int, row: str) -> dict[tuple[str, str], list[float]]:
    """InvokeEndpoint latencies (ms) of each (base, endpoint), one request to each in turn per round."""
    clients = {base: httpx.Client(base_url=base) for base, _ in targets}
    samples: dict[tuple[str, str], list[float]] = {t: [] for t in targets}
    try:
        for warm in range(rounds + 50):
            for base, name in targets:
                started = time.perf_counter()
                response = clients[base].post(f"/endpoints/{name}/invocations", content=row,
                                              headers={"Content-Type": "text/csv"})
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text
                if warm >= 50:
                    samples[(base, name)].append(elapsed)
    finally:
        for client in clients.values():
            client.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enqueue", type=int, default=2000)
    parser.add_argument("--e2e", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--parts", default="e2e,enqueue,serial")
    parser.add_argument("--baseline", type=Path, default=None, help="an older checkout to measure in the same run")
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds with --baseline")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    results: dict[str, Any] = {}
    rows: list[tuple[str, str, str, bool | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        row = write_models(root)
        linear = {"Image": "greenfleet/sklearn", "ModelDataUrl": str(root / "linear")}
        identity = {"Image": "greenfleet/script", "ModelDataUrl": str(root / "identity")}
        passthrough = {"Image": "greenfleet/sklearn", "ModelDataUrl": str(root / "passthrough")}
        benches = {"new": Bench(root / "new")}
        if args.baseline is not None:
            benches["old"] = Bench(root / "old", args.baseline)
        try:
            for bench in benches.values():
                output = {"S3OutputPath": (bench.root / "files" / "out").as_uri()}
                _endpoint(bench.http, "async-bench", {"PrimaryContainer": linear}, {"AsyncInferenceConfig": {
                    "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4}, "OutputConfig": output}})
                never_ready = {"Image": "greenfleet/command", "Environment": {"GREENFLEET_COMMAND": "sleep 600"}}
                _endpoint(bench.http, "async-rate", {"PrimaryContainer": never_ready},
                          {"AsyncInferenceConfig": {"OutputConfig": output}}, wait=False)
            new = benches["new"]
            if "e2e" in parts:
                e2e = end_to_end(new.base, new.root / "files" / "out", args.e2e, row)
                results["end_to_end_10_per_s"] = e2e
                rows.append(("async end-to-end p50 at 10 req/s", f"{e2e['p50_ms']:.2f} ms", "<= 50 ms",
                             e2e["p50_ms"] <= 50))
            # the pipelines before the enqueue rate: that leaves tens of thousands of requests queued on the
            # server (their instance never gets ready), whose backlog figures it then computes every second
            if "serial" in parts:
                _serial(benches, args, row, linear, identity, results, rows, passthrough)
            if "enqueue" in parts:
                _enqueue(benches, args, row, root, results, rows)
        finally:
            for bench in benches.values():
                bench.stop()
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'value':>14}  {'goal':>14}  met")
    for label, value, goal, met in rows:
        print(f"{label.ljust(width)}  {value:>14}  {goal:>14}  {'' if met is None else ('yes' if met else 'NO')}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "async", "machine": platform.platform(),
                                   "load_average": os.getloadavg(), "baseline": str(args.baseline or ""),
                                   "results": results,
                                   "goals_met": {r[0]: r[3] for r in rows if r[3] is not None}}, indent=2))
    print(f"load average {os.getloadavg()[0]:.2f}; written to {RESULTS}")


def _enqueue(benches: dict[str, Bench], args: argparse.Namespace, row: str, root: Path, results: dict[str, Any],
             rows: list[tuple[str, str, str, bool | None]]) -> None:
    repeats = args.repeats if len(benches) > 1 else 1
    threads: dict[str, list[float]] = {k: [] for k in benches}
    wrks: dict[str, list[float]] = {k: [] for k in benches}
    cpu: dict[str, list[float]] = {k: [] for k in benches}  # server CPU microseconds per accepted request
    for round_ in range(repeats):
        for key, bench in benches.items():
            before = _cpu_s(bench.process.pid)
            done = enqueue_rate(bench.base, args.enqueue, row, tag=str(round_))
            if done["failures"]:
                raise SystemExit(f"{done['failures']} enqueue calls failed ({key})")
            cpu[key].append((_cpu_s(bench.process.pid) - before) / done["requests"] * 1e6)
            threads[key].append(done["per_s"])
            wrk = enqueue_rate_wrk(bench.base, row, root, seconds=5 if len(benches) > 1 else 10)
            if wrk is not None and wrk["per_s"] is not None and not wrk["non_2xx"]:
                wrks[key].append(wrk["per_s"])
    value = statistics.median(cpu["new"])
    results["enqueue server CPU us/request"] = cpu
    rows.append(("async enqueue, server CPU per request", f"{value:.0f} us", "", None))
    if cpu.get("old"):
        old = statistics.median(cpu["old"])
        results["enqueue server CPU ratio new/old"] = round(value / old, 3)
        rows.append((f"  same run, old checkout: {old:.0f} us", f"{value / old:.2f}x", "", None))
    if not wrks["new"]:  # the goal is the server's rate: Python client threads are the limit below it
        rows.append(("async enqueue (wrk, 8 connections)", "not measured: wrk is not installed (apt-get install "
                     "wrk; bench/run-serving installs it)", ">= 2000 req/s", None))
    for label, figures in (("4 threads, inline body", threads), ("wrk, 8 connections", wrks)):
        if not figures["new"]:
            continue
        value = statistics.median(figures["new"])
        results[f"enqueue {label}"] = {k: v for k, v in figures.items()}
        goal = label.startswith("wrk")
        rows.append((f"async enqueue ({label})", f"{value:.0f} req/s", ">= 2000 req/s" if goal else "",
                     value >= 2000 if goal else None))
        if figures.get("old"):
            ratio = value / statistics.median(figures["old"])
            results[f"enqueue {label} ratio new/old"] = round(ratio, 3)
            rows.append((f"  same run, old checkout: {statistics.median(figures['old']):.0f} req/s", f"{ratio:.2f}x",
                         "", None))


def _serial(benches: dict[str, Bench], args: argparse.Namespace, row: str, linear: dict[str, Any],
            identity: dict[str, Any], results: dict[str, Any], rows: list[tuple[str, str, str, bool | None]],
            passthrough: dict[str, Any]) -> None:
    """Two chains: a linear model then identity *script* containers (user code: a process each, HTTP between
    them), and a linear model then identity *scikit-learn* containers (built in: chained in one process; the
    intermediate ones answer CSV through SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT). With --baseline the old
    checkout runs the script chain in the same rounds (it has no in-process chain)."""
    csv_out = {"Environment": {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}}
    chains: dict[str, Any] = {
        "script": lambda n: {"PrimaryContainer": linear} if n == 1 else {"Containers": [linear] + [identity] * (n - 1)},
        "built-in": lambda n: {"PrimaryContainer": linear} if n == 1 else {
            "Containers": [{**linear, **csv_out}] + [{**passthrough, **csv_out}] * (n - 2) + [passthrough]}}
    runs = [(key, kind) for key in benches for kind in chains if key == "new" or kind == "script"]
    p50s: dict[tuple[str, str], dict[int, list[float]]] = {run: {n: [] for n in (1, 2, 3, 4)} for run in runs}
    for key, kind in runs:
        for size in (1, 2, 3, 4):
            _endpoint(benches[key].http, f"{kind}-{size}", chains[kind](size))
    # interleaved, one request to each endpoint in turn, so that the machine's load swings hit all alike
    samples = _interleaved([(benches[key].base, f"{kind}-{size}") for key, kind in runs for size in (1, 2, 3, 4)],
                           args.rounds, row)
    for key, kind in runs:
        for size in (1, 2, 3, 4):
            p50s[(key, kind)][size].append(statistics.median(samples[(benches[key].base, f"{kind}-{size}")]))
    slopes = {}
    for run in runs:
        med = {n: statistics.median(v) for n, v in p50s[run].items()}
        slopes[run] = (med[4] - med[2]) / 2
        results[f"serial_p50_ms {run[0]} {run[1]}"] = {str(n): round(v, 3) for n, v in med.items()}
        results[f"extra_serial_container_p50_ms {run[0]} {run[1]}"] = round(slopes[run], 3)
        for n, v in med.items():
            rows.append((f"InvokeEndpoint p50, {n} container(s), {run[1]} chain ({run[0]})", f"{v:.3f} ms", "", None))
    built_in, script = slopes[("new", "built-in")], slopes[("new", "script")]
    rows.append(("each extra Serial container, built-in chain (slope 2->4)", f"{built_in:.3f} ms", "<= 0.15 ms",
                 built_in <= 0.15))
    rows.append(("each extra Serial container, script chain (slope 2->4)", f"{script:.3f} ms", "<= 0.15 ms",
                 script <= 0.15))
    rows.append(("  built-in / script, same run", f"{built_in / script:.2f}x" if script > 0 else "-", "", None))
    if ("old", "script") in slopes:
        old = slopes[("old", "script")]
        rows.append((f"  script chain, old checkout: {old:.3f} ms", f"{script / old:.2f}x" if old > 0 else "-", "",
                     None))


if __name__ == "__main__":
    main()
