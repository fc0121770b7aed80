"""Benchmark of shadow mirroring and feedback ingest (not a test), same run, each shadow on its own instance:

- router CPU per request and production p50/p99 at c8 without a shadow, with a shadow as fast as production
  (100 % mirrored), and with one 3x slower; targets: mirroring adds <= 0.03 ms of router CPU per request and
  <= 10 % to production p99;
- a shadow 10x slower: copies beyond the in-flight limit are dropped, not queued (sent/dropped counts, the
  server's RSS before and after);
- feedback ingest: outcomes per second through PutFeedback in batches of 1,000 (target >= 5,000/s).

    .venv/bin/python bench/shadow_bench.py                # ~1.5 min; needs wrk
    .venv/bin/python bench/shadow_bench.py --seconds 20
    .venv/bin/python bench/shadow_bench.py --rounds 8 --seconds 5   # the p99 ratio on a busy machine

``--rounds N --baseline COMMIT`` alternates COMMIT's greenfleet (extracted with ``git archive``) and this
tree's, one round per process (the server started anew each time), the order swapped every round, and
writes bench/results/shadow-baseline.json: the two versions under the same load.

``--rounds N`` measures only production p99 and the router's CPU with a same-speed shadow, N rounds of
``base`` (no shadow), ``same-idle`` (a same-speed shadow at niceness 10 under SCHED_IDLE,
``Settings.shadow_scheduling`` "idle", the default) and ``same-nice`` (the same at niceness 10 on the normal
policy, ``shadow_scheduling`` "nice"), the order rotated every round so that each ratio compares runs a few
seconds apart; it prints each round's ratios and their medians with the load
average before and after, and writes bench/results/shadow-rounds.json.

The server runs in this process (its CPU is this process's, from getrusage; the workers are other
processes), wrk drives the load. Prints a table and writes bench/results/shadow.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import socket
import statistics
import subprocess
import sys
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

sys.path.append(str(Path(__file__).resolve().parents[1]))  # bench.*; appended: a --baseline round's
# PYTHONPATH (the baseline commit's greenfleet) stays first

from bench.baseline_versions import alternate_versions
from bench.proc_cpu import cpu_s, stat_fields
from greenfleet.server import Server
from greenfleet.settings import Settings

RESULTS = Path(__file__).parent / "results" / "shadow.json"
KINDS = ("same-idle", "same-nice")
"""The shadowed runs of ``--rounds`` (each compared with ``base`` of the same round)."""
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


def _lowered_cpu_s(mirror_pid: int | None) -> tuple[float, float]:
    """CPU seconds so far of the router's mirror process, and of this process's other descendants that run
    below normal priority (the shadows' workers): from /proc, Linux only."""
    table: dict[int, tuple[int, float, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := stat_fields(entry.name)) is not None:
            table[int(entry.name)] = (int(fields[1]), cpu_s(fields), int(fields[16]))
    me, mirror, shadows = os.getpid(), 0.0, 0.0
    for pid, (parent, cpu, nice) in table.items():
        if pid == mirror_pid:
            mirror = cpu
            continue
        while parent not in (0, me) and parent in table:
            parent = table[parent][0]
        if parent == me and nice > 0:
            shadows += cpu
    return mirror, shadows


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
    parser.add_argument("--rounds", type=int, default=0)
    parser.add_argument("--baseline", metavar="COMMIT", help="with --rounds: alternate rounds with COMMIT's greenfleet")
    parser.add_argument("--emit", action="store_true", help=argparse.SUPPRESS)  # a --baseline round
    args = parser.parse_args()
    if args.rounds and args.baseline:
        baseline_rounds(args.baseline, args.rounds, args.seconds)
        return
    if args.rounds:
        rounds(args.rounds, args.seconds, args.emit)
        return
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


def rounds(count: int, seconds: int, emit: bool = False) -> None:
    load_before = os.getloadavg()
    results = _measure_rounds(count, seconds, quiet=emit)
    if emit:  # one round of a --baseline run: its figures for the parent
        print(json.dumps(results))
        return
    load_after = os.getloadavg()
    summary = _summary(results)
    print(f"load average before {load_before[0]:.1f} {load_before[1]:.1f}, after {load_after[0]:.1f} "
          f"{load_after[1]:.1f} (1 and 5 min)")
    for name, figures in summary.items():
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    out = RESULTS.with_name("shadow-rounds.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "seconds": seconds, "load_before": load_before,
                               "load_after": load_after, "rounds": results, "summary": summary}, indent=2))
    print(f"wrote {out}")


def baseline_rounds(commit: str, count: int, seconds: int) -> None:
    """Rounds alternating COMMIT's greenfleet and this tree's, each round a fresh process (server and
    endpoints started anew), the order swapped every round: the versions compared under the same load."""
    load_before = os.getloadavg()
    by_version = alternate_versions(
        Path(__file__), commit, count, ["--rounds", "1", "--seconds", str(seconds), "--emit"],
        "gf-shadow-baseline-", lambda index, version, r: print(f"{version:<9}" + _round_line(index, r), flush=True))
    load_after = os.getloadavg()
    summary = {version: _summary(results) for version, results in by_version.items()}
    print(f"load average before {load_before[0]:.1f} {load_before[1]:.1f}, after {load_after[0]:.1f} "
          f"{load_after[1]:.1f} (1 and 5 min)")
    for version, figures in summary.items():
        for name, values in figures.items():
            print(f"  {version} {name}: " + ", ".join(f"{k} {v}" for k, v in values.items()))
    out = RESULTS.with_name("shadow-baseline.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "seconds": seconds, "baseline_commit": commit,
                               "load_before": load_before, "load_after": load_after, "rounds": by_version,
                               "summary": summary}, indent=2))
    print(f"wrote {out}")


