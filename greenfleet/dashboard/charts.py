"""The numbers behind the dashboard's charts, read from the metric store through MetricService's
GetMetricData (the same queries a CloudWatch user would write).

A series is one production variant of one endpoint config (dimensions EndpointName, VariantName,
EndpointConfigName), so during a deployment the old and the new fleet are drawn apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, TypedDict

from greenfleet.metrics import MetricService
from greenfleet.metrics import names as m

__all__ = ["ChartData", "Series", "chart_data", "endpoint_series", "sums"]

WINDOW_S = 300
"""How far back the endpoint page's charts reach."""
MAX_QUERIES = 500
"""GetMetricData's limit per call; longer lists are split."""
COUNTS = (m.INVOCATIONS, m.INVOCATION_4XX_ERRORS, m.INVOCATION_5XX_ERRORS)
LATENCIES = ((m.MODEL_LATENCY, "p50"), (m.MODEL_LATENCY, "p99"), (m.OVERHEAD_LATENCY, "p50"),
             (m.OVERHEAD_LATENCY, "p99"))


class Series(NamedTuple):
    endpoint: str
    variant: str
    config: str | None
    """None: the variant across configs (EndpointName + VariantName only)."""

    @property
    def label(self) -> str:
        return self.variant if self.config is None else f"{self.variant} ({self.config})"

    def dimensions(self) -> list[dict[str, str]]:
        dims = [{"Name": m.ENDPOINT_NAME, "Value": self.endpoint}, {"Name": m.VARIANT_NAME, "Value": self.variant}]
        if self.config is not None:
            dims.append({"Name": m.CONFIG_NAME, "Value": self.config})
        return dims


class SeriesData(TypedDict):
    label: str
    variant: str
    config: str | None
    values: dict[str, list[float | None]]
    """Per metric and statistic ("Invocations", "ModelLatency p99", ...): one value per period;
    counts are 0 where nothing was recorded, latencies (in milliseconds) None."""


class ChartData(TypedDict):
    start: int
    period: int
    timestamps: list[int]
    series: list[SeriesData]


def endpoint_series(described: dict[str, Any]) -> list[Series]:
    """The fleets an endpoint serves now (from DescribeEndpoint): its config's variants, and the new
    config's while a deployment runs."""
    name = described["EndpointName"]
    found = [Series(name, v["VariantName"], described["EndpointConfigName"])
             for v in described.get("ProductionVariants", [])]
    pending = described.get("PendingDeploymentSummary")
    if pending:
        found += [Series(name, v["VariantName"], pending["EndpointConfigName"])
                  for v in pending.get("ProductionVariants", [])]
    return found


def _query(qid: str, series: Series, metric: str, stat: str, period: int) -> dict[str, Any]:
    return {"Id": qid, "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": m.NAMESPACE, "MetricName": metric, "Dimensions": series.dimensions()},
        "Period": period, "Stat": stat}}


def _run(metrics: MetricService, queries: Sequence[dict[str, Any]], start: int, end: int,
         period: int) -> dict[str, list[float | None]]:
    """{query id: one value per period from ``start``}, in as few GetMetricData calls as allowed."""
    out: dict[str, list[float | None]] = {}
    for i in range(0, len(queries), MAX_QUERIES):
        _start, _period, values = metrics.get_metric_data_values({
            "MetricDataQueries": list(queries[i:i + MAX_QUERIES]), "StartTime": start, "EndTime": end,
            "Period": period})
        out.update(values)
    return out


def out_of(items: list[SeriesData], each: int) -> list[SeriesData]:
    """Each item repeated ``each`` times, in order (one per query of a series)."""
    return [item for item in items for _ in range(each)]


def chart_data(metrics: MetricService, series: Sequence[Series], now: float, window_s: int = WINDOW_S,
               period: int = 1) -> ChartData:
    """Per series: Invocations, 4XX and 5XX errors (Sum per period), ModelLatency and OverheadLatency
    p50 and p99 (milliseconds), over the last ``window_s`` seconds of closed periods, less the newest one
    (the control plane flushes the data plane's counts into the store once a second)."""
    end = (math.floor(now / period) - 1) * period
    start = end - window_s
    wanted = [(f"q{i}_{j}", s, metric, stat) for i, s in enumerate(series)
              for j, (metric, stat) in enumerate([(c, "Sum") for c in COUNTS] + list(LATENCIES))]
    found = _run(metrics, [_query(q, s, metric, stat, period) for q, s, metric, stat in wanted], start, end, period)
    stamps = list(range(start, end, period))
    out: list[SeriesData] = [{"label": s.label, "variant": s.variant, "config": s.config, "values": {}}
                             for s in series]
    for (qid, _s, metric, stat), data in zip(wanted, out_of(out, len(COUNTS) + len(LATENCIES)), strict=True):
        points = found.get(qid) or [None] * len(stamps)
        if stat == "Sum":
            data["values"][metric] = [0.0 if v is None else v for v in points]
        else:
            data["values"][f"{metric} {stat}"] = [None if v is None else round(v / 1000, 3) for v in points]
    return {"start": start, "period": period, "timestamps": stamps, "series": out}


def sums(metrics: MetricService, groups: Iterable[tuple[str, Sequence[Series]]], now: float, window_s: int,
         period: int) -> dict[str, tuple[list[float], list[float]]]:
    """{group: (invocations per period, 4XX + 5XX errors per period)}, each group's series added up; the
    last period is the one still open (so far)."""
    end = (math.floor(now / period) + 1) * period
    start = end - window_s
    wanted = [(f"q{i}_{j}_{k}", group, s, metric) for i, (group, members) in enumerate(groups)
              for j, s in enumerate(members) for k, metric in enumerate(COUNTS)]
    found = _run(metrics, [_query(q, s, metric, "Sum", period) for q, _g, s, metric in wanted], start, end, period)
    length = (end - start) // period
    out: dict[str, tuple[list[float], list[float]]] = {}
    for qid, group, _s, metric in wanted:
        calls, errors = out.setdefault(group, ([0.0] * length, [0.0] * length))
        target = calls if metric == m.INVOCATIONS else errors
        for k, value in enumerate(found.get(qid) or ()):
            if value is not None:
                target[k] += value
    return out
