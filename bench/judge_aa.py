"""The canary judge on real-compute models (issue 21): does an identical green pass, a heavier or failing one
get rolled back? Not a test: prints a table, writes JSON under bench/results/.

    .venv/bin/python bench/judge_aa.py --runs 3                        # the grid below, 3 runs per config
    .venv/bin/python bench/judge_aa.py --models xgboost --greens same --shares 25 --instances 1 --runs 8
    .venv/bin/python bench/judge_aa.py --baseline PRODUCTION ...        # judge against blue (the old way)
    .venv/bin/python bench/judge_aa.py --probe                          # attribute the cause (see below)
    .venv/bin/python bench/judge_aa.py --gaps                           # only its in-process part (~30 s)

One run: a fresh endpoint on blue (``--instances`` per fleet), 8 independent users (exponential think
time, mean 30 ms or ``--think``, 1-8 CSV rows of 20 features each, from a separate load process) for ``--warm`` s, then
UpdateEndpoint to green with Steps [share % for ``--bake`` s, 100 %] and the issue's judge: ModelLatency
MANN_WHITNEY (INCREASE, Critical, AllowedIncrease 1.2) and InvocationModelErrors SEQUENTIAL_PROPORTION
(INCREASE, Critical), plus ``--baseline`` / ``--warmup-s``. The outcome and the judge's last figures are
recorded.

Models (``--models``): ``xgboost`` (the built-in image greenfleet/xgboost, an ``xgboost-model`` of 20
trees, as in the issue), ``forest`` (greenfleet/sklearn, a RandomForest of 30 trees, depth 10, in
model.joblib). Greens (``--greens``): ``same`` (the same artifact under another model name: A/A, should be
promoted); ``heavy`` and ``failing`` are script models around a 10-tree forest whose blue predicts twice
per call: ``heavy`` predicts three times (1.5x the compute, no sleep: should be rolled back on latency),
``failing`` raises on 5 % of calls (should be rolled back on errors). Not 1.5x the trees: sklearn's fixed
cost per predict_proba call made a 45-tree forest only 1.18x a 30-tree one here (7.8 against 6.6 ms on
this host at load 12), and XGBoost's 20 trees are ~0.1 ms of a ModelLatency of a millisecond or more.
The error test needs trials: 5 % against 0 % is p = 0.10 at 250 calls a side, 0.0007 at 500 (the
always-valid test at NStar 5000), so give ``failing`` a bake of ~20 s (``--bake 20``) at the issue's load.

``--probe``: no deployment. One endpoint config with two variants of the same model, one instance each,
weights 25/75 then 50/50; the load starts as the endpoint becomes InService. Per variant, the median
ModelLatency (from the metric store) over the first ``--cold`` s (cold) and after (warm). A ratio
quiet/busy above 1 when warm means load asymmetry; cold/warm above 1 for a variant means cold start.
Then, in the bench's own process without HTTP, each model's median time per call when calls come 0.5, 2,
8 or 16 ms apart (XGBoost on every core, as XGBoost defaults, and on one thread, as greenfleet runs it).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing as mp
import os
import statistics
import sys
import tarfile
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from random import Random
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FEATURES = 20
THINK_S = 0.03
TILE_ROWS = 20_000
USERS = 8
SCRIPT = '''
import random

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(f"{model_dir}/model.joblib")


def predict_fn(data, model):
    if random.random() < FAIL_RATE:
        raise RuntimeError("injected failure")
    rows = np.asarray(data, dtype=float)
    batch = np.resize(rows, (max(TILE, len(rows)), rows.shape[1])) if TILE else rows
    for _ in range(REPEAT - 1):
        model.predict_proba(batch)
    return model.predict_proba(batch)[: len(rows), 1].tolist()
'''
"""A script model around the forest: predicts REPEAT times (real compute, no sleep) on the request's rows, or on
them repeated to TILE rows, and fails FAIL_RATE of calls."""
HEAVY_THINK_S = 0.3
"""The users' think time for the ``heavy`` pair, whose calls are ~4x longer (see the docstring)."""


# --- load: a separate process, so the users' HTTP clients do not share the server's GIL ------------------

