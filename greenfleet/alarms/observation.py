"""The data points an alarm evaluates: its statistic (or metric-math result) per period over the
evaluation range, read from the metric store."""

from __future__ import annotations

from greenfleet.alarms.evaluation import evaluation_range
from greenfleet.alarms.reason import Point
from greenfleet.alarms.spec import AlarmSpec
from greenfleet.errors import ValidationError
from greenfleet.metrics.query import run_queries, stat_aggregates
from greenfleet.metrics.store import MetricStore


def range_end(spec: AlarmSpec, now: float) -> int:
    """End of the latest complete period (periods are aligned on the epoch)."""
    return int(now // spec.period) * spec.period


def observe(store: MetricStore, spec: AlarmSpec, end: int) -> tuple[list[Point], list[bool]]:
    """Points of the evaluation range ending at ``end`` (oldest first) and, per point, whether it has too
    few samples for its percentile (EvaluateLowSampleCountPercentile)."""
    period = spec.period
    count = evaluation_range(spec.evaluation_periods)
    start = end - count * period
    stamps = [start + k * period for k in range(count)]
    if spec.metric is not None:
        stat = spec.metric.stat
        try:
            aggs = stat_aggregates(store, spec.metric, start, end)
        except ValidationError:  # e.g. a sub-minute period on a standard-resolution series: no data
            return [Point(ts, None, None) for ts in stamps], [False] * count
        points = [Point(ts, stat.of(a), a.count if a is not None else None) for ts, a in zip(stamps, aggs,
                                                                                           strict=True)]
        low = [a is not None and stat.low_sample_count(a.count) for a in aggs]
        return points, low
    returned = spec.return_query
    assert returned is not None
    try:
        values = run_queries(store, spec.queries, start, end, period)[returned.id]
    except ValidationError:
        values = [None] * count
    return [Point(ts, v, None) for ts, v in zip(stamps, values, strict=True)], [False] * count
