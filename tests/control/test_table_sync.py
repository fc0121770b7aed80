"""The routing table as the leader stores it and a follower reads it back: the same table, only newer
revisions published, the last one kept when the store is unreachable."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from greenfleet.control.table_sync import TableFollower, dump_table, load_table
from greenfleet.router.proxy import Router
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Target
from greenfleet.server import ConfigurationError, Server
from greenfleet.settings import Settings
from greenfleet.store.database import create_store_engine, migrate
from greenfleet.store.repository import Repository


def table(revision: int, port: int = 9001) -> RoutingTable:
    targets = (Target("main", "c1", 0.75, "LEAST_OUTSTANDING_REQUESTS",
                      (InstanceAddress("e-main-1", "10.0.0.7", port), InstanceAddress("e-main-2", "10.0.0.8", 9002))),
               Target("main", "c2", 0.25, "RANDOM", ()))
    return RoutingTable(revision, {"e": EndpointRoute("e", targets)})


def test_a_table_survives_the_round_trip() -> None:
    original = table(7)
    assert load_table(dump_table(original)) == original


def test_a_follower_publishes_only_newer_tables_and_keeps_the_last_when_the_store_fails(
        database_url: str) -> None:
    engine = create_store_engine(database_url)
    migrate(engine)
    repo = Repository(engine)
    router = Router("000000000000", 1024, 1.0)
    follower = TableFollower(repo, router)
    assert not follower.follow_once()  # nothing stored yet
    repo.save_routing_table(3, dump_table(table(3)), 1.0)
    assert follower.follow_once() and router.table == table(3)
    assert not follower.follow_once()  # same revision: nothing to do
    repo.save_routing_table(4, dump_table(table(4, port=9100)), 2.0)
    assert follower.follow_once() and router.table.revision == 4
    assert router.table.endpoints["e"].targets[0].instances[0].port == 9100
    engine.dispose()
    repo.engine = create_store_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(Exception):  # noqa: B017 -- whatever the driver raises; the thread logs it
        follower.follow_once()
    assert router.table.revision == 4  # the data plane keeps its last table


def test_a_follower_runs_its_every_second_tasks_and_a_failing_one_does_not_stop_it(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    follower = TableFollower(Repository(engine), Router("000000000000", 1024, 1.0), interval_s=0.02)
    ran: list[float] = []

    def broken() -> None:
        raise RuntimeError("the store is down")

    follower.every_second[:] = [broken, lambda: ran.append(time.monotonic())]
    started = time.monotonic()
    follower.start()
    deadline = started + 10
    while len(ran) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    follower.stop()
    elapsed = time.monotonic() - started
    # Once in each second (the thread ticks every 0.02 s: per tick it would have run some 50 times a second),
    # and once more on stopping.
    assert len(ran) >= 4 and all(int(a) != int(b) for a, b in itertools.pairwise(ran[:-1]))
    assert len(ran) <= elapsed + 3
    engine.dispose()


def test_ha_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GREENFLEET_HA=true needs a PostgreSQL store"):
        Server(Settings(home=tmp_path / "home", port=1, ha=True))
    Server(Settings(home=tmp_path / "home", port=1)).stop_controllers(stop_instances=False)  # home released


@pytest.mark.postgres
def test_on_postgresql_a_follower_is_notified_instead_of_polling(postgres_url: str) -> None:
    engine = create_store_engine(postgres_url)
    migrate(engine)
    repo = Repository(engine)
    base = max(repo.routing_table_revision(), 100)
    router = Router("000000000000", 1024, 1.0)
    follower = TableFollower(repo, router)
    assert follower.listens
    follower.start()
    try:
        time.sleep(0.5)  # LISTEN is in place
        idle_reads = follower.reads
        time.sleep(1.0)
        assert follower.reads - idle_reads <= 1  # polling every 0.1 s would have read ten times
        delays = []
        for k in range(1, 6):
            saved_at = time.monotonic()
            repo.save_routing_table(base + k, dump_table(table(base + k)), time.time())
            while router.table.revision < base + k:
                assert time.monotonic() - saved_at < 1.5, "the follower did not pick up the new table"
                time.sleep(0.001)
            delays.append(time.monotonic() - saved_at)
        assert sorted(delays)[2] < 0.5, delays  # notified, not found by the 2 s fallback read
    finally:
        follower.stop()
        engine.dispose()


def test_a_stopping_follower_runs_its_every_second_tasks_once_more(tmp_path: Path) -> None:
    """What its router holds since the last second (A/B assignments, pairs, capture counters) is written
    when the follower stops (a server stopping, or taking the lead), not lost with it."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    follower = TableFollower(Repository(engine), Router("000000000000", 1024, 1.0), interval_s=30)
    ran: list[str] = []
    follower.every_second[:] = [lambda: ran.append("written")]
    follower.start()  # its first tick would come after 30 s
    follower.stop()
    assert ran == ["written"]
    follower.stop()  # stopping a follower that no longer runs writes nothing more
    assert ran == ["written"]
    engine.dispose()
