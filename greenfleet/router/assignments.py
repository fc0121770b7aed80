"""Which variant answered which inference id, for endpoints under an A/B test: the router appends one
record per answered request (a list append, no I/O); the control plane drains the records into the store
every pass (and the feedback API drains them before it looks an id up); records a drain could not store
are given back. Bounded: beyond ``limit`` records waiting, new ones are dropped and counted."""

from __future__ import annotations

import threading
from typing import NamedTuple

PREDICTION_CHARS = 256


class Assignment(NamedTuple):
    endpoint: str
    inference_id: str
    variant: str
    prediction: str
    at: float


class AssignmentLog:
    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self.dropped = 0
        self.waiting = threading.Event()
        """Set when a record arrives in an empty log (or records are given back), cleared by a drain: what
        the assignment shipper waits on."""
        self._records: list[Assignment] = []
        self._lock = threading.Lock()

    def record(self, endpoint: str, inference_id: str, variant: str, body: bytes, at: float) -> None:
        if len(self._records) >= self.limit:
            self.dropped += 1
            return
        # NUL is no character a text column holds (PostgreSQL refuses it); a prediction is compared as text
        prediction = body[:PREDICTION_CHARS].decode("utf-8", "replace").replace("\x00", "").strip()
        with self._lock:
            self._records.append(Assignment(endpoint, inference_id, variant, prediction, at))
            if len(self._records) == 1:
                self.waiting.set()

    def drain(self) -> list[Assignment]:
        with self._lock:
            records, self._records = self._records, []
            self.waiting.clear()
        return records

    def restore(self, records: list[Assignment]) -> None:
        """Put back records a drain could not store, ahead of newer ones (the limit still holds)."""
        with self._lock:
            room = max(0, self.limit - len(self._records))
            self.dropped += max(0, len(records) - room)
            self._records = records[:room] + self._records
            if self._records:
                self.waiting.set()
