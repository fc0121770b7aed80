"""Benchmark of asynchronous inference and inference pipelines (issue 15; not a test), against a real server
(``greenfleet server``, its own process) on loopback with real worker processes:

1. async enqueue rate: InvokeEndpointAsync calls with an inline body, from 4 client threads on keep-alive
   connections, to an async endpoint whose instance never gets ready (so that nothing is consumed meanwhile:
   enqueueing alone; goal: >= 2,000 requests/s);
2. async end-to-end p50 at 10 requests/s for a linear model: enqueue → output file written (goal: <= 50 ms);
3. the p50 cost of each extra Serial container: InvokeEndpoint p50 (c1) of pipelines of 2, 3 and 4
   containers (a linear model then identity containers), the slope per container (goal: <= 0.15 ms).

    .venv/bin/python bench/async_bench.py                 # ~1.5 min
    .venv/bin/python bench/async_bench.py --enqueue 4000 --e2e 200 --rounds 2000

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
from sklearn.linear_model import LogisticRegression

RESULTS = Path(__file__).parent / "results" / "async.json"
IDENTITY = '''
def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    return body, content_type
'''


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


def _endpoint(http: httpx.Client, name: str, model: dict[str, Any], extra: dict[str, Any] | None = None,
              wait: bool = True) -> None:
    http.post("/api/models", json={"ModelName": name, **model}).raise_for_status()
    http.post("/api/endpoint-configs", json={"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "main", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        **(extra or {})}).raise_for_status()
    http.post("/api/endpoints", json={"EndpointName": name, "EndpointConfigName": name}).raise_for_status()
    if wait:
        _wait(http, name)


def enqueue_rate(base: str, count: int, row: str, threads: int = 4) -> dict[str, Any]:
    per = count // threads
    failures: list[int] = []

    def run(worker: int) -> None:
        with httpx.Client(base_url=base) as client:
            for i in range(per):
                response = client.post("/endpoints/async-rate/async-invocations", content=row, headers={
                    "X-Amzn-SageMaker-Content-Type": "text/csv",
                    "X-Amzn-SageMaker-Inference-Id": f"rate-{worker}-{i}"})
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enqueue", type=int, default=2000)
    parser.add_argument("--e2e", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        x, y = make_classification(n_samples=500, n_features=20, random_state=0)
        (root / "linear").mkdir()
        joblib.dump(LogisticRegression(max_iter=500).fit(x, y), root / "linear" / "model.joblib")
        (root / "identity" / "code").mkdir(parents=True)
        (root / "identity" / "code" / "inference.py").write_text(IDENTITY)
        (root / "files" / "out").mkdir(parents=True)
        row = ",".join(f"{v:.6f}" for v in x[0])
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "GREENFLEET_HOME": str(root / "home"), "GREENFLEET_PORT": str(port),
               "GREENFLEET_ASYNC_FILE_ROOTS": str(root / "files"), "GREENFLEET_MODEL_DATA_ROOTS": str(root),
               "GREENFLEET_RECONCILE_INTERVAL_S": "0.1", "GREENFLEET_HEALTH_CHECK_INTERVAL_S": "0.5"}
        server = subprocess.Popen([sys.executable, "-m", "greenfleet", "server"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(root / "server.log", "wb"))  # noqa: SIM115
        try:
            http = httpx.Client(base_url=base, timeout=60)
            deadline = time.monotonic() + 30
            while True:
                try:
                    http.get("/health").raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise SystemExit((root / "server.log").read_text()[-2000:]) from None
                    time.sleep(0.1)
            linear = {"Image": "greenfleet/sklearn", "ModelDataUrl": str(root / "linear")}
            identity = {"Image": "greenfleet/script", "ModelDataUrl": str(root / "identity")}
            output = {"S3OutputPath": (root / "files" / "out").as_uri()}
            _endpoint(http, "async-bench", {"PrimaryContainer": linear}, {"AsyncInferenceConfig": {
                "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4}, "OutputConfig": output}})
            never_ready = {"Image": "greenfleet/command", "Environment": {"GREENFLEET_COMMAND": "sleep 600"}}
            _endpoint(http, "async-rate", {"PrimaryContainer": never_ready},
                      {"AsyncInferenceConfig": {"OutputConfig": output}}, wait=False)
            e2e = end_to_end(base, root / "files" / "out", args.e2e, row)
            rate = enqueue_rate(base, args.enqueue, row)
            wrk = enqueue_rate_wrk(base, row, root)
            p50s: dict[int, float] = {}
            for size in (1, 2, 3, 4):
                name = f"serial-{size}"
                model = {"PrimaryContainer": linear} if size == 1 else \
                    {"Containers": [linear] + [identity] * (size - 1)}
                _endpoint(http, name, model)
                p50s[size] = serial_p50(base, name, args.rounds, row)
                http.delete(f"/api/endpoints/{name}")
            slope = (p50s[4] - p50s[2]) / 2
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
    results = {"enqueue": rate, "enqueue_wrk": wrk, "end_to_end_10_per_s": e2e,
               "serial_p50_ms": {str(k): round(v, 3) for k, v in p50s.items()},
               "extra_serial_container_p50_ms": round(slope, 3)}
    rows = [("async enqueue (4 threads, inline body)", f"{rate['per_s']:.0f} req/s", ">= 2000 req/s",
             rate["per_s"] >= 2000),
            *([("async enqueue (wrk, 8 connections)", f"{wrk['per_s']:.0f} req/s", ">= 2000 req/s",
                (wrk["per_s"] or 0) >= 2000 and not wrk["non_2xx"])] if wrk else []),
            ("async end-to-end p50 at 10 req/s", f"{e2e['p50_ms']:.2f} ms", "<= 50 ms", e2e["p50_ms"] <= 50),
            *[(f"InvokeEndpoint p50, {k} container(s)", f"{v:.3f} ms", "", None) for k, v in p50s.items()],
            ("each extra Serial container (p50 slope 2->4)", f"{slope:.3f} ms", "<= 0.15 ms", slope <= 0.15)]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'value':>14}  {'goal':>14}  met")
    for label, value, goal, met in rows:
        print(f"{label.ljust(width)}  {value:>14}  {goal:>14}  {'' if met is None else ('yes' if met else 'NO')}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "async", "machine": platform.platform(), "results": results,
                                   "goals_met": {r[0]: r[3] for r in rows if r[3] is not None}}, indent=2))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
