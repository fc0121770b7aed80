"""What a worker answers to one invocation whose body it holds whole, whichever way the call came: the HTTP app
(``server.py``) and an inference pipeline's lane (``lane_server.py``) both answer through :class:`Invocations`,
so both give the same statuses and messages:

- the caller's Accept, when absent or ``*/*``, becomes ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` if set;
- a body over ``max_body_bytes`` (GREENFLEET_WORKER_MAX_BODY_BYTES) is 413;
- a :class:`~greenfleet.workers.errors.RequestError` is its own status with its message, a RecursionError (a
  body nested too deeply for the runtime's decoding) is 400, any other exception 500 with its type and message
  (logged).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from greenfleet.workers.errors import RequestError
from greenfleet.workers.runtime import Runtime
from greenfleet.workers.slots import Slots

__all__ = ["TEXT", "Answer", "Invocations", "failure"]

_log = logging.getLogger("greenfleet.workers")

TEXT = "text/plain; charset=utf-8"


class Answer(NamedTuple):
    status: int
    body: bytes
    content_type: str


class Invocations:
    """A worker's runtime, the calls it may run at once (``slots``), and how its answers are made."""

    def __init__(self, runtime: Runtime, slots: Slots, *, default_accept: str, max_body_bytes: int) -> None:
        self.runtime = runtime
        self.slots = slots
        self.default_accept = default_accept
        self.max_body_bytes = max_body_bytes

    def accept_for(self, accept: str) -> str:
        """The Accept the runtime is given for the caller's."""
        return self.default_accept if accept in ("", "*/*") and self.default_accept else accept

    def answer(self, body: bytes, content_type: str, accept: str) -> Answer:
        """The runtime's answer, on this thread (the caller holds a slot), its failure mapped to a status."""
        try:
            answer, media = self.runtime.invoke(body, content_type, accept)
        except Exception as exc:
            return failure(exc)
        return Answer(200, answer, media)

    def oversized(self, body: bytes, content_type: str) -> Answer | None:
        """The 413 for a body over the maximum read whole, else None."""
        if len(body) > self.max_body_bytes:
            return Answer(413, self.too_large(len(body), content_type).encode(), TEXT)
        return None

    def too_large(self, size: int, content_type: str) -> str:
        return (f"request body of {size} bytes is over this worker's maximum of {self.max_body_bytes} bytes for a "
                f"body read whole ({content_type or 'no Content-Type'}; GREENFLEET_WORKER_MAX_BODY_BYTES); "
                "text/csv and application/jsonlines bodies of the built-in scikit-learn and XGBoost runtimes "
                "are streamed whatever their size")


def failure(exc: Exception) -> Answer:
    """The answer to an invocation that raised ``exc``."""
    if isinstance(exc, RequestError):
        return Answer(exc.status_code, exc.message.encode(), TEXT)
    if isinstance(exc, RecursionError):  # a hostile body (deep nesting) the runtime's decoding could not walk
        return Answer(400, b"request body nests too deeply to be read", TEXT)
    _log.error("invocation failed", exc_info=exc)
    return Answer(500, f"{type(exc).__name__}: {exc}".encode(), TEXT)