def _user(url: str, rng: Random, think_s: float, stop: threading.Event, counts: dict[str, int]) -> None:
    import httpx

    with httpx.Client(timeout=30) as client:
        while not stop.wait(rng.expovariate(1 / think_s)):
            rows = rng.randint(1, 8)
            body = "\n".join(",".join(f"{rng.uniform(-3, 3):.4f}" for _ in range(FEATURES)) for _ in range(rows))
            try:
                status = client.post(url, content=body, headers={"Content-Type": "text/csv"}).status_code
            except httpx.HTTPError:
                status = 0
            counts["ok" if status == 200 else "failed"] += 1


def load_process(conn: Connection) -> None:
    while True:
        message = conn.recv()
        if message is None:
            return
        url, seed, think_s = message
        stop = threading.Event()
        counts = {"ok": 0, "failed": 0}
        threads = [threading.Thread(target=_user, args=(url, Random(seed * 1000 + k), think_s, stop, counts))
                   for k in range(USERS)]
        for thread in threads:
            thread.start()
        conn.recv()  # stop
        stop.set()
        for thread in threads:
            thread.join()
        conn.send(counts)


class Users:
    def __init__(self, think_s: float) -> None:
        self.think_s = think_s
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=load_process, args=(child,), daemon=True)
        self.process.start()

    def start(self, url: str, seed: int, think_s: float | None = None) -> None:
        self.conn.send((url, seed, self.think_s if think_s is None else think_s))

    def stop(self) -> dict[str, int]:
        self.conn.send("stop")
        counts: dict[str, int] = self.conn.recv()
        return counts

    def close(self) -> None:
        self.conn.send(None)
        self.process.join(10)


# --- models -----------------------------------------------------------------------------------------------

def make_models(root: Path) -> dict[str, tuple[str, Path]]:
    """name -> (image, ModelDataUrl)."""
    import joblib
    import xgboost
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    x, y = make_classification(n_samples=4000, n_features=FEATURES, n_informative=10, random_state=0)
    out: dict[str, tuple[str, Path]] = {}
    for name, trees in (("xgboost", 20),):
        booster = xgboost.train({"max_depth": 6, "objective": "binary:logistic", "nthread": 1},
                                xgboost.DMatrix(x, label=y), num_boost_round=trees)
        folder = root / name
        folder.mkdir()
        booster.save_model(str(folder / "xgboost-model.json"))
        (folder / "xgboost-model.json").rename(folder / "xgboost-model")
        out[name] = ("greenfleet/xgboost", _tar(folder, "xgboost-model"))
    for name, trees in (("forest", 30),):
        folder = root / name
        folder.mkdir()
        forest = RandomForestClassifier(n_estimators=trees, max_depth=10, random_state=0, n_jobs=1).fit(x, y)
        joblib.dump(forest, folder / "model.joblib")
        out[name] = ("greenfleet/sklearn", _tar(folder, "model.joblib"))
    for name, repeat, rate, tile in (("forest-script", 2, 0.0, 0), ("forest-failing", 2, 0.05, 0),
                                     ("forest-tiled", 2, 0.0, TILE_ROWS), ("forest-tiled-heavy", 3, 0.0, TILE_ROWS)):
        folder = root / name
        (folder / "code").mkdir(parents=True)
        trees = 20 if tile else 10
        joblib.dump(RandomForestClassifier(n_estimators=trees, max_depth=10, random_state=0, n_jobs=1).fit(x, y),
                    folder / "model.joblib")
        (folder / "code" / "inference.py").write_text(
            f"REPEAT = {repeat}\nFAIL_RATE = {rate}\nTILE = {tile}\n" + SCRIPT)
        out[name] = ("greenfleet/script", folder)
    return out


def _tar(folder: Path, member: str) -> Path:
    archive = folder / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder / member, arcname=member)
    return archive


def pair(model: str, green: str) -> tuple[str, str]:
    """(blue artifact, green artifact) for a model family and a kind of green."""
    if green == "failing":
        return "forest-script", "forest-failing"
    if green == "heavy":
        return "forest-tiled", "forest-tiled-heavy"
    return model, model


# --- the API ----------------------------------------------------------------------------------------------

