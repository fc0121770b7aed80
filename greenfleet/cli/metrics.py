"""``greenfleet metrics get|list|query|put``: CloudWatch's GetMetricStatistics (with a small terminal chart),
ListMetrics, GetMetricData and PutMetricData. Also the time helpers the alarm and event commands share
(``--since`` durations, ISO times)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from greenfleet.cli.output import Doc, client_options, connect, done, emit, number, parse_pairs, table, when

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_NAMESPACE = "AWS/SageMaker"
BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
SPARKS = "▁▂▃▄▅▆▇█"
EIGHTHS = " ▏▎▍▌▋▊▉"
BAR_WIDTH = 24
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# -- shared helpers -------------------------------------------------------------------------------------
def parse_duration(text: str, option: str = "--since") -> float:
    """``90s``, ``15m``, ``1h30m``, ``2d`` or a bare number of seconds, in seconds."""
    spec = text.strip().lower()
    try:
        seconds = float(spec)
    except ValueError:
        parts = _DURATION_PART.findall(spec)
        if not parts or "".join(f"{n}{u}" for n, u in parts) != spec:
            raise click.BadParameter(f"expected a duration such as 30s, 15m, 1h or 2d, got {text!r}",
                                     param_hint=option) from None
        seconds = sum(float(n) * _SECONDS[u] for n, u in parts)
    if seconds <= 0:
        raise click.BadParameter(f"the duration must be positive, got {text!r}", param_hint=option)
    return seconds


def epoch(stamp: Any) -> float | None:
    """Epoch seconds from the API's ISO 8601 timestamps (or epoch numbers); None if it is neither."""
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return float(stamp)
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def local_time(stamp: Any) -> str:
    """An API timestamp as local time, to the second ("-" when absent)."""
    seconds = epoch(stamp)
    return when(seconds) if seconds is not None else when(stamp)


def dimension_list(values: Iterable[str], option: str = "--dimension") -> list[Doc]:
    return [{"Name": k, "Value": v} for k, v in parse_pairs(values, option).items()]


def dimension_text(dimensions: Iterable[Doc]) -> str:
    return ",".join(f"{d['Name']}={d.get('Value', '*')}" for d in dimensions)


# -- the chart ------------------------------------------------------------------------------------------
def sparkline(values: Sequence[float | None]) -> str:
    """One block per value, scaled between the lowest and the highest; a gap is a space."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    low, high = min(present), max(present)
    top = len(SPARKS) - 1
    return "".join(" " if v is None else SPARKS[round((v - low) / (high - low) * top) if high > low else top // 2]
                   for v in values)


def bar(value: float, low: float, high: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar in eighths of a cell, from min(0, low) (empty) to ``high`` (``width`` cells)."""
    base = min(0.0, low)
    eighths = round((value - base) / (high - base) * width * 8) if high > base else 0
    full, rest = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[rest] if rest else "")


# -- metrics get ----------------------------------------------------------------------------------------
def stat_value(point: Doc, name: str) -> float | None:
    value = point.get(name, (point.get("ExtendedStatistics") or {}).get(name))
    return float(value) if isinstance(value, (int, float)) else None


