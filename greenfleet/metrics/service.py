"""MetricService: the store behind CloudWatch's metric API (PutMetricData, GetMetricStatistics,
GetMetricData, ListMetrics), the data plane's recorder, and the control plane's one-second flush."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from greenfleet.clock import Clock
from greenfleet.errors import ValidationError
from greenfleet.metrics.putdata import parse_put
from greenfleet.metrics.query import (
    DataQuery,
    MetricStat,
    check_period,
    check_unit,
    common_period,
    parse_queries,
    run_queries,
    stat_aggregates,
)
from greenfleet.metrics.recorder import Recorder
from greenfleet.metrics.series import SeriesKey, check_metric_name, check_namespace, parse_dimensions
from greenfleet.metrics.statistics import BASIC_STATISTICS, parse_statistic
from greenfleet.metrics.store import DAY, HOUR, MetricStore
from greenfleet.metrics.timestamps import iso, parse_time

log = logging.getLogger("greenfleet.metrics")

MAX_DATAPOINTS = 1440
MAX_RESULT_POINTS = 100_800


class MetricService:
    def __init__(self, engine: Engine, clock: Clock, *, raw_retention_s: int = 3 * HOUR,
                 rollup_retention_s: int = 15 * DAY, memory_window_s: int = HOUR,
                 relative_accuracy: float = 0.01, max_series: int = 20_000,
                 maintenance_interval_s: float = 60.0) -> None:
        self.clock = clock
        self.store = MetricStore(engine, raw_retention_s=raw_retention_s, rollup_retention_s=rollup_retention_s,
                                 memory_window_s=memory_window_s, relative_accuracy=relative_accuracy,
                                 max_series=max_series)
        self.store.load(clock.now())
        self.recorder = Recorder(self.store)
        self.maintenance_interval_s = maintenance_interval_s
        self._next_maintenance = clock.now() + maintenance_interval_s

    # -- the control plane ------------------------------------------------------------------------------
    def flush(self, now: float) -> int:
        """Every second: move closed seconds from the recorder into the store and persist changed buckets
        (call before ``AlarmService.evaluate(now)``). Returns the number of rows written."""
        self.recorder.flush(now)
        written = self.store.persist()
        if now >= self._next_maintenance:
            self._next_maintenance = now + self.maintenance_interval_s
            try:
                self.store.maintain(now)
            except Exception:
                log.exception("metric store maintenance failed")
        return written

    def close(self, now: float | None = None) -> None:
        """Flush everything, the open second included (at shutdown)."""
        now = self.clock.now() if now is None else now
        self.recorder.flush(now + 1)
        self.store.persist()

    # -- PutMetricData ----------------------------------------------------------------------------------
    def put_metric_data(self, body: Mapping[str, Any], now: float | None = None) -> None:
        now = self.clock.now() if now is None else now
        datums = parse_put(body, now, self.store.relative_accuracy)
        items = [(self.store.resolve(d.key, d.unit, d.resolution, now), d.ts, d.aggregate) for d in datums]
        self.store.add(items, now)

    # -- GetMetricStatistics ----------------------------------------------------------------------------
    def get_metric_statistics(self, body: Mapping[str, Any]) -> dict[str, Any]:
        key = SeriesKey(check_namespace(body.get("Namespace")), check_metric_name(body.get("MetricName")),
                        parse_dimensions(body.get("Dimensions")))
        period = check_period(body.get("Period"))
        start, end = _range(body, period)
        statistics = _list(body.get("Statistics"), "Statistics")
        extended = _list(body.get("ExtendedStatistics"), "ExtendedStatistics")
        if not statistics and not extended:
            raise ValidationError("Statistics or ExtendedStatistics must name at least one statistic")
        for name in statistics:
            if name not in BASIC_STATISTICS:
                raise ValidationError(f"Statistics: '{name}' is not one of {', '.join(BASIC_STATISTICS)}")
        parsed = [parse_statistic(name, "ExtendedStatistics") for name in extended]
        if any(not p.extended for p in parsed):
            raise ValidationError("ExtendedStatistics holds percentiles and trimmed means; put the others "
                                  "in Statistics")
        if (end - start) // period > MAX_DATAPOINTS:
            raise ValidationError(f"the request would return {(end - start) // period} data points, more than "
                                  f"{MAX_DATAPOINTS}; use a longer Period or a shorter time range")
        unit = check_unit(body.get("Unit"))
        ms = MetricStat(key, period, parse_statistic("Sum"), unit)
        series = self.store.find(key)
        datapoints = []
        for k, agg in enumerate(stat_aggregates(self.store, ms, start, end, bool(parsed))):
            if agg is None:
                continue
            point: dict[str, Any] = {"Timestamp": iso(start + k * period)}
            for name in statistics:
                point[name] = parse_statistic(name).of(agg)
            if parsed:
                point["ExtendedStatistics"] = {p.name: p.of(agg) for p in parsed}
            point["Unit"] = (series.unit if series else None) or "None"
            datapoints.append(point)
        return {"Label": key.name, "Datapoints": datapoints}

    # -- GetMetricData ----------------------------------------------------------------------------------
    def _run_data_queries(self, body: Mapping[str, Any]) -> tuple[list[DataQuery], int, int,
                                                                  dict[str, list[float | None]]]:
        queries = parse_queries(body.get("MetricDataQueries"), "MetricDataQueries")
        period = common_period(queries, "MetricDataQueries")
        start, end = _range(body, period)
        if (end - start) // period * len(queries) > MAX_RESULT_POINTS:
            raise ValidationError(f"the request would return more than {MAX_RESULT_POINTS} data points; use a "
                                  "longer Period or a shorter time range")
        return queries, start, period, run_queries(self.store, queries, start, end, period)

    def get_metric_data_values(self, body: Mapping[str, Any]) -> tuple[int, int, dict[str, list[float | None]]]:
        """GetMetricData's numbers without its wire format, for charts: (start, period, {query id: one value
        per period from start, None where there is no data}) for the queries that return data."""
        queries, start, period, values = self._run_data_queries(body)
        return start, period, {q.id: values[q.id] for q in queries if q.return_data}

    def get_metric_data(self, body: Mapping[str, Any]) -> dict[str, Any]:
        queries, start, period, values = self._run_data_queries(body)
        descending = body.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        results = []
        for q in queries:
            if not q.return_data:
                continue
            points = [(start + k * period, v) for k, v in enumerate(values[q.id]) if v is not None]
            if descending:
                points.reverse()
            label = q.label or (q.metric_stat.key.name if q.metric_stat else q.id)
            results.append({"Id": q.id, "Label": label, "Timestamps": [iso(t) for t, _ in points],
                            "Values": [v for _, v in points], "StatusCode": "Complete"})
        return {"MetricDataResults": results, "Messages": []}

    # -- ListMetrics ------------------------------------------------------------------------------------
    def list_metrics(self, namespace: str | None = None, metric_name: str | None = None,
                     dimensions: list[Mapping[str, Any]] | None = None) -> dict[str, Any]:
        wanted = [(d.get("Name"), d.get("Value")) for d in dimensions or []]
        metrics = []
        for series in sorted(self.store.all_series(), key=lambda s: (s.key.namespace, s.key.name,
                                                                     s.key.dimensions)):
            key = series.key
            if namespace is not None and key.namespace != namespace:
                continue
            if metric_name is not None and key.name != metric_name:
                continue
            dims = key.dimension_map()
            if any(name not in dims or (value is not None and dims[name] != value) for name, value in wanted):
                continue
            metrics.append({"Namespace": key.namespace, "MetricName": key.name,
                            "Dimensions": key.dimension_list()})
        return {"Metrics": metrics}


def _list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{field} must be a list of statistic names")
    return value


def _range(body: Mapping[str, Any], period: int) -> tuple[int, int]:
    """[StartTime, EndTime) widened to whole periods."""
    if body.get("StartTime") is None or body.get("EndTime") is None:
        raise ValidationError("StartTime and EndTime are required")
    start = parse_time(body["StartTime"], "StartTime")
    end = parse_time(body["EndTime"], "EndTime")
    if end <= start:
        raise ValidationError("EndTime must be after StartTime")
    return math.floor(start / period) * period, math.ceil(end / period) * period
