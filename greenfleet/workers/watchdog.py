"""The orphan watchdog: a worker whose launcher died and that nobody health-checks exits by itself.

A worker outlives its parent on purpose (a restarted control plane adopts running instances and keeps
health-checking them every second), so the parent's death alone is not a reason to exit: the worker
exits only when its parent is gone *and* no ``GET /ping`` arrived for the grace period.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable

__all__ = ["Heartbeat", "is_orphaned", "start_orphan_watchdog"]

_log = logging.getLogger("greenfleet.workers")

_CHECK_INTERVAL_S = 1.0
_FORCED_EXIT_AFTER_S = 30.0


class Heartbeat:
    """The time of the last health check; beating is one attribute store, cheap on the request path."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.last = clock()

    def beat(self) -> None:
        self.last = self._clock()

    def silence_s(self) -> float:
        return self._clock() - self.last


def is_orphaned(parent_pid: int, current_parent_pid: int, silence_s: float, grace_s: float) -> bool:
    """True when the launching parent is gone and the health checks stopped for ``grace_s``."""
    return current_parent_pid != parent_pid and silence_s >= grace_s


def start_orphan_watchdog(heartbeat: Heartbeat, grace_s: float) -> threading.Thread:
    """Watch in a daemon thread; an orphan gets SIGTERM (graceful), then a hard exit if that hangs."""
    parent_pid = os.getppid()

    def watch() -> None:
        interval_s = min(_CHECK_INTERVAL_S, grace_s / 4)
        while not is_orphaned(parent_pid, os.getppid(), heartbeat.silence_s(), grace_s):
            time.sleep(interval_s)
        _log.warning("parent process %d is gone and no health check came for %.0f s: exiting", parent_pid, grace_s)
        if os.getpgid(0) == os.getpid():  # a session leader (as the server starts it): its children too
            os.killpg(os.getpid(), signal.SIGTERM)
        else:
            os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(_FORCED_EXIT_AFTER_S)
        os._exit(1)

    thread = threading.Thread(target=watch, name="orphan-watchdog", daemon=True)
    thread.start()
    return thread
