"""EventService: the durable event log (what EventBridge does in SageMaker's world), its webhook targets
and the delivery outbox shared with alarm actions.

``append`` stores the event and one delivery per matching target in one transaction (the caller's, when
it passes ``connection``, so that e.g. an alarm transition and its event commit together), then wakes the
dispatcher. Deliveries run on background threads (``start``/``stop``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine

from greenfleet.clock import Clock
from greenfleet.errors import ResourceNotFound, ValidationError
from greenfleet.events.delivery import Dispatcher
from greenfleet.events.log import Event, EventLog
from greenfleet.events.targets import Target, TargetRegistry
from greenfleet.metrics.timestamps import parse_time

DAY = 86400.0
_MAX_FIELD = 255


class EventService:
    def __init__(self, engine: Engine, clock: Clock, *, account_id: str = "000000000000",
                 region: str = "us-east-1", retention_s: float = 30 * DAY, delivery_retention_s: float = 7 * DAY,
                 webhook_timeout_s: float = 5.0, webhook_max_attempts: int = 8,
                 webhook_backoff_base_s: float = 1.0, webhook_backoff_max_s: float = 300.0,
                 webhook_workers: int = 4, poll_interval_s: float = 1.0) -> None:
        self.engine = engine
        self.clock = clock
        self.account_id = account_id
        self.region = region
        self.retention_s = retention_s
        self.delivery_retention_s = delivery_retention_s
        self.log = EventLog(engine)
        self.targets = TargetRegistry(engine)
        self.dispatcher = Dispatcher(engine, clock, timeout_s=webhook_timeout_s,
                                     max_attempts=webhook_max_attempts, backoff_base_s=webhook_backoff_base_s,
                                     backoff_max_s=webhook_backoff_max_s, workers=webhook_workers,
                                     poll_interval_s=poll_interval_s)
        self.dispatcher.secret_of = self.targets.secret

    def start(self) -> None:
        self.dispatcher.start()

    def stop(self) -> None:
        self.dispatcher.close()

    # -- the log ----------------------------------------------------------------------------------------
    def append(self, source: str, detail_type: str, resource: str | None, detail: Mapping[str, Any],
               now: float, *, connection: Connection | None = None) -> Event:
        """Store an event and queue its deliveries to matching targets. With ``connection`` it joins the
        caller's transaction and the caller calls ``wake()`` after the commit."""
        for name, value in (("source", source), ("detail_type", detail_type)):
            if not isinstance(value, str) or not 1 <= len(value) <= _MAX_FIELD:
                raise ValidationError(f"{name} must be 1 to {_MAX_FIELD} characters")
        if connection is not None:
            return self._append(connection, source, detail_type, resource, detail, now)
        with self.engine.begin() as conn:
            event = self._append(conn, source, detail_type, resource, detail, now)
        self.wake()
        return event

    def _append(self, conn: Connection, source: str, detail_type: str, resource: str | None,
                detail: Mapping[str, Any], now: float) -> Event:
        event = self.log.insert(conn, source, detail_type, resource, detail, now)
        payload = event.to_dict(self.account_id, self.region)
        for target in self.targets.matching(event):
            self.dispatcher.enqueue(conn, target.url, payload, event.id, now, kind="event", target_id=target.id)
        return event

    def wake(self) -> None:
        self.dispatcher.wake()

    def enqueue_webhook(self, conn: Connection, url: str, payload: Mapping[str, Any], dedup_id: str,
                        now: float, *, kind: str, context: Mapping[str, Any] | None = None) -> str:
        """Queue a webhook outside the target registry (alarm actions), in the caller's transaction."""
        return self.dispatcher.enqueue(conn, url, payload, dedup_id, now, kind=kind, context=context)

    def get_event(self, event_id: str) -> Event:
        event = self.log.get(event_id)
        if event is None:
            raise ResourceNotFound(f"event '{event_id}' does not exist")
        return event

    def list_events(self, *, source: str | None = None, detail_type: str | None = None,
                    resource: str | None = None, since: Any = None, until: Any = None, after: int | None = None,
                    limit: int = 100, descending: bool = False) -> list[Event]:
        return self.log.query(source=source, detail_type=detail_type, resource=resource,
                              since=parse_time(since, "since") if since is not None else None,
                              until=parse_time(until, "until") if until is not None else None,
                              after=after, limit=limit, descending=descending)

    def put_event(self, body: Mapping[str, Any], now: float | None = None) -> Event:
        """An event from the API: {"Source", "DetailType", "Resource", "Detail"}."""
        if not isinstance(body, Mapping):
            raise ValidationError("the request must be an object with Source, DetailType and Detail")
        detail = body.get("Detail", {})
        if not isinstance(detail, Mapping):
            raise ValidationError("Detail must be an object")
        resource = body.get("Resource")
        if resource is not None and not isinstance(resource, str):
            raise ValidationError("Resource must be a string")
        return self.append(body.get("Source"), body.get("DetailType"), resource, detail,  # type: ignore[arg-type]
                           self.clock.now() if now is None else now)

    def event_dict(self, event: Event) -> dict[str, Any]:
        return event.to_dict(self.account_id, self.region)

    # -- targets ----------------------------------------------------------------------------------------
    def create_target(self, body: Mapping[str, Any], now: float | None = None) -> Target:
        return self.targets.create(body, self.clock.now() if now is None else now)

    def update_target(self, target_id: str, body: Mapping[str, Any], now: float | None = None) -> Target:
        return self.targets.update(target_id, body, self.clock.now() if now is None else now)

    def delete_target(self, target_id: str) -> None:
        self.targets.delete(target_id)

    def list_targets(self) -> list[Target]:
        return self.targets.all()

    def get_target(self, target_id: str) -> Target:
        return self.targets.get(target_id)

    # -- deliveries and retention -----------------------------------------------------------------------
    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        return self.dispatcher.query(**filters)

    def maintain(self, now: float) -> None:
        self.log.prune(now - self.retention_s)
        self.dispatcher.prune(now - self.delivery_retention_s)
