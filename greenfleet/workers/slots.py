"""How many calls a worker runs in its model at once, whichever way they arrive: the HTTP app's model threads
(``server.py``) and an inference pipeline's lane threads (``lane_server.py``) take their turn from one
:class:`Slots`, so user code is never entered by more threads at once than ``SAGEMAKER_MODEL_SERVER_WORKERS``.

A call still running ``timeout_s`` after it entered is abandoned: it stops counting (its thread runs on, its
answer is dropped), so a stuck call never blocks the next one; at most ``spare`` abandoned calls are kept
running beside the ``concurrency`` live ones, after which new calls wait (a thread stuck for good is not
replaced without end).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["Slots"]


class Slots:
    """A counting gate for threads (and, through :meth:`try_enter`, an event loop that must not block)."""

    def __init__(self, concurrency: int, timeout_s: float | None = None, spare: int = 4,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.spare = spare
        self._clock = clock
        self._changed = threading.Condition(threading.Lock())
        self._running: dict[int, float] = {}
        """Each running call's token → when it is abandoned (inf: never)."""
        self._next = 0
        self._waiting = 0

    def try_enter(self, expires: bool = True) -> int | None:
        """A token if a slot is free now (else None, without waiting); ``expires=False``: the call is never
        counted out (its caller gives the slot up itself)."""
        with self._changed:
            return self._admit(self._clock(), expires)

    def enter(self, expires: bool = True, wait_s: float | None = None) -> int | None:
        """A token once a slot is free (waits; wakes when a call leaves or is abandoned); None if none was
        free within ``wait_s`` (None: waits as long as it takes)."""
        with self._changed:
            given_up = math.inf if wait_s is None else self._clock() + wait_s
            while True:
                now = self._clock()
                token = self._admit(now, expires)
                if token is not None or now >= given_up:
                    return token
                # the next change: a call leaves (notified) or the soonest live one is abandoned
                soonest = min((d for d in self._running.values() if d > now), default=math.inf)
                soonest = min(soonest, given_up)
                self._waiting += 1
                try:
                    self._changed.wait(None if soonest == math.inf else soonest - now)
                finally:
                    self._waiting -= 1

    def leave(self, token: int) -> None:
        """The call is over (a token already left is ignored)."""
        with self._changed:
            if self._running.pop(token, None) is not None and self._waiting:
                self._changed.notify()

    @property
    def running(self) -> int:
        """Calls entered and not left (abandoned ones included)."""
        return len(self._running)

    def _admit(self, now: float, expires: bool) -> int | None:
        running = self._running
        if len(running) >= self.concurrency:
            live = sum(1 for deadline in running.values() if deadline > now)
            if live >= self.concurrency or len(running) >= self.concurrency + self.spare:
                return None
        self._next += 1
        running[self._next] = now + self.timeout_s if expires and self.timeout_s is not None else math.inf
        return self._next
