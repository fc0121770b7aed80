"""Moves a router's records of which variant answered which inference id into the store: the server's
control pass and its feedback API do it for the in-process router, a standalone router process
(``greenfleet router``) once a second with its metrics.

One flush at a time: when ``flush`` returns, every record taken from the log by any caller before it is in
the store. Otherwise the feedback API could look an id up while the control pass holds its record between
the router and the store, and refuse as unknown an answer the caller had already received. Records whose
write fails are given back to the log (ahead of newer ones, within its bound) for the next flush."""

from __future__ import annotations

import threading

from greenfleet.feedback.repository import FeedbackRepository
from greenfleet.router.assignments import AssignmentLog


class AssignmentFlush:
    def __init__(self, log: AssignmentLog, repo: FeedbackRepository) -> None:
        self.log, self.repo = log, repo
        self._lock = threading.Lock()

    def flush(self) -> None:
        with self._lock:
            records = self.log.drain()
            try:
                self.repo.add_assignments(records)
            except Exception:
                self.log.restore(records)
                raise