def _measure_rounds(count: int, seconds: int, quiet: bool) -> list[dict[str, dict[str, float]]]:
    with tempfile.TemporaryDirectory(prefix="gf-shadow-bench-") as tmp:
        root = Path(tmp)
        model, x = _models(root)
        body = ",".join(f"{v:.6f}" for v in x[0])
        settings = Settings(home=root / "home", port=_free_port(), model_data_roots=tmp,
                            strict_deployment_minimums=False)
        server = Server(settings)
        server.start_in_thread()
        api = httpx.Client(base_url=settings.base_url, timeout=60)
        same = {"Image": "greenfleet/sklearn", "ModelDataUrl": str(model)}
        results: list[dict[str, dict[str, float]]] = []
        try:
            endpoint(api, "base", model, None)
            server.reconciler.shadow_niceness = 10
            server.reconciler.shadow_scheduling = "idle"  # what the shadow started next runs under
            endpoint(api, "same-idle", model, same)
            server.reconciler.shadow_scheduling = "normal"
            endpoint(api, "same-nice", model, same)
            mirror = server.router.mirror
            for _ in range(50):  # the first copies start the mirror process (its start is not measured)
                api.post("/endpoints/same-idle/invocations", content=body, headers={"Content-Type": "text/csv"})
            time.sleep(1.0)
            names = ["base", "same-idle", "same-nice"]
            for index in range(count):
                measured: dict[str, dict[str, float]] = {}
                for name in names[index % 3:] + names[:index % 3]:
                    sent, dropped = mirror.sent, mirror.dropped
                    pid = getattr(getattr(mirror, "link", None), "pid", None)  # (a router without a mirror process)
                    lowered = _lowered_cpu_s(pid)
                    result = wrk(f"{settings.base_url}/endpoints/{name}/invocations", body, seconds, root)
                    after = _lowered_cpu_s(pid)
                    result.update(mirrored=mirror.sent - sent, dropped=mirror.dropped - dropped,
                                  mirror_process_cpu_ms_per_copy=(after[0] - lowered[0]) * 1000
                                  / max(mirror.sent - sent, 1),
                                  shadow_workers_cpu_ms_per_copy=(after[1] - lowered[1]) * 1000
                                  / max(mirror.sent - sent, 1))
                    measured[name] = result
                results.append(measured)
                if not quiet:
                    print(_round_line(index, measured), flush=True)
        finally:
            api.close()
            server.stop_thread()
    return results


def _summary(results: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {f"{name} / base": {
        "p99_ratio_median": round(statistics.median(r[name]["p99_ms"] / r["base"]["p99_ms"] for r in results), 3),
        "p50_ratio_median": round(statistics.median(r[name]["p50_ms"] / r["base"]["p50_ms"] for r in results), 3),
        "router_cpu_ms_per_request_added_median": round(statistics.median(
            r[name]["router_cpu_ms_per_request"] - r["base"]["router_cpu_ms_per_request"] for r in results), 4),
        "router_cpu_ms_per_copy_median": round(statistics.median(
            (r[name]["router_cpu_ms_per_request"] - r["base"]["router_cpu_ms_per_request"]) * r[name]["requests"]
            / max(r[name]["mirrored"], 1) for r in results), 4),
        "mirrored_share_median": round(statistics.median(
            r[name]["mirrored"] / max(r[name]["requests"], 1) for r in results), 3),
        "rps_ratio_median": round(statistics.median(r[name]["rps"] / r["base"]["rps"] for r in results), 3),
        "mirror_process_cpu_ms_per_copy_median": round(statistics.median(
            r[name]["mirror_process_cpu_ms_per_copy"] for r in results), 4),
        "shadow_workers_cpu_ms_per_copy_median": round(statistics.median(
            r[name]["shadow_workers_cpu_ms_per_copy"] for r in results), 4),
    } for name in KINDS}


def _round_line(index: int, measured: dict[str, dict[str, float]]) -> str:
    base = measured["base"]
    parts = [f"round {index + 1}: base p99 {base['p99_ms']:.2f} ms {base['rps']:.0f} req/s"]
    for name in KINDS:
        r = measured[name]
        parts.append(f"{name} p99 x{r['p99_ms'] / base['p99_ms']:.2f} req/s {r['rps']:.0f} "
                     f"CPU +{r['router_cpu_ms_per_request'] - base['router_cpu_ms_per_request']:.3f} ms/req "
                     f"mirrored {r['mirrored'] / max(r['requests'], 1):.0%} dropped {r['dropped']}")
    return "; ".join(parts)


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
