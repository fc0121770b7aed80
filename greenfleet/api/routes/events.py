"""The event log (read with filters, append), its webhook targets (CRUD) and the delivery records."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from greenfleet.api.routing import Doc, json_body, route, services
from greenfleet.events.service import EventService

router = APIRouter()


def _events(request: Request) -> EventService:
    return services(request).events


@route(router, "ListEvents")
def list_events(request: Request, source: str | None = None, detail_type: str | None = None,
                resource: str | None = None, since: str | None = None, until: str | None = None,
                after: int | None = None, limit: int = 100, order: str = "asc") -> Doc:
    svc = _events(request)
    events = svc.list_events(source=source, detail_type=detail_type, resource=resource, since=since,
                             until=until, after=after, limit=limit, descending=order == "desc")
    return {"Events": [svc.event_dict(e) for e in events],
            "LastSeq": max((e.seq for e in events), default=after)}


@route(router, "GetEvent")
def get_event(request: Request, event_id: str) -> Doc:
    svc = _events(request)
    return svc.event_dict(svc.get_event(event_id))


@route(router, "PutEvent")
def put_event(request: Request, body: Doc = Depends(json_body)) -> Doc:
    svc = _events(request)
    return svc.event_dict(svc.put_event(body))


@route(router, "ListEventTargets")
def list_targets(request: Request) -> Doc:
    return {"Targets": [t.to_dict() for t in _events(request).list_targets()]}


@route(router, "CreateEventTarget")
def create_target(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _events(request).create_target(body).to_dict()


@route(router, "DescribeEventTarget")
def get_target(request: Request, target_id: str) -> Doc:
    return _events(request).get_target(target_id).to_dict()


@route(router, "UpdateEventTarget")
def update_target(request: Request, target_id: str, body: Doc = Depends(json_body)) -> Doc:
    return _events(request).update_target(target_id, body).to_dict()


@route(router, "DeleteEventTarget")
def delete_target(request: Request, target_id: str) -> Doc:
    _events(request).delete_target(target_id)
    return {}


@route(router, "ListDeliveries")
def list_deliveries(request: Request, status: str | None = None, kind: str | None = None,
                    event_id: str | None = None, target_id: str | None = None, limit: int = 100) -> Doc:
    return {"Deliveries": _events(request).deliveries(status=status, kind=kind, dedup_id=event_id,
                                                      target_id=target_id, limit=limit)}
