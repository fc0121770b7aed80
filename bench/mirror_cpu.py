"""The CPU a shadow copy costs the serving process, measured without the rest of the machine's noise (not a
test): the router alone, in this process, on uvloop, with the real metric recorder; production and shadow
instances are minimal HTTP responders in processes of their own (answering at once, so nothing but the
router's own work is measured). Requests enter through the router's ASGI interface, 8 at a time.

Rounds alternate an endpoint without a shadow and one mirroring every request (in-flight limit lifted,
so every copy is sent); each round's figure is CPU seconds of this process (``time.process_time``) per
request, and the table gives each round's difference and the medians. On a loaded machine a round's
figures move by a third; compare medians of the same run only. (Under valgrind's callgrind the counts are
not steady either: how many answers one event-loop wake-up finds depends on the responders' timing.)

    .venv/bin/python bench/mirror_cpu.py                      # ~30 s
    .venv/bin/python bench/mirror_cpu.py --requests 20000 --rounds 9
    .venv/bin/python bench/mirror_cpu.py --baseline 2145ccb   # that commit's router against this one's

With ``--baseline COMMIT`` the router of COMMIT (its ``greenfleet`` package, extracted with ``git archive``)
and this tree's each run in a process of their own, alternately, one round (both endpoints) per process
against the same two responders: the table gives both versions' per-round figures and the medians.

Since the copies are sent by a mirror process (greenfleet/router/mirror_process.py), its CPU per copy is
reported too (``mirror_process_us_per_copy``; 0 for a router without one): it is not the serving process's.

Writes bench/results/mirror-cpu.json (not with ``--only``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # bench.*; appended: a --baseline round's
# PYTHONPATH (the baseline commit's greenfleet) stays first

from bench.baseline_versions import alternate_versions
from bench.proc_cpu import cpu_s, stat_fields
from greenfleet.clock import SystemClock
from greenfleet.metrics import MetricService
from greenfleet.router.proxy import Router
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Shadow, Target
from greenfleet.store.database import create_store_engine, migrate

RESULTS = Path(__file__).parent / "results" / "mirror-cpu.json"
RESPONDER = r'''
import asyncio, sys
try:
    import uvloop
    uvloop.install()
except ImportError:
    pass
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 1\r\n\r\n0"

class Answer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length = 0
            for line in self.buffer[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < head_end + 4 + length:
                return
            self.buffer = self.buffer[head_end + 4 + length:]
            self.transport.write(ANSWER)

async def main():
    server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await server.serve_forever()

asyncio.run(main())
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _responder(port: int) -> subprocess.Popen[bytes]:
    child = subprocess.Popen([sys.executable, "-c", RESPONDER, str(port)], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
    return child


def _table(production: int, shadow: int) -> RoutingTable:
    prod = Target("prod", "cfg", 1.0, "LEAST_OUTSTANDING_REQUESTS", (InstanceAddress("p-1", "127.0.0.1", production),))
    copy = Target("shadow", "cfg", 1.0, "LEAST_OUTSTANDING_REQUESTS", (InstanceAddress("s-1", "127.0.0.1", shadow),))
    return RoutingTable(revision=1, endpoints={
        "base": EndpointRoute("base", (prod,)),
        "same": EndpointRoute("same", (prod,), (Shadow(copy, 100.0, "prod"),)),
    })


async def _drive(router: Router, endpoint: str, requests: int, concurrency: int, body: bytes) -> int:
    scope = {"type": "http", "method": "POST", "path": f"/endpoints/{endpoint}/invocations",
             "headers": [(b"content-type", b"text/csv"), (b"content-length", str(len(body)).encode())]}
    answered = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal answered
        if message["type"] == "http.response.start" and message["status"] == 200:
            answered += 1

    async def client(n: int) -> None:
        for _ in range(n):
            await router(scope, receive, send)

    share = requests // concurrency
    await asyncio.gather(*(client(share) for _ in range(concurrency)))
    while router.mirror.in_flight:  # the last copies come back before the round ends
        await asyncio.sleep(0.001)
    return answered


async def _rounds(router: Router, metrics: MetricService, names: list[str], rounds: int, requests: int,
                  concurrency: int, body: bytes) -> list[dict[str, dict[str, float]]]:
    await _drive(router, "same", 2000, concurrency, body)  # connections open, caches warm
    results = []
    for index in range(rounds):
        measured: dict[str, dict[str, float]] = {}
        for name in names if index % 2 == 0 else list(reversed(names)):
            sent, dropped = router.mirror.sent, router.mirror.dropped
            mirror_cpu = _mirror_process_cpu_s(router)
            cpu, wall, times = time.process_time(), time.perf_counter(), os.times()
            answered = await _drive(router, name, requests, concurrency, body)
            cpu, wall, after = time.process_time() - cpu, time.perf_counter() - wall, os.times()
            mirror_cpu = _mirror_process_cpu_s(router) - mirror_cpu
            measured[name] = {"requests": answered, "cpu_us_per_request": cpu * 1e6 / answered,
                              "user_us_per_request": (after.user - times.user) * 1e6 / answered,
                              "system_us_per_request": (after.system - times.system) * 1e6 / answered,
                              "wall_s": wall, "mirrored": router.mirror.sent - sent,
                              "dropped": router.mirror.dropped - dropped,
                              "mirror_process_us_per_copy": mirror_cpu * 1e6 / max(router.mirror.sent - sent, 1)}
            metrics.flush(time.time())
        results.append(measured)
    return results


def _mirror_process_cpu_s(router: Router) -> float:
    """CPU seconds of the router's mirror process so far (0 for a router without one, or none running)."""
    link = getattr(router.mirror, "link", None)
    pid = getattr(link, "pid", None)
    fields = None if pid is None else stat_fields(pid)
    return 0.0 if fields is None else cpu_s(fields)


