"""Moves a router's records of which variant answered which inference id into the store: the server's
control pass and its feedback API do it for the in-process router, an HA follower and a standalone router
process (``greenfleet router``) once a second.

One flush at a time: when ``flush`` returns, every record taken from the log by any caller before it is in
the store. Otherwise the feedback API could look an id up while the control pass holds its record between
the router and the store, and refuse as unknown an answer the caller had already received.

A store that cannot be reached (a connection error) gets the records back in the log (ahead of newer ones,
within its bound) for the next flush. A batch the store refuses for its content (a constraint, a value it
cannot hold) is written one record at a time so the others are kept; the refused ones are logged, counted
in the log's ``dropped`` and not retried: giving them back would block every later flush."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import DBAPIError

from greenfleet.feedback.repository import FeedbackRepository
from greenfleet.router.assignments import Assignment, AssignmentLog
from greenfleet.store.database import UNREACHABLE

log = logging.getLogger("greenfleet.feedback")


class AssignmentFlush:
    def __init__(self, log: AssignmentLog, repo: FeedbackRepository) -> None:
        self.log, self.repo = log, repo
        self._lock = threading.Lock()

    def flush(self) -> None:
        with self._lock:
            records = self.log.drain()
            try:
                self.repo.add_assignments(records)
            except UNREACHABLE:
                self.log.restore(records)
                raise
            except DBAPIError:
                self._one_by_one(records)

    def _one_by_one(self, records: list[Assignment]) -> None:
        refused = 0
        for index, record in enumerate(records):
            try:
                self.repo.add_assignments([record])
            except UNREACHABLE:
                self.log.restore(records[index:])
                raise
            except DBAPIError as exc:
                refused += 1
                log.warning("the store refused the assignment of %s on %s (%s); dropped", record.inference_id,
                            record.endpoint, type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__)
        self.log.dropped += refused
