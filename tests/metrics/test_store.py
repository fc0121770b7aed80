"""Persistence of the metric store on SQLite and PostgreSQL: restart survival (sketches included),
rollups, retention, the memory window, late data and the series limit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from greenfleet.clock import FakeClock
from greenfleet.errors import ResourceLimitExceeded, ValidationError
from greenfleet.metrics import MetricService
from greenfleet.metrics.tables import metric_points
from greenfleet.metrics.timestamps import iso

NS = "Shop"


def _put(svc: MetricService, ts: float, values: list[float], name: str = "Latency", resolution: int = 1,
         dims: dict[str, str] | None = None) -> None:
    datum: dict[str, Any] = {"MetricName": name, "Timestamp": ts, "Values": values, "StorageResolution": resolution,
                             "Unit": "Milliseconds",
                             "Dimensions": [{"Name": k, "Value": v} for k, v in (dims or {"Site": "eu"}).items()]}
    svc.put_metric_data({"Namespace": NS, "MetricData": [datum]}, now=ts)


def _get(svc: MetricService, start: float, end: float, period: int, name: str = "Latency",
         dims: dict[str, str] | None = None, **extra: Any) -> list[dict[str, Any]]:
    body = {"Namespace": NS, "MetricName": name, "StartTime": start, "EndTime": end, "Period": period,
            "Dimensions": [{"Name": k, "Value": v} for k, v in (dims or {"Site": "eu"}).items()],
            "Statistics": ["SampleCount", "Sum", "Minimum", "Maximum"], "ExtendedStatistics": ["p90"], **extra}
    return svc.get_metric_statistics(body)["Datapoints"]  # type: ignore[no-any-return]


def test_points_and_sketches_survive_a_restart(engine: Engine, clock: FakeClock) -> None:
    svc = MetricService(engine, clock)
    t0 = clock.now()
    rng = np.random.default_rng(3)
    for s in range(90):
        _put(svc, t0 + s, list(rng.lognormal(3, 1, 20)))
        svc.flush(t0 + s + 1)
    before = (_get(svc, t0, t0 + 90, 1), _get(svc, t0, t0 + 120, 60), _get(svc, t0, t0 + 90, 30))
    restarted = MetricService(engine, clock)  # new service objects on the same database
    after = (_get(restarted, t0, t0 + 90, 1), _get(restarted, t0, t0 + 120, 60), _get(restarted, t0, t0 + 90, 30))
    assert after == before
    assert len(before[0]) == 90 and [p["SampleCount"] for p in before[1]] == [1200.0, 600.0]


def test_close_persists_the_open_second(engine: Engine, clock: FakeClock) -> None:
    svc = MetricService(engine, clock)
    t0 = clock.now()
    svc.recorder.record_invocation("ep", "v", "c", "i", "ok", 5.0, 1.0, t0 + 0.5)
    svc.close(t0 + 0.6)
    restarted = MetricService(engine, clock)
    out = restarted.get_metric_statistics({
        "Namespace": "AWS/SageMaker", "MetricName": "Invocations", "StartTime": t0, "EndTime": t0 + 1, "Period": 1,
        "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "v"}],
        "Statistics": ["Sum"]})
    assert [p["Sum"] for p in out["Datapoints"]] == [1.0]


def test_retention_drops_seconds_after_three_hours_and_keeps_minutes(engine: Engine, clock: FakeClock) -> None:
    svc = MetricService(engine, clock, raw_retention_s=3 * 3600, rollup_retention_s=15 * 86400)
    t0 = clock.now()
    _put(svc, t0 + 5, [1.0, 2.0, 3.0])
    svc.flush(t0 + 6)
    now = clock.advance(3 * 3600 + 120)
    svc.flush(now)
    svc.store.maintain(now)
    assert _get(svc, t0, t0 + 60, 1) == []  # one-second points are gone
    (minute,) = _get(svc, t0, t0 + 60, 60)  # the one-minute rollup stays
    assert (minute["SampleCount"], minute["Sum"], minute["Minimum"], minute["Maximum"]) == (3.0, 6.0, 1.0, 3.0)
    with engine.connect() as conn:
        resolutions = conn.execute(sa.select(metric_points.c.resolution)).scalars().all()
    assert resolutions == [60]
    now = clock.advance(15 * 86400)
    svc.store.maintain(now)
    assert _get(svc, t0, t0 + 60, 60) == [] and svc.list_metrics(NS)["Metrics"] == []


def test_old_ranges_come_from_the_database_after_the_memory_window(engine: Engine, clock: FakeClock) -> None:
    svc = MetricService(engine, clock, memory_window_s=600)
    t0 = clock.now()
    _put(svc, t0 + 1, [4.0, 8.0])
    svc.flush(t0 + 2)
    now = clock.advance(1200)
    svc.flush(now)
    svc.store.maintain(now)
    (series,) = svc.store.find(svc.store.all_series()[0].key)
    assert not series.chunks  # evicted from memory
    (point,) = _get(svc, t0, t0 + 60, 1)
    assert (point["Timestamp"], point["Sum"]) == (iso(t0 + 1), 12.0)
    _put(svc, t0 + 1, [3.0])  # late data for an evicted minute merges with what the database holds
    svc.flush(now + 1)
    (point,) = _get(svc, t0, t0 + 60, 1)
    (minute,) = _get(svc, t0, t0 + 60, 60)
    assert point["Sum"] == minute["Sum"] == 15.0 and point["SampleCount"] == 3.0


def test_standard_resolution_series_keep_minutes_only(engine: Engine, clock: FakeClock) -> None:
    svc = MetricService(engine, clock)
    t0 = clock.now()
    _put(svc, t0 + 10, [1.0], name="Orders", resolution=60)
    _put(svc, t0 + 50, [2.0], name="Orders", resolution=60)
    svc.flush(t0 + 61)
    (minute,) = _get(svc, t0, t0 + 60, 60, name="Orders")
    assert minute["Sum"] == 3.0
    with pytest.raises(ValidationError, match="multiple of 60"):
        _get(svc, t0, t0 + 60, 10, name="Orders")
    assert [p["Sum"] for p in _get(MetricService(engine, clock), t0, t0 + 60, 60, name="Orders")] == [3.0]


def test_series_limit(sqlite_engine: Engine, clock: FakeClock) -> None:
    svc = MetricService(sqlite_engine, clock, max_series=2)
    _put(svc, clock.now(), [1.0], dims={"Site": "a"})
    _put(svc, clock.now(), [1.0], dims={"Site": "b"})
    with pytest.raises(ResourceLimitExceeded, match="maximum of 2 series"):
        _put(svc, clock.now(), [1.0], dims={"Site": "c"})
