"""Stores a router's A/B assignments soon after it records them, on a thread of its own.

An outcome sent to the feedback API is looked up by inference id in the store (the server it lands on also
drains its own router first). Answers given by another router, an HA follower or a ``greenfleet router``
process, are only known once that router has stored them: shipped once a second with its metrics, an outcome
sent within about a second of such an answer came back ``UnknownInferenceId``. The shipper wakes when the log
goes from empty to holding a record, waits ``coalesce_s`` so that a burst goes in one write, and flushes;
under steady traffic that is one write per ``coalesce_s`` at most. A flush that fails (the store is down: the
records are back in the log) is retried after ``retry_s``. Stopping flushes once more."""

from __future__ import annotations

import logging
import threading

from greenfleet.feedback.assignment_flush import AssignmentFlush

__all__ = ["COALESCE_S", "AssignmentShipper"]

log = logging.getLogger("greenfleet.feedback")
COALESCE_S = 0.05
RETRY_S = 1.0


class AssignmentShipper:
    def __init__(self, flush: AssignmentFlush, coalesce_s: float = COALESCE_S, retry_s: float = RETRY_S) -> None:
        self.flush, self.coalesce_s, self.retry_s = flush, coalesce_s, retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="assignment-shipper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and store what it had not yet stored (once; a failure is logged)."""
        self._stop.set()
        self.flush.log.waiting.set()  # wakes the thread
        if self._thread is not None:
            self._thread.join(10)
        self._ship_once()

    def _run(self) -> None:
        waiting = self.flush.log.waiting
        while not self._stop.is_set():
            waiting.wait()
            if self._stop.wait(self.coalesce_s):
                return
            if not self._ship_once():
                self._stop.wait(self.retry_s)

    def _ship_once(self) -> bool:
        try:
            self.flush.flush()
        except Exception:  # the store is down: the records are back in the log for the next try
            log.warning("could not store the router's inference id assignments; retrying", exc_info=True)
            return False
        return True
