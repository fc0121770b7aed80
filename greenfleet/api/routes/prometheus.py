"""``GET /metrics``: the metric store and alarm states in Prometheus's text exposition format, built per
scrape from a fresh registry (nothing global)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from greenfleet.alarms.prometheus import AlarmCollector
from greenfleet.metrics.prometheus import MetricCollector

router = APIRouter()


@router.get("/metrics", summary="Prometheus exposition of the metric store", include_in_schema=False)
def prometheus_metrics(request: Request) -> Response:
    services = request.app.state.services
    registry = CollectorRegistry(auto_describe=False)
    metrics = services.metrics
    registry.register(MetricCollector(metrics.store, metrics.clock.now))
    alarms = getattr(services, "alarms", None)
    if alarms is not None:
        registry.register(AlarmCollector(alarms))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