def series(points: Sequence[Doc], name: str, start: float, end: float, period: int) -> list[float | None]:
    """The statistic's value in every period of [start, end), None where there is no datapoint."""
    first = int(start // period) * period
    slots: list[float | None] = [None] * max(1, -(-int(end - first) // period))
    for point in points:
        at = epoch(point.get("Timestamp"))
        if at is not None and 0 <= int((at - first) // period) < len(slots):
            slots[int((at - first) // period)] = stat_value(point, name)
    return slots


def render_statistics(answer: Doc, stats: Sequence[str], window: tuple[float, float, int], chart: bool,
                      out: Console) -> None:
    points = sorted(answer.get("Datapoints", []), key=lambda p: epoch(p.get("Timestamp")) or 0.0)
    if not points:
        out.print(f"No datapoints for {answer.get('Label', 'the metric')} in this time range.")
        return
    charted = [v for p in points if (v := stat_value(p, stats[0])) is not None]
    low, high = (min(charted), max(charted)) if charted else (0.0, 0.0)
    columns = ["Time", *stats, "Unit"] + ([f"{stats[0]} chart"] if chart else [])
    rows = []
    for p in points:
        row = [local_time(p.get("Timestamp")), *(number(stat_value(p, s)) for s in stats), p.get("Unit", "-")]
        value = stat_value(p, stats[0])
        rows.append(row + ([bar(value, low, high) if value is not None else ""] if chart else []))
    out.print(table(columns, rows, title=answer.get("Label")))
    if chart:
        start, end, period = window
        out.print(f"{stats[0]}  {sparkline(series(points, stats[0], start, end, period))}  "
                  f"min {number(low)}  max {number(high)}  ({len(points)} datapoints, {period} s each)")


@click.group("metrics", short_help="Read metrics (statistics with a chart, series, math) and put custom ones.")
def metrics() -> None:
    """Metrics: what the routers and workers publish in AWS/SageMaker, and custom metrics."""


@metrics.command("get")
@click.option("--metric", "metric_name", required=True, help="Metric name, e.g. Invocation5XXErrors.")
@click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True, help="Metric namespace.")
@click.option("--dimension", "dimensions", multiple=True, metavar="NAME=VALUE",
              help="Dimension of the series (repeatable), e.g. EndpointName=my-endpoint.")
@click.option("--statistic", "statistics", multiple=True, type=click.Choice(BASIC_STATISTICS),
              help="Statistic (repeatable); Average when no statistic is given.")
@click.option("--extended-statistic", "extended", multiple=True, metavar="STAT",
              help="Percentile or trimmed mean (repeatable), e.g. p99, p99.9, tm90.")
@click.option("--period", type=click.IntRange(min=1), default=60, show_default=True,
              help="Seconds per datapoint.")
@click.option("--since", default="15m", show_default=True, help="How far back: 30s, 15m, 1h, 2d, ...")
@click.option("--unit", help="Only samples put with this unit.")
@click.option("--chart", is_flag=True, help="Draw a bar per datapoint and a sparkline of the first statistic.")
@client_options
def get(metric_name: str, namespace: str, dimensions: tuple[str, ...], statistics: tuple[str, ...],
        extended: tuple[str, ...], period: int, since: str, unit: str | None, chart: bool, url: str,
        as_json: bool) -> None:
    """Statistics of one metric series over the last --since (GetMetricStatistics)."""
    end = time.time()
    start = end - parse_duration(since)
    basic = list(dict.fromkeys(statistics)) or ([] if extended else ["Average"])
    percentiles = list(dict.fromkeys(extended))
    params: Doc = {"Namespace": namespace, "MetricName": metric_name, "Dimensions": dimension_list(dimensions),
                   "StartTime": start, "EndTime": end, "Period": period, "Unit": unit,
                   "Statistics": basic, "ExtendedStatistics": percentiles}
    with connect(url) as client:
        answer = client.get_metric_statistics(**params)
    emit(answer, as_json, lambda out: render_statistics(answer, basic + percentiles, (start, end, period), chart, out))


@metrics.command("list")
@click.option("--namespace", help="Only this namespace, e.g. AWS/SageMaker.")
@click.option("--metric", "metric_name", help="Only this metric name.")
@click.option("--dimension", "dimensions", multiple=True, metavar="NAME[=VALUE]",
              help="Only series with this dimension (repeatable); without =VALUE, any value.")
@client_options
def list_(namespace: str | None, metric_name: str | None, dimensions: tuple[str, ...], url: str,
          as_json: bool) -> None:
    """List the metric series that exist (ListMetrics)."""
    wanted = [{"Name": n, **({"Value": v} if sep else {})} for n, sep, v in (d.partition("=") for d in dimensions)]
    with connect(url) as client:
        answer = client.list_metrics(Namespace=namespace, MetricName=metric_name, Dimensions=wanted)
    rows = [(m["Namespace"], m["MetricName"], dimension_text(m.get("Dimensions", [])) or "-")
            for m in answer.get("Metrics", [])]
    emit(answer, as_json, lambda out: out.print(table(["Namespace", "Metric", "Dimensions"], rows)))


@metrics.command("put")
@click.option("--metric", "metric_name", required=True, help="Metric name.")
@click.option("--namespace", required=True, help="Namespace of a custom metric (not AWS/...).")
@click.option("--value", "values", type=float, multiple=True, required=True,
              help="A sample (repeatable: several samples of the same second).")
@click.option("--dimension", "dimensions", multiple=True, metavar="NAME=VALUE", help="Dimension (repeatable).")
@click.option("--unit", help="Unit of the samples, e.g. Count or Milliseconds.")
@click.option("--timestamp", type=float, help="Epoch seconds of the samples (default: now).")
@client_options
def put(metric_name: str, namespace: str, values: tuple[float, ...], dimensions: tuple[str, ...],
        unit: str | None, timestamp: float | None, url: str, as_json: bool) -> None:
    """Publish samples of a custom metric (PutMetricData)."""
    datum: Doc = {"MetricName": metric_name, "Dimensions": dimension_list(dimensions),
                  "Timestamp": time.time() if timestamp is None else timestamp}
    datum.update({"Value": values[0]} if len(values) == 1 else {"Values": list(values)})
    if unit is not None:
        datum["Unit"] = unit
    with connect(url) as client:
        answer = client.put_metric_data(Namespace=namespace, MetricData=[datum])
    done(f"Put {len(values)} sample(s) of {namespace} {metric_name}", answer, as_json)


@metrics.command("query")
@click.option("--file", "path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON or YAML: GetMetricData's MetricDataQueries (a list, or under a MetricDataQueries key).")
@click.option("--since", default="15m", show_default=True, help="How far back: 30s, 15m, 1h, 2d, ...")
@client_options
def query(path: Path, since: str, url: str, as_json: bool) -> None:
    """Run metric queries and metric math over the last --since (GetMetricData)."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--file") from exc
    queries = doc.get("MetricDataQueries") if isinstance(doc, dict) else doc
    if not isinstance(queries, list) or not queries:
        raise click.BadParameter(f"{path} holds no list of MetricDataQueries", param_hint="--file")
    end = time.time()
    with connect(url) as client:
        answer = client.get_metric_data(MetricDataQueries=queries, StartTime=end - parse_duration(since), EndTime=end)
    results = answer.get("MetricDataResults", [])
    rows = [(r.get("Id"), r.get("Label", ""), r.get("StatusCode", "-"), len(r.get("Values", [])),
             number(r["Values"][0]) if r.get("Values") else "-") for r in results]
    emit(answer, as_json, lambda out: out.print(table(["Id", "Label", "Status", "Points", "Latest"], rows)))


def register(cli: click.Group) -> None:
    cli.add_command(metrics)