def _measure(production: int, shadow: int, names: list[str], rounds: int, requests: int,
             concurrency: int) -> list[dict[str, dict[str, float]]]:
    import uvloop

    with tempfile.TemporaryDirectory(prefix="gf-mirror-cpu-") as tmp:
        engine = create_store_engine(f"sqlite:///{tmp}/store.db")
        migrate(engine)
        metrics = MetricService(engine, SystemClock())
        router = Router("123456789012", 6 * 1024 * 1024, 60.0, recorder=metrics.recorder,
                        shadow_max_in_flight=1_000_000)  # every copy sent: the cost of one each
        router.publish(_table(production, shadow))
        body = b"0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0,1.1,1.2,1.3,1.4,1.5,1.6,1.7,1.8,1.9,2.0"
        results = uvloop.run(_rounds(router, metrics, names, rounds, requests, concurrency, body))
        metrics.close()
        engine.dispose()
    return results


def _versions(commit: str, production: int, shadow: int, rounds: int, requests: int,
              concurrency: int) -> dict[str, list[dict[str, dict[str, float]]]]:
    """Rounds alternating COMMIT's router and this tree's, each round in a fresh process."""
    def report(index: int, version: str, r: dict[str, dict[str, float]]) -> None:
        print(f"round {index + 1} {version:<9} base {r['base']['cpu_us_per_request']:6.1f} us/req, "
              f"same {r['same']['cpu_us_per_request']:6.1f} us/req, added "
              f"{r['same']['cpu_us_per_request'] - r['base']['cpu_us_per_request']:5.1f} us", flush=True)

    return alternate_versions(Path(__file__), commit, rounds, [
        "--ports", f"{production},{shadow}", "--rounds", "1", "--requests", str(requests),
        "--concurrency", str(concurrency)], "gf-mirror-baseline-", report)


def _summary(results: list[dict[str, dict[str, float]]]) -> dict[str, float]:
    return {"base_us_per_request_median": round(statistics.median(r["base"]["cpu_us_per_request"]
                                                                  for r in results), 2),
            "same_us_per_request_median": round(statistics.median(r["same"]["cpu_us_per_request"]
                                                                  for r in results), 2),
            "mirror_added_us_per_request_median": round(statistics.median(
                r["same"]["cpu_us_per_request"] - r["base"]["cpu_us_per_request"] for r in results), 2),
            "mirror_process_us_per_copy_median": round(statistics.median(
                r["same"].get("mirror_process_us_per_copy", 0.0) for r in results), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", choices=["base", "same"], help="one endpoint only (for a profiler)")
    parser.add_argument("--baseline", metavar="COMMIT", help="alternate rounds with COMMIT's router")
    parser.add_argument("--ports", help=argparse.SUPPRESS)  # a --baseline round: the responders' ports
    args = parser.parse_args()
    if args.ports:
        production, shadow = (int(p) for p in args.ports.split(","))
        print(json.dumps(_measure(production, shadow, ["base", "same"], args.rounds, args.requests,
                                  args.concurrency)))
        return
    production, shadow = _free_port(), _free_port()
    children = [_responder(production), _responder(shadow)]
    load_before = os.getloadavg()
    try:
        if args.baseline:
            by_version = _versions(args.baseline, production, shadow, args.rounds, args.requests, args.concurrency)
        else:
            results = _measure(production, shadow, [args.only] if args.only else ["base", "same"], args.rounds,
                               args.requests, args.concurrency)
    finally:
        for child in children:
            child.terminate()
            child.wait(10)
    if args.baseline:
        summary: dict[str, Any] = {version: _summary(rounds) for version, rounds in by_version.items()}
        summary.update(baseline_commit=args.baseline, load_before=load_before, load_after=os.getloadavg())
        for version in ("baseline", "current"):
            print(f"{version}: " + ", ".join(f"{k} {v}" for k, v in summary[version].items()))
        print(f"load average before {load_before[0]:.1f}, after {summary['load_after'][0]:.1f} (1 min)")
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps({"machine": platform.platform(), "requests": args.requests,
                                       "concurrency": args.concurrency, "rounds": by_version,
                                       "summary": summary}, indent=2))
        print(f"wrote {RESULTS}")
        return
    if args.only:
        return
    print(f"{'round':<7}{'base us/req':>13}{'same us/req':>13}{'added us':>10}{'mirrored':>10}{'dropped':>9}")
    for index, r in enumerate(results, start=1):
        print(f"{index:<7}{r['base']['cpu_us_per_request']:>13.1f}{r['same']['cpu_us_per_request']:>13.1f}"
              f"{r['same']['cpu_us_per_request'] - r['base']['cpu_us_per_request']:>10.1f}"
              f"{r['same']['mirrored']:>10}{r['same']['dropped']:>9}")
    summary = {**_summary(results), "load_before": load_before, "load_after": os.getloadavg()}
    print(", ".join(f"{k} {v}" for k, v in summary.items()))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.platform(), "requests": args.requests,
                                   "concurrency": args.concurrency, "rounds": results, "summary": summary},
                                  indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
