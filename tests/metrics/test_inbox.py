"""Invocation metrics of every router reach the one metric store additively: routers that do not lead ship
their closed seconds to the inbox, the leader merges them into the same buckets as its own router's (counts
add up exactly, sketches merge), deletes the rows with the persist, never merges a row twice, and its alarms
see traffic that went through other routers only."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from greenfleet.clock import FakeClock
from greenfleet.metrics import MetricService
from greenfleet.metrics.inbox import MetricOutbox
from greenfleet.metrics.names import NAMESPACE
from greenfleet.metrics.recorder import Recorder
from greenfleet.metrics.tables import metric_inbox
from tests.observability_support import tick

DIMS = [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}]


def stats(svc: MetricService, metric: str, start: float, end: float, period: int = 60,
          statistics: tuple[str, ...] = ("Sum", "SampleCount")) -> list[dict[str, Any]]:
    body = {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": DIMS, "StartTime": start, "EndTime": end,
            "Period": period, "Statistics": list(statistics)}
    return list(svc.get_metric_statistics(body)["Datapoints"])


def inbox_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(metric_inbox)).scalar_one())


def router(engine: Engine, router_id: str) -> tuple[Recorder, MetricOutbox]:
    outbox = MetricOutbox(engine, router_id, 0.01)
    return Recorder(outbox), outbox


def test_two_routers_and_the_leader_in_the_same_second_add_up_exactly(engine: Engine, clock: FakeClock) -> None:
    leader = MetricService(engine, clock)
    (first, first_out), (second, second_out) = router(engine, "router-a"), router(engine, "router-b")
    t0 = clock.now()
    for recorder, n, errors in ((leader.recorder, 7, 1), (first, 11, 2), (second, 13, 0)):
        for k in range(n):
            outcome = "model_error_5xx" if k < errors else "ok"
            recorder.record_invocation("ep", "AllTraffic", "cfg", f"i-{k % 2}", outcome, 1000.0 * (k + 1), 50.0,
                                       t0 + 0.5)
    for recorder, outbox in ((first, first_out), (second, second_out)):
        recorder.flush(t0 + 1)
        assert outbox.ship(t0 + 1) > 0
    assert inbox_rows(engine) == 2
    leader.flush(t0 + 1)
    assert inbox_rows(engine) == 0  # merged and deleted in the persisting transaction
    (invocations,) = stats(leader, "Invocations", t0, t0 + 60)
    assert invocations["Sum"] == 7 + 11 + 13
    (errors,) = stats(leader, "Invocation5XXErrors", t0, t0 + 60)
    assert errors["Sum"] == 3 and errors["SampleCount"] == 31
    (latency,) = stats(leader, "ModelLatency", t0, t0 + 60, statistics=("SampleCount", "Maximum"))
    assert latency["SampleCount"] == 31 and latency["Maximum"] == pytest.approx(13000.0, rel=0.02)
    fresh = MetricService(engine, clock)  # what the leader committed, as the next leader loads it
    assert stats(fresh, "Invocations", t0, t0 + 60)[0]["Sum"] == 31


def test_a_failed_persist_merges_nothing_twice(engine: Engine, clock: FakeClock,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    leader = MetricService(engine, clock)
    recorder, outbox = router(engine, "router-a")
    t0 = clock.now()
    for _ in range(5):
        recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "ok", 10.0, 1.0, t0 + 0.2)
    recorder.flush(t0 + 1)
    outbox.ship(t0 + 1)
    upsert = leader.store.repo.upsert_points

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("the database went away")

    monkeypatch.setattr(leader.store.repo, "upsert_points", broken)
    leader.flush(t0 + 1)  # merged in memory; the delete did not commit
    assert inbox_rows(engine) == 1 and leader.store.persist_failures == 1
    monkeypatch.setattr(leader.store.repo, "upsert_points", upsert)
    leader.flush(t0 + 2)  # the row is not merged again; the persist deletes it
    assert inbox_rows(engine) == 0
    assert stats(leader, "Invocations", t0, t0 + 60)[0]["Sum"] == 5
    assert stats(MetricService(engine, clock), "Invocations", t0, t0 + 60)[0]["Sum"] == 5


def test_a_leader_that_dies_before_committing_leaves_the_rows_for_the_next(engine: Engine, clock: FakeClock) -> None:
    recorder, outbox = router(engine, "router-a")
    t0 = clock.now()
    for _ in range(4):
        recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "ok", 10.0, 1.0, t0 + 0.2)
    recorder.flush(t0 + 1)
    outbox.ship(t0 + 1)
    dying = MetricService(engine, clock)
    dying.inbox.absorb(dying.store, t0 + 1)  # merged in memory, then the process dies before its persist
    successor = MetricService(engine, clock)
    successor.flush(t0 + 2)
    assert stats(successor, "Invocations", t0, t0 + 60)[0]["Sum"] == 4 and inbox_rows(engine) == 0


def test_a_follower_server_ships_what_its_router_and_put_metric_data_record_and_reads_the_leaders(engine: Engine,
                                                                          clock: FakeClock) -> None:
    leader, follower = MetricService(engine, clock), MetricService(engine, clock)
    follower.follow("server-b")
    t0 = clock.now()
    follower.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "ok", 10.0, 1.0, t0 + 0.2)
    follower.put_metric_data({"Namespace": "Shop", "MetricData": [{"MetricName": "Orders", "Value": 3,
                                                                   "Timestamp": t0 + 0.3}]})
    assert follower.store.persist() == 0  # a follower never writes the store's buckets
    assert follower.ship(t0 + 1) == 7 * 2 + 1  # seven invocation figures in two dimension sets, and the put
    leader.flush(t0 + 1)
    assert stats(leader, "Invocations", t0, t0 + 60)[0]["Sum"] == 1
    orders = leader.get_metric_statistics({"Namespace": "Shop", "MetricName": "Orders", "StartTime": t0,
                                           "EndTime": t0 + 60, "Period": 60, "Statistics": ["Sum"]})
    assert orders["Datapoints"][0]["Sum"] == 3
    assert stats(follower, "Invocations", t0, t0 + 60)[0]["Sum"] == 1  # a follower reads what the leader committed
    follower.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "ok", 10.0, 1.0, t0 + 1.2)
    follower.lead(t0 + 2)  # it ships what it holds, then reloads the committed buckets and leads
    assert follower.outbox is None
    follower.flush(t0 + 2)
    assert stats(follower, "Invocations", t0, t0 + 60)[0]["Sum"] == 2


def test_an_alarm_trips_on_errors_sent_only_through_another_router(
        engine: Engine, make_services: Callable[..., SimpleNamespace]) -> None:
    services = make_services(engine)
    services.alarms.put_alarm({
        "AlarmName": "ep-5xx", "Namespace": NAMESPACE, "MetricName": "Invocation5XXErrors", "Statistic": "Sum",
        "Dimensions": DIMS, "Period": 10, "EvaluationPeriods": 1, "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching"})
    recorder, outbox = router(engine, "router-a")
    states = []
    for _ in range(25):
        now = services.clock.now()
        for _ in range(3):  # the leader's own router serves nothing
            recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "server_5xx", None, 50.0, now + 0.1)
        recorder.flush(now)
        outbox.ship(now)
        tick(services)
        states.append(services.alarms.describe_alarm("ep-5xx")["StateValue"])
    assert states[-1] == "ALARM", states
