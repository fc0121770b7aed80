"""Where a Serial pipeline's extra script container goes (issue 15; not a test): pipeline supervisors started
directly (``python -m greenfleet.workers`` with a plan, no server, no router), a linear model then identity
script containers, driven one request at a time by the router's own client on uvloop. For each process it
reports the CPU per request (user + system, from /proc: unlike latency, little moved by other jobs' load),
and the supervisor's per-container latency (its X-Greenfleet-Container-Latency) besides the p50s.

    .venv/bin/python bench/pipeline_hop.py                        # sizes 2 and 4, 2000 rounds
    .venv/bin/python bench/pipeline_hop.py --baseline /tmp/old    # an older checkout, alternating passes
    .venv/bin/python bench/pipeline_hop.py --gap-ms 10 --rounds 500   # each request after an idle gap
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.async_bench import write_models
from greenfleet.router.table import InstanceAddress
from greenfleet.router.upstream import Upstream


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """The supervisor, then its members in start order."""
    children: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        children += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return [pid, *sorted(children)]


def _supervisor(models: Path, root: Path, size: int, checkout: Path | None) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ}
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    members = []
    for index in range(size):
        directory = root / f"c{index}"
        directory.mkdir(parents=True)
        image, model = ("greenfleet/sklearn", "linear") if index == 0 else ("greenfleet/script", "identity")
        members.append({"hostname": f"c{index}", "port": _free_port(), "directory": str(directory),
                        "environment": {**env, "SAGEMAKER_BIND_TO_PORT": "0", "GREENFLEET_IMAGE": image,
                                        "SM_MODEL_DIR": str(models / model),
                                        "GREENFLEET_FAILURE_FILE": str(directory / "failure")}})
        members[-1]["environment"]["SAGEMAKER_BIND_TO_PORT"] = str(members[-1]["port"])
    (root / "plan.json").write_text(json.dumps({"Mode": "Serial", "Members": members}))
    port = _free_port()
    env.update({"GREENFLEET_PIPELINE_FILE": str(root / "plan.json"), "SAGEMAKER_BIND_TO_PORT": str(port)})
    process = subprocess.Popen([sys.executable, "-m", "greenfleet.workers"], env=env, stdin=subprocess.DEVNULL,
                               cwd=str(checkout) if checkout else None)
    return process, port


async def _ready(port: int) -> None:
    for _ in range(600):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            line = await reader.readline()
            writer.close()
            if b" 200" in line:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"the pipeline on port {port} never got ready")


async def _measure(targets: dict[str, tuple[subprocess.Popen[bytes], int]], rounds: int, row: bytes,
                   gap_s: float) -> dict[str, Any]:
    upstream = Upstream(60.0)
    samples: dict[str, list[float]] = {key: [] for key in targets}
    containers: dict[str, list[list[int]]] = {key: [] for key in targets}
    before: dict[str, list[float]] = {}
    for warm in range(rounds + 100):
        if warm == 100:
            before = {key: [_cpu_s(pid) for pid in _tree(p.pid)] for key, (p, _) in targets.items()}
        for key, (_, port) in targets.items():
            if gap_s:
                await asyncio.sleep(gap_s)
            started = time.perf_counter()
            response = await upstream.invoke(InstanceAddress(key, "127.0.0.1", port), row,
                                             {"Content-Type": "text/csv"})
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status == 200, response.body
            if warm >= 100:
                samples[key].append(elapsed)
                latency = response.container_latency or ""
                containers[key].append([int(part.split("=")[1]) for part in latency.split(",")])
    out: dict[str, Any] = {}
    for key, (process, _) in targets.items():
        after = [_cpu_s(pid) for pid in _tree(process.pid)]
        cpu = [round((a - b) / rounds * 1e6) for a, b in zip(after, before[key], strict=True)]
        out[key] = {"p50_ms": round(statistics.median(samples[key]), 3), "cpu_us_supervisor": cpu[0],
                    "cpu_us_members": cpu[1:],
                    "container_us_p50": [statistics.median(c) for c in zip(*containers[key], strict=True)]}
    return out


async def _run(targets: dict[str, tuple[subprocess.Popen[bytes], int]], rounds: int, row: bytes,
               gap_s: float) -> dict[str, Any]:
    for _, port in targets.values():
        await _ready(port)
    return await _measure(targets, rounds, row, gap_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--baseline", type=Path, default=None, help="an older checkout, measured alternately")
    parser.add_argument("--gap-ms", type=float, default=0.0,
                        help="an idle gap before each request (the processes sleep, as on a quiet endpoint)")
    args = parser.parse_args()
    checkouts: dict[str, Path | None] = {"new": None}
    if args.baseline is not None:
        checkouts["old"] = args.baseline
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        row = write_models(root).encode()  # async_bench's models: linear, then identity script containers
        results: dict[str, list[dict[str, Any]]] = {}
        for pass_ in range(args.passes):
            for name, checkout in checkouts.items():
                targets = {f"{name}-{size}": _supervisor(root, root / "runs" / f"{name}-{size}-{pass_}", size,
                                                         checkout) for size in (2, 4)}
                try:
                    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                        measured = runner.run(_run(targets, args.rounds, row, args.gap_ms / 1000))
                finally:
                    for process, _ in targets.values():
                        process.terminate()
                    for process, _ in targets.values():
                        process.wait(30)
                slope = (measured[f"{name}-4"]["p50_ms"] - measured[f"{name}-2"]["p50_ms"]) / 2
                results.setdefault(name, []).append({**measured, "slope_ms": round(slope, 3),
                                                     "load_average": os.getloadavg()[0]})
                print(name, json.dumps(results[name][-1]))
    for name, runs in results.items():
        print(f"{name}: each extra script container {statistics.median(r['slope_ms'] for r in runs):.3f} ms p50 "
              f"(passes: {[r['slope_ms'] for r in runs]}); load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
