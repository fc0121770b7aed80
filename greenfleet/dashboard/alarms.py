"""Pages: the metric alarms with their states, and one alarm with its state history."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from greenfleet.dashboard.access import GuardedRoute, alarm_service
from greenfleet.dashboard.render import fragment, page
from greenfleet.errors import GreenfleetError

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)
HISTORY_LIMIT = 100


@router.get("/ui/alarms")
def alarms(request: Request) -> Response:
    return page(request, "alarms.html", "Alarms", "alarms", alarms=alarm_service(request).describe_alarms())


@router.get("/ui/fragments/alarms")
def alarm_rows(request: Request) -> Response:
    return fragment("alarms_table.html", alarms=alarm_service(request).describe_alarms())


@router.get("/ui/alarms/{name}")
def alarm(request: Request, name: str) -> Response:
    try:
        described = alarm_service(request).describe_alarm(name)
    except GreenfleetError as exc:
        return page(request, "missing.html", "Not found", "alarms", status_code=404, message=exc.message)
    history = alarm_service(request).history(name, limit=HISTORY_LIMIT)
    return page(request, "alarm.html", name, "alarms", alarm=described, history=history)


@router.get("/ui/alarms/{name}/fragments/live")
def alarm_live(request: Request, name: str) -> Response:
    service = alarm_service(request)
    return fragment("alarm_live.html", alarm=service.describe_alarm(name),
                    history=service.history(name, limit=HISTORY_LIMIT))
