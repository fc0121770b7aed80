"""Pages: Model Monitor's schedules with their latest executions, and one schedule with its executions and
the violations and per-feature drift of its latest report."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from greenfleet.dashboard.access import GuardedRoute, monitoring_service
from greenfleet.dashboard.monitoring_view import overview, schedule_view
from greenfleet.dashboard.render import fragment, page
from greenfleet.errors import GreenfleetError

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)


@router.get("/ui/monitoring")
def schedules(request: Request) -> Response:
    view = overview(monitoring_service(request))
    return page(request, "monitoring.html", "Model monitoring", "monitoring", view=view)


@router.get("/ui/fragments/monitoring")
def schedules_live(request: Request) -> Response:
    return fragment("monitoring_live.html", view=overview(monitoring_service(request)))


@router.get("/ui/monitoring/{name}")
def schedule(request: Request, name: str) -> Response:
    try:
        view = schedule_view(monitoring_service(request), name)
    except GreenfleetError as exc:
        return page(request, "missing.html", "Not found", "monitoring", status_code=404, message=exc.message)
    return page(request, "monitoring_schedule.html", f"{name}: monitoring schedule", "monitoring", view=view)


@router.get("/ui/monitoring/{name}/fragments/live")
def schedule_live(request: Request, name: str) -> Response:
    return fragment("monitoring_schedule_live.html", view=schedule_view(monitoring_service(request), name))
