"""greenfleet's serving benchmark, run through the peers' harness (../shared/bench/peers/harness.py).

The peers' harness is imported, not copied: this module appends two configs to its ``CONFIGS`` and
calls its ``main()``, so greenfleet is measured with exactly the peers' procedure (per round and config:
start in its own session -> time to the first correct answer, 10 s idle -> RSS/PSS summed over the
server's session and all its descendants, 5 s c8 warm-up, ``wrk -t1 -c8 -d15s --latency`` with the CPU
seconds of those processes, ``wrk -t1 -c1 -d15s --latency``, stop; rounds alternate forward/reverse):

    greenfleet-router   bench/greenfleet_router.py: `greenfleet server` + one endpoint with one
                        greenfleet/sklearn instance; POST /endpoints/bench/invocations
    greenfleet-direct   the same worker alone (`python -m greenfleet.workers`, SageMaker env contract);
                        POST /invocations -- isolates the router's overhead
    bare-w1, mlflow-w1  the peers' configs, run in the same session for the ratios

The request body is the peers' ``payload_mlflow_inputs.json`` (``{"inputs": [[20 floats]]}``): the
sklearn runtime does not accept the ``{"x": ...}`` body of ``payload_x.json`` (see README.md).

Wrapped harness functions (the procedure is unchanged, only observed): ``run_config`` (records the load
average before each config and the greenfleet launcher's startup timestamps), ``correct`` (the wall-clock
time of the first correct answer: create -> first successful invocation), ``memory`` (per-process RSS,
so server and worker can be told apart), ``versions`` (tolerates peer venvs that were not installed).

Usage: bench/run-serving (installs what is missing first), or directly
    .venv/bin/python bench/serving.py
Env: the harness's knobs (PEERS_ROOT, PEERS_ROUNDS, PEERS_ONLY, PEERS_DURATION, PEERS_WARMUP, PEERS_IDLE,
PEERS_OUT), plus GF_PEERS_DIR (harness directory, default ../shared/bench/peers), GF_BENCH_MLFLOW
(``run`` default; ``reference`` = take mlflow-w1 from the peers' recorded 3-round run instead of running
it), GF_BENCH_RESULTS (where serving-<stamp>.json/.md go, default bench/results), GF_BENCH_BASELINE (another
greenfleet checkout with a venv of its own, e.g. a worktree of an older commit: its router and worker run in
the same rounds as ``greenfleet-router@base`` and ``greenfleet-direct@base``, and the report gives this
checkout's figures as ratios of the baseline's -- the honest way to tell a code regression from a machine
that is slower today).
Output: a table on stdout, bench/results/serving-<stamp>.{json,md}; raw harness output (results.jsonl,
logs/) under $PEERS_OUT (default $PEERS_ROOT/results/greenfleet-<stamp>).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PEERS_DIR = Path(os.environ.get("GF_PEERS_DIR") or REPO.parent / "shared" / "bench" / "peers").resolve()
sys.path.insert(0, str(PEERS_DIR))

import harness  # noqa: E402  (the peers' harness, found through sys.path)

GF_VENV = os.environ.get("GF_BENCH_VENV") or str(REPO / ".venv")
BASELINE = Path(os.environ["GF_BENCH_BASELINE"]).resolve() if os.environ.get("GF_BENCH_BASELINE") else None
ROUTER_PORT = 8600
DIRECT_PORT = 8700
DIRECT_MODEL_DIR = os.path.join(harness.ROOT, "greenfleet-direct-model")
PAYLOAD = "payload_mlflow_inputs.json"  # {"inputs": [[...20 floats]]}; payload_x.json's {"x": ...} is rejected
DEFAULT_ONLY = "mlflow-w1,bare-w1,greenfleet-router,greenfleet-direct"
RECORDED = PEERS_DIR / "results" / "results-3rounds.jsonl"
TARGETS = {
    "rps_vs_mlflow": 2.5,  # greenfleet-router req/s c8 / mlflow-w1 req/s c8, at least
    "router_overhead_p50_c1_ms": 0.15,  # router p50 c1 - direct p50 c1, at most
    "router_cpu_ms_per_req": 0.35,  # server + worker CPU per request at c8, at most
    "create_to_first_s": 2.0,  # CreateEndpoint -> first correct invocation, at most
    "idle_rss_mb": 200.0,  # server + one instance, idle, at most
}

ROUTER = dict(
    name="greenfleet-router", peer="greenfleet (server + 1 instance)", pkg="greenfleet", venv=GF_VENV,
    workers="1 instance",
    cmd=["python", str(REPO / "bench" / "greenfleet_router.py"), "--port", str(ROUTER_PORT),
         "--model", harness.MODEL, "--endpoint", "bench"],
    env={}, port=ROUTER_PORT, path="/endpoints/bench/invocations", payload=PAYLOAD, pred_key="predictions",
)
DIRECT = dict(
    name="greenfleet-direct", peer="greenfleet worker alone", pkg="greenfleet", venv=GF_VENV, workers="1",
    cmd=["python", "-m", "greenfleet.workers"],
    env={"SAGEMAKER_BIND_TO_PORT": str(DIRECT_PORT), "SM_MODEL_DIR": DIRECT_MODEL_DIR,
         "GREENFLEET_IMAGE": "greenfleet/sklearn", "GREENFLEET_MODEL_DATA_URL": harness.MODEL},
    port=DIRECT_PORT, path="/invocations", payload=PAYLOAD, pred_key="predictions",
)


def baseline_configs(checkout: Path) -> list[dict[str, Any]]:
    """The router and worker configs again, run from another checkout (its own launcher and venv)."""
    venv = str(checkout / ".venv")
    router = {**ROUTER, "name": "greenfleet-router@base", "venv": venv, "env": {},
              "cmd": ["python", str(checkout / "bench" / "greenfleet_router.py"), "--port", str(ROUTER_PORT),
                      "--model", harness.MODEL, "--endpoint", "bench"]}
    direct = {**DIRECT, "name": "greenfleet-direct@base", "venv": venv, "env": dict(DIRECT["env"])}
    return [router, direct]


# ---------------------------------------------------------------- observing the harness
_STATE: dict[str, Any] = {"first_ok": None, "memory": []}


def _wrap_correct(original: Callable[..., bool]) -> Callable[..., bool]:
    def correct(cfg: dict[str, Any], status: int, data: bytes) -> bool:
        ok = original(cfg, status, data)
        if ok and _STATE["first_ok"] is None:
            _STATE["first_ok"] = time.time()
        return ok

    return correct


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def _wrap_memory(original: Callable[..., tuple[float, float]]) -> Callable[..., tuple[float, float]]:
    def memory(pids: set[int]) -> tuple[float, float]:
        per = [[pid, round(harness.kb_field(f"/proc/{pid}/status", "VmRSS:") / 1024.0, 1),
                round(harness.kb_field(f"/proc/{pid}/smaps_rollup", "Pss:") / 1024.0, 1), _cmdline(pid)[:90]]
               for pid in sorted(pids)]
        _STATE["memory"].append(per)
        return original(pids)

    return memory


def _loadavg() -> list[float]:
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def _wrap_run_config(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def run_config(cfg: dict[str, Any], rnd: int, logdir: str) -> dict[str, Any]:
        status_path = os.path.join(logdir, f"r{rnd}-{cfg['name']}.status.json")
        launcher = any(str(arg).endswith("greenfleet_router.py") for arg in cfg["cmd"])
        if launcher:
            cfg["env"]["GF_BENCH_STATUS"] = status_path
        _STATE["first_ok"], _STATE["memory"] = None, []
        load = _loadavg()
        rec = original(cfg, rnd, logdir)
        rec["loadavg_before"] = load
        rec["first_ok_at"] = _STATE["first_ok"]
        rec["memory_by_proc"] = _STATE["memory"][:1]  # the idle measurement
        if launcher and os.path.exists(status_path):
            with open(status_path) as f:
                status = json.load(f)
            rec["launcher"] = status
            if "endpoint_created" in status and _STATE["first_ok"] is not None:
                rec["create_to_first_s"] = _STATE["first_ok"] - status["endpoint_created"]
                rec["server_boot_s"] = status["listening"] - status["launched"]
                if "in_service" in status:
                    rec["create_to_in_service_s"] = status["in_service"] - status["endpoint_created"]
        return rec

    return run_config


def _versions() -> dict[str, Any]:
    """harness.versions() needs all four peer venvs; this one reports the venvs that exist, plus ours."""
    code = "import importlib.metadata as m,json,sys; print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    wanted = {"mlflow": ["mlflow", "scikit-learn", "numpy", "uvicorn", "fastapi", "pandas"],
              "bentoml": ["bentoml", "scikit-learn", "numpy"], "ray": ["ray", "scikit-learn", "numpy", "uvicorn"],
              "bare": ["uvicorn", "starlette", "uvloop", "httptools", "scikit-learn", "numpy"],
              GF_VENV: ["greenfleet", "uvicorn", "uvloop", "httptools", "scikit-learn", "numpy"]}
    v: dict[str, Any] = {}
    for vname, pkgs in wanted.items():
        python = os.path.join(harness.venv(vname), "bin", "python")
        if not os.path.exists(python):
            v[vname] = None
            continue
        out = subprocess.run([python, "-c", code, *pkgs], capture_output=True, text=True)
        v["greenfleet" if vname == GF_VENV else vname] = json.loads(out.stdout) if out.returncode == 0 else None
    v["python"] = subprocess.run([os.path.join(GF_VENV, "bin", "python"), "-V"], capture_output=True,
                                 text=True).stdout.strip()
    v["wrk"] = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    v["kernel"] = os.uname().release
    v["cpus"] = os.cpu_count()
    return v


def install() -> None:
    """Add our configs to the harness and put the observers in place."""
    if _STATE.get("installed"):
        return
    _STATE["installed"] = True
    harness.CONFIGS.extend((ROUTER, DIRECT))
    if BASELINE is not None:
        harness.CONFIGS.extend(baseline_configs(BASELINE))
    harness.run_config = _wrap_run_config(harness.run_config)
    harness.correct = _wrap_correct(harness.correct)
    harness.memory = _wrap_memory(harness.memory)
    harness.versions = _versions


# ---------------------------------------------------------------- summary
def _med(xs: list[float | None]) -> float | None:
    ys = [x for x in xs if x is not None]
    return statistics.median(ys) if ys else None


def _cpu_split(rec: dict[str, Any]) -> dict[str, float]:
    """CPU ms/request at c8 by role: the server process(es) and the worker process(es)."""
    worker = sum(cpu for _, cpu, cmd in rec["c8"]["cpu_by_proc"] if "greenfleet.workers" in cmd)
    total = rec["c8"]["server_cpu_s"]
    n = max(rec["c8"]["requests"], 1)
    return {"worker_ms_per_req": 1000.0 * worker / n, "server_ms_per_req": 1000.0 * (total - worker) / n}


def config_summary(recs: list[dict[str, Any]], source: str) -> dict[str, Any]:
    ok = [r for r in recs if "error" not in r]
    errors = [r["error"] for r in recs if "error" in r]
    if not ok:
        return {"source": source, "rounds_ok": 0, "rounds": len(recs), "errors": errors}

    def m(fn: Callable[[dict[str, Any]], float | None]) -> float | None:
        return _med([fn(r) for r in ok])

    s: dict[str, Any] = {
        "source": source, "rounds_ok": len(ok), "rounds": len(recs), "errors": errors,
        "rps_c8": m(lambda r: r["c8"]["rps"]),
        "p50_c8_ms": m(lambda r: r["c8"]["lat_p50_us"] / 1000),
        "p99_c8_ms": m(lambda r: r["c8"]["lat_p99_us"] / 1000),
        "p50_c1_ms": m(lambda r: r["c1"]["lat_p50_us"] / 1000),
        "p99_c1_ms": m(lambda r: r["c1"]["lat_p99_us"] / 1000),
        "rps_c1": m(lambda r: r["c1"]["rps"]),
        "startup_s": m(lambda r: r["startup_s"]),
        "rss_mb": m(lambda r: r["rss_mb"]),
        "pss_mb": m(lambda r: r["pss_mb"]),
        "nprocs": m(lambda r: r["nprocs"]),
        "server_cpu_ms_per_req": m(lambda r: r["c8"]["server_cpu_ms_per_req"]),
        "machine_busy_pct_c8": m(lambda r: r["c8"]["machine_busy_pct"]),
        "non2xx": sum(r["c8"]["err_status"] + r["c1"]["err_status"] for r in ok),
        "socket_errors": sum(r[k][e] for r in ok for k in ("c8", "c1")
                             for e in ("err_connect", "err_read", "err_write", "err_timeout")),
    }
    # CPU of everything else on the machine during c8 (other users' jobs): a noise indicator
    cpus = os.cpu_count() or 1
    s["other_cpu_cores_c8"] = m(lambda r: max(
        r["c8"]["machine_busy_pct"] / 100 * cpus
        - (r["c8"]["server_cpu_s"] + r["c8"]["wrk_cpu_s"]) / (r["c8"]["duration_us"] / 1e6), 0.0))
    if any("create_to_first_s" in r for r in ok):
        s["create_to_first_s"] = m(lambda r: r.get("create_to_first_s"))
        s["create_to_in_service_s"] = m(lambda r: r.get("create_to_in_service_s"))
        s["server_boot_s"] = m(lambda r: r.get("server_boot_s"))
    if any("greenfleet.workers" in cmd for r in ok for _, _, cmd in r["c8"].get("cpu_by_proc", [])):
        split = [_cpu_split(r) for r in ok]
        s["worker_cpu_ms_per_req"] = _med([x["worker_ms_per_req"] for x in split])
        s["server_process_cpu_ms_per_req"] = _med([x["server_ms_per_req"] for x in split])
    mem = [r.get("memory_by_proc") for r in ok if r.get("memory_by_proc")]
    if mem:
        s["idle_rss_by_proc_mb"] = [[cmd, rss] for _, rss, _, cmd in mem[-1][0]]
    return s


def recorded(name: str) -> dict[str, Any] | None:
    if not RECORDED.exists():
        return None
    recs = [json.loads(line) for line in RECORDED.read_text().splitlines() if line.strip()]
    mine = [r for r in recs if r.get("kind") == "peer" and r.get("name") == name]
    return config_summary(mine, "recorded (peers results/results-3rounds.jsonl)") if mine else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def targets(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    router = results.get("greenfleet-router", {})
    direct = results.get("greenfleet-direct", {})
    mlflow = results.get("mlflow-w1") or {}
    overhead = (router["p50_c1_ms"] - direct["p50_c1_ms"]
                if router.get("p50_c1_ms") is not None and direct.get("p50_c1_ms") is not None else None)
    measured = {
        "rps_vs_mlflow": _ratio(router.get("rps_c8"), mlflow.get("rps_c8")),
        "router_overhead_p50_c1_ms": overhead,
        "router_cpu_ms_per_req": router.get("server_cpu_ms_per_req"),
        "create_to_first_s": router.get("create_to_first_s"),
        "idle_rss_mb": router.get("rss_mb"),
    }
    out = {}
    for key, target in TARGETS.items():
        value = measured[key]
        at_least = key == "rps_vs_mlflow"
        met = None if value is None else (value >= target if at_least else value <= target)
        out[key] = {"measured": value, "target": target, "kind": "min" if at_least else "max", "met": met}
    out["rps_vs_mlflow"]["mlflow_source"] = mlflow.get("source")
    return out


def _f(x: float | None, nd: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{nd}f}"


def render(report: dict[str, Any]) -> str:
    lines = [f"# greenfleet serving benchmark ({report['rounds']} round(s), medians across rounds)", "",
             f"{report['machine']}", "",
             "| config | source | req/s c8 | p50 c8 ms | p99 c8 ms | p50 c1 ms | req/s c1 | startup s "
             "| create→first s | RSS MB (PSS) idle | procs | CPU ms/req c8 | other jobs' CPU cores c8 "
             "| non-2xx | rounds ok |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in report["configs"].items():
        if not s.get("rounds_ok"):
            lines.append(f"| {name} | {s.get('source')} | ERROR: {'; '.join(s.get('errors') or ['no data'])} |")
            continue
        lines.append("| " + " | ".join([
            name, s["source"], _f(s["rps_c8"], 0), _f(s["p50_c8_ms"]), _f(s["p99_c8_ms"]), _f(s["p50_c1_ms"]),
            _f(s["rps_c1"], 0), _f(s["startup_s"]), _f(s.get("create_to_first_s")),
            f"{_f(s['rss_mb'], 0)} ({_f(s['pss_mb'], 0)})", _f(s["nprocs"], 0), _f(s["server_cpu_ms_per_req"], 3),
            _f(s.get("other_cpu_cores_c8"), 2), str(s["non2xx"] + s["socket_errors"]),
            f"{s['rounds_ok']}/{s['rounds']}"]) + " |")
    lines += ["", "| target (issue 2) | measured | target | met |", "|---|---:|---:|---|"]
    labels = {"rps_vs_mlflow": "greenfleet-router req/s ÷ mlflow-w1 req/s (c8)",
              "router_overhead_p50_c1_ms": "router overhead p50 c1 ms (router - direct)",
              "router_cpu_ms_per_req": "router + worker CPU ms/req (c8)",
              "create_to_first_s": "CreateEndpoint → first correct invocation s",
              "idle_rss_mb": "idle RSS MB, server + 1 instance"}
    for key, t in report["targets"].items():
        met = {True: "yes", False: "NO", None: "n/a"}[t["met"]]
        extra = f" (mlflow-w1: {t['mlflow_source']})" if key == "rps_vs_mlflow" else ""
        lines.append(f"| {labels[key]}{extra} | {_f(t['measured'], 3)} | "
                     f"{'≥' if t['kind'] == 'min' else '≤'} {t['target']} | {met} |")
    router = report["configs"].get("greenfleet-router", {})
    if router.get("rounds_ok"):
        lines += ["", "greenfleet-router breakdown (medians): "
                  f"server boot {_f(router.get('server_boot_s'))} s; CreateEndpoint → InService "
                  f"{_f(router.get('create_to_in_service_s'))} s; CPU ms/req c8: server process "
                  f"{_f(router.get('server_process_cpu_ms_per_req'), 3)}, worker "
                  f"{_f(router.get('worker_cpu_ms_per_req'), 3)}; idle RSS by process: "
                  + ", ".join(f"{'worker' if 'greenfleet.workers' in cmd else 'server'} {rss:.0f} MB"
                              for cmd, rss in router.get("idle_rss_by_proc_mb", []))]
    for name in ("bare-w1", "mlflow-w1"):
        now, then = report["configs"].get(name, {}), report["recorded"].get(name) or {}
        if now.get("rounds_ok") and now.get("source") == "this run" and then.get("rps_c8"):
            lines.append(f"\nDrift check: {name} now {_f(now['rps_c8'], 0)} req/s c8, p50 c1 "
                         f"{_f(now['p50_c1_ms'])} ms; recorded {_f(then['rps_c8'], 0)} req/s, "
                         f"{_f(then['p50_c1_ms'])} ms.")
    if report.get("vs_baseline"):
        lines += ["", f"This checkout ÷ the baseline checkout ({report.get('baseline')}), same rounds:", "",
                  "| config | " + " | ".join(label for _, label in COMPARED) + " |",
                  "|---|" + "---:|" * len(COMPARED)]
        for name, ratios in report["vs_baseline"].items():
            lines.append(f"| {name} | " + " | ".join(_f(ratios.get(key), 3) for key, _ in COMPARED) + " |")
        router = report["vs_baseline"].get("greenfleet-router", {})
        if "overhead_p50_c1_ms_now" in router:
            lines.append(f"\nRouter overhead p50 c1 (router - direct): this checkout "
                         f"{_f(router['overhead_p50_c1_ms_now'], 3)} ms, baseline "
                         f"{_f(router['overhead_p50_c1_ms_base'], 3)} ms.")
    lines += ["", f"Raw harness output: {report['raw_results']}"]
    return "\n".join(lines) + "\n"


def summarize(results_path: str, stamp: str, mlflow_mode: str) -> dict[str, Any]:
    recs = [json.loads(line) for line in Path(results_path).read_text().splitlines() if line.strip()]
    meta = next(r for r in recs if r["kind"] == "meta")
    peers = [r for r in recs if r["kind"] == "peer"]
    configs: dict[str, dict[str, Any]] = {}
    for c in meta["configs"]:
        configs[c["name"]] = config_summary([r for r in peers if r["name"] == c["name"]], "this run")
    rec_ref = {name: recorded(name) for name in ("mlflow-w1", "bare-w1")}
    if "mlflow-w1" not in configs and rec_ref["mlflow-w1"]:
        configs["mlflow-w1"] = rec_ref["mlflow-w1"]
    v = meta["versions"]
    machine = (f"wrk: {v['wrk']}; c8 = `wrk -t1 -c8 -d{meta['duration_s']}s --latency` after a "
               f"{meta['warmup_s']}s c8 warm-up; c1 = `wrk -t1 -c1 -d{meta['duration_s']}s --latency`; "
               f"{v['cpus']} CPUs shared by server, wrk and anything else running; {v['python']}; kernel "
               f"{v['kernel']}; greenfleet venv: {v.get('greenfleet')}. Body: {PAYLOAD}.")
    if mlflow_mode == "reference":
        machine += (" mlflow-w1 was NOT run here: its figures are the peers' recorded medians "
                    "(results/summary-3rounds.md).")
    report = {
        "stamp": stamp, "rounds": meta["rounds"], "machine": machine, "versions": v,
        "harness": str(PEERS_DIR / "harness.py"), "raw_results": results_path,
        "commands": {c["name"]: {"cmd": c["cmd"], "env": c["env"], "url": c["url"], "payload": c["payload"]}
                     for c in meta["configs"]},
        "configs": configs, "recorded": rec_ref, "baseline": str(BASELINE) if BASELINE else None,
        "inproc": [r for r in recs if r["kind"] == "inproc"],
        "rounds_raw": peers,
    }
    report["targets"] = targets(configs)
    report["vs_baseline"] = versus_baseline(configs)
    return report


COMPARED = (("rps_c8", "req/s c8"), ("p50_c1_ms", "p50 c1 ms"), ("p99_c8_ms", "p99 c8 ms"),
            ("server_cpu_ms_per_req", "CPU ms/req c8"), ("rss_mb", "idle RSS MB"))


def versus_baseline(configs: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """This checkout's figures divided by the baseline checkout's, measured in the same rounds."""
    out: dict[str, dict[str, float | None]] = {}
    for name in ("greenfleet-router", "greenfleet-direct"):
        now, base = configs.get(name) or {}, configs.get(f"{name}@base") or {}
        if now.get("rounds_ok") and base.get("rounds_ok"):
            out[name] = {key: _ratio(now.get(key), base.get(key)) for key, _ in COMPARED}
    router, base = configs.get("greenfleet-router@base") or {}, configs.get("greenfleet-direct@base") or {}
    if router.get("p50_c1_ms") is not None and base.get("p50_c1_ms") is not None and "greenfleet-router" in out:
        now_overhead = configs["greenfleet-router"]["p50_c1_ms"] - configs["greenfleet-direct"]["p50_c1_ms"]
        out["greenfleet-router"]["overhead_p50_c1_ms_now"] = now_overhead
        out["greenfleet-router"]["overhead_p50_c1_ms_base"] = router["p50_c1_ms"] - base["p50_c1_ms"]
    return out


def main() -> int:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    mlflow_mode = os.environ.get("GF_BENCH_MLFLOW", "run")
    only = os.environ.get("PEERS_ONLY") or DEFAULT_ONLY
    if mlflow_mode == "reference":
        only = ",".join(n for n in only.split(",") if n != "mlflow-w1")
    if BASELINE is not None:
        if not (BASELINE / ".venv" / "bin" / "python").exists():
            print(f"GF_BENCH_BASELINE={BASELINE}: no .venv there (run its scripts/setup-venv)", file=sys.stderr)
            return 2
        only += "".join(f",{n}@base" for n in ("greenfleet-router", "greenfleet-direct") if n in only.split(","))
    os.environ["PEERS_ONLY"] = only
    harness.OUT = os.environ.get("PEERS_OUT") or os.path.join(harness.ROOT, "results", f"greenfleet-{stamp}")
    install()
    os.makedirs(DIRECT_MODEL_DIR, exist_ok=True)
    print(f"configs: {only}; rounds: {harness.ROUNDS}; raw output: {harness.OUT}", flush=True)
    harness.main()
    report = summarize(os.path.join(harness.OUT, "results.jsonl"), stamp, mlflow_mode)
    outdir = Path(os.environ.get("GF_BENCH_RESULTS") or REPO / "bench" / "results")
    outdir.mkdir(parents=True, exist_ok=True)
    text = render(report)
    (outdir / f"serving-{stamp}.json").write_text(json.dumps(report, indent=1) + "\n")
    (outdir / f"serving-{stamp}.md").write_text(text)
    print("\n" + text)
    print(f"wrote {outdir / f'serving-{stamp}.json'} and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
