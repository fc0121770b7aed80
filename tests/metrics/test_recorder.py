"""The data plane's per-invocation figures: how each outcome counts, both dimension sets, per-second
flushing, InvocationsPerInstance, ModelSetupTime and instance usage."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from greenfleet.clock import FakeClock
from greenfleet.metrics import MetricService
from greenfleet.metrics.names import NAMESPACE
from greenfleet.router.proxy import Router
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Target

EV = [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}]


def _dims(config: str | None = None) -> list[dict[str, str]]:
    return EV + ([{"Name": "EndpointConfigName", "Value": config}] if config else [])


def _stats(svc: MetricService, metric: str, dims: list[dict[str, str]], start: float, end: float,
           period: int = 60, stats: tuple[str, ...] = ("Sum", "Average", "SampleCount")) -> list[dict[str, Any]]:
    result = svc.get_metric_statistics({"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dims,
                                        "StartTime": start, "EndTime": end, "Period": period,
                                        "Statistics": list(stats)})
    return result["Datapoints"]  # type: ignore[no-any-return]


@pytest.fixture
def svc(sqlite_engine: Engine, clock: FakeClock) -> MetricService:
    return MetricService(sqlite_engine, clock)


def test_each_outcome_counts_as_sagemaker_defines(svc: MetricService, clock: FakeClock) -> None:
    t0 = clock.now()
    outcomes = {"ok": 5, "model_error_4xx": 1, "model_error_5xx": 2, "client_4xx": 3, "server_5xx": 4}
    for outcome, n in outcomes.items():
        for _ in range(n):
            latency = None if outcome in ("client_4xx", "server_5xx") else 1000.0
            svc.recorder.record_invocation("ep", "AllTraffic", "cfg-1", "i-1", outcome, latency, 80.0, t0 + 0.5)
    svc.flush(t0 + 1)
    expected = {"Invocations": (15, 1.0), "Invocation4XXErrors": (1 + 3, 4 / 15),
                "Invocation5XXErrors": (2 + 4, 6 / 15), "InvocationModelErrors": (1 + 2 + 4, 7 / 15)}
    for dims in (_dims(), _dims("cfg-1")):
        for metric, (total, rate) in expected.items():
            (point,) = _stats(svc, metric, dims, t0, t0 + 60)
            assert point["Sum"] == total and point["SampleCount"] == 15
            assert point["Average"] == pytest.approx(rate)
        (model,) = _stats(svc, "ModelLatency", dims, t0, t0 + 60)
        assert model["SampleCount"] == 8 and model["Average"] == 1000.0  # no model answer → no sample
        (overhead,) = _stats(svc, "OverheadLatency", dims, t0, t0 + 60)
        assert overhead["SampleCount"] == 15


def test_unknown_outcome_is_refused(svc: MetricService, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="unknown invocation outcome"):
        svc.recorder.record_invocation("ep", "v", "c", "i", "teapot", 1.0, 1.0, clock.now())


def test_flush_moves_only_closed_seconds(svc: MetricService, clock: FakeClock) -> None:
    t0 = clock.now()
    svc.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "ok", 10.0, 1.0, t0 + 0.2)
    svc.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "ok", 10.0, 1.0, t0 + 1.2)
    svc.flush(t0 + 1.5)  # second t0 is closed, t0+1 is not
    assert [p["Sum"] for p in _stats(svc, "Invocations", _dims(), t0, t0 + 2, period=1)] == [1.0]
    svc.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "ok", 10.0, 1.0, t0 + 0.9)  # late
    svc.flush(t0 + 2)
    assert [p["Sum"] for p in _stats(svc, "Invocations", _dims(), t0, t0 + 2, period=1)] == [2.0, 1.0]


def test_variant_dimension_set_sums_over_configs(svc: MetricService, clock: FakeClock) -> None:
    t0 = clock.now()
    for config, n, errors in (("blue", 90, 0), ("green", 10, 5)):
        for i in range(n):
            outcome = "model_error_5xx" if i < errors else "ok"
            svc.recorder.record_invocation("ep", "AllTraffic", config, f"{config}-1", outcome, 100.0, 1.0,
                                           t0 + 0.1)
    svc.flush(t0 + 1)
    (green,) = _stats(svc, "Invocation5XXErrors", _dims("green"), t0, t0 + 60)
    (both,) = _stats(svc, "Invocation5XXErrors", _dims(), t0, t0 + 60)
    assert green["Average"] == 0.5 and both["Average"] == 0.05  # the alarm on the new fleet sees 50 %


def test_invocations_per_instance(svc: MetricService, clock: FakeClock) -> None:
    t0 = clock.now()
    for i in range(12):
        svc.recorder.record_invocation("ep", "AllTraffic", "cfg", f"i-{i % 3}", "ok", 1.0, 1.0, t0 + 0.1)
    svc.flush(t0 + 1)  # no count given: 3 distinct instances served
    svc.recorder.set_instance_counts({("ep", "AllTraffic", "cfg"): 4})
    for _ in range(12):
        svc.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-0", "ok", 1.0, 1.0, t0 + 1.1)
    svc.flush(t0 + 2)
    points = _stats(svc, "InvocationsPerInstance", _dims("cfg"), t0, t0 + 2, period=1)
    assert [p["Sum"] for p in points] == [4.0, 3.0]


def test_invocations_per_instance_divides_by_the_routers_healthy_instances(svc: MetricService,
                                                                          clock: FakeClock) -> None:
    """One request a second to a variant with four ready instances is 0.25 per instance, not 1 (the
    instances that happened to serve): the router gives the recorder the counts of each table it publishes,
    and a second keeps the count in force when it began."""
    def table(revision: int, n: int) -> RoutingTable:
        instances = tuple(InstanceAddress(f"i-{k}", "127.0.0.1", 9000 + k) for k in range(n))
        target = Target("AllTraffic", "cfg", 1.0, "RANDOM", instances)
        return RoutingTable(revision, {"ep": EndpointRoute("ep", (target,))})

    router = Router("000000000000", 1024, 1.0, recorder=svc.recorder)
    router.publish(table(1, 4))
    t0 = float(int(clock.now()))
    svc.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-0", "ok", 1.0, 1.0, t0 + 0.1)
    router.publish(table(2, 1))  # an instance count change inside the second applies from the next one
    svc.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-0", "ok", 1.0, 1.0, t0 + 0.2)
    svc.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-0", "ok", 1.0, 1.0, t0 + 1.1)
    svc.flush(t0 + 2)
    points = _stats(svc, "InvocationsPerInstance", _dims("cfg"), t0, t0 + 2, period=1)
    assert [p["Sum"] for p in points] == [0.5, 1.0]
    (both,) = _stats(svc, "InvocationsPerInstance", _dims(), t0, t0 + 1, period=1)
    assert both["Sum"] == 0.5


def test_model_setup_time_and_instance_usage(svc: MetricService, clock: FakeClock) -> None:
    t0 = clock.now()
    svc.recorder.record_model_setup_time("ep", "AllTraffic", "cfg", 2_500_000.0, t0)
    svc.recorder.record_instance_usage("ep", "AllTraffic", "cfg", "i-1", 150.0, 20.0, t0)
    svc.recorder.record_instance_usage("ep", "AllTraffic", "cfg", "i-2", 50.0, 40.0, t0)
    svc.flush(t0 + 1)
    (setup,) = _stats(svc, "ModelSetupTime", _dims("cfg"), t0, t0 + 60, stats=("Maximum",))
    assert setup["Maximum"] == 2_500_000.0 and setup["Unit"] == "Microseconds"
    (cpu,) = _stats(svc, "CPUUtilization", _dims(), t0, t0 + 60, stats=("Average", "Maximum"))
    assert (cpu["Average"], cpu["Maximum"], cpu["Unit"]) == (100.0, 150.0, "Percent")
    per_instance = [*EV, {"Name": "InstanceId", "Value": "i-2"}]
    (mem,) = _stats(svc, "MemoryUtilization", per_instance, t0, t0 + 60, stats=("Average",))
    assert mem["Average"] == 40.0


def test_latency_percentiles_over_a_minute(svc: MetricService, clock: FakeClock) -> None:
    t0 = clock.now()
    for s in range(60):
        for i in range(50):
            svc.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "ok", 1000.0 + 10 * i + s, 5.0,
                                           t0 + s + 0.01)
        svc.flush(t0 + s + 1)
    result = svc.get_metric_statistics({"Namespace": NAMESPACE, "MetricName": "ModelLatency",
                                        "Dimensions": _dims(), "StartTime": t0, "EndTime": t0 + 60,
                                        "Period": 60, "ExtendedStatistics": ["p50", "p99"]})
    (point,) = result["Datapoints"]
    assert point["ExtendedStatistics"]["p50"] == pytest.approx(1000 + 10 * 24 + 29, rel=0.01)
    assert point["ExtendedStatistics"]["p99"] == pytest.approx(1000 + 10 * 49 + 30, rel=0.01)


def test_a_busy_second_folds_latencies_into_a_sketch(svc: MetricService, clock: FakeClock) -> None:
    t0 = clock.now()
    for i in range(10_000):
        svc.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "ok", float(i + 1), 1.0, t0 + i / 20_000)
    svc.flush(t0 + 1)
    result = svc.get_metric_statistics({"Namespace": NAMESPACE, "MetricName": "ModelLatency", "Dimensions": _dims(),
                                        "StartTime": t0, "EndTime": t0 + 1, "Period": 1,
                                        "Statistics": ["SampleCount", "Average", "Maximum"],
                                        "ExtendedStatistics": ["p50", "p99"]})
    (point,) = result["Datapoints"]
    assert (point["SampleCount"], point["Average"], point["Maximum"]) == (10_000, 5000.5, 10_000)
    assert point["ExtendedStatistics"]["p50"] == pytest.approx(5000, rel=0.01)
    assert point["ExtendedStatistics"]["p99"] == pytest.approx(9900, rel=0.01)


def test_records_beyond_the_pending_limit_are_counted_not_kept(svc: MetricService, clock: FakeClock,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from greenfleet.metrics import recorder

    monkeypatch.setattr(recorder, "MAX_PENDING", 2)
    t0 = clock.now()
    for s in range(5):  # no flush: five seconds pending, room for two
        svc.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", "ok", 1.0, 1.0, t0 + s)
    assert svc.recorder.dropped == 3
    svc.flush(t0 + 5)
    assert [p["Sum"] for p in _stats(svc, "Invocations", _dims(), t0, t0 + 5, period=1)] == [1.0, 1.0]
