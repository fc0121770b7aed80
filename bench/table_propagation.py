"""Routing-table propagation (issue 17): how long after the leader's save commits a follower's router
serves the new table, and how often an idle follower asks the store.

PostgreSQL (followers LISTEN; the save notifies in its transaction) against SQLite (followers read the
stored revision every 0.1 s). Each follower is a TableFollower thread with its own engine and router, in
this process; the saver waits ``--gap`` between saves.

    .venv/bin/python bench/table_propagation.py [--saves 40] [--followers 3] [--gap 0.2]

Prints a table and writes ``bench/results/table-propagation-<stamp>.json``. PostgreSQL at 127.0.0.1:5432
(trust auth, GREENFLEET_TEST_PG_ADMIN) is needed for its rows; without it only SQLite is measured."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from greenfleet.control.table_sync import TableFollower, dump_table  # noqa: E402
from greenfleet.router.proxy import Router  # noqa: E402
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Target  # noqa: E402
from greenfleet.store.database import create_store_engine, migrate  # noqa: E402
from greenfleet.store.repository import Repository  # noqa: E402

PG_ADMIN = os.environ.get("GREENFLEET_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def table(revision: int) -> RoutingTable:
    instances = tuple(InstanceAddress(f"e-main-{k}", "10.0.0.7", 9000 + k) for k in range(4))
    return RoutingTable(revision, {f"e{n}": EndpointRoute(f"e{n}", (Target("main", "c", 1.0, "RANDOM", instances),))
                                   for n in range(20)})


def measure(url: str, saves: int, followers: int, gap_s: float) -> dict[str, Any]:
    saver_engine = create_store_engine(url)
    migrate(saver_engine)
    saver = Repository(saver_engine)
    engines = [create_store_engine(url) for _ in range(followers)]
    routers = [Router("000000000000", 1024, 1.0) for _ in range(followers)]
    sync = [TableFollower(Repository(e), r) for e, r in zip(engines, routers, strict=True)]
    seen: list[dict[int, float]] = [{} for _ in range(followers)]
    stop = threading.Event()

    def watch(k: int) -> None:  # when each router first serves each revision
        last = -1
        while not stop.is_set():
            revision = routers[k].table.revision
            if revision != last:
                seen[k].setdefault(revision, time.perf_counter())
                last = revision
            time.sleep(0.0005)

    watchers = [threading.Thread(target=watch, args=(k,), daemon=True) for k in range(followers)]
    for follower in sync:
        follower.start()
    for watcher in watchers:
        watcher.start()
    time.sleep(1.0)
    reads_before = [f.reads for f in sync]
    time.sleep(2.0)
    idle_reads = statistics.mean((f.reads - b) / 2.0 for f, b in zip(sync, reads_before, strict=True))
    base = saver.routing_table_revision()
    committed: dict[int, float] = {}
    for k in range(1, saves + 1):
        saver.save_routing_table(base + k, dump_table(table(base + k)), time.time())
        committed[base + k] = time.perf_counter()
        time.sleep(gap_s)
    time.sleep(2.5)
    stop.set()
    for follower in sync:
        follower.stop()
    delays = [(seen[k][rev] - at) * 1000 for k in range(followers) for rev, at in committed.items() if rev in seen[k]]
    missed = followers * saves - len(delays)  # a revision overtaken by the next before the router took it
    for engine in [saver_engine, *engines]:
        engine.dispose()
    delays.sort()
    return {"followers": followers, "saves": saves, "gap_s": gap_s, "idle_reads_per_s": round(idle_reads, 2),
            "p50_ms": round(delays[len(delays) // 2], 2), "p95_ms": round(delays[int(len(delays) * 0.95)], 2),
            "max_ms": round(delays[-1], 2), "skipped": missed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=40)
    parser.add_argument("--followers", type=int, default=3)
    parser.add_argument("--gap", type=float, default=0.2)
    args = parser.parse_args()
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows["sqlite (poll 0.1 s)"] = measure(f"sqlite:///{tmp}/store.db", args.saves, args.followers, args.gap)
    try:
        import psycopg

        name = f"gf_bench_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            rows["postgresql (LISTEN)"] = measure(f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", args.saves,
                                                  args.followers, args.gap)
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as exc:  # no PostgreSQL here: SQLite only
        print(f"PostgreSQL skipped: {type(exc).__name__}: {exc}")
    load = os.getloadavg()[0]
    print(f"routing-table propagation, save commit -> follower's router (load average {load:.1f})")
    print(f"{'store':22} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'idle reads/s':>13} {'skipped':>8}")
    for store, row in rows.items():
        print(f"{store:22} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} {row['max_ms']:8.2f} "
              f"{row['idle_reads_per_s']:13.2f} {row['skipped']:8d}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"table-propagation-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({"load_average": load, "rows": rows}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
