"""Pages: the endpoints overview and one endpoint (variants, recent deployments, live charts)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from greenfleet.dashboard.access import (
    GuardedRoute,
    deployment_service,
    endpoint_service,
    metric_service,
    now,
    scaling_service,
)
from greenfleet.dashboard.charts import chart_data, endpoint_series
from greenfleet.dashboard.overview import endpoint_rows
from greenfleet.dashboard.render import fragment, page
from greenfleet.dashboard.scaling import scaling_view
from greenfleet.errors import ValidationError

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)


@router.get("/ui")
def overview(request: Request) -> Response:
    rows = endpoint_rows(endpoint_service(request), metric_service(request), now(request))
    return page(request, "overview.html", "Endpoints", "endpoints", rows=rows)


@router.get("/ui/fragments/overview")
def overview_rows(request: Request) -> Response:
    return fragment("overview_table.html", rows=endpoint_rows(endpoint_service(request), metric_service(request),
                                                              now(request)))


@router.get("/ui/endpoints/{name}")
def endpoint(request: Request, name: str) -> Response:
    try:
        described = endpoint_service(request).describe_endpoint({"EndpointName": name})
        deployments = deployment_service(request).list_deployments(name)["Deployments"][:10]
        scaling = scaling_view(scaling_service(request), described)
    except ValidationError as exc:
        return page(request, "missing.html", "Not found", "endpoints", status_code=404, message=exc.message)
    return page(request, "endpoint.html", name, "endpoints", endpoint=described, deployments=deployments,
                scaling=scaling)


@router.get("/ui/endpoints/{name}/fragments/variants")
def endpoint_variants(request: Request, name: str) -> Response:
    return fragment("endpoint_variants.html",
                    endpoint=endpoint_service(request).describe_endpoint({"EndpointName": name}))


@router.get("/ui/endpoints/{name}/chart-data")
def endpoint_chart_data(request: Request, name: str) -> Response:
    described = endpoint_service(request).describe_endpoint({"EndpointName": name})
    data = chart_data(metric_service(request), endpoint_series(described), now(request))
    return JSONResponse(data)
