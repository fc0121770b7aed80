"""CloudWatch's metric API: PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics. Bodies and
answers are CloudWatch's shapes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request

from greenfleet.errors import ValidationError

router = APIRouter(prefix="/api")
Doc = dict[str, Any]


def _metrics(request: Request) -> Any:
    return request.app.state.services.metrics


def _dimensions(items: list[str], value_required: bool) -> list[Doc]:
    dims = []
    for item in items:
        name, sep, value = item.partition("=")
        if not name or (value_required and not sep):
            raise ValidationError(f"dimension '{item}' must be written Name=Value")
        dims.append({"Name": name, "Value": value} if sep else {"Name": name})
    return dims


@router.post("/metric-data", summary="PutMetricData")
def put_metric_data(request: Request, body: Doc = Body(...)) -> Doc:
    _metrics(request).put_metric_data(body)
    return {}


@router.post("/metric-statistics", summary="GetMetricStatistics")
def get_metric_statistics(request: Request, body: Doc = Body(...)) -> Doc:
    return _metrics(request).get_metric_statistics(body)  # type: ignore[no-any-return]


@router.get("/metric-statistics", summary="GetMetricStatistics with query parameters")
def get_metric_statistics_query(
    request: Request, namespace: str, metric_name: str, start: str, end: str, period: int,
    dimension: list[str] = Query(default=[], description="Name=Value, repeated"),
    statistic: list[str] = Query(default=[]), extended_statistic: list[str] = Query(default=[]),
    unit: str | None = None,
) -> Doc:
    body: Doc = {"Namespace": namespace, "MetricName": metric_name, "StartTime": start, "EndTime": end,
                 "Period": period, "Dimensions": _dimensions(dimension, True), "Statistics": statistic,
                 "ExtendedStatistics": extended_statistic, "Unit": unit}
    return _metrics(request).get_metric_statistics(body)  # type: ignore[no-any-return]


@router.post("/metric-data-queries", summary="GetMetricData (metric math included)")
def get_metric_data(request: Request, body: Doc = Body(...)) -> Doc:
    return _metrics(request).get_metric_data(body)  # type: ignore[no-any-return]


@router.get("/metric-series", summary="ListMetrics")
def list_metrics(request: Request, namespace: str | None = None, metric_name: str | None = None,
                 dimension: list[str] = Query(default=[], description="Name or Name=Value, repeated")) -> Doc:
    return _metrics(request).list_metrics(  # type: ignore[no-any-return]
        namespace, metric_name, _dimensions(dimension, False))
