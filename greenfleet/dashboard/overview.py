"""The endpoints overview: one row per endpoint with its status, variants, weights, instance counts,
the deployment in progress, and sparklines of its invocations and errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from greenfleet.dashboard.charts import Series, sums
from greenfleet.metrics import MetricService
from greenfleet.resources.endpoint_state import ObservedState
from greenfleet.services.endpoints import EndpointService, describe

__all__ = ["EndpointRow", "Sparkline", "endpoint_rows", "sparkline"]

SPARK_WINDOW_S = 900
SPARK_PERIOD_S = 60
"""Per minute (the store's rollups: cheap for many endpoints), the current minute so far included."""
SPARK_WIDTH, SPARK_HEIGHT = 120, 28


class Sparkline(NamedTuple):
    calls: str
    """SVG polyline points of invocations per period."""
    errors: str
    """SVG polyline points of 4XX + 5XX errors per period, on the same scale."""
    total_calls: int
    total_errors: int


class EndpointRow(NamedTuple):
    name: str
    status: str
    config_name: str
    variants: list[dict[str, Any]]
    deploying: bool
    failure_reason: str | None
    spark: Sparkline


def _points(values: Sequence[float], top: float) -> str:
    if not values:
        return ""
    step = SPARK_WIDTH / max(1, len(values) - 1)
    scale = (SPARK_HEIGHT - 2) / top if top > 0 else 0.0
    return " ".join(f"{i * step:.1f},{SPARK_HEIGHT - 1 - v * scale:.1f}" for i, v in enumerate(values))


def sparkline(calls: Sequence[float], errors: Sequence[float]) -> Sparkline:
    top = max([*calls, *errors, 0.0])
    return Sparkline(_points(calls, top), _points(errors, top), int(sum(calls)), int(sum(errors)))


def endpoint_rows(endpoints: EndpointService, metrics: MetricService, now: float) -> list[EndpointRow]:
    """Every endpoint as DescribeEndpoint shows it (two reads for all: the rows and what the control pass
    observed of them), with its sparkline."""
    observed = endpoints.repo.list_observations()
    rows = sorted(endpoints.repo.list_endpoints(), key=lambda r: r["name"])
    described = [describe(row, observed.get(row["name"], ObservedState())) for row in rows]
    groups = [(d["EndpointName"], [Series(d["EndpointName"], v["VariantName"], None)
                                   for v in d.get("ProductionVariants", [])]) for d in described]
    counts = sums(metrics, groups, now, SPARK_WINDOW_S, SPARK_PERIOD_S)
    empty = [0.0] * (SPARK_WINDOW_S // SPARK_PERIOD_S)
    out = []
    for d in described:
        calls, errors = counts.get(d["EndpointName"], (empty, empty))
        out.append(EndpointRow(d["EndpointName"], d["EndpointStatus"], d["EndpointConfigName"],
                               d.get("ProductionVariants", []), "PendingDeploymentSummary" in d,
                               d.get("FailureReason"), sparkline(calls, errors)))
    return out
