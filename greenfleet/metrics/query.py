"""Queries over the store, shared by GetMetricStatistics, GetMetricData and alarms: a MetricStat (one series,
one statistic, one period) and MetricDataQuery lists mixing MetricStats and math expressions.

Periods are aligned on the epoch (a 60-second period starts on a whole minute); the queries of one
GetMetricData request may each have their own period. A period made only of
one-minute rollups is read from them; any other period from one-second points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from greenfleet.errors import ValidationError
from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.expression import Expression, Values, check_id
from greenfleet.metrics.series import SeriesKey, check_metric_name, check_namespace, parse_dimensions
from greenfleet.metrics.statistics import Statistic, parse_statistic
from greenfleet.metrics.store import MetricStore, merge_periods

MAX_QUERIES = 500


def check_period(value: Any, field: str = "Period") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{field} must be a whole number of seconds ≥ 1 (got {value!r})")
    return value


def check_unit(value: Any, field: str = "Unit") -> str | None:
    from greenfleet.metrics.names import UNITS

    if value is None:
        return None
    if value not in UNITS:
        raise ValidationError(f"{field}: '{value}' is not one of {', '.join(UNITS)}")
    return str(value)


def parse_metric(value: Any, field: str) -> SeriesKey:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be an object with Namespace, MetricName and Dimensions")
    return SeriesKey(check_namespace(value.get("Namespace"), f"{field}.Namespace"),
                     check_metric_name(value.get("MetricName"), f"{field}.MetricName"),
                     parse_dimensions(value.get("Dimensions"), f"{field}.Dimensions"))


@dataclass(frozen=True, slots=True)
class MetricStat:
    key: SeriesKey
    period: int
    stat: Statistic
    unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Metric": {"Namespace": self.key.namespace, "MetricName": self.key.name,
                                          "Dimensions": self.key.dimension_list()},
                               "Period": self.period, "Stat": self.stat.name}
        if self.unit is not None:
            out["Unit"] = self.unit
        return out


def parse_metric_stat(value: Any, field: str) -> MetricStat:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be an object with Metric, Period and Stat")
    return MetricStat(parse_metric(value.get("Metric"), f"{field}.Metric"),
                      check_period(value.get("Period"), f"{field}.Period"),
                      parse_statistic(value.get("Stat"), f"{field}.Stat"),
                      check_unit(value.get("Unit"), f"{field}.Unit"))


@dataclass(frozen=True, slots=True)
class DataQuery:
    id: str
    metric_stat: MetricStat | None
    expression: Expression | None
    return_data: bool
    label: str | None
    period: int | None = None
    """The query's own Period member: an expression's period (a MetricStat's is in the MetricStat)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Id": self.id, "ReturnData": self.return_data}
        if self.metric_stat is not None:
            out["MetricStat"] = self.metric_stat.to_dict()
        if self.expression is not None:
            out["Expression"] = self.expression.text
        if self.label is not None:
            out["Label"] = self.label
        if self.period is not None:
            out["Period"] = self.period
        return out


def parse_queries(items: Any, field: str, max_items: int = MAX_QUERIES) -> list[DataQuery]:
    """MetricDataQuery list: unique ids, one of MetricStat/Expression each, ids resolvable, no cycles."""
    if not isinstance(items, list) or not items:
        raise ValidationError(f"{field} must be a non-empty list")
    if len(items) > max_items:
        raise ValidationError(f"{field} may hold at most {max_items} items (got {len(items)})")
    queries: list[DataQuery] = []
    for i, item in enumerate(items, 1):
        where = f"{field}.member.{i}"
        if not isinstance(item, Mapping):
            raise ValidationError(f"{where} must be an object")
        qid = check_id(item.get("Id"), f"{where}.Id")
        has_stat, has_expr = item.get("MetricStat") is not None, item.get("Expression") is not None
        if has_stat == has_expr:
            raise ValidationError(f"{where} must have exactly one of MetricStat or Expression")
        stat = parse_metric_stat(item["MetricStat"], f"{where}.MetricStat") if has_stat else None
        expr = Expression(item["Expression"], f"{where}.Expression") if has_expr else None
        return_data = item.get("ReturnData", True)
        if not isinstance(return_data, bool):
            raise ValidationError(f"{where}.ReturnData must be true or false")
        label = item.get("Label")
        if label is not None and not isinstance(label, str):
            raise ValidationError(f"{where}.Label must be a string")
        if item.get("AccountId") is not None:
            raise ValidationError(f"{where}.AccountId: cross-account queries are not supported by greenfleet")
        period = check_period(item["Period"], f"{where}.Period") if item.get("Period") is not None else None
        if stat is not None and period not in (None, stat.period):
            raise ValidationError(f"{where}.Period ({period}) differs from its MetricStat.Period ({stat.period}); "
                                  "give the period in MetricStat")
        queries.append(DataQuery(qid, stat, expr, return_data, label, period))
    ids = [q.id for q in queries]
    duplicates = sorted({x for x in ids if ids.count(x) > 1})
    if duplicates:
        raise ValidationError(f"{field}: the id(s) {', '.join(duplicates)} appear more than once")
    _order(queries, field)
    return queries


def default_label(query: DataQuery, queries: Sequence[DataQuery]) -> str:
    """CloudWatch's label for a MetricStat query without Label: the metric name, then its Stat and/or Period
    when other queries of the request read the same metric with another Stat or Period."""
    ms = query.metric_stat
    assert ms is not None
    others = [q.metric_stat for q in queries if q is not query and q.metric_stat is not None
              and q.metric_stat.key == ms.key]
    parts = [ms.key.name]
    if any(o.stat.name != ms.stat.name for o in others):
        parts.append(ms.stat.name)
    if any(o.period != ms.period for o in others):
        parts.append(str(ms.period))
    return " ".join(parts)


def _order(queries: Sequence[DataQuery], field: str) -> list[DataQuery]:
    """Queries in an order where each expression comes after the ids it uses."""
    by_id = {q.id: q for q in queries}
    done: dict[str, DataQuery] = {}
    visiting: set[str] = set()

    def visit(q: DataQuery) -> None:
        if q.id in done:
            return
        if q.id in visiting:
            raise ValidationError(f"{field}: the expression of '{q.id}' refers to itself through other ids")
        visiting.add(q.id)
        for used in sorted(q.expression.ids if q.expression else ()):
            if used not in by_id:
                raise ValidationError(f"{field}: the expression of '{q.id}' uses the unknown id '{used}'")
            visit(by_id[used])
        visiting.discard(q.id)
        done[q.id] = q

    for q in queries:
        visit(q)
    return list(done.values())


def stat_aggregates(store: MetricStore, ms: MetricStat, start: int, end: int,
                    distribution: bool | None = None) -> list[Aggregate | None]:
    """Aggregates per period of ``ms.period`` in [start, end), of the points sent in ``ms.unit`` (of all
    points when it is None); all None when there are none. Distributions are merged only when
    ``distribution`` (by default: when the statistic is a percentile or trimmed mean)."""
    count = max(0, (end - start) // ms.period)
    found = store.find(ms.key, ms.unit)
    if not found:
        return [None] * count
    wanted = ms.stat.extended if distribution is None else distribution
    return merge_periods([store.aggregate(series, start, end, ms.period, wanted) for series in found], wanted)


def run_queries(store: MetricStore, queries: Sequence[DataQuery], start: int, end: int,
                period: int) -> dict[str, Values]:
    """Every query's values per period of ``period`` in [start, end)."""
    length = max(0, (end - start) // period)
    results: dict[str, Values] = {}
    merged: dict[tuple[Any, ...], list[Aggregate | None]] = {}
    """Aggregates per series, period, unit and kind, shared by the statistics asked of them (p50 and p99
    of one metric merge its points once)."""
    for q in _order(queries, "MetricDataQueries"):
        if q.metric_stat is not None:
            ms = q.metric_stat
            shared = (ms.key, ms.period, ms.unit, ms.stat.extended)
            if shared not in merged:
                merged[shared] = stat_aggregates(store, ms, start, end)
            results[q.id] = [ms.stat.of(a) for a in merged[shared]]
        else:
            assert q.expression is not None
            results[q.id] = q.expression.evaluate(results, length)
    return results


def query_periods(queries: Sequence[DataQuery], field: str) -> dict[str, int]:
    """Each query's period, as GetMetricData allows one per query: a MetricStat's own; an expression's the
    one its inputs share (math combines values period by period, so inputs of different periods are
    refused), which its own Period, when given, must equal; an expression that reads no query takes its
    own Period, else the request's shortest."""
    periods: dict[str, int] = {}
    stats = [q.metric_stat.period for q in queries if q.metric_stat is not None]
    if not stats:
        raise ValidationError(f"{field} must hold at least one MetricStat")
    for q in _order(queries, field):
        if q.metric_stat is not None:
            periods[q.id] = q.metric_stat.period
            continue
        assert q.expression is not None
        used = {periods[i] for i in q.expression.ids}
        if len(used) > 1:
            shown = " and ".join(f"{p} s" for p in sorted(used))
            raise ValidationError(f"{field}: the expression of '{q.id}' combines queries of different periods "
                                  f"({shown}); give the queries it uses the same Period")
        if q.period is not None and used and q.period not in used:
            raise ValidationError(f"{field}: the expression of '{q.id}' has Period {q.period} but the queries it "
                                  f"uses have {used.pop()}")
        periods[q.id] = q.period or (used.pop() if used else min(stats))
    return periods
