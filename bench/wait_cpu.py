"""CPU spent by ``greenfleet endpoint update --wait`` while it follows a deployment (issue 20).

    .venv/bin/python bench/wait_cpu.py [--seconds 60] [--code OTHER_CHECKOUT]

Starts a server on an empty home, trains the demo's two models, serves one of them with an
Invocation5XXErrors alarm, then runs ``endpoint update --config ... --strategy canary --canary-size 50%
--wait-interval 600 --alarm ... --wait`` twice: with its output on a pipe, then on a pseudo-terminal (the
live panel). After a start-up allowance (imports, the first answers) the follower's own CPU time (user +
system, /proc/PID/stat) is read over ``--seconds`` of the bake; the deployment is then aborted. ``--code``
runs the CLI from another checkout (PYTHONPATH) against this checkout's server, for before/after figures.
Prints a table and writes bench/results/wait-cpu.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from greenfleet.demo import train
from greenfleet.instances.local import free_port

RESULTS = Path(__file__).parent / "results" / "wait-cpu.json"
START_UP_S = 15.0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(api: httpx.Client, status: str = "InService") -> None:
    deadline = time.monotonic() + 120
    while api.get("/api/endpoints/e").json()["EndpointStatus"] != status:
        if time.monotonic() > deadline:
            raise RuntimeError(f"endpoint not {status}")
        time.sleep(0.2)


def prepare(api: httpx.Client, work: Path) -> None:
    tarballs, _ = train(work / "models")
    for i, tarball in enumerate(list(tarballs.values())[:2]):
        api.post("/api/models", json={"ModelName": f"m{i}", "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(tarball)}}).raise_for_status()
        api.post("/api/endpoint-configs", json={"EndpointConfigName": f"c{i}", "ProductionVariants": [
            {"VariantName": "v", "ModelName": f"m{i}", "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large"}]}).raise_for_status()
    api.post("/api/endpoints", json={"EndpointName": "e", "EndpointConfigName": "c0"}).raise_for_status()
    api.put("/api/alarms/e-errors", json={
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Sum", "Period": 60,
        "Dimensions": [{"Name": "EndpointName", "Value": "e"}, {"Name": "VariantName", "Value": "v"}],
        "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"})
    settle(api)


def follow(env: dict[str, str], terminal: bool, seconds: float) -> float:
    command = [sys.executable, "-m", "greenfleet", "endpoint", "update", "e", "--config", "c1", "--strategy",
               "canary", "--canary-size", "50%", "--wait-interval", "600", "--alarm", "e-errors", "--wait"]
    master = None
    if terminal:
        master, slave = pty.openpty()
        process = subprocess.Popen(command, env={**env, "COLUMNS": "120", "TERM": "xterm"}, stdin=slave,
                                   stdout=slave, stderr=slave)
        os.close(slave)
    else:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(START_UP_S)
        first, end = cpu_s(process.pid), time.monotonic() + seconds
        while time.monotonic() < end:
            if master is not None:
                os.read(master, 65536)  # a terminal that reads what is drawn
            time.sleep(0.2)
        if process.poll() is not None:
            raise RuntimeError("the wait ended before the measurement did")
        return cpu_s(process.pid) - first
    finally:
        process.kill()
        process.wait()
        if master is not None:
            os.close(master)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--code", help="run the CLI from this checkout (PYTHONPATH)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gf-wait-cpu-"))
    port = free_port()
    env = {**os.environ, "GREENFLEET_HOME": str(work / "home"), "GREENFLEET_PORT": str(port),
           "GREENFLEET_STRICT_DEPLOYMENT_MINIMUMS": "false", "GREENFLEET_URL": f"http://127.0.0.1:{port}"}
    server = subprocess.Popen([sys.executable, "-m", "greenfleet", "server"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cli_env = {**env, "PYTHONPATH": args.code} if args.code else env
    results: dict[str, float] = {}
    try:
        api = httpx.Client(base_url=env["GREENFLEET_URL"], timeout=30)
        for _ in range(300):
            try:
                api.get("/health")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        prepare(api, work)
        for mode in ("pipe", "terminal"):
            results[mode] = round(follow(cli_env, mode == "terminal", args.seconds), 3)
            api.post("/api/endpoints/e/deployment/abort", json={"Reason": "measured"})
            settle(api)
    finally:
        server.terminate()
        server.wait(60)
    print(f"{'output':<10} {'CPU s':>7} {'per minute':>11}   (following a bake for {args.seconds:g} s)")
    for mode, value in results.items():
        print(f"{mode:<10} {value:>7.2f} {value * 60 / args.seconds:>11.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"seconds": args.seconds, "code": args.code or "this checkout",
                                   "cpu_s": results}, indent=2))


if __name__ == "__main__":
    main()
