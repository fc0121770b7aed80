"""A helper process of a serving process (the capture writer, the router's mirror process) on two pipes: one
the parent writes and the child reads, one the child writes and the parent reads (frames: ``pipeframes.py``);
and when to start another after one exits.

The child runs ``python -m <module> <its read fd> <its write fd> <args...>`` in the parent's session (a session
of its own would be a scheduler autogroup of its own on Linux, sharing the CPU with the parent as an equal
whatever its priority). The parent's ends are non-blocking.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["PipedChild", "RestartBackoff", "spawn"]

PIPE_BYTES = 1 << 20
"""Each pipe's capacity asked for (Linux's default limit for an unprivileged process)."""


@dataclass(frozen=True, slots=True)
class PipedChild:
    process: subprocess.Popen[bytes]
    to_child: int
    """The parent's write end (non-blocking)."""
    from_child: int
    """The parent's read end (non-blocking)."""
    started: float
    """time.monotonic() at the start."""


def spawn(module: str, args: list[str]) -> PipedChild:
    """Start ``module`` on two new pipes; OSError (nothing left open) if it cannot start."""
    down_r, down_w = os.pipe()
    try:
        up_r, up_w = os.pipe()
    except OSError:
        os.close(down_r)
        os.close(down_w)
        raise
    for fd in (down_w, up_w):
        with contextlib.suppress(OSError, AttributeError):  # F_SETPIPE_SZ is Linux-only
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    try:
        process = subprocess.Popen([sys.executable, "-m", module, str(down_r), str(up_w), *args],
                                   pass_fds=(down_r, up_w), stdin=subprocess.DEVNULL)
    except OSError:
        for fd in (down_r, down_w, up_r, up_w):
            os.close(fd)
        raise
    os.close(down_r)
    os.close(up_w)
    os.set_blocking(down_w, False)
    os.set_blocking(up_r, False)
    return PipedChild(process, down_w, up_r, time.monotonic())


class RestartBackoff:
    """When the next child may start: at once after one that ran a while, else after a back-off that doubles
    from ``first_s`` up to ``max_s`` (a child that cannot start, or dies young, is not started in a loop)."""

    def __init__(self, first_s: float = 0.5, max_s: float = 30.0, young_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.first_s, self.max_s, self.young_s = first_s, max_s, young_s
        self.clock = clock
        self._backoff_s = 0.0
        self._restart_at = 0.0

    def due(self) -> bool:
        """Whether a child may start now."""
        return self.clock() >= self._restart_at

    def failed(self) -> None:
        """A child could not start: wait longer before the next."""
        self._backoff_s = min(max(self._backoff_s * 2, self.first_s), self.max_s)
        self._restart_at = self.clock() + self._backoff_s

    def exited(self, started: float) -> None:
        """A child started at ``started`` (on the clock) exited."""
        if self.clock() - started < self.young_s:
            self.failed()
        else:
            self._backoff_s = 0.0
            self._restart_at = self.clock()
