"""What waking another process costs on this machine (issue 15; not a test): the floor under a pipeline hop.

Two processes on a Unix socket pair: the parent sends one byte, the child (blocked in ``recv``) answers one
byte. Round trips are timed back to back (the child is woken while the CPUs are busy with this exchange) and
with an idle gap before each (the child has slept, as a pipeline member that serves one request at a time of a
quiet endpoint has), each with the parent blocking in ``recv`` for the answer or polling for it (so only the
child's wake-up is on the path, as with greenfleet's lane polling). No Python interpreter work but the two
``send``/``recv`` pairs: what is left is the kernel's and the hypervisor's.

    .venv/bin/python bench/wake_cost.py                # 3000 round trips per mode, gap 10 ms
    .venv/bin/python bench/wake_cost.py --rounds 1000 --gap-ms 2
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import statistics
import time
from pathlib import Path


def _child(sock: socket.socket) -> None:
    while sock.recv(1):
        sock.send(b"a")
    os._exit(0)


def _round_trip(sock: socket.socket, poll: bool) -> float:
    started = time.perf_counter()
    sock.send(b"q")
    if poll:
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        while not poller.poll(0):
            pass
    sock.recv(1)
    return (time.perf_counter() - started) * 1e6


def measure(rounds: int, gap_s: float) -> dict[str, float]:
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        parent.close()
        _child(child)
    child.close()
    try:
        samples: dict[str, list[float]] = {"busy, parent blocks": [], "busy, parent polls": [],
                                           "idle gap, parent blocks": [], "idle gap, parent polls": []}
        for _ in range(100):
            _round_trip(parent, False)
        for index in range(rounds):
            for poll in (False, True):
                samples[f"busy, parent {'polls' if poll else 'blocks'}"].append(_round_trip(parent, poll))
            for poll in (False, True):
                time.sleep(gap_s)
                samples[f"idle gap, parent {'polls' if poll else 'blocks'}"].append(_round_trip(parent, poll))
            del index
        return {name: round(statistics.median(values), 1) for name, values in samples.items()}
    finally:
        parent.close()
        os.waitpid(pid, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--gap-ms", type=float, default=10.0)
    args = parser.parse_args()
    figures = measure(args.rounds, args.gap_ms / 1000)
    print(f"{'round trip (one byte each way), p50':<44}{'µs':>8}")
    for name, value in figures.items():
        print(f"{name:<44}{value:>8.1f}")
    woken = figures["idle gap, parent polls"] - figures["busy, parent polls"]
    print(f"{'a slept child woken, over a busy one':<44}{woken:>8.1f}")
    load = os.getloadavg()[0]
    print(f"load average {load:.2f}")
    out = Path(__file__).resolve().parent / "results" / "wake_cost.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"gap_ms": args.gap_ms, "rounds": args.rounds, "p50_us": figures,
                               "slept_child_extra_us": round(woken, 1), "load_average": load}, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
