"""PutMetricData onto a point sink: the metric store on the leading server, a router's outbox elsewhere
(a follower server, a ``greenfleet router`` process), whose points the leader merges additively. What
:class:`~greenfleet.metrics.service.MetricService` does for the API, and what a router process uses to
publish its own counters (its data capture's) without a metric service of its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from greenfleet.metrics.putdata import parse_put
from greenfleet.metrics.recorder import PointSink


def put_points(sink: PointSink, body: Mapping[str, Any], now: float) -> None:
    datums = parse_put(body, now, sink.relative_accuracy)
    sink.add([(sink.resolve(d.key, d.unit, d.resolution, now), d.ts, d.aggregate) for d in datums], now)


class SinkMetrics:
    """``put_metric_data`` straight onto a point sink (for a process with no metric service)."""

    def __init__(self, sink: PointSink, clock: Callable[[], float]) -> None:
        self.sink, self.clock = sink, clock

    def put_metric_data(self, body: Mapping[str, Any], now: float | None = None) -> None:
        put_points(self.sink, body, self.clock() if now is None else now)
