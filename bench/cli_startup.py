"""How long the ``greenfleet`` command takes to start: the median wall time of N fresh runs of
``greenfleet --version``, ``greenfleet --help``, ``greenfleet endpoint list --help`` and ``greenfleet endpoint
list`` against a running server (issue 20: each under 0.3 s). The table shows the median wall time and
the median CPU time of the process (on a machine busy with other work, the CPU time stands for the wall
time an idle machine would show).

    .venv/bin/python bench/cli_startup.py [--runs 15] [--tree /work/main]

Each run is ``python -m greenfleet ...`` in a fresh interpreter of this venv with the working directory at
``--tree`` (default: this checkout), so ``--tree`` measures another checkout's CLI with the same
interpreter and libraries (e.g. the one before a change). The server for ``endpoint list`` is this
checkout's, on a free port and a temporary home. Runs alternate between the commands, so a burst of other
load on the machine spreads over all of them. Prints a table and writes bench/results/cli-startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "cli-startup.json"
TARGET_S = 0.3
COMMANDS: dict[str, list[str]] = {
    "--version": ["--version"],
    "--help": ["--help"],
    "endpoint list --help": ["endpoint", "list", "--help"],
    "endpoint list (server)": ["endpoint", "list"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="gf-cli-bench-") as home:
        env = {**os.environ, "GREENFLEET_HOME": home, "GREENFLEET_PORT": str(port)}
        server = subprocess.Popen([sys.executable, "-m", "greenfleet", "server"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/health", timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the benchmark's server did not start") from None
                    time.sleep(0.1)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def time_run(args: list[str], tree: Path, url: str) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run; on a busy machine the CPU time is what an idle
    one would show as wall time, near enough."""
    env = {**os.environ, "GREENFLEET_URL": url}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "greenfleet", *args], cwd=tree, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"greenfleet {' '.join(args)} exited with {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (median reported)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose CLI is measured")
    options = parser.parse_args()
    tree = options.tree.resolve()
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    with running_server() as url:
        for args in COMMANDS.values():  # warm the file cache once
            time_run(args, tree, url)
        for _ in range(options.runs):
            for name, args in COMMANDS.items():
                samples[name].append(time_run(args, tree, url))
    rows = {name: {"median_s": statistics.median(w for w, _ in values), "min_s": min(w for w, _ in values),
                   "max_s": max(w for w, _ in values), "median_cpu_s": statistics.median(c for _, c in values),
                   "runs": len(values)} for name, values in samples.items()}
    load = os.getloadavg()
    print(f"greenfleet CLI start-up, {options.runs} runs each, tree {tree}, load average {load[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'command':<26} {'median s':>9} {'min s':>7} {'max s':>7} {'CPU s':>7}  target < {TARGET_S} s")
    for name, row in rows.items():
        verdict = "ok" if row["median_s"] < TARGET_S else "OVER"
        print(f"{name:<26} {row['median_s']:>9.3f} {row['min_s']:>7.3f} {row['max_s']:>7.3f} "
              f"{row['median_cpu_s']:>7.3f}  {verdict}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"tree": str(tree), "python": sys.version.split()[0], "target_s": TARGET_S,
                                   "load_average": load, "cores": os.cpu_count(), "commands": rows,
                                   "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
