"""The queue's statements: accept, claim, finish, recover after a crash, and the backlog figures.

Every state change is committed before it is acted on, so a crash leaves each request either queued,
running (claimed: recovered as queued at the next start) or finished. Accepting is a group commit: callers
that arrive while a transaction is being written wait for it, then the next one writes all of theirs in one
transaction (one sync of the store for many requests); each caller returns only once its row is committed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from greenfleet.asyncinference.tables import FAILED, QUEUED, RUNNING, SUCCEEDED, async_requests
from greenfleet.errors import ValidationError
from greenfleet.store.schema import endpoints


@dataclass(frozen=True)
class Request:
    seq: int
    endpoint_name: str
    inference_id: str
    input_location: str
    body: bytes | None
    content_type: str | None
    accept: str | None
    custom_attributes: str | None
    output_location: str
    failure_location: str
    notification: dict[str, Any] | None
    invocation_timeout_s: float
    created_at: float
    expires_at: float
    attempts: int


@dataclass(frozen=True)
class Backlog:
    endpoint_name: str
    size: int
    oldest_at: float | None


class Ticket:
    __slots__ = ("done", "error", "row")

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.done = False
        self.error: Exception | None = None


class Queue:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pending: list[Ticket] = []
        self._writing = False
        self._changed = threading.Condition()

    def add(self, row: Mapping[str, Any]) -> None:
        """Record an accepted request (committed when this returns); ValidationError for a reused InferenceId."""
        ticket = self.ticket(row)
        with self._changed:
            self._pending.append(ticket)
            while not ticket.done and self._writing:
                self._changed.wait()
            if ticket.done:
                batch: list[Ticket] = []
            else:
                self._writing, batch, self._pending = True, self._pending, []
        if batch:
            try:
                self.write(batch)
            finally:
                with self._changed:
                    for written in batch:
                        written.done = True
                    self._writing = False
                    self._changed.notify_all()
        if ticket.error is not None:
            raise ticket.error

    @staticmethod
    def ticket(row: Mapping[str, Any]) -> Ticket:
        """An accepted request's row as written (queued, never attempted), awaiting ``write``."""
        return Ticket({"status": QUEUED, "attempts": 0, "started_at": None, "finished_at": None,
                       "failure_reason": None, **row})

    def write(self, batch: list[Ticket]) -> None:
        """Insert the rows in one transaction; each ticket's ``error`` says if its row was refused (a reused
        InferenceId: ValidationError) or the store failed."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(async_requests), [t.row for t in batch])
            return
        except IntegrityError:
            if len(batch) == 1:
                row = batch[0].row
                batch[0].error = ValidationError(f"InferenceId {row['inference_id']} is already in use for endpoint "
                                                 f"{row['endpoint_name']}; give each request its own id")
                return
        except Exception as exc:
            for ticket in batch:
                ticket.error = exc
            return
        for ticket in batch:  # one of them reused an id: write them one by one to tell which
            self.write([ticket])

    def recover(self) -> int:
        """Requests a previous server had claimed (it stopped before they finished) go back to the queue."""
        with self.engine.begin() as conn:
            result = conn.execute(update(async_requests).where(async_requests.c.status == RUNNING)
                                  .values(status=QUEUED, started_at=None))
        return int(result.rowcount or 0)

    def claim(self, endpoint_name: str, limit: int, now: float) -> list[Request]:
        """Up to ``limit`` of the endpoint's oldest queued requests, marked running."""
        if limit <= 0:
            return []
        with self.engine.begin() as conn:  # deferred: a write lock is taken only if something is queued
            rows = conn.execute(select(async_requests).where(and_(
                async_requests.c.status == QUEUED, async_requests.c.endpoint_name == endpoint_name))
                .order_by(async_requests.c.seq).limit(limit)).mappings().all()
            claimed = []
            for row in rows:
                done = conn.execute(update(async_requests).where(and_(
                    async_requests.c.seq == row["seq"], async_requests.c.status == QUEUED))
                    .values(status=RUNNING, started_at=now, attempts=row["attempts"] + 1))
                if done.rowcount:
                    claimed.append(_request(row, attempts=row["attempts"] + 1))
        return claimed

    def expired(self, now: float, limit: int = 500) -> list[Request]:
        """Queued requests past their TTL, marked running (the dispatcher writes their failures)."""
        query = select(async_requests).where(and_(async_requests.c.status == QUEUED,
                                                  async_requests.c.expires_at < now))
        with self.engine.connect() as conn:  # a read first: nearly always nothing has expired
            if conn.execute(query.with_only_columns(async_requests.c.seq).limit(1)).first() is None:
                return []
        with self.engine.begin() as conn:
            rows = conn.execute(query.order_by(async_requests.c.seq).limit(limit)).mappings().all()
            expired = []
            for row in rows:
                done = conn.execute(update(async_requests).where(and_(
                    async_requests.c.seq == row["seq"], async_requests.c.status == QUEUED))
                    .values(status=RUNNING, started_at=now))
                if done.rowcount:
                    expired.append(_request(row))
        return expired

    def requeue(self, seq: int) -> None:
        """A claimed request that never reached an instance goes back to the queue."""
        with self.engine.begin() as conn:
            conn.execute(update(async_requests).where(and_(async_requests.c.seq == seq,
                                                           async_requests.c.status == RUNNING))
                         .values(status=QUEUED, started_at=None))

    def finish(self, seq: int, succeeded: bool, now: float, reason: str | None = None,
               also: Callable[[Connection], None] | None = None) -> None:
        """Mark a request finished and drop its inline body (its output or failure is written: nothing reads it
        again, and a store kept every payload for good); ``also`` runs in the same transaction (its
        notification's outbox row)."""
        with self.engine.begin() as conn:
            conn.execute(update(async_requests).where(async_requests.c.seq == seq).values(
                status=SUCCEEDED if succeeded else FAILED, finished_at=now, failure_reason=reason, body=None))
            if also is not None:
                also(conn)

    def prune(self, finished_before: float) -> int:
        """Delete the records of finished requests that finished before ``finished_before`` or whose endpoint
        no longer exists, or was created again after them (deleted and created again between two prunes):
        their InferenceIds may be used again; how many. Unfinished requests are kept."""
        c = async_requests.c
        with self.engine.begin() as conn:
            old = conn.execute(delete(async_requests).where(c.finished_at < finished_before)).rowcount or 0
            same_endpoint = select(endpoints.c.name).where(and_(endpoints.c.name == c.endpoint_name,
                                                                endpoints.c.created_at <= c.created_at))
            gone = conn.execute(delete(async_requests).where(and_(
                c.status.in_((SUCCEEDED, FAILED)), ~same_endpoint.exists()))).rowcount or 0
        return int(old) + int(gone)

    def backlog(self) -> list[Backlog]:
        """Per endpoint with unfinished requests: how many (queued and running) and the oldest's time."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(async_requests.c.endpoint_name, func.count(),
                                       func.min(async_requests.c.created_at))
                                .where(async_requests.c.status.in_((QUEUED, RUNNING)))
                                .group_by(async_requests.c.endpoint_name)).all()
        return [Backlog(name, int(count), oldest) for name, count, oldest in rows]

    def status_of(self, endpoint_name: str, inference_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """Inference id → (status, failure reason), for the given ids of one endpoint."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(async_requests.c.inference_id, async_requests.c.status,
                                       async_requests.c.failure_reason).where(and_(
                async_requests.c.endpoint_name == endpoint_name,
                async_requests.c.inference_id.in_(list(inference_ids))))).all()
        return {r[0]: (r[1], r[2]) for r in rows}


def _request(row: RowMapping, **changed: Any) -> Request:
    return Request(**{**{k: row[k] for k in Request.__dataclass_fields__}, **changed})
