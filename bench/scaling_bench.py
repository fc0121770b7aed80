"""Elastic capacity (issue 14): how fast a variant follows a load step, whether any request fails meanwhile,
and how long a serverless variant takes from zero to its first answer.

    .venv/bin/python bench/scaling_bench.py [--runs 5]

1. Load step: an endpoint serving a scikit-learn LogisticRegression on one instance, a target-tracking policy
   on SageMakerVariantInvocationsPerInstance (target 1500 per instance per minute, Min 1, Max 3), short alarm
   periods for the bench (2 s periods, AlarmHigh 2 of 2, AlarmLow 4 of 4, cooldowns 4 s). Paced clients send
   10 requests per second each: 1 client, then 16 (the step), then 1 again. Measured: from the step to the
   scale-out decision and to the new instances serving (CurrentInstanceCount 3), from the step back to the
   variant back at one instance, and the failed requests of each phase (goal 0).
2. Cold start: a serverless variant (2048 MB, MaxConcurrency 4, idle period 2 s) brought to zero, then one
   request timed from sent to answered, ``--runs`` times, for a LogisticRegression (goal <= 1 s) and a
   DecisionTreeClassifier (goal <= 2.5 s).

Prints a table and writes bench/results/scaling.json. Run it on a quiet machine: the server, its workers and the
clients share the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import joblib
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from greenfleet.server import Server
from greenfleet.settings import Settings

RESULTS = Path(__file__).parent / "results" / "scaling.json"
SETTINGS: dict[str, Any] = {
    "reconcile_interval_s": 0.1, "health_check_interval_s": 0.2, "strict_deployment_minimums": False,
    "scaling_alarm_period_s": 2, "scaling_alarm_high_datapoints": 2, "scaling_alarm_low_datapoints": 4,
    "scaling_default_cooldown_s": 4.0, "serverless_idle_s": 2.0, "drain_timeout_s": 30.0,
}
GOALS_S = {"linear": 1.0, "tree": 2.5}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Load:
    """Paced clients; their number changes while they run. Any non-200 answer or error is a failure."""

    def __init__(self, url: str, endpoint: str, body: str, rate: float = 10.0) -> None:
        self.url, self.endpoint, self.body, self.rate = url, endpoint, body, rate
        self.ok, self.failed = 0, 0
        self.lock = threading.Lock()
        self.threads: list[tuple[threading.Thread, threading.Event]] = []

    def set_clients(self, n: int) -> None:
        while len(self.threads) < n:
            stop = threading.Event()
            thread = threading.Thread(target=self._run, args=(stop,), daemon=True)
            self.threads.append((thread, stop))
            thread.start()
        while len(self.threads) > n:
            thread, stop = self.threads.pop()
            stop.set()
            thread.join(timeout=30)

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return self.ok, self.failed

    def _run(self, stop: threading.Event) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            next_at = time.monotonic()
            while not stop.is_set():
                try:
                    good = http.post(f"/endpoints/{self.endpoint}/invocations", content=self.body,
                                     headers={"Content-Type": "text/csv"}).status_code == 200
                except httpx.HTTPError:
                    good = False
                with self.lock:
                    self.ok, self.failed = (self.ok + 1, self.failed) if good else (self.ok, self.failed + 1)
                next_at += 1.0 / self.rate
                stop.wait(max(0.0, next_at - time.monotonic()))


def _archive(model: Any, root: Path, name: str) -> Path:
    directory = root / name
    directory.mkdir()
    joblib.dump(model, directory / "model.joblib")
    archive = directory / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(directory / "model.joblib", arcname="model.joblib")
    return archive


def _until(condition: Callable[[], bool], timeout_s: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if condition():
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def load_step(api: httpx.Client, url: str, archive: Path, row: str) -> dict[str, Any]:
    api.post("/api/models", json={"ModelName": "step", "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(archive)}}).raise_for_status()
    api.post("/api/endpoint-configs", json={"EndpointConfigName": "step", "ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": "step", "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large"}]}).raise_for_status()
    api.post("/api/endpoints", json={"EndpointName": "step", "EndpointConfigName": "step"}).raise_for_status()

    def variant() -> dict[str, Any]:
        doc = api.get("/api/endpoints/step").json()
        return {"status": doc["EndpointStatus"], **doc["ProductionVariants"][0]}

    _until(lambda: variant()["status"] == "InService", 120)
    key = {"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/step/variant/AllTraffic",
           "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}
    api.post("/api/scalable-targets", json={**key, "MinCapacity": 1, "MaxCapacity": 3}).raise_for_status()
    api.post("/api/scaling-policies", json={**key, "PolicyName": "step", "PolicyType": "TargetTrackingScaling",
                                            "TargetTrackingScalingPolicyConfiguration": {
                                                "TargetValue": 1500.0, "PredefinedMetricSpecification": {
                                                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}
                                            }).raise_for_status()
    load = Load(url, "step", row)
    load.set_clients(1)
    time.sleep(6)
    before = load.counts()
    load.set_clients(16)
    decided = _until(lambda: variant()["DesiredInstanceCount"] > 1, 120)
    served = _until(lambda: (v := variant())["CurrentInstanceCount"] == 3 and v["status"] == "InService", 120)
    served_total = None if served is None or decided is None else decided + served
    out_counts = load.counts()
    load.set_clients(1)
    back = _until(lambda: (v := variant())["CurrentInstanceCount"] == 1 and v["status"] == "InService"
                  and len(api.get("/api/endpoints/step/instances").json()["Instances"]) == 1, 120)
    time.sleep(2)
    load.set_clients(0)
    end = load.counts()
    return {"step_to_decision_s": decided, "step_to_serving_s": served_total, "step_back_to_one_s": back,
            "requests_scale_out": out_counts[0] - before[0] + out_counts[1] - before[1],
            "failed_scale_out": out_counts[1] - before[1],
            "requests_scale_in": end[0] - out_counts[0] + end[1] - out_counts[1],
            "failed_scale_in": end[1] - out_counts[1]}


def _cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used: on a busy machine, what an idle one would take."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cold_starts(api: httpx.Client, archive: Path, row: str, name: str, runs: int) -> tuple[list[float], list[float]]:
    api.post("/api/models", json={"ModelName": name, "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(archive)}}).raise_for_status()
    api.post("/api/endpoint-configs", json={"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": name,
         "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 4}}]}).raise_for_status()
    api.post("/api/endpoints", json={"EndpointName": name, "EndpointConfigName": name}).raise_for_status()
    _until(lambda: api.get(f"/api/endpoints/{name}").json()["EndpointStatus"] == "InService", 60)
    times, cpu = [], []
    for _ in range(runs):
        _until(lambda: api.get(f"/api/endpoints/{name}/instances").json()["Instances"] == [], 60)
        time.sleep(0.5)
        started = time.perf_counter()
        answer = api.post(f"/endpoints/{name}/invocations", content=row, headers={"Content-Type": "text/csv"},
                          timeout=120)
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            raise RuntimeError(f"cold start of {name} failed: {answer.status_code} {answer.text}")
        times.append(elapsed)
        (instance,) = api.get(f"/api/endpoints/{name}/instances").json()["Instances"]
        used = _cpu_s(int(instance["Pid"]))
        if used is not None:
            cpu.append(used)
    return times, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="cold starts per model")
    args = parser.parse_args()
    x, y = make_classification(n_samples=2000, n_features=20, random_state=0)
    row = ",".join(f"{v:.6f}" for v in x[0])
    with tempfile.TemporaryDirectory(prefix="gf-scaling-bench-") as tmp:
        root = Path(tmp)
        linear = _archive(LogisticRegression(max_iter=1000).fit(x, y), root, "linear")
        tree = _archive(DecisionTreeClassifier(max_depth=8, random_state=0).fit(x, y), root, "tree")
        settings = Settings(home=root / "home", port=_free_port(), model_data_roots=tmp, **SETTINGS)
        server = Server(settings)
        server.start_in_thread()
        try:
            with httpx.Client(base_url=settings.base_url, timeout=60) as api:
                step = load_step(api, settings.base_url, linear, row)
                cold = {"linear": cold_starts(api, linear, row, "cold-linear", args.runs),
                        "tree": cold_starts(api, tree, row, "cold-tree", args.runs)}
                load_average = os.getloadavg()[0]
        finally:
            server.stop_thread()
    report = {"machine": platform.platform(), "load_average_1m": load_average, "settings": SETTINGS,
              "load_step": step,
              "cold_start_s": {k: {"runs": v, "median": statistics.median(v), "max": max(v), "goal": GOALS_S[k],
                                   "met": statistics.median(v) <= GOALS_S[k], "worker_cpu_s": c,
                                   "worker_cpu_median": statistics.median(c) if c else None}
                               for k, (v, c) in cold.items()}}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} s"

    print(f"{'measure':<46} {'value':>12}  goal")
    print(f"{'load step -> scale-out decided':<46} {fmt(step['step_to_decision_s']):>12}")
    print(f"{'load step -> 3 instances serving':<46} {fmt(step['step_to_serving_s']):>12}")
    print(f"{'load back down -> one instance':<46} {fmt(step['step_back_to_one_s']):>12}")
    print(f"{'failed requests, scale-out':<46} {step['failed_scale_out']:>6} / {step['requests_scale_out']:<5} 0")
    print(f"{'failed requests, scale-in':<46} {step['failed_scale_in']:>6} / {step['requests_scale_in']:<5} 0")
    for kind, entry in report["cold_start_s"].items():
        print(f"{'cold start, zero -> first answer, ' + kind + ' (median)':<46} {fmt(entry['median']):>12}  "
              f"<= {entry['goal']:g} s {'met' if entry['met'] else 'MISSED'} (max {entry['max']:.2f} s)")
        print(f"{'  its worker CPU to the first answer (median)':<46} {fmt(entry['worker_cpu_median']):>12}")
    print(f"load average (1 min) at the end: {load_average:.1f} on {os.cpu_count()} cores")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
