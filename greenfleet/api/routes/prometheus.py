"""``GET /metrics``: the metric store and alarm states in Prometheus's text exposition format, built per
scrape from a fresh registry (nothing global)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from greenfleet.alarms.prometheus import AlarmCollector
from greenfleet.api.routing import services
from greenfleet.metrics.prometheus import MetricCollector

router = APIRouter()


@router.get("/metrics", summary="Prometheus exposition of the metric store", include_in_schema=False)
def prometheus_metrics(request: Request) -> Response:
    svc = services(request)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MetricCollector(svc.metrics.store, svc.metrics.clock.now))
    registry.register(AlarmCollector(svc.alarms))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
