"""Deployment guardrails benchmark (issue 4): how fast an alarm puts all traffic back on blue, and how
many requests fail across 20 traffic shifts under load. Not a test: prints a table, writes JSON.

    .venv/bin/python bench/guardrails.py [--rounds 3] [--shifts 20] [--clients 8]

Alarm → blue: a CANARY update to a model that fails every call, with an Invocation5XXErrors alarm as
AutoRollbackConfiguration. The figure is the time from the alarm's StateUpdatedTimestamp (entering
ALARM) to the first routing table in which the green fleet has weight 0, watched in-process every
millisecond. Shifts: UpdateEndpointWeightsAndCapacities 20 times between two variants while 8 clients
invoke continuously; every non-200 counts."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import joblib
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port

BROKEN = (
    "def model_fn(model_dir):\n    return None\n\n\ndef predict_fn(data, model):\n    raise RuntimeError('broken')\n"
)


def make_models(root: Path) -> tuple[Path, Path, str]:
    x, y = make_classification(n_samples=1000, n_features=20, random_state=0)
    joblib.dump(LogisticRegression(max_iter=1000, random_state=0).fit(x, y), root / "model.joblib")
    good = root / "good.tar.gz"
    with tarfile.open(good, "w:gz") as tar:
        tar.add(root / "model.joblib", arcname="model.joblib")
    broken = root / "broken"
    (broken / "code").mkdir(parents=True)
    (broken / "code" / "inference.py").write_text(BROKEN)
    return good, broken, ",".join(f"{v:.5f}" for v in x[0])


class Load:
    def __init__(self, url: str, body: str, clients: int) -> None:
        self.url, self.body = url, body
        self.stop = threading.Event()
        self.ok = 0
        self.failed: list[int] = []
        self.threads = [threading.Thread(target=self.run) for _ in range(clients)]

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                status = client.post(self.url, content=self.body, headers={"Content-Type": "text/csv"}).status_code
                if status == 200:
                    self.ok += 1
                else:
                    self.failed.append(status)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def call(http: httpx.Client, method: str, path: str, body: Any = None) -> Any:
    response = http.request(method, path, json=body)
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
    return response.json()


def wait(http: httpx.Client, name: str, done: tuple[str, ...] = ("InService",), timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = call(http, "GET", f"/api/endpoints/{name}")
        if described["EndpointStatus"] in done or described["EndpointStatus"] == "Failed":
            return described
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not settle")


def rollback_round(
    server: Server, http: httpx.Client, index: int, good: Path, broken: Path, row: str, clients: int
) -> dict[str, float]:
    name = f"rb{index}"
    for model, url, image in (
        (f"{name}-good", good, "greenfleet/sklearn"),
        (f"{name}-bad", broken, "greenfleet/script"),
    ):
        call(
            http,
            "POST",
            "/api/models",
            {"ModelName": model, "PrimaryContainer": {"Image": image, "ModelDataUrl": str(url)}},
        )
        call(
            http,
            "POST",
            "/api/endpoint-configs",
            {
                "EndpointConfigName": model,
                "ProductionVariants": [
                    {
                        "VariantName": "main",
                        "ModelName": model,
                        "InitialInstanceCount": 2,
                        "InstanceType": "ml.m5.large",
                    }
                ],
            },
        )
    call(http, "POST", "/api/endpoints", {"EndpointName": name, "EndpointConfigName": f"{name}-good"})
    wait(http, name)
    alarm = f"{name}-5xx"
    call(
        http,
        "PUT",
        f"/api/alarms/{alarm}",
        {
            "Namespace": "AWS/SageMaker",
            "MetricName": "Invocation5XXErrors",
            "Statistic": "Average",
            "Dimensions": [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": "main"}],
            "Period": 1,
            "EvaluationPeriods": 1,
            "Threshold": 0.01,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
        },
    )
    green_off: list[float] = []
    watching = threading.Event()

    def watch() -> None:  # the first routing table where the green fleet gets no traffic, after it had some
        had_traffic = False
        while not watching.is_set():
            route = server.router.table.get(name)
            green = [t for t in (route.targets if route else ()) if t.config_name == f"{name}-bad"]
            if green and green[0].weight > 0 and green[0].instances:
                had_traffic = True
            elif had_traffic and (not green or green[0].weight == 0):
                green_off.append(time.time())
                return
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with Load(f"{server.settings.base_url}/endpoints/{name}/invocations", row, clients):
        call(
            http,
            "POST",
            f"/api/endpoints/{name}/update",
            {
                "EndpointConfigName": f"{name}-bad",
                "DeploymentConfig": {
                    "BlueGreenUpdatePolicy": {
                        "TrafficRoutingConfiguration": {
                            "Type": "CANARY",
                            "WaitIntervalInSeconds": 60,
                            "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
                        },
                        "MaximumExecutionTimeoutInSeconds": 600,
                    },
                    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]},
                },
            },
        )
        described = wait(http, name)
    watching.set()
    watcher.join()
    entered = call(http, "GET", f"/api/alarms/{alarm}")["StateUpdatedTimestamp"]
    entered_at = entered if isinstance(entered, float) else _parse(entered)
    if not green_off or "FailureReason" not in described:
        raise RuntimeError(f"round {index}: no rollback observed: {described}")
    call(http, "DELETE", f"/api/endpoints/{name}")
    return {"alarm_to_blue_s": green_off[0] - entered_at}


def _parse(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def shifts(server: Server, http: httpx.Client, good: Path, row: str, count: int, clients: int) -> dict[str, Any]:
    for variant in ("a", "b"):
        call(
            http,
            "POST",
            "/api/models",
            {
                "ModelName": f"shift-{variant}",
                "PrimaryContainer": {"Image": "greenfleet/sklearn", "ModelDataUrl": str(good)},
            },
        )
    call(
        http,
        "POST",
        "/api/endpoint-configs",
        {
            "EndpointConfigName": "shift",
            "ProductionVariants": [
                {
                    "VariantName": v,
                    "ModelName": f"shift-{v}",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "InitialVariantWeight": 1,
                }
                for v in ("a", "b")
            ],
        },
    )
    call(http, "POST", "/api/endpoints", {"EndpointName": "shift", "EndpointConfigName": "shift"})
    wait(http, "shift")
    with Load(f"{server.settings.base_url}/endpoints/shift/invocations", row, clients) as load:
        for index in range(count):
            weight = (index % 5) / 4
            call(
                http,
                "POST",
                "/api/endpoints/shift/weights-and-capacities",
                {
                    "DesiredWeightsAndCapacities": [
                        {"VariantName": "a", "DesiredWeight": weight},
                        {"VariantName": "b", "DesiredWeight": 1 - weight + 0.01},
                    ]
                },
            )
            wait(http, "shift")
            time.sleep(0.2)
    return {"shifts": count, "requests": load.ok + len(load.failed), "failed": len(load.failed)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shifts", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="gf-guardrails-"))
    good, broken, row = make_models(root)
    server = Server(
        Settings(home=root / "home", port=free_port(), strict_deployment_minimums=False, reconcile_interval_s=0.5,
                 model_data_roots=str(root))
    )
    server.start_in_thread()
    try:
        with httpx.Client(base_url=server.settings.base_url, timeout=30) as http:
            rounds = [rollback_round(server, http, i, good, broken, row, args.clients) for i in range(args.rounds)]
            shifted = shifts(server, http, good, row, args.shifts, args.clients)
    finally:
        server.stop_thread()
    latencies = [r["alarm_to_blue_s"] for r in rounds]
    result = {
        "alarm_to_blue_s": {
            "rounds": latencies,
            "median": statistics.median(latencies),
            "max": max(latencies),
            "goal": 1.0,
        },
        "traffic_shifts": {**shifted, "goal_failed": 0},
        "settings": {"reconcile_interval_s": 0.5, "alarm_period_s": 1, "clients": args.clients},
    }
    print("| figure | measured | goal | met |\n|---|---:|---:|---|")
    print(
        f"| alarm in ALARM → 100% traffic on blue (median of {len(latencies)}) | "
        f"{result['alarm_to_blue_s']['median']:.3f} s (max {max(latencies):.3f}) | ≤ 1 s | "
        f"{'yes' if max(latencies) <= 1 else 'NO'} |"
    )
    print(
        f"| failed requests across {shifted['shifts']} traffic shifts ({shifted['requests']} requests) | "
        f"{shifted['failed']} | 0 | {'yes' if shifted['failed'] == 0 else 'NO'} |"
    )
    out = Path(__file__).parent / "results" / f"guardrails-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
