"""Moves a router's records of which variant answered which inference id into the store: the server's
control pass and its feedback API do it for the in-process router, and every router's assignment shipper
within 0.05 s of a record (``assignment_shipper.py``; what an HA follower's and a standalone router process's
answers are known by).

One flush at a time: when ``flush`` returns, every record taken from the log by any caller before it is in
the store. Otherwise the feedback API could look an id up while the control pass holds its record between
the router and the store, and refuse as unknown an answer the caller had already received.

A store that cannot be reached gets the records back in the log (ahead of newer ones, within its bound) for
the next flush; records the store refuses are dropped and counted in the log's ``dropped``
(``store/batches.py``)."""

from __future__ import annotations

import threading

from greenfleet.feedback.repository import FeedbackRepository
from greenfleet.router.assignments import AssignmentLog
from greenfleet.store.batches import write_batch


class AssignmentFlush:
    def __init__(self, log: AssignmentLog, repo: FeedbackRepository) -> None:
        self.log, self.repo = log, repo
        self._lock = threading.Lock()

    def flush(self) -> None:
        with self._lock:
            records = self.log.drain()
            self.log.dropped += write_batch(records, self.repo.add_assignments, self.log.restore,
                                            lambda r: f"the assignment of {r.inference_id} on {r.endpoint}")
