"""The event log (read with filters, append), its webhook targets (CRUD) and the delivery records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

router = APIRouter(prefix="/api")
Doc = dict[str, Any]


def _events(request: Request) -> Any:
    return request.app.state.services.events


@router.get("/events", summary="Read the event log (oldest first; order=desc for newest first)")
def list_events(request: Request, source: str | None = None, detail_type: str | None = None,
                resource: str | None = None, since: str | None = None, until: str | None = None,
                after: int | None = None, limit: int = 100, order: str = "asc") -> Doc:
    svc = _events(request)
    events = svc.list_events(source=source, detail_type=detail_type, resource=resource, since=since,
                             until=until, after=after, limit=limit, descending=order == "desc")
    return {"Events": [svc.event_dict(e) for e in events],
            "LastSeq": max((e.seq for e in events), default=after)}


@router.get("/events/{event_id}", summary="One event")
def get_event(request: Request, event_id: str) -> Doc:
    svc = _events(request)
    return svc.event_dict(svc.get_event(event_id))  # type: ignore[no-any-return]


@router.post("/events", status_code=201, summary="Append an event (PutEvents)")
def put_event(request: Request, body: Doc = Body(...)) -> Doc:
    svc = _events(request)
    return svc.event_dict(svc.put_event(body))  # type: ignore[no-any-return]


@router.get("/event-targets", summary="List the webhook targets")
def list_targets(request: Request) -> Doc:
    return {"Targets": [t.to_dict() for t in _events(request).list_targets()]}


@router.post("/event-targets", status_code=201, summary="Register a webhook target")
def create_target(request: Request, body: Doc = Body(...)) -> Doc:
    return _events(request).create_target(body).to_dict()  # type: ignore[no-any-return]


@router.get("/event-targets/{target_id}", summary="One webhook target")
def get_target(request: Request, target_id: str) -> Doc:
    return _events(request).get_target(target_id).to_dict()  # type: ignore[no-any-return]


@router.patch("/event-targets/{target_id}", summary="Change a webhook target")
def update_target(request: Request, target_id: str, body: Doc = Body(...)) -> Doc:
    return _events(request).update_target(target_id, body).to_dict()  # type: ignore[no-any-return]


@router.delete("/event-targets/{target_id}", summary="Remove a webhook target")
def delete_target(request: Request, target_id: str) -> Doc:
    _events(request).delete_target(target_id)
    return {}


@router.get("/deliveries", summary="Webhook deliveries (events and alarm actions), newest first")
def list_deliveries(request: Request, status: str | None = None, kind: str | None = None,
                    event_id: str | None = None, target_id: str | None = None, limit: int = 100) -> Doc:
    return {"Deliveries": _events(request).deliveries(status=status, kind=kind, dedup_id=event_id,
                                                      target_id=target_id, limit=limit)}
