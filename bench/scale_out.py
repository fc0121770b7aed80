"""Past one machine, measured in one run (issue 17):

1. greenfleet's router in front of one instance through the Ray backend vs the local backend
   (wrk, 8 connections, POST /endpoints/bench/invocations; rounds alternate the order), both the
   server's own router and a ``greenfleet router`` process beside it;
2. the memory of a Ray head started beside greenfleet (idle, and with the instance's actor);
3. leader failover: two ``GREENFLEET_HA`` servers on one PostgreSQL, SIGKILL of the leader, time until
   the other one leads (skipped without PostgreSQL at 127.0.0.1:5432).

    .venv/bin/python bench/scale_out.py [--seconds 10] [--rounds 2] [--failovers 3]

Prints a table and writes ``bench/results/scale-out-<stamp>.json``. Nothing else should run meanwhile
(server, Ray, worker and wrk share the machine's cores). The Ray head is its own process tree
(``ray start --head --block`` with its own temp directory), ended by pid at the end; ``ray stop`` is
never called (it would stop every Ray cluster on the machine)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RAY = str(Path(PYTHON).parent / "ray")
PG_ADMIN = os.environ.get("GREENFLEET_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def end_tree(pid: int) -> None:
    pids = tree(pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for each in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, sig)
        time.sleep(3 if sig == signal.SIGTERM else 0)


def model(workdir: Path) -> tuple[Path, str]:
    x, y = make_classification(n_samples=1000, n_features=20, random_state=0)
    path = workdir / "model.joblib"
    joblib.dump(LogisticRegression(max_iter=1000).fit(x, y), path)
    return path, json.dumps({"inputs": [np.round(x[0], 6).tolist()]})


class GreenfleetServer:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.home = workdir / f"home-{self.port}"
        self.log = workdir / f"server-{self.port}.log"
        full = {**os.environ, "GREENFLEET_HOME": str(self.home), "GREENFLEET_PORT": str(self.port),
                "GREENFLEET_MODEL_DATA_ROOTS": str(workdir), "GREENFLEET_STRICT_DEPLOYMENT_MINIMUMS": "false",
                **env}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([PYTHON, "-m", "greenfleet", "server"], env=full, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
            if self.process.poll() is not None:
                break
        raise RuntimeError("greenfleet did not start: " + self.log.read_text()[-2000:])

    def deploy(self, model_path: Path, instance_type: str = "ml.c5.large") -> None:
        http = httpx.Client(base_url=self.url, timeout=30)
        http.post("/api/models", json={"ModelName": "bench", "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(model_path)}}).raise_for_status()
        http.post("/api/endpoint-configs", json={"EndpointConfigName": "bench", "ProductionVariants": [
            {"VariantName": "main", "ModelName": "bench", "InitialInstanceCount": 1,
             "InstanceType": instance_type}]}).raise_for_status()
        http.post("/api/endpoints", json={"EndpointName": "bench", "EndpointConfigName": "bench"}).raise_for_status()
        deadline = time.monotonic() + 90
        while http.get("/api/endpoints/bench").json()["EndpointStatus"] != "InService":
            if time.monotonic() > deadline:
                raise RuntimeError("endpoint not InService: " + self.log.read_text()[-2000:])
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def wrk(url: str, body: str, seconds: int, workdir: Path) -> dict[str, float]:
    script = workdir / "post.lua"
    script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                      'wrk.headers["Content-Type"] = "application/json"\n')
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", str(script),
                          url + "/endpoints/bench/invocations"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    return {"rps": rps, "non_2xx": float(errors.group(1)) if errors else 0.0,
            "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")}


def start_router(server: GreenfleetServer, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``greenfleet router`` beside the server (same home), once it serves the endpoint."""
    port = free_port()
    with open(workdir / f"router-{port}.log", "ab") as log:
        process = subprocess.Popen([PYTHON, "-m", "greenfleet", "router", "--port", str(port)],
                                   env={**os.environ, "GREENFLEET_HOME": str(server.home)}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.post(url + "/endpoints/bench/invocations", content=b"[[0]]", timeout=2,
                          headers={"Content-Type": "application/json"}).status_code != 404:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the router process did not serve the endpoint")


def start_ray_head(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = open(workdir / "ray-head.log", "ab")  # noqa: SIM115 -- kept for the head's lifetime
    head = subprocess.Popen([RAY, "start", "--head", "--block", f"--port={port}", "--num-cpus=8",
                             f"--memory={64 * 1024**3}", "--include-dashboard=false",
                             "--object-store-memory=100000000", "--disable-usage-stats",
                             f"--temp-dir={workdir / 'ray'}"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = (workdir / "ray-head.log").read_text(errors="replace")
        found = re.search(r"ray start --address='([^']+)'", text)
        if found:
            time.sleep(3)  # let the prestarted workers settle before measuring
            return head, found.group(1)
        time.sleep(0.5)
    raise RuntimeError("the Ray head did not start")


def failover(workdir: Path, rounds: int) -> list[float] | str:
    try:
        import psycopg
        with psycopg.connect(PG_ADMIN, connect_timeout=3, autocommit=True) as admin:
            name = f"gf_bench_{secrets.token_hex(4)}"
            admin.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        return f"skipped: no PostgreSQL ({type(exc).__name__})"
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    times: list[float] = []
    env = {"GREENFLEET_DATABASE_URL": url, "GREENFLEET_HA": "true"}
    try:
        leader = GreenfleetServer(workdir, env)
        for _ in range(rounds):
            follower = GreenfleetServer(workdir, env)
            time.sleep(1)
            leader.stop(signal.SIGKILL)
            killed = time.monotonic()
            while "leads the control plane" not in follower.log.read_text():
                if time.monotonic() - killed > 30:
                    raise RuntimeError("no takeover: " + follower.log.read_text()[-2000:])
                time.sleep(0.01)
            times.append(time.monotonic() - killed)
            leader = follower
        leader.stop()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--failovers", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="gf-scale-out-"))
    model_path, body = model(workdir)
    head, address = start_ray_head(workdir)
    result: dict[str, Any] = {"seconds": args.seconds, "rounds": args.rounds, "ray_address": address}
    try:
        result["ray_head_idle_mb"] = rss_mb(tree(head.pid))
        runs: dict[str, list[dict[str, float]]] = {"local": [], "ray": [], "local-router-process": [],
                                                   "ray-router-process": []}
        for round_ in range(args.rounds):
            order = ["local", "ray"] if round_ % 2 == 0 else ["ray", "local"]
            for backend in order:
                env = {"GREENFLEET_BACKEND": backend}
                if backend == "ray":  # the head enabled token authentication (~/.ray/auth_token)
                    env.update({"GREENFLEET_RAY_ADDRESS": address, "RAY_AUTH_MODE": "token"})
                server = GreenfleetServer(workdir, env)
                router = None
                try:
                    server.deploy(model_path)
                    wrk(server.url, body, 2, workdir)  # warm-up
                    runs[backend].append(wrk(server.url, body, args.seconds, workdir))
                    if backend == "ray":
                        result["ray_head_with_instance_mb"] = rss_mb(tree(head.pid))
                    router, router_url = start_router(server, workdir)
                    wrk(router_url, body, 2, workdir)
                    runs[backend + "-router-process"].append(wrk(router_url, body, args.seconds, workdir))
                finally:
                    if router is not None:
                        router.terminate()
                        router.wait(15)
                    server.stop()
                time.sleep(2)
        result["runs"] = runs
        result["rps"] = {k: statistics.median(r["rps"] for r in v) for k, v in runs.items()}
        result["ratio_ray_over_local"] = result["rps"]["ray"] / result["rps"]["local"]
        result["ratio_ray_over_local_router_process"] = (result["rps"]["ray-router-process"]
                                                         / result["rps"]["local-router-process"])
    finally:
        end_tree(head.pid)
    result["failover_s"] = failover(workdir, args.failovers)
    out = ROOT / "bench" / "results" / f"scale-out-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"{'measure':44} {'value':>12}")
    print(f"{'router req/s c8, local backend (median)':44} {result['rps']['local']:>12.0f}")
    print(f"{'router req/s c8, Ray backend (median)':44} {result['rps']['ray']:>12.0f}")
    print(f"{'Ray / local':44} {result['ratio_ray_over_local']:>12.2f}")
    print(f"{'greenfleet router process req/s, local':44} {result['rps']['local-router-process']:>12.0f}")
    print(f"{'greenfleet router process req/s, Ray':44} {result['rps']['ray-router-process']:>12.0f}")
    print(f"{'Ray / local (router process)':44} {result['ratio_ray_over_local_router_process']:>12.2f}")
    print(f"{'non-2xx answers (all runs)':44} {sum(r['non_2xx'] for v in runs.values() for r in v):>12.0f}")
    print(f"{'Ray head RSS idle (MB)':44} {result['ray_head_idle_mb']:>12.0f}")
    print(f"{'Ray head RSS with the instance actor (MB)':44} {result.get('ray_head_with_instance_mb', 0):>12.0f}")
    fo = result["failover_s"]
    print(f"{'leader failover, SIGKILL -> new leader (s)':44} "
          f"{(f'{max(fo):.2f} max, {statistics.median(fo):.2f} median' if isinstance(fo, list) else fo):>12}")
    print(f"written {out}")


if __name__ == "__main__":
    main()
