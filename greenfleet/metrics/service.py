"""MetricService: the store behind CloudWatch's metric API (PutMetricData, GetMetricStatistics,
GetMetricData, ListMetrics), the data plane's recorder, and the control plane's one-second flush.

A server that does not lead (``GREENFLEET_HA``) never writes the store's buckets: its recorder and
PutMetricData write to an outbox the leader merges (greenfleet.metrics.inbox); :meth:`follow` and
:meth:`lead` switch between the two."""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from greenfleet.clock import Clock
from greenfleet.errors import ValidationError
from greenfleet.metrics.errors import combination, validation
from greenfleet.metrics.inbox import MetricInbox, MetricOutbox
from greenfleet.metrics.points import put_points
from greenfleet.metrics.query import (
    DataQuery,
    check_period,
    check_unit,
    default_label,
    parse_queries,
    query_periods,
    run_queries,
)
from greenfleet.metrics.recorder import PointSink, Recorder
from greenfleet.metrics.series import SeriesKey, check_metric_name, check_namespace, parse_dimensions
from greenfleet.metrics.statistics import BASIC_STATISTICS, Statistic, parse_statistic
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
        self.sink: PointSink = self.store
        """Where recorded and put points go: the store, or an outbox while this server follows."""
        self.outbox: MetricOutbox | None = None
        self.inbox = MetricInbox(engine)
        self.engine = engine
        self._refreshed_at = float("-inf")
        self.maintenance_interval_s = maintenance_interval_s
        self._next_maintenance = clock.now() + maintenance_interval_s

    # -- the control plane ------------------------------------------------------------------------------
    def follow(self, router_id: str) -> None:
        """From now on this server's points go to an outbox tagged ``router_id`` (it does not lead)."""
        self.outbox = MetricOutbox(self.engine, router_id, self.store.relative_accuracy)
        self.recorder.store = self.sink = self.outbox
        self._refreshed_at = float("-inf")

    def _refresh(self) -> None:
        """A follower reads what the leader committed: series list and points from the database (at most
        once a second; the leader commits each second's points in its one-second flush)."""
        if self.outbox is None:
            return
        now = self.clock.now()
        if now - self._refreshed_at >= 1.0:
            self._refreshed_at = now
            self.store.read_through()

    def ship(self, now: float) -> int:
        """A follower's second: its closed seconds (and put points) to the inbox; returns the points."""
        if self.outbox is None:
            return 0
        self.recorder.flush(now)
        return self.outbox.ship(now)

    def lead(self, now: float) -> None:
        """This server leads from now on: ship what the outbox holds, reload the buckets the last leader
        committed, and write the store from here on (merging the other routers' inbox rows)."""
        if self.outbox is not None:
            try:
                self.ship(now)
            except Exception:
                log.warning("could not ship the follower's last metric points", exc_info=True)
            self.recorder.store = self.sink = self.store
            self.outbox = None
            self.store.load(now)

    def flush(self, now: float) -> int:
        """Every second: move closed seconds from the recorder and the other routers' inbox rows into the
        store and persist changed buckets, deleting the merged rows in the same transaction (call before
        ``AlarmService.evaluate(now)``). Returns the number of rows written."""
        self.recorder.flush(now)
        try:
            self.inbox.absorb(self.store, now)
        except Exception:
            log.warning("could not read the routers' metric inbox; retrying", exc_info=True)
        merged = sorted(self.inbox.merged)
        failures = self.store.persist_failures
        written = self.store.persist(self.inbox.delete_merged(merged) if merged else None)
        if self.store.persist_failures == failures:
            self.inbox.committed(merged)
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
        if self.outbox is not None:
            with contextlib.suppress(Exception):
                self.ship(now + 1)
            return
        self.recorder.flush(now + 1)
        self.store.persist()

    # -- PutMetricData ----------------------------------------------------------------------------------
    def put_metric_data(self, body: Mapping[str, Any], now: float | None = None) -> None:
        put_points(self.sink, body, self.clock.now() if now is None else now)

    # -- GetMetricStatistics ----------------------------------------------------------------------------
    def get_metric_statistics(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._refresh()
        key = SeriesKey(check_namespace(body.get("Namespace")), check_metric_name(body.get("MetricName")),
                        parse_dimensions(body.get("Dimensions")))
        period = check_period(body.get("Period"))
        statistics = _list(body.get("Statistics"), "Statistics")
        extended = _list(body.get("ExtendedStatistics"), "ExtendedStatistics")
        if not statistics and not extended:
            raise combination("Must specify either Statistics or ExtendedStatistics")
        start, end = _range(body, period)
        for name in statistics:
            if name not in BASIC_STATISTICS:
                raise ValidationError(f"Statistics: '{name}' is not one of {', '.join(BASIC_STATISTICS)}")
        parsed = [_extended(name) for name in extended]
        if (end - start) // period > MAX_DATAPOINTS:
            raise ValidationError(f"the request would return {(end - start) // period} data points, more than "
                                  f"{MAX_DATAPOINTS}; use a longer Period or a shorter time range")
        unit = check_unit(body.get("Unit"))
        datapoints: list[tuple[int, dict[str, Any]]] = []
        for series in self.store.find(key, unit):  # without a Unit: each unit's points apart, as CloudWatch
            for k, agg in enumerate(self.store.aggregate(series, start, end, period, bool(parsed))):
                if agg is None:
                    continue
                point: dict[str, Any] = {"Timestamp": iso(start + k * period)}
                for name in statistics:
                    point[name] = parse_statistic(name).of(agg)
                if parsed:
                    point["ExtendedStatistics"] = {p.name: p.of(agg) for p in parsed}
                point["Unit"] = series.unit or "None"
                datapoints.append((k, point))
        return {"Label": key.name, "Datapoints": [p for _, p in sorted(datapoints, key=lambda kp: kp[0])]}

    # -- GetMetricData ----------------------------------------------------------------------------------
    def _run_data_queries(self, body: Mapping[str, Any]) -> tuple[list[DataQuery], dict[str, tuple[int, int]],
                                                                  dict[str, list[float | None]]]:
        """The queries, each one's (start, period) and its values per period from start. Each query reads its
        own period (a MetricStat's; an expression's, the one its inputs share) over the request's window
        widened to whole periods of it."""
        self._refresh()
        queries = parse_queries(body.get("MetricDataQueries"), "MetricDataQueries")
        periods = query_periods(queries, "MetricDataQueries")
        windows = {period: _range(body, period) for period in sorted(set(periods.values()))}
        points = sum((windows[p][1] - windows[p][0]) // p for p in periods.values())
        if points > MAX_RESULT_POINTS:
            raise ValidationError(f"the request would return more than {MAX_RESULT_POINTS} data points; use a "
                                  "longer Period or a shorter time range")
        values: dict[str, list[float | None]] = {}
        for period, (start, end) in windows.items():
            group = [q for q in queries if periods[q.id] == period]  # an expression's inputs share its period
            values.update(run_queries(self.store, group, start, end, period))
        return queries, {q.id: (windows[periods[q.id]][0], periods[q.id]) for q in queries}, values

    def get_metric_data_values(self, body: Mapping[str, Any]) -> tuple[int, int, dict[str, list[float | None]]]:
        """GetMetricData's numbers without its wire format, for charts: (start, period, {query id: one value
        per period from start, None where there is no data}) for the queries that return data, which must
        share one Period."""
        queries, frames, values = self._run_data_queries(body)
        returned = [q for q in queries if q.return_data]
        shared = {frames[q.id] for q in returned}
        if len(shared) != 1:
            raise ValidationError("the queries that return data must share one Period here")
        start, period = shared.pop()
        return start, period, {q.id: values[q.id] for q in returned}

    def get_metric_data(self, body: Mapping[str, Any]) -> dict[str, Any]:
        queries, frames, values = self._run_data_queries(body)
        descending = body.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        results = []
        for q in queries:
            if not q.return_data:
                continue
            start, period = frames[q.id]
            points = [(start + k * period, v) for k, v in enumerate(values[q.id]) if v is not None]
            if descending:
                points.reverse()
            label = q.label or (default_label(q, queries) if q.metric_stat else q.id)
            results.append({"Id": q.id, "Label": label, "Timestamps": [iso(t) for t, _ in points],
                            "Values": [v for _, v in points], "StatusCode": "Complete"})
        return {"MetricDataResults": results, "Messages": []}

    # -- ListMetrics ------------------------------------------------------------------------------------
    def list_metrics(self, namespace: str | None = None, metric_name: str | None = None,
                     dimensions: list[Mapping[str, Any]] | None = None) -> dict[str, Any]:
        self._refresh()
        wanted = [(d.get("Name"), d.get("Value")) for d in dimensions or []]
        metrics = []
        keys = {series.key for series in self.store.all_series()}  # a metric sent in two units is one metric
        for key in sorted(keys, key=lambda k: (k.namespace, k.name, k.dimensions)):
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


def _extended(name: str) -> Statistic:
    try:
        parsed = parse_statistic(name, "ExtendedStatistics")
    except ValidationError:
        parsed = None
    if parsed is None or not parsed.extended:
        raise ValidationError(f"The value {name} for parameter ExtendedStatistics is not supported.") from None
    return parsed


def _range(body: Mapping[str, Any], period: int) -> tuple[int, int]:
    """[StartTime, EndTime) widened to whole periods. The two are compared as CloudWatch does, to the second
    (milliseconds dropped); a StartTime not before EndTime is refused as issue 20 has it for both
    GetMetricData and GetMetricStatistics (ValidationError, "must not equal")."""
    if body.get("StartTime") is None or body.get("EndTime") is None:
        raise ValidationError("StartTime and EndTime are required")
    start = parse_time(body["StartTime"], "StartTime")
    end = parse_time(body["EndTime"], "EndTime")
    if math.floor(end) <= math.floor(start):
        raise validation("The parameter StartTime must not equal parameter EndTime.")
    return math.floor(start / period) * period, math.ceil(end / period) * period
