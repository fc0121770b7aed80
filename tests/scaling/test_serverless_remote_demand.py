"""Serverless demand from every router: a follower server's or a ``greenfleet router`` process's requests
reach the leader's serverless controller through the store (control/router_presence.py), so a variant only
another router serves stays warm past the idle period, and a request another router holds for a cold start
starts the variant. Pure merges, the driver's observation, then tick by tick through the real store with a
second router reporting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from greenfleet.control.router_presence import (
    HEARTBEAT_S,
    STALE_AFTER_S,
    RouterRegistry,
    RouterReport,
    RouterReporter,
    remote_demand,
)
from greenfleet.router.proxy import Router
from greenfleet.router.table import EndpointRoute, RoutingTable, Target
from greenfleet.scaling.serverless import Demand
from greenfleet.scaling.serverless_driver import ServerlessDriver
from greenfleet.store.database import create_store_engine, migrate
from tests.control.world import ControlWorld

KEY = ("e", "v")
IDLE = 10.0


def test_demand_merges_the_later_request_and_the_sum_in_flight() -> None:
    assert Demand(5.0, 1).merge(Demand(7.0, 2)) == Demand(7.0, 3)
    assert Demand(None, 0).merge(Demand(3.0, 0)) == Demand(3.0, 0)
    assert Demand(4.0, 1).merge(Demand()) == Demand(4.0, 1)


def test_remote_demand_counts_in_flight_from_live_routers_only_and_every_routers_last_request() -> None:
    live = [RouterReport("r-1", "process", 3, {}, 100.0, demand={KEY: Demand(90.0, 1), ("e", "w"): Demand(50.0, 0)}),
            RouterReport("r-2", "server", 3, {}, 99.0, demand={KEY: Demand(80.0, 2)})]
    silent = RouterReport("r-3", "process", 3, {}, 100.0 - STALE_AFTER_S - 0.1, demand={KEY: Demand(94.0, 7)})
    assert remote_demand([*live, silent], 100.0) == {KEY: Demand(94.0, 3), ("e", "w"): Demand(50.0, 0)}
    assert remote_demand([silent], 100.0) == {KEY: Demand(94.0, 0)}  # a dead router holds nothing; its time stays
    assert remote_demand([], 100.0) == {}


@pytest.fixture
def world(tmp_path: Path) -> ControlWorld:
    world = ControlWorld(tmp_path)
    world.model("m1")
    world.models.create_endpoint_config({"EndpointConfigName": "c1", "ProductionVariants": [
        {"VariantName": "v", "ModelName": "m1", "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 2}}]})
    return world


def test_the_driver_adds_the_other_routers_demand_and_reads_it_only_with_a_serverless_variant(
        world: ControlWorld) -> None:
    asked: list[float] = []

    def remote(now: float) -> dict[tuple[str, str], Demand]:
        asked.append(now)
        return {KEY: Demand(world.clock.now() - 1.0, 2), ("gone", "v"): Demand(1.0, 1)}

    driver = ServerlessDriver(world.router, world.endpoints, IDLE, remote)
    world.config("plain", "m1")
    world.endpoints.create_endpoint({"EndpointName": "p", "EndpointConfigName": "plain"})
    world.tick(passes=2)
    assert driver.observe(world.reconciler.snapshot) == [] and asked == []  # no serverless variant: no read
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)
    snapshot = world.reconciler.snapshot
    world.router.last_request[KEY], world.router.serverless_in_flight[KEY] = snapshot.now - 5.0, 1
    (seen,) = driver.observe(snapshot)
    assert asked == [snapshot.now]
    assert (seen.endpoint, seen.variant, seen.last_request, seen.in_flight) == ("e", "v", world.clock.now() - 1.0, 3)
    world.router.last_request[KEY] = snapshot.now  # the leader's own request is the later one
    (seen,) = driver.observe(snapshot)
    assert (seen.last_request, seen.in_flight) == (snapshot.now, 3)


def test_another_routers_held_request_starts_the_variant_and_its_traffic_keeps_it_warm(world: ControlWorld) -> None:
    """The leader's router never sees a request: a second router (as a ``greenfleet router`` process) holds
    one for a cold start, then serves steadily, then stops; only its reports through the store tell the
    leader."""
    registry = RouterRegistry(world.engine)
    driver = ServerlessDriver(world.router, world.endpoints, IDLE, lambda now: remote_demand(registry.reports(), now))
    world.reconciler.control.steps.insert(1, driver)
    remote = Router("123456789012", 1024, 60.0, clock=world.clock.now)
    reporter = RouterReporter(registry, remote, "router-x", "process", clock=world.clock.now)
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=3)
    assert world.status("e") == "InService" and world.backend.running("e") == []
    assert reporter.report_once(world.clock.now())
    world.clock.advance(0.25)
    assert not reporter.report_once(world.clock.now())  # nothing new within the heartbeat

    remote.last_request[KEY], remote.serverless_in_flight[KEY] = world.clock.now(), 1  # held for a cold start
    assert reporter.report_once(world.clock.now())  # a held request is a change: written at once
    assert registry.reports()[0].demand == {KEY: Demand(world.clock.now(), 1)}
    world.tick(passes=3)
    assert len(world.backend.running("e")) == 1  # started for the other router's request
    assert world.router.last_request == {}  # the leader's router never saw it

    remote.serverless_in_flight[KEY] = 0  # answered; then a request every 2 s, for three idle periods
    for _ in range(int(3 * IDLE / 2)):
        remote.last_request[KEY] = world.clock.now()
        reporter.report_once(world.clock.now())
        world.tick(1.0, passes=2)
        assert len(world.backend.running("e")) == 1
    world.clock.advance((0.5 - world.clock.now() % 1.0) % 1.0)  # mid-second: no new second of peaks to report
    assert reporter.report_once(world.clock.now())
    world.clock.advance(0.25)
    remote.last_request[KEY] = world.clock.now()
    assert not reporter.report_once(world.clock.now())  # a later time alone rides the heartbeat
    world.clock.advance(HEARTBEAT_S)
    assert reporter.report_once(world.clock.now())

    for _ in range(int(IDLE) + 2):  # the other router falls quiet (and keeps reporting)
        reporter.report_once(world.clock.now())
        world.tick(1.0)
    assert world.backend.running("e") == []  # back to zero an idle period after its last request
    reporter.stop(final_ship=False)


def test_without_the_other_routers_reports_a_pass_starts_but_never_stops(world: ControlWorld) -> None:
    """The store fails the read of the other routers' reports: this pass starts what the leader's own router
    asks for, and stops nothing (another router may be serving the variant)."""
    failing = True

    def remote(now: float) -> dict[tuple[str, str], Demand]:
        if failing:
            raise OperationalError("SELECT", {}, ConnectionRefusedError("the store is down"))
        return {KEY: Demand(world.clock.now(), 0)}

    driver = ServerlessDriver(world.router, world.endpoints, IDLE, remote)
    world.reconciler.control.steps.insert(1, driver)
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=3)
    world.router.last_request[KEY], world.router.serverless_in_flight[KEY] = world.clock.now(), 1
    world.tick(passes=3)
    assert len(world.backend.running("e")) == 1  # its own held request starts the variant, reports or not
    world.router.serverless_in_flight[KEY] = 0
    for _ in range(int(IDLE) + 3):  # the leader's router idle past the idle period; the reports unreadable
        world.tick(1.0)
    assert len(world.backend.running("e")) == 1  # nothing stopped while the other routers' demand is unknown
    failing = False  # readable again: another router served it a moment ago
    world.tick(1.0)
    assert len(world.backend.running("e")) == 1
    driver.remote = lambda now: {}  # and no router asked for it within the idle period: stopped
    world.tick(1.0, passes=3)
    assert world.backend.running("e") == []


def test_a_request_held_for_a_cold_start_is_reported_at_once(tmp_path: Path) -> None:
    """The held request wakes the router's reporter: its report reaches the store long before the reporter's
    interval (30 s here) would have written it. A real router holding a real request, a real SQLite store."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    registry = RouterRegistry(engine)
    router = Router("123456789012", 1024, 5.0)
    router.cold_start_timeout_s = 2.0
    router.publish(RoutingTable(1, {"e": EndpointRoute("e", (Target("v", "cfg", 1.0, "RANDOM", (),
                                                                    max_concurrency=2),))}))
    reporter = RouterReporter(registry, router, "router-x", "process", interval_s=30.0)
    router.on_demand = reporter.wake
    reporter.start()

    async def held() -> float:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"1", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            pass

        scope = {"type": "http", "method": "POST", "path": "/endpoints/e/invocations", "headers": []}
        request = asyncio.create_task(router(scope, receive, send))
        started = time.monotonic()
        while not any(r.demand.get(KEY, Demand()).in_flight for r in registry.reports()):
            assert time.monotonic() - started < 1.5, "the held request was not reported"
            await asyncio.sleep(0.02)
        took = time.monotonic() - started
        await request  # times out (429): nothing starts the variant here
        return took

    try:
        assert asyncio.run(held()) < 1.5
    finally:
        reporter.stop(final_ship=False)
        engine.dispose()
