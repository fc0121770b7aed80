"""Benchmark of shadow mirroring and feedback ingest (not a test), same run, each shadow on its own instance:

- router CPU per request and production p50/p99 at c8 without a shadow, with a shadow as fast as production
  (100 % mirrored), and with one 3x slower; targets: mirroring adds <= 0.03 ms of router CPU per request and
  <= 10 % to production p99;
- a shadow 10x slower: copies beyond the in-flight limit are dropped, not queued (sent/dropped counts, the
  server's RSS before and after);
- feedback ingest: outcomes per second through PutFeedback in batches of 1,000 (target >= 5,000/s).

    .venv/bin/python bench/shadow_bench.py                # ~1.5 min; needs wrk
    .venv/bin/python bench/shadow_bench.py --seconds 20

The server runs in this process (its CPU is this process's, from getrusage; the workers are other
processes), wrk drives the load. Prints a table and writes bench/results/shadow.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import resource
import socket
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from greenfleet.server import Server
from greenfleet.settings import Settings

RESULTS = Path(__file__).parent / "results" / "shadow.json"
SLEEPY = "import time\n\ndef model_fn(model_dir):\n    return None\n\n\ndef predict_fn(data, model):\n" \
         "    time.sleep({delay})\n    return [0 for _ in range(len(data))]\n"
WRK_SCRIPT = 'wrk.method = "POST"\nwrk.body = "{body}"\nwrk.headers["Content-Type"] = "text/csv"\n'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _models(root: Path) -> tuple[Path, np.ndarray]:
    x, y = make_classification(n_samples=1000, n_features=20, random_state=0)
    joblib.dump(LogisticRegression(max_iter=1000).fit(x, y), root / "model.joblib")
    archive = root / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "model.joblib", arcname="model.joblib")
    return archive, x


def _sleepy(root: Path, name: str, delay_s: float) -> Path:
    (root / name / "code").mkdir(parents=True)
    (root / name / "code" / "inference.py").write_text(SLEEPY.format(delay=delay_s))
    return root / name


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, body: str, seconds: int, script_dir: Path) -> dict[str, float]:
    script = script_dir / "post.lua"
    script.write_text(WRK_SCRIPT.format(body=body))
    cpu = _cpu_s()
    done = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", str(script), url],
                          capture_output=True, text=True, check=True)
    cpu = _cpu_s() - cpu
    out = done.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    latency = {q: _ms(re.search(rf"^\s+{q}%\s+(\S+)", out, re.M).group(1)) for q in ("50", "99")}  # type: ignore
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": requests, "rps": requests / seconds, "p50_ms": latency["50"], "p99_ms": latency["99"],
            "router_cpu_ms_per_request": cpu * 1000 / max(requests, 1),
            "non_2xx": int(errors.group(1)) if errors else 0}


def endpoint(api: httpx.Client, name: str, production: Path, shadow: dict[str, str] | None) -> None:
    api.post("/api/models", json={"ModelName": f"{name}-p", "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(production)}}).raise_for_status()
    variant = {"InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    config: dict[str, Any] = {"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "prod", "ModelName": f"{name}-p", **variant}]}
    if shadow is not None:
        api.post("/api/models", json={"ModelName": f"{name}-s", "PrimaryContainer": shadow}).raise_for_status()
        config["ShadowProductionVariants"] = [{"VariantName": "shadow", "ModelName": f"{name}-s", **variant}]
    api.post("/api/endpoint-configs", json=config).raise_for_status()
    api.post("/api/endpoints", json={"EndpointName": name, "EndpointConfigName": name}).raise_for_status()
    deadline = time.monotonic() + 120
    while api.get(f"/api/endpoints/{name}").json()["EndpointStatus"] != "InService":
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} did not become InService")
        time.sleep(0.2)


def feedback_ingest(server: Server, api: httpx.Client, outcomes: int) -> dict[str, float]:
    api.post("/api/ab-tests", json={"Name": "ingest", "EndpointName": "base", "VariantA": "prod",
                                    "VariantB": "prod2"}).raise_for_status()
    now = time.time()
    for index in range(outcomes):  # what the data plane records per answered request
        server.router.assignments.record("base", f"id-{index}", "prod", b"1", now)
    batches = [[{"InferenceId": f"id-{i}", "Reward": float(i % 3)} for i in range(start, min(start + 1000, outcomes))]
               for start in range(0, outcomes, 1000)]
    started = time.perf_counter()
    recorded = 0
    for batch in batches:
        answer = api.post("/api/endpoints/base/feedback", json={"Outcomes": batch}).json()
        recorded += answer["Recorded"]
    elapsed = time.perf_counter() - started
    return {"outcomes": outcomes, "recorded": recorded, "seconds": elapsed, "outcomes_per_s": recorded / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--outcomes", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gf-shadow-bench-") as tmp:
        root = Path(tmp)
        model, x = _models(root)
        body = ",".join(f"{v:.6f}" for v in x[0])
        settings = Settings(home=root / "home", port=_free_port(), model_data_roots=tmp,
                            strict_deployment_minimums=False)
        server = Server(settings)
        server.start_in_thread()
        api = httpx.Client(base_url=settings.base_url, timeout=60)
        try:
            # Production answers in about 1 ms here: shadows of about 1x (the same model), 3x and 10x.
            endpoint(api, "base", model, None)
            endpoint(api, "same", model, {"Image": "greenfleet/sklearn", "ModelDataUrl": str(model)})
            endpoint(api, "slow3", model, {"Image": "greenfleet/script",
                                           "ModelDataUrl": str(_sleepy(root, "s3", 0.003))})
            endpoint(api, "slow10", model, {"Image": "greenfleet/script",
                                            "ModelDataUrl": str(_sleepy(root, "s10", 0.010))})
            runs: dict[str, Any] = {}
            mirror = server.router.mirror
            for name in ("base", "same", "slow3", "base", "slow10"):
                sent, dropped, rss = mirror.sent, mirror.dropped, _rss_mb()
                result = wrk(f"{settings.base_url}/endpoints/{name}/invocations", body, args.seconds, root)
                result.update(mirrored=mirror.sent - sent, dropped=mirror.dropped - dropped,
                              rss_before_mb=rss, rss_after_mb=_rss_mb())
                runs[name if name not in runs else f"{name}-again"] = result
            runs["feedback"] = feedback_ingest(server, api, args.outcomes) if _ab_ready(api) else {}
        finally:
            api.close()
            server.stop_thread()
    report(runs)


def _ab_ready(api: httpx.Client) -> bool:
    # The ingest endpoint needs two production variants for an A/B test: give "base" a second one.
    api.post("/api/endpoint-configs", json={"EndpointConfigName": "base2", "ProductionVariants": [
        {"VariantName": "prod", "ModelName": "base-p", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"},
        {"VariantName": "prod2", "ModelName": "base-p", "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large"}]}).raise_for_status()
    api.post("/api/endpoints/base/update", json={"EndpointConfigName": "base2"}).raise_for_status()
    deadline = time.monotonic() + 120
    while api.get("/api/endpoints/base").json()["EndpointStatus"] != "InService":
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def report(runs: dict[str, Any]) -> None:
    base = (runs["base"]["router_cpu_ms_per_request"] + runs["base-again"]["router_cpu_ms_per_request"]) / 2
    base_p99 = (runs["base"]["p99_ms"] + runs["base-again"]["p99_ms"]) / 2
    print(f"{'run':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}{'mirrored':>10}{'dropped':>9}"
          f"{'RSS MB':>14}")
    for name, r in runs.items():
        if name == "feedback":
            continue
        print(f"{name:<12}{r['rps']:>9.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['router_cpu_ms_per_request']:>12.3f}"
              f"{r['mirrored']:>10}{r['dropped']:>9}{r['rss_before_mb']:>7.0f}->{r['rss_after_mb']:<5.0f}")
    same = runs["same"]
    checks = {
        "mirroring CPU ms/request (same-speed shadow, 100 %) - baseline <= 0.03":
            round(same["router_cpu_ms_per_request"] - base, 4),
        "production p99 with a 1x shadow / without <= 1.10": round(same["p99_ms"] / base_p99, 3),
        "production p99 with a 3x shadow / without <= 1.10": round(runs["slow3"]["p99_ms"] / base_p99, 3),
        "10x shadow: copies dropped (not queued)": runs["slow10"]["dropped"],
        "10x shadow: RSS growth MB": round(runs["slow10"]["rss_after_mb"] - runs["slow10"]["rss_before_mb"], 1),
    }
    if runs.get("feedback"):
        checks["feedback ingest outcomes/s >= 5000"] = round(runs["feedback"]["outcomes_per_s"])
    for label, value in checks.items():
        print(f"  {label}: {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.platform(), "runs": runs, "checks": checks}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