class Api:
    def __init__(self, base_url: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=base_url, timeout=30)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def model(self, name: str, artifact: tuple[str, Path]) -> None:
        image, url = artifact
        self.call("POST", "/api/models", {"ModelName": name, "PrimaryContainer": {"Image": image,
                                                                                   "ModelDataUrl": str(url)}})

    def config(self, name: str, variants: list[tuple[str, str, int, float]]) -> None:
        self.call("POST", "/api/endpoint-configs", {"EndpointConfigName": name, "ProductionVariants": [
            {"VariantName": v, "ModelName": m, "InitialInstanceCount": n, "InitialVariantWeight": w,
             "InstanceType": "ml.m5.large"} for v, m, n, w in variants]})

    def wait(self, name: str, timeout_s: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            described: dict[str, Any] = self.call("GET", f"/api/endpoints/{name}")
            if described["EndpointStatus"] in ("InService", "Failed"):
                return described
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not settle in {timeout_s} s")


def judge_config(args: argparse.Namespace) -> dict[str, Any]:
    judge: dict[str, Any] = {"Metrics": [
        {"Name": "latency", "MetricName": "ModelLatency", "Test": "MANN_WHITNEY", "Direction": "INCREASE",
         "Critical": True, "AllowedIncrease": 1.2},
        {"Name": "errors", "MetricName": "InvocationModelErrors", "Test": "SEQUENTIAL_PROPORTION",
         "Direction": "INCREASE", "Critical": True}], "IntervalInSeconds": 2}
    if args.baseline is not None:
        judge["Baseline"] = args.baseline
    if args.warmup_s is not None:
        judge["WarmUpInSeconds"] = args.warmup_s
    return judge


def one_run(api: Api, users: Users, base_url: str, artifacts: dict[str, tuple[str, Path]], run: int,
            model: str, green: str, share: int, instances: int, args: argparse.Namespace) -> dict[str, Any]:
    endpoint = f"r{run}"
    blue_art, green_art = pair(model, green)
    for side, artifact in (("blue", blue_art), ("green", green_art)):
        api.model(f"{endpoint}-{side}", artifacts[artifact])
        api.config(f"{endpoint}-{side}", [("main", f"{endpoint}-{side}", instances, 1.0)])
    api.call("POST", "/api/endpoints", {"EndpointName": endpoint, "EndpointConfigName": f"{endpoint}-blue"})
    api.wait(endpoint)
    think = args.heavy_think if green == "heavy" else None
    users.start(f"{base_url}/endpoints/{endpoint}/invocations", seed=run, think_s=think)
    time.sleep(args.warm)
    load = os.getloadavg()[0]
    started = time.monotonic()
    api.call("POST", f"/api/endpoints/{endpoint}/update", {"EndpointConfigName": f"{endpoint}-green",
             "DeploymentConfig": {"GreenfleetRollout": {
                 "Steps": [{"TrafficPercent": share, "BakeInSeconds": int(args.bake)},
                           {"TrafficPercent": 100, "BakeInSeconds": 0}], "Judge": judge_config(args)}}})
    while True:
        time.sleep(0.2)
        doc = api.call("GET", f"/api/endpoints/{endpoint}/deployments/latest")
        if doc.get("Outcome"):
            break
        if time.monotonic() - started > 180:
            raise RuntimeError(f"{endpoint}: deployment not over after 180 s")
    counts = users.stop()
    api.call("DELETE", f"/api/endpoints/{endpoint}")
    judge = (doc.get("Rollout") or {}).get("Judge") or {}
    report = judge.get("LastJudgement") or judge.get("Latest") or {}
    figures = {m["name"]: {k: m.get(k) for k in ("verdict", "control_n", "experiment_n", "control_value",
                                                    "experiment_value", "effect", "p_value", "estimate")}
               for m in report.get("metrics", [])}
    return {"model": model, "green": green, "share": share, "instances": instances, "run": run,
            "outcome": doc["Outcome"], "reason": doc.get("FailureReason"), "seconds": time.monotonic() - started,
            "loadavg_1m": load, "requests": counts, "judge": figures, "compared": judge.get("Compared"),
            "excluded": judge.get("Excluded")}


def expected(green: str) -> str:
    return "SUCCEEDED" if green == "same" else "ROLLED_BACK"


def grid(args: argparse.Namespace) -> list[tuple[str, str, int, int]]:
    configs = []
    for model, green, share, instances in itertools.product(args.models, args.greens, args.shares, args.instances):
        if green in ("failing", "heavy") and model != "forest":
            continue  # a heavier or failing green is a forest (XGBoost's 20 trees are ~0.1 ms of a ms-long call)
        configs.append((model, green, share, instances))
    return configs


def bench(args: argparse.Namespace, api: Api, users: Users, base_url: str,
          artifacts: dict[str, tuple[str, Path]]) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    counter = itertools.count()
    for _ in range(args.runs):  # round-robin, so a busy spell of the machine spreads over the configs
        for model, green, share, instances in grid(args):
            result = one_run(api, users, base_url, artifacts, next(counter), model, green, share, instances, args)
            runs.append(result)
            lat = result["judge"].get("latency", {})
            print(f"  {model:8} {green:8} {share:3}% x{instances}: {result['outcome']:12} "
                  f"latency {lat.get('verdict')} ratio {_ratio(lat)} load {result['loadavg_1m']:.1f} "
                  f"({result['seconds']:.1f} s)", flush=True)
    table: list[dict[str, Any]] = []
    for model, green, share, instances in grid(args):
        mine = [r for r in runs if (r["model"], r["green"], r["share"], r["instances"]) ==
                (model, green, share, instances)]
        ratios = [r for r in (_median_ratio(r["judge"].get("latency", {})) for r in mine) if r is not None]
        table.append({"model": {"failing": "forest-script", "heavy": "forest-tiled"}.get(green, model), "green": green,
                      "share": share, "instances": instances, "runs": len(mine),
                      "as_expected": sum(1 for r in mine if r["outcome"] == expected(green)),
                      "promoted": sum(1 for r in mine if r["outcome"] == "SUCCEEDED"),
                      "median_ratio": statistics.median(ratios) if ratios else None,
                      "ratios": ratios})
    return {"runs": runs, "table": table}


def _median_ratio(lat: dict[str, Any]) -> float | None:
    blue, green = lat.get("control_value"), lat.get("experiment_value")
    return green / blue if blue and green else None


def _ratio(lat: dict[str, Any]) -> str:
    value = _median_ratio(lat)
    return f"{value:.2f}" if value is not None else "-"


# --- the probe --------------------------------------------------------------------------------------------

def probe(args: argparse.Namespace, server: Any, api: Api, users: Users, base_url: str,
          artifacts: dict[str, tuple[str, Path]]) -> dict[str, Any]:
    from greenfleet.judge.samples import values_from_bins
    from greenfleet.metrics.aggregate import Aggregate
    from greenfleet.metrics.series import SeriesKey

    def medians(endpoint: str, variant: str, start: int, end: int) -> tuple[float | None, int]:
        key = SeriesKey("AWS/SageMaker", "ModelLatency",
                        tuple(sorted((("EndpointName", endpoint), ("VariantName", variant)))))
        total = Aggregate(0.0, 0.0, 0.0, 0.0)
        for series in server.metrics.store.find(key):
            for agg in server.metrics.store.aggregate(series, start, end, end - start):
                if agg is not None:
                    total.absorb(agg)
        if total.count == 0:
            return None, 0
        values = values_from_bins(total.view().bins())
        return float(statistics.median(values.tolist())) / 1000, int(total.count)

    rows = []
    n = 0
    for repeat in range(args.runs):
        for model in args.models:
            for quiet_weight in (25, 50):
                endpoint = f"p{n}"
                n += 1
                api.model(endpoint, artifacts[model])
                api.config(endpoint, [("quiet", endpoint, 1, float(quiet_weight)),
                                      ("busy", endpoint, 1, float(100 - quiet_weight))])
                api.call("POST", "/api/endpoints", {"EndpointName": endpoint, "EndpointConfigName": endpoint})
                api.wait(endpoint)
                t0 = math.ceil(time.time())
                users.start(f"{base_url}/endpoints/{endpoint}/invocations", seed=repeat)
                load = os.getloadavg()[0]
                time.sleep(args.cold + args.bake + 1.5)
                users.stop()
                time.sleep(1.2)  # the last second flushed
                api.call("DELETE", f"/api/endpoints/{endpoint}")
                row: dict[str, Any] = {"model": model, "weights": f"{quiet_weight}/{100 - quiet_weight}",
                                       "repeat": repeat, "loadavg_1m": load}
                for variant in ("quiet", "busy"):
                    for phase, (a, b) in (("cold", (t0, t0 + args.cold)),
                                          ("warm", (t0 + args.cold, t0 + args.cold + int(args.bake)))):
                        row[f"{variant}_{phase}_ms"], row[f"{variant}_{phase}_n"] = medians(endpoint, variant, a, b)
                row["warm_quiet_over_busy"] = _div(row["quiet_warm_ms"], row["busy_warm_ms"])
                row["cold_quiet_over_busy"] = _div(row["quiet_cold_ms"], row["busy_cold_ms"])
                row["quiet_cold_over_warm"] = _div(row["quiet_cold_ms"], row["quiet_warm_ms"])
                row["busy_cold_over_warm"] = _div(row["busy_cold_ms"], row["busy_warm_ms"])
                rows.append(row)
                print(f"  {model:8} {row['weights']}: warm quiet/busy {_f(row['warm_quiet_over_busy'])}, "
                      f"cold quiet/busy {_f(row['cold_quiet_over_busy'])}, cold/warm quiet "
                      f"{_f(row['quiet_cold_over_warm'])} busy {_f(row['busy_cold_over_warm'])} "
                      f"(warm medians {_f(row['quiet_warm_ms'])} / {_f(row['busy_warm_ms'])} ms, load {load:.1f})",
                      flush=True)
    return {"probe": rows, "gaps": gap_probe()}


GAPS_MS = (0.5, 2.0, 8.0, 16.0)


def gap_probe(calls: int = 250) -> list[dict[str, Any]]:
    """In this process, without HTTP: one model's median time per call when calls come ``gap`` ms apart. At
    8 users x 30 ms think time a 75 % share sees ~5 ms gaps per instance and a 25 % share ~16 ms."""
    import numpy as np
    import xgboost
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    x, y = make_classification(n_samples=4000, n_features=FEATURES, n_informative=10, random_state=0)
    booster = xgboost.train({"max_depth": 6, "objective": "binary:logistic"}, xgboost.DMatrix(x, label=y), 40)
    forest = RandomForestClassifier(n_estimators=10, max_depth=10, random_state=0, n_jobs=1).fit(x, y)
    rows = np.random.default_rng(0).uniform(-3, 3, (4, FEATURES))
    out = []
    for label, predict in (("xgboost nthread=cores", lambda: booster.inplace_predict(rows)),
                           ("xgboost nthread=1", lambda: booster.inplace_predict(rows)),
                           ("forest", lambda: forest.predict_proba(rows))):
        if label == "xgboost nthread=1":
            booster.set_param({"nthread": 1})
        row: dict[str, Any] = {"model": label}
        for gap in GAPS_MS:
            times = []
            for _ in range(calls):
                time.sleep(gap / 1000)
                t = time.perf_counter()
                predict()
                times.append(time.perf_counter() - t)
            row[f"gap_{gap:g}ms"] = statistics.median(times) * 1000
        row["loadavg_1m"] = os.getloadavg()[0]
        out.append(row)
        print(f"  {label:22} " + ", ".join(f"gap {g:g} ms: {row[f'gap_{g:g}ms']:.3f} ms" for g in GAPS_MS), flush=True)
    return out


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def _f(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def print_table(result: dict[str, Any]) -> None:
    if "probe" in result:
        print("\n| model | weights quiet/busy | warm quiet/busy | cold quiet/busy | quiet cold/warm | busy cold/warm |"
              " warm medians ms | load |")
        print("|---|---|---:|---:|---:|---:|---|---:|")
        for r in result["probe"]:
            print(f"| {r['model']} | {r['weights']} | {_f(r['warm_quiet_over_busy'])} | "
                  f"{_f(r['cold_quiet_over_busy'])} | {_f(r['quiet_cold_over_warm'])} | "
                  f"{_f(r['busy_cold_over_warm'])} | {_f(r['quiet_warm_ms'])} / {_f(r['busy_warm_ms'])} | "
                  f"{r['loadavg_1m']:.1f} |")
        print("\n| model (in-process, no HTTP) | " + " | ".join(f"gap {g:g} ms" for g in GAPS_MS) + " | load |")
        print("|---|" + "---:|" * (len(GAPS_MS) + 1))
        for g in result.get("gaps", []):
            print(f"| {g['model']} | " + " | ".join(f"{g[f'gap_{x:g}ms']:.3f} ms" for x in GAPS_MS)
                  + f" | {g['loadavg_1m']:.1f} |")
        return
    print("\n| model | green | share | instances | runs | as expected | promoted | median green/control latency |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in result["table"]:
        ratios = ", ".join(f"{x:.2f}" for x in r["ratios"])
        print(f"| {r['model']} | {r['green']} | {r['share']} % | {r['instances']} | {r['runs']} | "
              f"{r['as_expected']}/{r['runs']} | {r['promoted']} | {ratios} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe", action="store_true")
    parser.add_argument("--gaps", action="store_true", help="only the probe's per-call time against the idle gap")
    parser.add_argument("--runs", type=int, default=1, help="runs per config (probe: repeats)")
    parser.add_argument("--models", type=lambda s: s.split(","), default=["xgboost", "forest"])
    parser.add_argument("--greens", type=lambda s: s.split(","), default=["same", "heavy", "failing"])
    parser.add_argument("--shares", type=lambda s: [int(x) for x in s.split(",")], default=[10, 25, 50])
    parser.add_argument("--instances", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    parser.add_argument("--bake", type=float, default=8.0, help="judged bake, s (probe: the warm window)")
    parser.add_argument("--warm", type=float, default=3.0, help="load on blue alone before the update, s")
    parser.add_argument("--cold", type=int, default=3, help="probe: the cold window after InService, s")
    parser.add_argument("--baseline", choices=["FRESH", "PRODUCTION"], default=None,
                        help="Judge.Baseline (default: the judge's default)")
    parser.add_argument("--warmup-s", type=float, default=None, help="Judge.WarmUpInSeconds")
    parser.add_argument("--think", type=float, default=THINK_S, help="users' mean think time, s")
    parser.add_argument("--heavy-think", type=float, default=HEAVY_THINK_S,
                        help="users' mean think time for the heavy pair, s")
    parser.add_argument("--tag", default="", help="appended to the result file's name")
    args = parser.parse_args()

    if args.gaps:
        result = {"probe": [], "gaps": gap_probe(), "loadavg_before": os.getloadavg()}
        print_table(result)
        out = Path(__file__).parent / "results" / f"judge-gaps{args.tag}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        print(f"\nJSON: {out}")
        return

    from greenfleet.server import Server
    from greenfleet.settings import Settings
    from tests.conftest import free_port

    root = Path(tempfile.mkdtemp(prefix="gf-judge-aa-"))
    artifacts = make_models(root)
    settings = Settings(home=root / "home", port=free_port(), strict_deployment_minimums=False,
                        reconcile_interval_s=0.1, health_check_interval_s=0.2, model_data_roots=str(root),
                        drain_timeout_s=5.0)
    server = Server(settings)
    server.start_in_thread()
    users = Users(args.think)
    began, load_before = time.time(), os.getloadavg()
    try:
        api = Api(settings.base_url)
        result = probe(args, server, api, users, settings.base_url, artifacts) if args.probe else \
            bench(args, api, users, settings.base_url, artifacts)
    finally:
        users.close()
        server.stop_thread()
    result.update({"args": {k: v for k, v in vars(args).items()}, "judge": judge_config(args),
                   "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
                   "seconds": time.time() - began, "cpus": os.cpu_count()})
    print_table(result)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(__file__).parent / "results" / f"judge-{'probe' if args.probe else 'aa'}{args.tag}-{stamp}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\n{time.time() - began:.0f} s; load before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}; "
          f"JSON: {out}")


if __name__ == "__main__":
    main()
