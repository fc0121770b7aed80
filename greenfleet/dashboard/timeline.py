"""Pages: a model package group's lifecycle as a timeline (``timeline_view``): registrations and promotions,
approvals, deployments on its bound endpoints and how they ended, shadow tests, monitoring findings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from greenfleet.dashboard.access import GuardedRoute, deployment_service, registry_faces, services
from greenfleet.dashboard.registry_view import group_rows
from greenfleet.dashboard.render import fragment, page
from greenfleet.dashboard.timeline_view import timeline
from greenfleet.errors import ValidationError

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)
Doc = dict[str, Any]


def _view(request: Request, group: str) -> Doc:
    found = services(request)
    store = found.endpoints.repo
    return timeline(registry_faces(request), group, deployment_service(request).list_deployments,
                    found.experiments, found.monitoring, store.get_model)


@router.get("/ui/timeline")
def groups(request: Request) -> Response:
    return page(request, "timeline_groups.html", "Lifecycle timelines", "timeline",
                groups=group_rows(registry_faces(request)))


@router.get("/ui/timeline/{group}")
def group_timeline(request: Request, group: str) -> Response:
    try:
        view = _view(request, group)
    except ValidationError as exc:
        return page(request, "missing.html", "Not found", "timeline", status_code=404, message=exc.message)
    return page(request, "timeline.html", f"{group}: lifecycle timeline", "timeline", view=view)


@router.get("/ui/timeline/{group}/fragments/live")
def group_timeline_live(request: Request, group: str) -> Response:
    return fragment("timeline_live.html", view=_view(request, group))
