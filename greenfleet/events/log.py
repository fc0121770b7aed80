"""The event log: durable and append-only; each event has a unique id (a UUID, for receivers to
de-duplicate) and a sequence number (for ordering and cursors). Events are shaped like EventBridge's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from greenfleet.events.tables import events
from greenfleet.metrics.timestamps import iso

MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    seq: int
    time: float
    source: str
    detail_type: str
    resource: str | None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, account: str, region: str) -> dict[str, Any]:
        """EventBridge's envelope, plus ``seq``."""
        return {"version": "0", "id": self.id, "detail-type": self.detail_type, "source": self.source,
                "account": account, "time": iso(self.time), "region": region,
                "resources": [self.resource] if self.resource else [], "detail": self.detail, "seq": self.seq}


def _event(row: Any) -> Event:
    return Event(row.id, row.seq, row.time, row.source, row.detail_type, row.resource, dict(row.detail))


class EventLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert(self, conn: Connection, source: str, detail_type: str, resource: str | None,
               detail: Mapping[str, Any], now: float) -> Event:
        event_id = str(uuid.uuid4())
        result = conn.execute(events.insert().values(id=event_id, time=now, source=source,
                                                     detail_type=detail_type, resource=resource,
                                                     detail=dict(detail)))
        seq = int(result.inserted_primary_key[0])  # type: ignore[index]
        return Event(event_id, seq, now, source, detail_type, resource, dict(detail))

    def get(self, event_id: str) -> Event | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(events).where(events.c.id == event_id)).first()
        return _event(row) if row is not None else None

    def query(self, *, source: str | None = None, detail_type: str | None = None, resource: str | None = None,
             since: float | None = None, until: float | None = None, after: int | None = None,
             limit: int = 100, descending: bool = False) -> list[Event]:
        c = events.c
        query = select(events)
        for column, value in ((c.source, source), (c.detail_type, detail_type), (c.resource, resource)):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(c.time >= since)
        if until is not None:
            query = query.where(c.time < until)
        if after is not None:
            query = query.where(c.seq > after)
        query = query.order_by(c.seq.desc() if descending else c.seq).limit(max(1, min(limit, MAX_LIMIT)))
        with self.engine.connect() as conn:
            return [_event(row) for row in conn.execute(query)]

    def prune(self, before: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(events).where(events.c.time < before))
