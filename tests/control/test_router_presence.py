"""Drains count every router's in-flight requests: an instance dropped from the table is stopped only once
every live router reports serving a table without it (a report later than the swap) and no request left on
it; a router silent for STALE_AFTER_S is taken for dead. Tick by tick, with a second router following the
stored table and reporting through the real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenfleet.control.observability import MetricsFlush
from greenfleet.control.router_presence import (
    PEAKS_FRESH_S,
    STALE_AFTER_S,
    RouterRegistry,
    RouterReport,
    RouterReporter,
    leaving_in_flight,
    remote_busy,
    remote_peaks,
)
from greenfleet.control.table_sync import TableFollower, TablePublish
from greenfleet.metrics import MetricService
from greenfleet.router.proxy import Router
from tests.control.world import ControlWorld


def report(revision: int, leaving: dict[str, int] | None = None, seen_at: float = 100.0) -> RouterReport:
    return RouterReport("router-x", "process", revision, leaving or {}, seen_at)


def test_remote_busy_until_every_live_router_moved_on_and_let_go() -> None:
    assert not remote_busy([], "i-1", 5, 100.0)  # no other router
    assert remote_busy([report(4)], "i-1", 5, 100.0)  # still serves a table listing i-1
    assert remote_busy([report(5, {"i-1": 2})], "i-1", 5, 100.0)  # moved on, two requests left on it
    assert not remote_busy([report(5, {"i-2": 1})], "i-1", 5, 100.0)  # busy elsewhere only
    assert not remote_busy([report(4, seen_at=100.0 - STALE_AFTER_S - 0.1)], "i-1", 5, 100.0)  # dead router


def test_a_report_drops_the_instances_its_table_still_lists(world: ControlWorld) -> None:
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)
    listed = world.routed("e")
    assert leaving_in_flight(world.router.table, {listed[0]: 3, "i-gone": 2, "i-idle": 0}) == {"i-gone": 2}


@pytest.fixture
def world(tmp_path: Path) -> ControlWorld:
    world = ControlWorld(tmp_path)
    world.model("m1")
    world.config("c1", "m1", count=2)
    world.reconciler.control.steps.insert(1, TablePublish(world.repo, world.router))  # followers read it
    return world


def test_a_drain_waits_for_another_routers_request(world: ControlWorld) -> None:
    registry = RouterRegistry(world.engine)
    world.reconciler.remote_routers = registry.reports
    remote = Router("123456789012", 1024, 60.0, clock=world.clock.now)
    follower = TableFollower(world.repo, remote)
    reporter = RouterReporter(registry, remote, "router-x", "process", clock=world.clock.now)
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)
    assert follower.follow_once() and remote.table.revision == world.router.table.revision
    for instance_id in world.routed("e"):
        remote.outstanding.acquire(instance_id)  # the other router has a request on each instance
    reporter.report_once(world.clock.now())
    world.endpoints.update_weights_and_capacities(
        {"EndpointName": "e", "DesiredWeightsAndCapacities": [{"VariantName": "a", "DesiredInstanceCount": 1}]})
    world.tick()
    (drained,) = [i.instance_id for i in world.reconciler.snapshot.instances if i.phase == "draining"]
    world.tick(passes=2)
    assert len(world.backend.running("e")) == 2  # the leader's router is idle; the other still serves it
    assert follower.follow_once() and drained not in [i.instance_id for t in remote.table.endpoints["e"].targets
                                                      for i in t.instances]
    reporter.report_once(world.clock.now())
    assert registry.reports()[0].revision < world.router.table.revision  # the revision one report earlier
    world.tick()
    assert len(world.backend.running("e")) == 2
    world.clock.advance(0.25)
    reporter.report_once(world.clock.now())
    assert registry.reports()[0].leaving == {drained: 1}  # moved on, with a request left on it
    world.tick()
    assert len(world.backend.running("e")) == 2
    remote.outstanding.release(drained)
    reporter.report_once(world.clock.now())
    world.tick()
    assert len(world.backend.running("e")) == 1 and drained not in world.backend.running("e")
    reporter.stop(final_ship=False)
    assert registry.reports() == []


def test_a_silent_router_is_taken_for_dead(world: ControlWorld) -> None:
    registry = RouterRegistry(world.engine)
    world.reconciler.remote_routers = registry.reports
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)
    registry.save(RouterReport("router-gone", "process", 1, {}, world.clock.now()), world.clock.now())
    world.endpoints.update_weights_and_capacities(
        {"EndpointName": "e", "DesiredWeightsAndCapacities": [{"VariantName": "a", "DesiredInstanceCount": 1}]})
    world.tick(passes=3)
    assert len(world.backend.running("e")) == 2  # it never reported the new table
    world.tick(STALE_AFTER_S)
    assert len(world.backend.running("e")) == 1


def test_remote_peaks_add_up_the_fresh_reports_only() -> None:
    fresh = [RouterReport("r-1", "process", 3, {}, 100.0, {"i-1": 2, "i-2": 1}),
             RouterReport("r-2", "server", 3, {}, 99.5, {"i-1": 3})]
    stale = RouterReport("r-3", "process", 3, {}, 100.0 - PEAKS_FRESH_S - 0.1, {"i-1": 50})
    assert remote_peaks([*fresh, stale], 100.0) == {"i-1": 5, "i-2": 1}
    assert remote_peaks([], 100.0) == {}


def test_concurrent_requests_per_model_counts_every_routers_requests(world: ControlWorld) -> None:
    """The leader's ConcurrentRequestsPerModel adds the peaks another router reported for its last whole
    second to its own router's: one sample per healthy instance, the sum of the routers' peaks on it."""
    registry = RouterRegistry(world.engine)
    remote = Router("123456789012", 1024, 60.0, clock=world.clock.now)
    reporter = RouterReporter(registry, remote, "router-x", "process", clock=world.clock.now)
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)
    first, second = sorted(world.routed("e"))
    world.router.outstanding.acquire(first)  # the leader's router: 1 on the first instance
    for instance_id in (first, first, second):  # the other router: 2 on the first, 1 on the second
        remote.outstanding.acquire(instance_id)
    world.clock.advance(1.0)
    assert reporter.report_once(world.clock.now())
    assert registry.reports()[0].peaks == {first: 2, second: 1}
    metrics = MetricService(world.engine, world.clock)
    flush = MetricsFlush(metrics, world.backend, world.router.outstanding,
                         lambda now: remote_peaks(registry.reports(), now))
    t = world.reconciler.snapshot.now  # the second the flush records
    flush.run(world.reconciler.snapshot)
    body = {"Namespace": "AWS/SageMaker", "MetricName": "ConcurrentRequestsPerModel",
            "Dimensions": [{"Name": "EndpointName", "Value": "e"}, {"Name": "VariantName", "Value": "a"}],
            "StartTime": t - 60, "EndTime": t + 60, "Period": 60, "Statistics": ["Maximum", "Sum", "SampleCount"]}
    (point,) = metrics.get_metric_statistics(body)["Datapoints"]
    assert (point["Maximum"], point["Sum"], point["SampleCount"]) == (3.0, 4.0, 2.0)
    alone = MetricsFlush(metrics, world.backend, world.router.outstanding)  # without the other router's report
    world.tick(120.0)  # a minute of its own: the leader's router still has its one request
    later = world.reconciler.snapshot.now
    alone.run(world.reconciler.snapshot)
    body["StartTime"], body["EndTime"] = later - 30, later + 30
    (point,) = metrics.get_metric_statistics(body)["Datapoints"]
    assert (point["Maximum"], point["Sum"], point["SampleCount"]) == (1.0, 1.0, 2.0)
