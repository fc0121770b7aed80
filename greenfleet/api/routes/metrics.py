"""CloudWatch's metric API: PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics. Bodies and
answers are CloudWatch's shapes."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Query, Request

from greenfleet.api.routing import Doc, json_body, route, services
from greenfleet.errors import ValidationError
from greenfleet.metrics.service import MetricService

router = APIRouter()


def _metrics(request: Request) -> MetricService:
    return services(request).metrics


def _dimensions(items: list[str], value_required: bool) -> list[Mapping[str, str]]:
    dims: list[Mapping[str, str]] = []
    for item in items:
        name, sep, value = item.partition("=")
        if not name or (value_required and not sep):
            raise ValidationError(f"dimension '{item}' must be written Name=Value")
        dims.append({"Name": name, "Value": value} if sep else {"Name": name})
    return dims


@route(router, "PutMetricData")
def put_metric_data(request: Request, body: Doc = Depends(json_body)) -> Doc:
    _metrics(request).put_metric_data(body)
    return {}


@route(router, "GetMetricStatistics")
def get_metric_statistics(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _metrics(request).get_metric_statistics(body)


@route(router, "GetMetricStatistics", 1)
def get_metric_statistics_query(
    request: Request, namespace: str, metric_name: str, start: str, end: str, period: int,
    dimension: list[str] = Query(default=[], description="Name=Value, repeated"),
    statistic: list[str] = Query(default=[]), extended_statistic: list[str] = Query(default=[]),
    unit: str | None = None,
) -> Doc:
    """GetMetricStatistics with query parameters."""
    body: Doc = {"Namespace": namespace, "MetricName": metric_name, "StartTime": start, "EndTime": end,
                 "Period": period, "Dimensions": _dimensions(dimension, True), "Statistics": statistic,
                 "ExtendedStatistics": extended_statistic, "Unit": unit}
    return _metrics(request).get_metric_statistics(body)


@route(router, "GetMetricData")
def get_metric_data(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _metrics(request).get_metric_data(body)


@route(router, "ListMetrics")
def list_metrics(request: Request, namespace: str | None = None, metric_name: str | None = None,
                 dimension: list[str] = Query(default=[], description="Name or Name=Value, repeated")) -> Doc:
    return _metrics(request).list_metrics(namespace, metric_name, _dimensions(dimension, False))
